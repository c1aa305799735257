"""``modelcollapse collapse-speed``: run one comparison and write its folder.

:func:`collapse_speed` runs the target's study and writes ``collapse-speed.csv`` (one row per
``k`` or fraction), ``curves.csv`` (the curves behind the figure), the figures it is given and
``manifest.json`` through :func:`modelcollapse.studies.output.write_study`. (For ``curation``
the table has one row per (family, curation strength, real fraction) cell.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...results.folders import prepare_output, stamped_folder
from ...runner.provenance import now
from ..common import Log, quiet
from ..output import write_study
from .coin import CoinSpeed, coin_speed
from .curation import CurationSpeed, curation_speed
from .truncation import TruncationSpeed, truncation_speed
from .variance import VarianceSpeed, variance_speed

#: Targets of ``modelcollapse collapse-speed``.
TARGETS = ("coin", "gaussian", "gmm", "ngram", "curation")
#: Any target's result.
SpeedResult = CoinSpeed | VarianceSpeed | TruncationSpeed | CurationSpeed
#: The table (one row per ``k``, fraction or cell) and the curves behind the figure.
TABLE_FILE = "collapse-speed.csv"
CURVES_FILE = "curves.csv"


@dataclass
class SpeedReport:
    """A finished ``collapse-speed`` command.

    Attributes
    ----------
    result
        :class:`CoinSpeed`, :class:`VarianceSpeed`, :class:`TruncationSpeed` or
        :class:`CurationSpeed`.
    path
        The results folder.
    manifest
        What was written to ``manifest.json``.
    """

    result: SpeedResult
    path: Path
    manifest: dict[str, Any]


#: Draws a comparison's figures: ``(result, folder) -> files written``.
SpeedFigures = Callable[[SpeedResult, Path], Iterable[Path | str]]


def default_speed_out(target: str, root: Path | str = "runs") -> Path:
    """``runs/collapse-speed-<target>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if taken."""
    return stamped_folder(root, f"collapse-speed-{target}", reuse_empty=True)


def collapse_speed(target: str, *, out: Path | str | None = None,
                   figures: SpeedFigures | None = None, progress: bool = False,
                   log: Log = quiet, argv: list[str] | None = None,
                   workers: int | None = None, **settings: Any) -> SpeedReport:
    """Run one collapse-speed comparison and write its results folder.

    The folder holds ``collapse-speed.csv`` (one row per ``k`` or fraction), ``curves.csv``
    (the curves behind the figure), the figures and ``manifest.json`` (settings, seed,
    versions, argv, times), published whole when complete (:mod:`modelcollapse.studies.output`).

    Parameters
    ----------
    target
        ``"coin"`` (:func:`~.coin.coin_speed`), ``"gaussian"`` or ``"gmm"``
        (:func:`~.variance.variance_speed`), ``"ngram"`` (:func:`~.truncation.truncation_speed`),
        ``"curation"`` (:func:`~.curation.curation_speed`).
    out
        The folder (new or empty); default :func:`default_speed_out`.
    figures
        Draws the figures from the result into the folder (``None``: none;
        :func:`modelcollapse.api.collapse_speed` passes ``collapse-speed.png``).
    progress, log, workers
        Passed on.
    **settings
        Keyword arguments of the target's function.

    Returns
    -------
    SpeedReport
    """
    if target not in TARGETS:
        raise ConfigError("target", f"must be one of {', '.join(TARGETS)}", target)
    path = prepare_output(out) if out is not None else default_speed_out(target)
    started, t0 = now(), time.perf_counter()
    result: SpeedResult
    if target == "coin":
        result = coin_speed(progress=progress, log=log, workers=workers, **settings)
    elif target == "curation":
        result = curation_speed(progress=progress, log=log, workers=workers, **settings)
    elif target == "ngram":
        result = truncation_speed(progress=progress, log=log, workers=workers, **settings)
    else:
        result = variance_speed(target, progress=progress, log=log, workers=workers, **settings)

    def summary(names: list[str]) -> dict[str, Any]:
        return {
            "kind": "collapse-speed",
            "format": 1,
            "status": "complete",
            "target": target,
            "settings": result.settings(),
            "seed": result.seed,
            "seed_drawn": result.seed_drawn,
            "runs": [config.to_dict() for config in result.configs],
            "files": {"table": TABLE_FILE, "curves": CURVES_FILE, "figures": names},
            "notes": "times in generations; inf = not within the horizon",
            "started": started,
        }

    draw = None if figures is None else (lambda folder: figures(result, folder))
    # Another command may choose the same default folder while this one computes: publish
    # beside it rather than throw the results away.
    where, manifest = write_study(path, tables={TABLE_FILE: result.table(),
                                                CURVES_FILE: result.curves()},
                                  summary_file="manifest.json", summary=summary, figures=draw,
                                  started=started, t0=t0, argv=argv, beside_if_taken=True)
    if where != path:
        log(f"{path} was filled by another process meanwhile; results written to {where}")
    return SpeedReport(result, where, manifest)
