"""Sweeps: a grid of experiments, split into work units, run anywhere, never losing finished work.

``modelcollapse sweep SWEEP.toml`` is :func:`sweep`. The grid (:mod:`modelcollapse.grid`) expands
into cells; each cell's replicates are cut into *work units* of whole replicate blocks, so a large
cell spreads over many workers and a small one is a single unit. Units run on an executor
(:mod:`modelcollapse.executors`: this process, local processes, or Dask) and come back as encoded
Parquet files, which this process writes atomically into the sweep folder
(:mod:`modelcollapse.sweep_store`) as they arrive. Running the same command again resumes: units
whose files exist are skipped.

Every number depends only on (cell, seed): a unit draws its blocks from
``SeedSequence(seed, spawn_key=(stream_key(cell), block))`` exactly as ``modelcollapse run`` does,
so a cell of a sweep is bit-for-bit the run with the same options and seed, whatever the executor,
the number of workers, the unit size or the order in which units finish.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .config import RunConfig
from .errors import ConfigError
from .executors import Executor, make_executor
from .grid import Cell, SkippedCell, SweepSpec, column_name, expand, show_value
from .provenance import environment, now
from .results import (
    arrow_array,
    arrow_strings,
    free_folder,
    join_columns,
    long_table,
    replicate_columns,
    replicate_table,
)
from .runner import iter_blocks
from .seeding import STREAM_VERSION, draw_seed
from .sweep_store import FORMAT, SUMMARY, SweepFolder, check_resumable, unit_name

if TYPE_CHECKING:
    import pandas as pd

#: Target work per unit, in estimated nanoseconds of one core (:func:`generation_cost`).
UNIT_WORK = 1e9
#: Nanoseconds per metric per replicate-generation: computing it, and building, compressing and
#: writing its row of the metrics table.
METRIC_NS = 90.0
#: Upper bound on a cell's units (bigger cells get bigger units).
MAX_UNITS_PER_CELL = 4096
#: Seconds per unit of work.
SECONDS_PER_WORK = 1e-9

Log = Callable[[str], None]


def generation_cost(config: RunConfig) -> float:
    """Rough cost of one replicate-generation, in nanoseconds of one core.

    Families that keep exact sufficient statistics update a few numbers per parameter; the
    others draw and fit their whole training set (``accumulate`` fits a set that grows, on
    average half its final size), at the family's :attr:`~modelcollapse.families.Family.cost_ns`
    per value; each generation adds the family's fixed ``generation_ns`` and :data:`METRIC_NS`
    per metric. Only used to size work units and estimate
    time (within a factor of about two); never changes a number.
    """
    family, policy = config.model, config.data_policy
    n, g = config.n_samples, config.n_generations
    per_value, per_parameter = family.cost_ns
    if family.uses_sufficient_statistics(policy, n):
        cost = per_parameter * max(1, int(np.prod(family.param_shape)))
    else:
        cost = per_value * policy.stored_samples(n, g) / 2
    return cost + family.generation_ns + METRIC_NS * len(family.metric_names)


@dataclass(frozen=True)
class PlannedCell:
    """A cell and how its replicates are cut into work units.

    Attributes
    ----------
    cell
        The cell.
    blocks_per_unit
        Replicate blocks per unit (the last unit may hold fewer).
    """

    cell: Cell
    blocks_per_unit: int

    @property
    def config(self) -> RunConfig:
        return self.cell.config

    @property
    def n_blocks(self) -> int:
        return math.ceil(self.config.n_replicates / self.config.block_size)

    @property
    def n_units(self) -> int:
        return math.ceil(self.n_blocks / self.blocks_per_unit)

    @property
    def work(self) -> float:
        c = self.config
        return c.n_replicates * c.n_generations * generation_cost(c)

    def tasks(self, axes_values: Mapping[str, Any]) -> list[UnitTask]:
        columns = tuple((column_name(k), _column_value(v)) for k, v in axes_values.items())
        out = []
        for unit in range(self.n_units):
            first = unit * self.blocks_per_unit
            blocks = range(first, min(first + self.blocks_per_unit, self.n_blocks))
            out.append(UnitTask(unit_name(self.cell.id, unit), self.cell.id, self.config,
                                blocks, columns))
        return out


def plan_units(config: RunConfig) -> int:
    """Blocks per work unit for ``config``: about :data:`UNIT_WORK` each, at most
    :data:`MAX_UNITS_PER_CELL` units."""
    block_work = config.block_size * config.n_generations * generation_cost(config)
    n_blocks = math.ceil(config.n_replicates / config.block_size)
    per_unit = max(1, int(UNIT_WORK // block_work))
    return max(per_unit, math.ceil(n_blocks / MAX_UNITS_PER_CELL))


def _column_value(value: Any) -> Any:
    """A grid value as a table column holds it (lists as ``"-2,2"``)."""
    if isinstance(value, tuple):
        return show_value(value)
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will do: its cells, the combinations skipped, the work units.

    Built by :func:`plan`; printed by ``modelcollapse sweep --dry-run``.
    """

    spec: SweepSpec
    seed: int | None
    cells: tuple[PlannedCell, ...]
    skipped: tuple[SkippedCell, ...]

    @property
    def n_units(self) -> int:
        return sum(c.n_units for c in self.cells)

    @property
    def work(self) -> float:
        return sum(c.work for c in self.cells)

    @property
    def replicate_generations(self) -> int:
        return sum(c.config.n_replicates * c.config.n_generations for c in self.cells)

    def tasks(self) -> list[UnitTask]:
        return [t for c in self.cells for t in c.tasks(c.cell.values)]

    def format(self) -> str:
        """The dry run's listing: cells, skipped combinations, totals and estimated time."""
        keys = list(self.spec.grid)
        widths = {k: max(len(k), *(len(show_value(c.cell.values[k])) for c in self.cells))
                  for k in keys}
        sizes = [(flag, field, width) for flag, field, width in
                 (("samples", "n_samples", 8), ("generations", "n_generations", 12),
                  ("replicates", "n_replicates", 11)) if flag not in keys]
        head = ("  cell  id          " + "".join(f"{k:>{widths[k] + 2}}" for k in keys)
                + "".join(f"{flag:>{width}}" for flag, _, width in sizes)
                + f"{'units':>7}{'core-s':>9}")
        lines = [head]
        for c in self.cells:
            cfg = c.config
            lines.append(f"  {c.cell.index:>4}  {c.cell.id:<12}"
                         + "".join(f"{show_value(c.cell.values[k]):>{widths[k] + 2}}" for k in keys)
                         + "".join(f"{getattr(cfg, field):>{width}}"
                                   for _, field, width in sizes)
                         + f"{c.n_units:>7}{c.work * SECONDS_PER_WORK:>9.3g}")
        if self.skipped:
            lines.append(f"skipped ({len(self.skipped)} invalid combinations):")
            lines += [f"  {s.index:>4}  {s.label()}: {s.reason}" for s in self.skipped]
        seed = (f"seed {self.seed}" if self.seed is not None
                else "seed drawn when the sweep starts (set seed in [experiment] or --seed)")
        lines.append(
            f"{len(self.cells)} cells, {self.n_units} work units, "
            f"{self.replicate_generations:.3g} replicate-generations; estimated "
            f"{_duration(self.work * SECONDS_PER_WORK)} of one core (rough); {seed}")
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def as_spec(spec: SweepSpec | Mapping[str, Any] | Path | str) -> SweepSpec:
    """A :class:`SweepSpec` from a spec, a mapping like the file's tables, or a file path."""
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, Mapping):
        return SweepSpec.from_dict(spec)
    return SweepSpec.from_toml(spec)


