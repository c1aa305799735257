"""TODO docstring (modelcollapse.collapse_speed)."""

from __future__ import annotations

import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...results.folders import free_folder, prepare_output, stamped_folder, write_json
from ...runner.provenance import environment, now
from ..output import _write_csv
from .coin import CoinSpeed, coin_speed
from .truncation import Log, TruncationSpeed, _quiet, truncation_speed
from .variance import VarianceSpeed, variance_speed

#: Targets of ``modelcollapse collapse-speed``.
TARGETS = ("coin", "gaussian", "gmm", "ngram")


@dataclass
class SpeedReport:
    """A finished ``collapse-speed`` command.

    Attributes
    ----------
    result
        :class:`CoinSpeed` or :class:`VarianceSpeed`.
    path
        The results folder.
    manifest
        What was written to ``manifest.json``.
    """

    result: CoinSpeed | VarianceSpeed | TruncationSpeed
    path: Path
    manifest: dict[str, Any]


def default_speed_out(target: str, root: Path | str = "runs") -> Path:
    """``runs/collapse-speed-<target>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if taken."""
    return stamped_folder(root, f"collapse-speed-{target}", reuse_empty=True)


def collapse_speed(target: str, *, out: Path | str | None = None, plots: bool = True,
                   progress: bool = False, log: Log = _quiet, argv: list[str] | None = None,
                   workers: int | None = None, **settings: Any) -> SpeedReport:
    """Run one collapse-speed comparison and write its results folder.

    The folder holds ``collapse-speed.csv`` (one row per ``k`` or fraction), ``curves.csv``
    (the curves behind the figure), ``collapse-speed.png`` and ``manifest.json`` (settings,
    seed, versions, argv, times). It is written under a hidden ``.partial`` name and renamed
    into place when complete, so a folder that looks finished is finished.

    Parameters
    ----------
    target
        ``"coin"`` (:func:`coin_speed`), ``"gaussian"`` or ``"gmm"`` (:func:`variance_speed`),
        ``"ngram"`` (:func:`modelcollapse.ngram_speed.truncation_speed`).
    out
        The folder (new or empty); default :func:`default_speed_out`.
    plots
        Draw the figure.
    progress, log, workers
        Passed on.
    **settings
        Keyword arguments of :func:`coin_speed`, :func:`variance_speed` or
        :func:`~modelcollapse.ngram_speed.truncation_speed`.

    Returns
    -------
    SpeedReport
    """
    if target not in TARGETS:
        raise ConfigError("target", f"must be one of {', '.join(TARGETS)}", target)
    path = prepare_output(out) if out is not None else default_speed_out(target)
    started, t0 = now(), time.perf_counter()
    result: CoinSpeed | VarianceSpeed | TruncationSpeed
    if target == "coin":
        result = coin_speed(progress=progress, log=log, workers=workers, **settings)
    elif target == "ngram":
        result = truncation_speed(progress=progress, log=log, workers=workers, **settings)
    else:
        result = variance_speed(target, progress=progress, log=log, workers=workers, **settings)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _write_csv(tmp / "collapse-speed.csv", result.table())
        _write_csv(tmp / "curves.csv", result.curves())
        figures: list[str] = []
        manifest: dict[str, Any] = {
            "kind": "collapse-speed",
            "format": 1,
            "status": "complete",
            "target": target,
            "settings": result.settings(),
            "seed": result.seed,
            "seed_drawn": result.seed_drawn,
            "runs": [config.to_dict() for config in result.configs],
            "files": {"table": "collapse-speed.csv", "curves": "curves.csv",
                      "figures": figures},
            "notes": "times in generations; inf = not within the horizon",
            "started": started,
        }
        if plots:
            try:
                # matplotlib is imported only when a figure is wanted
                from ...plots.canvas import save_figure
                from ...plots.speed import speed_figure

                save_figure(speed_figure(result), tmp / "collapse-speed.png")
                figures.append("collapse-speed.png")
            except Exception as err:
                warnings.warn(f"the figure was not written: {type(err).__name__}: {err}",
                              RuntimeWarning, stacklevel=2)
                manifest["figures_error"] = f"{type(err).__name__}: {err}"
        manifest.update({"finished": now(), "wall_seconds": round(time.perf_counter() - t0, 3),
                         **environment(argv)})
        write_json(tmp / "manifest.json", manifest)
        try:
            os.replace(tmp, path)
        except OSError:
            # The folder received files while the comparison ran (another command chose it
            # too): publish beside it rather than throw the results away.
            taken, path = path, free_folder(path, reuse_empty=True)
            os.replace(tmp, path)
            log(f"{taken} was filled by another process meanwhile; results written to {path}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SpeedReport(result, path, manifest)
