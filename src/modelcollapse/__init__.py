"""modelcollapse: simulate model collapse, the drift of models trained on their own output.

A model is fitted to data, data are drawn from the fit, the next model is fitted to (partly) those
data, and so on. This package runs that recursion for several model families and data policies,
many replicates at once, reproducibly, and measures how the fitted distributions narrow, drift and
lose their tails.

>>> import modelcollapse as mc
>>> result = mc.simulate(mc.RunConfig("coin", seed=7))   # p0 = 0.5, k = 10, 60 gens, 100 rollouts
>>> result.replicates["absorption_time"].notna().mean() > 0.9
True
"""

from __future__ import annotations

from importlib import metadata as _metadata

from .api import run, simulate
from .config import RunConfig
from .errors import ConfigError
from .families import FAMILIES, GMM, Categorical, Coin, Family, Gaussian, NGram, get_family
from .loop import simulate_block
from .policies import POLICIES, Accumulate, AccumulateSubsample, Mix, Policy, Replace, get_policy
from .report.write import write_report
from .results.run import Result, load
from .sweeps.driver import sweep
from .sweeps.grid import SweepSpec
from .sweeps.plan import SweepPlan
from .sweeps.plan import plan as plan_sweep
from .sweeps.reader import SweepResult, load_sweep
from .theory.prediction import Prediction, TheoryCurve, predict

try:
    __version__ = _metadata.version("modelcollapse")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "FAMILIES", "GMM", "POLICIES", "Accumulate", "AccumulateSubsample", "Categorical", "Coin",
    "ConfigError", "Family", "Gaussian", "Mix", "NGram", "Policy", "Prediction", "Replace",
    "Result", "RunConfig", "SweepPlan", "SweepResult", "SweepSpec", "TheoryCurve", "__version__",
    "get_family", "get_policy", "load", "load_sweep", "plan_sweep", "predict", "run", "simulate",
    "simulate_block", "sweep", "write_report",
]