def plan(spec: SweepSpec | Mapping[str, Any] | Path | str, *, seed: int | None = None,
         blocks_per_unit: Mapping[str, int] | None = None) -> SweepPlan:
    """Expand a sweep into cells and work units without running anything.

    Parameters
    ----------
    spec
        The sweep (a :class:`SweepSpec`, the file's tables as a mapping, or a TOML path).
    seed
        Overrides the sweep's own seed.
    blocks_per_unit
        Cell id → blocks per unit, to keep a resumed sweep's units as they were.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> p = mc.plan_sweep({"experiment": {"family": "coin", "generations": 100},
    ...                    "grid": {"samples": [1, 10, 100]}})
    >>> len(p.cells), p.n_units
    (3, 3)
    """
    spec = as_spec(spec)
    seed = spec.seed if seed is None else seed
    expansion = expand(spec, seed=seed)
    blocks_per_unit = blocks_per_unit or {}
    cells = tuple(PlannedCell(c, blocks_per_unit.get(c.id) or plan_units(c.config))
                  for c in expansion.cells)
    return SweepPlan(spec, seed, cells, expansion.skipped)


# -- the work unit -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitTask:
    """One work unit: a range of one cell's replicate blocks (everything a worker needs).

    Attributes
    ----------
    name
        ``<cell>-u<unit>``, the unit's file name.
    cell_id
        The cell's id (a column of both tables).
    config
        The cell's run, with the sweep's seed.
    blocks
        Replicate blocks to simulate.
    columns
        Grid key → value, added as constant columns.
    """

    name: str
    cell_id: str
    config: RunConfig
    blocks: range
    columns: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class UnitOutput:
    """A finished unit: its two tables encoded as Parquet, ready to be written as they are."""

    name: str
    metrics: pa.Buffer
    replicates: pa.Buffer
    n_replicates: int
    seconds: float


