"""Running one configuration: :func:`simulate` keeps it in memory, :func:`run_to_folder` writes it.

Both draw a seed when the configuration has none (recorded, so the run can be repeated), refuse
a run that would not fit in memory before any work starts, simulate the replicate blocks on
threads (:mod:`modelcollapse.runner.blocks`) and add the summary with theory beside it
(:mod:`modelcollapse.runner.summary`). :func:`run_to_folder` streams every block to the run's
folder as it finishes (:class:`~modelcollapse.results.run.RunWriter`), keeps the first
:data:`PLOT_REPLICATES` trajectories for the figures, and calls the figure function it is given
(the runtime draws nothing itself; :func:`modelcollapse.run` passes the PNG figures). Replicate
0's points at the pictured generations (families with points in the plane) go to
``points.parquet``, and to the figures (``scatter.png``); its images (families whose samples are
images) to ``pictures.parquet`` and ``samples.png``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import RunConfig
from ..results.folders import draw_figures, stamped_folder
from ..results.run import Result, RunWriter
from ..results.tables import replicate_columns
from .blocks import Block, default_workers, iter_blocks, simulate_arrays
from .compilation import HEARTBEAT_SECONDS
from .memory import check_memory
from .progress import LINES, progress_bar
from .provenance import environment, now
from .summary import summarize

#: Replicates whose whole trajectories are kept in memory for the figures of a large run
#: (every replicate still goes to metrics.parquet and into the summary).
PLOT_REPLICATES = 500

#: Draws a run's figures: ``(result, folder) -> files written``.
RunFigures = Callable[[Result, Path], Iterable[Path | str]]


def default_out(config: RunConfig, root: Path | str = "runs") -> Path:
    """``runs/<family>-<YYYYmmdd-HHMMSS>``, with a numeric suffix if that exists already."""
    return stamped_folder(root, config.model.name)


def _manifest(config: RunConfig, *, summary: dict[str, Any], started: str, wall: float,
              workers: int, seed_drawn: bool, argv: list[str] | None,
              figures: list[str]) -> dict[str, Any]:
    return {
        "kind": "run",
        "format": 1,
        "status": "complete",
        "config": config.to_dict(),
        "seed_drawn": seed_drawn,
        "stream_key": config.stream_key,
        "block_size": config.block_size,
        "metrics": list(config.metric_names),
        "files": {"metrics": "metrics.parquet", "replicates": "replicates.parquet",
                  "figures": figures},
        "summary": summary,
        "started": started,
        "finished": now(),
        "wall_seconds": round(wall, 3),
        "workers": workers,
        **environment(argv),
    }


def simulate(config: RunConfig | None = None, *, workers: int | None = None,
             progress: bool = False) -> Result:
    """Run ``config`` and keep everything in memory; nothing is written.

    Parameters
    ----------
    config
        The experiment (default: the classic GMM). A missing seed is drawn and recorded in
        ``result.manifest``.
    workers
        Threads (default: all cores). Never changes the numbers.
    progress
        Show a progress bar on standard error.

    Returns
    -------
    Result
        With ``metrics`` (tidy DataFrame), ``replicates``, ``trajectories(metric)`` and, for a
        family with points in the plane, ``point_sets()``; for one whose samples are images,
        ``pictures()``.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> result = mc.simulate(mc.RunConfig("coin", n_replicates=1000, seed=1))
    >>> p = result.trajectories("p")          # [replicate, generation]
    >>> bool(abs(p[:, 5].mean() - 0.5) < 0.05)
    True
    """
    config = config or RunConfig()
    config.model.check_installed()
    seed_drawn = config.seed is None
    config = config.with_seed()
    check_memory(config, workers=workers or default_workers(), in_memory=True)
    started, t0 = now(), time.perf_counter()
    total = config.n_replicates * config.n_generations
    with progress_bar(total, config.model.name, enabled=progress) as advance:
        traj = simulate_arrays(config, workers=workers, progress=advance)
    replicates = replicate_columns(config, traj.metrics)
    manifest = _manifest(config, summary=summarize(config, replicates), started=started,
                         wall=time.perf_counter() - t0,
                         workers=workers or default_workers(), seed_drawn=seed_drawn,
                         argv=None, figures=[])
    manifest["kind"] = "simulation"
    return Result(manifest, arrays=traj.metrics, replicates=replicates, points=traj.points,
                  pictures=traj.pictures)


def run_to_folder(config: RunConfig | None = None, *, out: Path | str | None = None,
                  figures: RunFigures | None = None, workers: int | None = None,
                  progress: bool | str = False, argv: list[str] | None = None,
                  on_start: Callable[[RunConfig, Path], None] | None = None) -> Result:
    """Run ``config`` and write its results folder (metrics, per-replicate table, manifest).

    Trajectories are streamed to ``metrics.parquet`` block by block, so memory stays bounded
    however many replicates are asked for. The folder appears only when complete.

    Parameters
    ----------
    config
        The experiment (default: the classic GMM, N = 10 000, 2000 generations, 10 replicates).
    out
        The results folder (new or empty); default ``runs/<family>-<timestamp>``.
    figures
        Draws the figures into the folder before it is published, from a :class:`Result` holding
        the first :data:`PLOT_REPLICATES` trajectories; a failure warns and is recorded in the
        manifest (``figures_error``), the run is kept. ``None``: no figures.
    workers
        Threads (default: all cores). Never changes the numbers.
    progress
        Show a progress bar with ETA on standard error; ``"lines"``: a line every 10 s
        instead, where no bar can be drawn (:func:`~.progress.progress_lines`).
    argv
        The command line to record in the manifest (default ``sys.argv``).
    on_start
        Called with the seeded config and the folder before the work starts.

    Returns
    -------
    Result
        Reading its tables from the folder.
    """
    config = config or RunConfig()
    config.model.check_installed()  # before the seed is drawn and any folder exists
    seed_drawn = config.seed is None
    config = config.with_seed()
    check_memory(config, workers=workers or default_workers())  # before any folder exists
    path = Path(out) if out is not None else default_out(config)
    writer: RunWriter | None = None
    try:  # every interrupt from here on removes the partial folder (writer.abort below)
        writer = RunWriter(path, config)  # which also cleans up after itself if interrupted
        started, t0 = now(), time.perf_counter()
        keep = min(config.n_replicates, PLOT_REPLICATES)
        kept: dict[str, list[np.ndarray]] = {name: [] for name in config.metric_names}
        excerpts: dict[int, list[str]] = {}
        points: dict[int, np.ndarray] = {}
        pictures: dict[int, np.ndarray] = {}
        if on_start is not None:
            on_start(config, path)
        total = config.n_replicates * config.n_generations
        description = f"{config.model.name} {config.n_replicates}×{config.n_generations}"
        with progress_bar(total, description, enabled=bool(progress),
                          plain=progress == LINES) as advance:
            def prepare(block: Block) -> Any:  # in the worker thread: tables built in parallel
                return writer.prepare(block.result.metrics, block.first_replicate)

            for block in iter_blocks(config, workers=workers, progress=advance, finish=prepare):
                writer.add(block.result.metrics, block.first_replicate, block.prepared)
                if block.first_replicate == 0:
                    excerpts, points = block.result.excerpts, block.result.points
                    pictures = block.result.pictures
                if block.first_replicate < keep:
                    room = keep - block.first_replicate
                    for name, values in block.result.metrics.items():
                        kept[name].append(values[:room])
        replicates = writer.replicates()
        summary = summarize(config, replicates)
        names: list[str] = []
        manifest = _manifest(config, summary=summary, started=started,
                             wall=time.perf_counter() - t0,
                             workers=workers or default_workers(), seed_drawn=seed_drawn,
                             argv=argv, figures=names)
        if excerpts:
            manifest["files"]["samples"] = writer.write_samples(excerpts)
        if points:
            manifest["files"]["points"] = writer.write_points(points)
        if pictures:
            manifest["files"]["pictures"] = writer.write_pictures(pictures)
        if figures is not None:
            view = Result(manifest, arrays={k: np.concatenate(v) for k, v in kept.items()},
                          replicates=replicates, points=points, pictures=pictures)
            names += draw_figures(lambda folder: figures(view, folder), writer.folder,
                                  manifest)
            manifest["wall_seconds"] = round(time.perf_counter() - t0, 3)
        writer.finish(manifest)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return Result(manifest, path=path, replicates=replicates)


def compile_ahead(config: RunConfig, *, tick: Callable[[float], None] | None = None,
                  every: float = HEARTBEAT_SECONDS) -> float:
    """Compile every kernel ``config`` will call, by running it shrunk; return the seconds taken.

    The shrunk run (two replicates, two generations, the same family, policy and sample size)
    takes the same code paths with the same argument types, so numba compiles, and caches, all
    that the real run needs; its results are thrown away and touch no random stream of the real
    run. ``tick(seconds so far)`` is called every ``every`` seconds while it compiles.
    """
    small = dataclasses.replace(config, n_replicates=min(config.n_replicates, 2),
                                n_generations=min(config.n_generations, 2))
    started = time.perf_counter()
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            if tick is not None:
                tick(time.perf_counter() - started)

    watcher = threading.Thread(target=beat, name="compile-heartbeat", daemon=True)
    watcher.start()
    try:
        simulate(small, workers=1)
    finally:
        done.set()
        watcher.join()
    return time.perf_counter() - started
