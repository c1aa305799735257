"""modelcollapse: simulate model collapse, the drift of models trained on their own output.

A model is fitted to data, data are drawn from the fit, the next model is fitted to (partly) those
data, and so on. This package runs that recursion for several model families and data policies,
many replicates at once, reproducibly, and measures how the fitted distributions narrow, drift and
lose their tails.

>>> import modelcollapse as mc
>>> result = mc.simulate(mc.RunConfig("coin", seed=7))   # p0 = 0.5, k = 10, 60 gens, 100 rollouts
>>> result.replicates["absorption_time"].notna().mean() > 0.9
True

``import modelcollapse`` loads only what describes an experiment (numpy and the package's own
families, policies and configuration); the names that need tables, theory or plots
(:class:`Result`, :func:`predict`, :class:`SweepResult`, ...) are imported on first use, so a
short command does not pay for what it does not use.
"""

from __future__ import annotations

from importlib import import_module as _import_module
from typing import TYPE_CHECKING, Any

from .api import load, plan_sweep, run, simulate, sweep, write_explorer, write_report
from .config import RunConfig
from .curation import (
    CURATORS,
    BestOf,
    Bottom,
    Curator,
    NoCuration,
    Reweight,
    Top,
    Verifier,
    get_curator,
)
from .errors import ConfigError
from .families import (
    FAMILIES,
    GMM,
    KDE,
    Categorical,
    Coin,
    Family,
    Gaussian,
    MVGaussian,
    NGram,
    Regression,
    get_family,
)
from .loop import simulate_block
from .policies import (
    POLICIES,
    Accumulate,
    AccumulateSubsample,
    Augment,
    Mix,
    Policy,
    Replace,
    get_policy,
)
from .version import __version__

if TYPE_CHECKING:
    from .results.run import Result
    from .sweeps.grid import SweepSpec
    from .sweeps.plan import SweepPlan
    from .sweeps.reader import SweepResult, load_sweep
    from .theory.prediction import Prediction, TheoryCurve, predict

#: Public names imported on first use: name → module.
_LAZY = {
    "Result": ".results.run",
    "SweepSpec": ".sweeps.grid",
    "SweepPlan": ".sweeps.plan",
    "SweepResult": ".sweeps.reader",
    "load_sweep": ".sweeps.reader",
    "Prediction": ".theory.prediction",
    "TheoryCurve": ".theory.prediction",
    "predict": ".theory.prediction",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups find it directly
        return value
    raise AttributeError(f"module 'modelcollapse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CURATORS", "FAMILIES", "GMM", "KDE", "POLICIES", "Accumulate", "AccumulateSubsample",
    "Augment",
    "BestOf", "Bottom", "Categorical", "Coin", "ConfigError", "Curator", "Family", "Gaussian",
    "MVGaussian", "Mix", "NGram", "NoCuration", "Policy", "Prediction",
    "Regression", "Replace", "Result", "Reweight",
    "RunConfig", "SweepPlan", "SweepResult", "SweepSpec", "TheoryCurve", "Top", "Verifier",
    "__version__", "get_curator", "get_family", "get_policy", "load", "load_sweep", "plan_sweep",
    "predict", "run", "simulate", "simulate_block", "sweep", "write_explorer", "write_report",
]