def run_unit(task: UnitTask) -> UnitOutput:
    """Simulate a unit's blocks and encode its metrics and per-replicate tables.

    Runs in a worker (any executor); encoding there spreads the compression over the workers.
    """
    t0 = time.perf_counter()
    config = task.config
    names = list(config.model.metric_names)
    tables: list[pa.Table] = []
    rows = []
    for block in iter_blocks(config, workers=1, blocks=task.blocks):
        tables.append(long_table(block.result.metrics, names, block.first_replicate))
        rows.append(replicate_columns(config, block.result.metrics, block.first_replicate))
    columns = (("cell", task.cell_id), *task.columns)
    metrics = _with_columns(pa.concat_tables(tables), columns)
    replicates = _with_columns(replicate_table(join_columns(rows)), columns)
    return UnitOutput(task.name, _encode(metrics), _encode(replicates), replicates.num_rows,
                      time.perf_counter() - t0)


def _constant(value: Any, n: int) -> pa.Array:
    """A column holding ``value`` ``n`` times (strings dictionary-encoded: one copy)."""
    if isinstance(value, bool):
        return pa.array(np.full(n, value))
    if isinstance(value, int):
        return arrow_array(np.full(n, value, dtype=np.int64))
    if isinstance(value, float):
        return arrow_array(np.full(n, value, dtype=np.float64))
    return pa.DictionaryArray.from_arrays(arrow_array(np.zeros(n, dtype=np.int32)),
                                          arrow_strings([str(value)]))


def _with_columns(table: pa.Table, columns: tuple[tuple[str, Any], ...]) -> pa.Table:
    n = table.num_rows
    names = [name for name, _ in columns] + table.column_names
    arrays = [_constant(value, n) for _, value in columns] + list(table.columns)
    return pa.Table.from_arrays(arrays, names=names)


def _encode(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    strings = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, sink, compression="zstd", use_dictionary=strings)
    return sink.getvalue()


