"""Running (or resuming) a sweep and writing its folder, never losing finished work.

:func:`sweep` plans the work units, refuses a folder that holds something else (or a different
sweep), runs the units not yet done on an executor, writes each one as it arrives, stops cleanly
on Ctrl-C, SIGTERM or a failed unit (:class:`~modelcollapse.errors.SweepInterrupted`,
:class:`~modelcollapse.errors.SweepFailed`, the finished units kept), and, when every unit is
done, writes ``summary.parquet`` and the figures it is given.

A sweep holds its folder's lock (:class:`~modelcollapse.sweeps.store.SweepLock`) from before it
reads the manifest until it has written it for the last time, so two sweeps never run one folder
(whatever their executors); the second is refused, naming the first's process. Each session
records its process in the manifest; resuming a sweep whose last session was killed outright
says so in one line and records that session as ``interrupted (process gone)``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, SweepFailed, SweepInterrupted
from ..results.folders import (
    describe_record,
    draw_figures,
    free_folder,
    prepare_output,
    process_record,
)
from ..runner.provenance import environment, now
from ..seeding import STREAM_VERSION, draw_seed
from .executors import Executor, make_executor
from .grid import SweepSpec, column_name
from .plan import SweepPlan, as_spec, column_value, plan
from .reader import SweepResult
from .store import (
    FORMAT,
    GONE,
    LOCK,
    MANIFEST,
    SUMMARY,
    SweepFolder,
    SweepLock,
    check_resumable,
    last_process,
    sweep_status,
)
from .units import UnitTask, run_unit

if TYPE_CHECKING:
    import pandas as pd


Log = Callable[[str], None]
#: Draws a complete sweep's figures: ``(plan, summary, folder) -> files written``.
SweepFigures = Callable[[SweepPlan, "pd.DataFrame", Path], Iterable[Path | str]]


def default_folder(spec: SweepSpec, root: Path | str = "runs") -> Path:
    """``runs/sweep-<name>``: fixed, so that running the same command again resumes."""
    return Path(root) / f"sweep-{spec.name}"


def _choose_folder(spec: SweepSpec, out: Path | str | None, force: bool) -> Path:
    settings = spec.output_settings()
    path = Path(out) if out is not None else settings.get("out") or default_folder(spec)
    path = Path(path)
    if force and path.exists() and (not path.is_dir()
                                    or any(p.name != LOCK for p in path.iterdir())):
        path = free_folder(path)
    try:  # a sweep folder is resumed, so it may hold files; anything else is refused
        return prepare_output(path, may_hold_files=True)
    except ConfigError as err:
        label = ("--out" if out is not None or "out" not in settings
                 else spec.label("experiment", "out"))
        raise ConfigError(label, err.problem, err.value) from None


def sweep(spec: SweepSpec | Mapping[str, Any] | Path | str, *, out: Path | str | None = None,
          seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
          dask_local: int | None = None, executor: Executor | None = None, force: bool = False,
          plots: bool | None = None, figures: SweepFigures | None = None,
          progress: bool = False, argv: list[str] | None = None,
          log: Log | None = None) -> SweepResult:
    """Run (or resume) a sweep and write its folder.

    Parameters
    ----------
    spec
        The sweep: a :class:`SweepSpec`, a mapping with ``experiment`` and ``grid`` tables, or a
        TOML file.
    out
        The sweep folder (default ``[experiment] out`` or ``runs/sweep-<file name>``). If it holds
        this sweep, finished units are kept and only the rest run; if it holds anything else,
        the sweep is refused (``force`` starts a new folder beside it instead).
    seed
        Overrides the file's seed. Without either, a resumed sweep keeps its seed and a new one
        draws a seed (recorded and printed).
    workers
        Local worker processes (default all cores; 1 runs everything in this process).
    scheduler, dask_local
        Run on the Dask cluster at this address, or on a new local Dask cluster of this many
        workers (needs ``pip install 'modelcollapse[dask]'``).
    executor
        Any object with ``imap_unordered`` and ``close`` (:mod:`modelcollapse.sweeps.
        executors`), instead of the three options above.
    force
        Start a new folder (``…-2``) if ``out`` holds files.
    plots
        Draw the figures (default: ``[experiment] plots``, else true).
    figures
        Draws the figures of a complete sweep into its folder: ``figures(plan, summary,
        folder)`` returns the files written (:func:`modelcollapse.sweep` passes ``sweep.png``).
        A failure warns and is recorded in the manifest; the tables are kept.
    progress
        A progress bar over work units, with ETA, on standard error.
    argv
        The command line to record.
    log
        Receives one-line messages (the folder, the executor, resumption); default silent.

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepInterrupted
        On Ctrl-C / SIGTERM, after the finished units are safely written.
    SweepFailed
        If a unit raised or the cluster gave it up; finished units are kept.
    ConfigError
        Also when another sweep is running the folder (naming its pid, host and start).
    """
    say = log or (lambda line: None)
    remote = ("--scheduler" if scheduler is not None else "--dask-local"
              if dask_local is not None else "executor" if executor is not None else None)
    if workers is not None and remote is not None:  # the rule for options without effect
        raise ConfigError("--workers", f"has no effect with {remote} (it sets the local "
                          "processes; the cluster's workers run the units)")
    spec = as_spec(spec)
    settings = spec.output_settings()
    plots = settings.get("plots", True) if plots is None else plots
    workers = settings.get("workers") if workers is None else workers
    path = _choose_folder(spec, out, force)
    # The lock before the manifest is read: nothing may change the folder under this sweep. It
    # goes when this function returns or raises, and with this process however that ends.
    lock = SweepLock(path)
    if not lock.acquire():
        say(f"{path}: this file system offers no file locks, so a second sweep into the same "
            "folder would not be noticed")
    try:
        return _run_locked(spec, path, seed=seed, workers=workers, scheduler=scheduler,
                           dask_local=dask_local, executor=executor, plots=plots,
                           figures=figures, progress=progress, argv=argv, say=say)
    finally:
        # Refused before anything was written (a changed sweep, an unreachable scheduler):
        # the folder is left as it was found, without a lock file or a folder made for it.
        lock.release(discard=not (path / MANIFEST).is_file())


def _run_locked(spec: SweepSpec, path: Path, *, seed: int | None, workers: int | None,
                scheduler: str | None, dask_local: int | None, executor: Executor | None,
                plots: bool, figures: SweepFigures | None, progress: bool,
                argv: list[str] | None, say: Log) -> SweepResult:
    """:func:`sweep` once its folder is chosen and locked."""
    folder = SweepFolder(path)
    manifest = folder.manifest()
    if manifest is None and path.is_dir() and any(p.name != LOCK for p in path.iterdir()):
        raise ConfigError("--out", "must be a new or empty folder, or a sweep folder to resume; "
                          "it holds other files (use --force to start a new folder)", str(path))
    requested_seed = spec.seed if seed is None else seed
    if manifest is not None:
        check_resumable(folder, manifest, spec=spec.canonical(), seed=requested_seed,
                        stream_version=STREAM_VERSION)
        seed = manifest["seed"]
        kept_units = {c["id"]: c["blocks_per_unit"] for c in manifest["cells"]}
        sweep_plan = plan(spec, seed=seed, blocks_per_unit=kept_units)
    else:
        seed = requested_seed if requested_seed is not None else draw_seed()
        sweep_plan = plan(spec, seed=seed)
    _check_memory(sweep_plan, workers, local=scheduler is None and dask_local is None
                  and executor is None)

    started, t0 = now(), time.perf_counter()
    finished = folder.finished_units()
    tasks = sweep_plan.tasks()
    todo = [t for t in tasks if t.name not in finished]
    n_done = len(tasks) - len(todo)
    say(f"sweep {spec.source}: {len(sweep_plan.cells)} cells, {len(tasks)} work units"
        + (f", {len(sweep_plan.skipped)} invalid combinations skipped" if sweep_plan.skipped
           else "") + f"; seed {seed}" + (" (drawn; pass --seed to repeat)"
                                           if requested_seed is None and manifest is None
                                           else ""))
    # The executor first: a scheduler that cannot be reached must not leave a folder behind.
    runner = None
    if todo:
        runner = executor or make_executor(workers=workers, scheduler=scheduler,
                                           dask_local=dask_local)
    completed = False
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        folder.create()
        if manifest is None:
            manifest = _new_manifest(sweep_plan, seed_drawn=requested_seed is None, argv=argv,
                                     started=started)
        else:
            _close_previous_session(manifest, say)
        manifest["status"] = "running"
        session: dict[str, Any] = {"started": started, "units_already_done": n_done,
                                   "process": process_record()}
        manifest.setdefault("sessions", []).append(session)
        folder.write_manifest(manifest)
        if runner is not None:
            if n_done:
                say(f"resuming {path}: {n_done} of {len(tasks)} units already done")
            _run_units(todo, runner, folder, manifest, session, n_total=len(tasks),
                       n_done=n_done, progress=progress, say=say)
        else:
            say(f"all {len(tasks)} units were already done")
        completed = True
    finally:
        if runner is not None and executor is None:
            runner.close(cancel=not completed)
    _finish(sweep_plan, folder, manifest, session, figures=figures if plots else None, t0=t0)
    return SweepResult(path, manifest)


def _close_previous_session(manifest: dict[str, Any], say: Log) -> None:
    """Say how the previous session ended when its manifest still says ``running``.

    That session was killed outright (SIGKILL, out of memory, a lost machine): nothing could
    record its end. Its process is gone if this machine can tell (:func:`~modelcollapse.
    sweeps.store.sweep_status`); the session is then recorded as such.
    """
    if manifest.get("status") != "running":
        return
    record = last_process(manifest)
    if sweep_status(manifest) == GONE:
        say(f"the previous session was {GONE}: {describe_record(record)} was killed before it "
            "could record its end")
        manifest["sessions"][-1]["status"] = GONE
    else:
        say(f"the previous session ({describe_record(record)}) did not record its end; this "
            "one takes over")


def _run_units(todo: list[UnitTask], runner: Executor, folder: SweepFolder,
               manifest: dict[str, Any], session: dict[str, Any], *, n_total: int, n_done: int,
               progress: bool, say: Log) -> None:
    """Run ``todo`` on ``runner`` and write each unit as it comes back."""
    from ..runner.progress import progress_bar

    session["executor"] = runner.description
    folder.write_manifest(manifest)
    say(f"running {len(todo)} units on {runner.description}; results: {folder.path}")
    written = n_done
    try:
        with progress_bar(n_total, "sweep", enabled=progress, unit="unit", initial=n_done,
                          scale=False) as advance:
            for output in runner.imap_unordered(run_unit, todo):
                folder.write_unit(output.name, output.metrics, output.replicates)
                written += 1
                advance(1)
    except KeyboardInterrupt:
        _stop(folder, manifest, session, "interrupted", written)
        raise SweepInterrupted(folder.path, written, n_total) from None
    except ConfigError:
        raise
    except Exception as err:
        _stop(folder, manifest, session, "failed", written, error=err)
        raise SweepFailed(folder.path, written, n_total, err) from err
    session["units_run"] = written - n_done


def _stop(folder: SweepFolder, manifest: dict[str, Any], session: dict[str, Any], status: str,
          written: int, error: BaseException | None = None) -> None:
    manifest["status"] = status
    stopped = now()
    session.update({"stopped": stopped, "status": status, "units_finished": written,
                    "wall_seconds": _seconds_between(session.get("started"), stopped)})
    if error is not None:
        session["error"] = f"{type(error).__name__}: {error}"
    folder.write_manifest(manifest)


def _seconds_between(started: str | None, stopped: str) -> float | None:
    """Seconds from one ISO timestamp to another (``None`` if the start is unknown)."""
    from datetime import datetime

    try:
        return round((datetime.fromisoformat(stopped)
                      - datetime.fromisoformat(str(started))).total_seconds(), 3)
    except ValueError:
        return None


def _check_memory(sweep_plan: SweepPlan, workers: int | None, *, local: bool) -> None:
    """Refuse, before anything runs, a unit that would not fit ``workers`` times in memory."""
    if not local:
        return  # remote workers: the cluster's own limits apply
    from ..runner.blocks import default_workers
    from ..runner.memory import available_memory, check_memory

    available = available_memory()
    if available is None:
        return
    parallel = default_workers() if workers is None else workers
    for planned in sweep_plan.cells:
        cfg = planned.config
        unit_replicates = min(cfg.n_replicates, planned.blocks_per_unit * cfg.block_size)
        check_memory(dataclasses.replace(cfg, n_replicates=unit_replicates), workers=1,
                     available=available // max(1, parallel))


def _new_manifest(sweep_plan: SweepPlan, *, seed_drawn: bool, argv: list[str] | None,
                  started: str) -> dict[str, Any]:
    spec = sweep_plan.spec
    return {
        "kind": "sweep",
        "format": FORMAT,
        "stream_version": STREAM_VERSION,
        "status": "running",
        "name": spec.name,
        "source": spec.source,
        "spec": spec.canonical(),
        "seed": sweep_plan.seed,
        "seed_drawn": seed_drawn,
        "axes": spec.axes(),
        "cells": [{"id": c.cell.id, "index": c.cell.index,
                   "values": {k: column_value(v) for k, v in c.cell.values.items()},
                   "config": c.config.to_dict(), "stream_key": c.config.stream_key,
                   "blocks_per_unit": c.blocks_per_unit, "units": c.n_units}
                  for c in sweep_plan.cells],
        "skipped": [{"index": s.index,
                     "values": {k: column_value(v) for k, v in s.values.items()},
                     "reason": s.reason} for s in sweep_plan.skipped],
        "units": sweep_plan.n_units,
        "files": {"metrics": "metrics/", "replicates": "replicates/", "summary": SUMMARY,
                  "figures": []},
        "started": started,
        **environment(argv),
    }


def _finish(sweep_plan: SweepPlan, folder: SweepFolder, manifest: dict[str, Any],
            session: dict[str, Any], *, figures: SweepFigures | None, t0: float) -> None:
    """Write the summary (and the figures) from the unit files, then mark the sweep complete."""
    frame = summarize_sweep(sweep_plan, folder)
    folder.write_summary(frame)
    draw = None if figures is None else (lambda path: figures(sweep_plan, frame, path))
    manifest["files"]["figures"] = draw_figures(draw, folder.path, manifest)
    manifest["status"] = "complete"
    manifest["finished"] = now()
    session.update({"finished": manifest["finished"],
                    "wall_seconds": round(time.perf_counter() - t0, 3)})
    folder.write_manifest(manifest)


def summarize_sweep(sweep_plan: SweepPlan, folder: SweepFolder) -> pd.DataFrame:
    """One row per cell: the grid values, the run's sizes and the statistics of
    :func:`modelcollapse.sweeps.summary.cell_summary`."""
    from .summary import cell_summary, summary_frame

    rows = []
    grid_keys = list(sweep_plan.spec.grid)
    for planned in sweep_plan.cells:
        cell, cfg = planned.cell, planned.config
        table = folder.read_replicates(cell.id)
        drop = {"cell", *(column_name(k) for k in grid_keys)}
        columns = {name: table[name].to_numpy(zero_copy_only=False).astype(float)
                   if name != "replicate" else table[name].to_numpy()
                   for name in table.column_names if name not in drop}
        row: dict[str, Any] = {"cell": cell.id, "cell_index": cell.index}
        row.update({column_name(k): column_value(v) for k, v in cell.values.items()})
        described = {"family": cfg.model.name, "policy": cfg.data_policy.name,
                     "samples": cfg.n_samples, "generations": cfg.n_generations,
                     "collapse_fraction": cfg.collapse_fraction}
        row.update({k: v for k, v in described.items() if k not in row})
        stats = cell_summary(cfg, columns)
        row.update({k: v for k, v in stats.items() if k not in row})
        rows.append(row)
    return summary_frame(rows)