# -- the driver --------------------------------------------------------------------------------


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped (Ctrl-C, SIGTERM); finished units are kept.

    Attributes
    ----------
    path
        The sweep folder.
    finished, total
        Work units finished (including earlier runs) and in all.
    """

    def __init__(self, path: Path, finished: int, total: int) -> None:
        super().__init__(f"{finished} of {total} work units finished")
        self.path = path
        self.finished = finished
        self.total = total


class SweepFailed(RuntimeError):
    """A work unit failed (or kept killing its workers); finished units are kept."""

    def __init__(self, path: Path, finished: int, total: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.path = path
        self.finished = finished
        self.total = total
        self.error = error


def default_folder(spec: SweepSpec, root: Path | str = "runs") -> Path:
    """``runs/sweep-<name>``: fixed, so that running the same command again resumes."""
    return Path(root) / f"sweep-{spec.name}"


def _choose_folder(spec: SweepSpec, out: Path | str | None, force: bool) -> Path:
    settings = spec.output_settings()
    path = Path(out) if out is not None else settings.get("out") or default_folder(spec)
    path = Path(path)
    if force and path.exists() and (not path.is_dir() or any(path.iterdir())):
        return free_folder(path)
    if path.exists() and not path.is_dir():
        raise ConfigError("--out", "must be a folder", str(path))
    return path


def sweep(spec: SweepSpec | Mapping[str, Any] | Path | str, *, out: Path | str | None = None,
          seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
          dask_local: int | None = None, executor: Executor | None = None, force: bool = False,
          plots: bool | None = None, progress: bool = False, argv: list[str] | None = None,
          log: Log | None = None, report: bool = False) -> SweepResult:
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
        Any object with ``imap_unordered`` and ``close`` (:mod:`modelcollapse.executors`),
        instead of the three options above.
    force
        Start a new folder (``…-2``) if ``out`` holds files.
    plots
        Write ``sweep.png`` (default: ``[experiment] plots``, else true).
    progress
        A progress bar over work units, with ETA, on standard error.
    argv
        The command line to record.
    log
        Receives one-line messages (the folder, the executor, resumption); default silent.
    report
        When the sweep is complete, also write the interactive ``report.html`` into its folder
        (:func:`modelcollapse.write_report`; needs ``pip install 'modelcollapse[report]'``,
        checked before anything runs).

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepInterrupted
        On Ctrl-C / SIGTERM, after the finished units are safely written.
    SweepFailed
        If a unit raised or the cluster gave it up; finished units are kept.
    """
    say = log or (lambda line: None)
    spec = as_spec(spec)
    if report:
        from .report import check_available

        check_available()
    settings = spec.output_settings()
    plots = settings.get("plots", True) if plots is None else plots
    workers = settings.get("workers") if workers is None else workers
    path = _choose_folder(spec, out, force)
    folder = SweepFolder(path)
    manifest = folder.manifest()
    if manifest is None and path.is_dir() and any(path.iterdir()):
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
        manifest["status"] = "running"
        session: dict[str, Any] = {"started": started, "units_already_done": n_done}
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
    _finish(sweep_plan, folder, manifest, session, plots=plots, t0=t0)
    result = SweepResult(path, manifest)
    if report:
        from .report import write_report

        write_report(path)
    return result


def _run_units(todo: list[UnitTask], runner: Executor, folder: SweepFolder,
               manifest: dict[str, Any], session: dict[str, Any], *, n_total: int, n_done: int,
               progress: bool, say: Log) -> None:
    """Run ``todo`` on ``runner`` and write each unit as it comes back."""
    from .progress import progress_bar

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
    session.update({"stopped": now(), "status": status, "units_finished": written})
    if error is not None:
        session["error"] = f"{type(error).__name__}: {error}"
    folder.write_manifest(manifest)


def _check_memory(sweep_plan: SweepPlan, workers: int | None, *, local: bool) -> None:
    """Refuse, before anything runs, a unit that would not fit ``workers`` times in memory."""
    if not local:
        return  # remote workers: the cluster's own limits apply
    from .resources import available_memory, check_memory
    from .runner import default_workers

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
                   "values": {k: _column_value(v) for k, v in c.cell.values.items()},
                   "config": c.config.to_dict(), "stream_key": c.config.stream_key,
                   "blocks_per_unit": c.blocks_per_unit, "units": c.n_units}
                  for c in sweep_plan.cells],
        "skipped": [{"index": s.index,
                     "values": {k: _column_value(v) for k, v in s.values.items()},
                     "reason": s.reason} for s in sweep_plan.skipped],
        "units": sweep_plan.n_units,
        "files": {"metrics": "metrics/", "replicates": "replicates/", "summary": SUMMARY,
                  "figures": []},
        "started": started,
        **environment(argv),
    }


def _finish(sweep_plan: SweepPlan, folder: SweepFolder, manifest: dict[str, Any],
            session: dict[str, Any], *, plots: bool, t0: float) -> None:
    """Write the summary (and the figure) from the unit files, then mark the sweep complete."""
    frame = summarize_sweep(sweep_plan, folder)
    folder.write_summary(frame)
    figures: list[str] = []
    if plots:
        try:
            from .sweep_plots import plot_sweep

            paths = plot_sweep(frame, axes=sweep_plan.spec.axes(), folder=folder.path,
                               skipped=[{**s.values, "reason": s.reason}
                                        for s in sweep_plan.skipped],
                               title=f"sweep {sweep_plan.spec.name}")
            figures = [p.name for p in paths]
        except Exception as err:  # the tables matter more than the figure
            import warnings

            warnings.warn(f"the sweep figure was not written: {type(err).__name__}: {err}",
                          RuntimeWarning, stacklevel=3)
            manifest["figures_error"] = f"{type(err).__name__}: {err}"
    manifest["files"]["figures"] = figures
    manifest["status"] = "complete"
    manifest["finished"] = now()
    session.update({"finished": manifest["finished"],
                    "wall_seconds": round(time.perf_counter() - t0, 3)})
    folder.write_manifest(manifest)


def summarize_sweep(sweep_plan: SweepPlan, folder: SweepFolder) -> pd.DataFrame:
    """One row per cell: the grid values, the run's sizes and the statistics of
    :func:`modelcollapse.sweep_summary.cell_summary`."""
    from .sweep_summary import cell_summary, summary_frame

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
        row.update({column_name(k): _column_value(v) for k, v in cell.values.items()})
        described = {"family": cfg.model.name, "policy": cfg.data_policy.name,
                     "samples": cfg.n_samples, "generations": cfg.n_generations,
                     "collapse_fraction": cfg.collapse_fraction}
        row.update({k: v for k, v in described.items() if k not in row})
        stats = cell_summary(cfg, columns)
        row.update({k: v for k, v in stats.items() if k not in row})
        rows.append(row)
    return summary_frame(rows)


# -- reading a sweep back ----------------------------------------------------------------------


class SweepResult:
    """A sweep folder: its manifest, summary and unit tables as pandas DataFrames.

    Returned by :func:`sweep` and by :func:`modelcollapse.load` on a sweep folder. Tables are
    read lazily; ``metrics`` holds every replicate's every generation and can be large (filter
    with ``metrics_of(cell)`` or read the Parquet folder with DuckDB or polars).

    Attributes
    ----------
    path
        The sweep folder.
    manifest
        Spec, seed, cells, skipped combinations, status, versions, sessions.
    """

    def __init__(self, path: Path | str, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._summary: pd.DataFrame | None = None

    @property
    def complete(self) -> bool:
        return self.manifest.get("status") == "complete"

    @property
    def seed(self) -> int:
        return int(self.manifest["seed"])

    @property
    def cells(self) -> pd.DataFrame:
        """One row per cell: ``cell`` (id), ``cell_index``, grid values, units, finished units."""
        import pandas as pd

        finished = SweepFolder(self.path).finished_units()
        rows = []
        for c in self.manifest["cells"]:
            done = sum(unit_name(c["id"], u) in finished for u in range(c["units"]))
            values = {column_name(k): v for k, v in c["values"].items()}
            rows.append({"cell": c["id"], "cell_index": c["index"], **values,
                         "units": c["units"], "finished_units": done})
        return pd.DataFrame(rows)

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """The invalid combinations and why."""
        return list(self.manifest["skipped"])

    @property
    def summary(self) -> pd.DataFrame:
        """One row per cell (complete sweeps only)."""
        if self._summary is None:
            import pandas as pd

            file = self.path / SUMMARY
            if not file.is_file():
                raise FileNotFoundError(f"{self.path} has no {SUMMARY}: the sweep is "
                                        f"{self.manifest.get('status')}; run it again to finish")
            self._summary = pd.read_parquet(file)
        return self._summary

    @property
    def metrics(self) -> pd.DataFrame:
        """Every finished unit's tidy metrics, with ``cell`` and grid columns."""
        return self._read(SweepFolder(self.path).metrics_dir)

    @property
    def replicates(self) -> pd.DataFrame:
        """Every finished unit's per-replicate table, with ``cell`` and grid columns."""
        return self._read(SweepFolder(self.path).replicates_dir)

    def metrics_of(self, cell: str) -> pd.DataFrame:
        """The tidy metrics of one cell (by id), sorted by replicate, metric, generation."""
        table = self._table(SweepFolder(self.path).metrics_dir, f"{cell}-u*.parquet")
        return table.to_pandas().sort_values(["replicate", "metric", "generation"],
                                             ignore_index=True)

    def config(self, cell: str) -> RunConfig:
        """The run configuration of a cell (by id)."""
        for c in self.manifest["cells"]:
            if c["id"] == cell:
                return RunConfig.from_dict(c["config"])
        raise KeyError(f"no cell {cell!r} in this sweep")

    def table(self, max_rows: int = 40) -> str:
        """The summary as aligned text: per cell, how often and how fast it collapsed.

        The event is the family's: absorption (coin), collapse (gaussian, gmm; ``var`` below
        ``collapse_fraction`` of the truth's), fixation on one token (categorical). Times are
        means over the replicates where the event happened within the run, beside theory's
        exact ``E[T | T ≤ G]`` where it has one.
        """
        frame = self.summary
        keys = [column_name(k) for k in self.manifest["spec"]["grid"]]
        events = [e for e, verb in EVENTS.items() if f"{verb}_by_end" in frame.columns]
        verb = EVENTS[events[0]] if len(events) == 1 else "event"
        head = "".join(f"{k:>10}" for k in keys) + (
            f"{'R':>8}{verb + ' %':>13}{'exact %':>9}{'mean time ± SE':>20}{'exact':>8}"
            f"{'median':>8}")
        lines = [f"{len(frame)} cells of sweep {self.manifest.get('name')}:", head]

        def get(row: Any, name: str) -> float | None:
            value = row.get(name) if name in row else None
            return None if value is None or pd_isna(value) else float(value)

        for _, row in frame.head(max_rows).iterrows():
            event = next((e for e in events if get(row, f"{EVENTS[e]}_by_end") is not None),
                         None)
            text = ("".join(f"{show_value(row[k]):>10}" for k in keys)
                    + f"{int(row['replicates']):>8}")
            if event is None:
                lines.append(text + f"{'–':>13}")
                continue
            done = EVENTS[event]
            frac, se = get(row, f"{done}_by_end"), get(row, f"{done}_by_end_se")
            exact = get(row, f"exact_{done}_by_end")
            mean, mean_se = get(row, f"{event}_time_mean"), get(row, f"{event}_time_se")
            exact_mean = get(row, f"exact_{event}_time_mean")
            median = get(row, f"{event}_time_median")
            shown = f"{100 * frac:.1f} ± {100 * (se or 0):.1f}" if frac is not None else "–"
            text += f"{shown:>13}{_pct(exact):>9}"
            time_text = "–" if mean is None else (
                f"{mean:.4g} ± {mean_se:.2g}" if mean_se is not None else f"{mean:.4g}")
            text += f"{time_text:>20}{_num(exact_mean):>8}"
            text += f"{(_num(median) if median is not None else '> G'):>8}"
            lines.append(text)
        if len(frame) > max_rows:
            lines.append(f"... {len(frame) - max_rows} more cells in summary.parquet")
        if self.skipped:
            lines.append(f"{len(self.skipped)} invalid combinations skipped (see manifest.json)")
        return "\n".join(lines)

    def _read(self, folder: Path) -> pd.DataFrame:
        return self._table(folder, "*.parquet").to_pandas()

    @staticmethod
    def _table(folder: Path, pattern: str) -> pa.Table:
        files = sorted(folder.glob(pattern))
        if not files:
            raise FileNotFoundError(f"no finished units in {folder}")
        return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")

    def __repr__(self) -> str:
        return (f"<SweepResult {self.manifest.get('name')}: {len(self.manifest['cells'])} cells, "
                f"{self.manifest.get('status')} at {self.path}>")


#: Per-replicate event of each family's summary columns → how the table names it.
EVENTS = {"absorption": "absorbed", "collapse": "collapsed", "fixation": "fixed"}


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def load_sweep(path: Path | str) -> SweepResult:
    """Open a sweep folder (complete or not)."""
    path = Path(path)
    manifest = SweepFolder(path).manifest()
    if manifest is None or manifest.get("kind") != "sweep":
        raise FileNotFoundError(f"{path} is not a modelcollapse sweep folder (no sweep manifest)")
    return SweepResult(path, manifest)
