"""What the command line does, as library calls: the one place that composes running and drawing.

Each function here runs the runtime's driver and hands it the figures to draw (the runtime never
imports a plotting library) and, where asked, writes the report afterwards:

====================== ======================================= ===============================
call                   runtime driver                          presentation added
====================== ======================================= ===============================
:func:`simulate`       :func:`modelcollapse.runner.driver.     none (in memory)
                       simulate`
:func:`run`            :func:`~modelcollapse.runner.driver.    PNG figures, ``report.html``
                       run_to_folder`
:func:`sweep`          :func:`modelcollapse.sweeps.driver.     ``sweep.png``, ``report.html``
                       sweep`
:func:`verify`         :func:`modelcollapse.studies.verify.    QQ and trajectory plots
                       verify`
:func:`collapse_speed` :func:`modelcollapse.studies.           ``collapse-speed.png``
                       collapse_speed.collapse_speed`
:func:`load`           reads a run or sweep folder             none
====================== ======================================= ===============================

``modelcollapse run`` is :func:`run`, ``modelcollapse sweep`` is :func:`sweep`, and so on: the
command line only parses its arguments and calls these. Modules are imported when a call needs
them, so a short command pays only for what it uses (matplotlib only when figures are drawn,
Plotly only for a report, Dask only on a cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .config import RunConfig
    from .families.base import Family
    from .results.run import Result
    from .runner.duration import DurationEstimate
    from .studies.collapse_speed import SpeedReport
    from .studies.verify import Case, Report
    from .sweeps.executors import Executor
    from .sweeps.grid import SweepSpec
    from .sweeps.plan import SweepPlan
    from .sweeps.reader import SweepResult


def simulate(config: RunConfig | None = None, *, workers: int | None = None,
             progress: bool = False) -> Result:
    """Run ``config`` and keep everything in memory; nothing is written.

    See :func:`modelcollapse.runner.driver.simulate`.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> result = mc.simulate(mc.RunConfig("coin", n_replicates=1000, seed=1))
    >>> p = result.trajectories("p")          # [replicate, generation]
    >>> bool(abs(p[:, 5].mean() - 0.5) < 0.05)
    True
    """
    from .runner.driver import simulate as simulate_in_memory

    return simulate_in_memory(config, workers=workers, progress=progress)


def run(config: RunConfig | None = None, *, out: Path | str | None = None, plots: bool = True,
        workers: int | None = None, progress: bool | str = False,
        argv: list[str] | None = None,
        on_start: Callable[[RunConfig, Path], None] | None = None,
        report: bool = False) -> Result:
    """Run ``config`` and write a results folder (metrics, per-replicate table, manifest, figures).

    Trajectories are streamed to ``metrics.parquet`` block by block, so memory stays bounded
    however many replicates are asked for. The folder appears only when complete.

    Parameters
    ----------
    config
        The experiment (default: the classic GMM, N = 10 000, 2000 generations, 10 replicates).
    out
        The results folder (new or empty); default ``runs/<family>-<timestamp>``.
    plots
        Write the PNG figures (:func:`modelcollapse.plots.plot_run`) into the folder.
    workers
        Threads (default: all cores). Never changes the numbers.
    progress
        Show a progress bar with ETA on standard error; ``"lines"``: a line every 10 s
        instead, where no bar can be drawn (a log, a notebook).
    argv
        The command line to record in the manifest (default ``sys.argv``).
    on_start
        Called with the seeded config and the folder before the work starts.
    report
        Also write the interactive ``report.html`` into the folder (:func:`write_report`;
        needs ``pip install 'modelcollapse[report]'``, checked before the run starts).

    Returns
    -------
    Result
        Reading its tables from the folder.
    """
    from .runner.driver import run_to_folder

    if report:
        _check_report()
    result = run_to_folder(config, out=out, figures=_run_figures if plots else None,
                           workers=workers, progress=progress, argv=argv, on_start=on_start)
    if report:
        write_report(result.path)  # type: ignore[arg-type]
    return result


def _run_figures(result: Result, folder: Path) -> list[Path]:
    from .plots.run import plot_run

    return plot_run(result, folder)


def plan_sweep(spec: SweepSpec | Mapping[str, Any] | Path | str, *, seed: int | None = None,
               blocks_per_unit: Mapping[str, int] | None = None) -> SweepPlan:
    """A sweep's cells, skipped combinations and work units, without running anything.

    See :func:`modelcollapse.sweeps.plan.plan` (``modelcollapse sweep --dry-run``).

    Examples
    --------
    >>> import modelcollapse as mc
    >>> p = mc.plan_sweep({"experiment": {"family": "coin", "generations": 100},
    ...                    "grid": {"samples": [1, 10, 100]}})
    >>> len(p.cells), p.n_units
    (3, 3)
    """
    from .sweeps.plan import plan

    return plan(spec, seed=seed, blocks_per_unit=blocks_per_unit)


def sweep(spec: SweepSpec | Mapping[str, Any] | Path | str, *, out: Path | str | None = None,
          seed: int | None = None, workers: int | None = None, scheduler: str | None = None,
          dask_local: int | None = None, executor: Executor | None = None, force: bool = False,
          plots: bool | None = None, progress: bool = False, argv: list[str] | None = None,
          log: Callable[[str], None] | None = None, report: bool = False) -> SweepResult:
    """Run (or resume) a sweep and write its folder, with ``sweep.png`` and optionally the report.

    The arguments are those of :func:`modelcollapse.sweeps.driver.sweep`; ``plots`` draws
    ``sweep.png`` (default: ``[experiment] plots``, else true) and ``report`` also writes the
    interactive ``report.html`` when the sweep is complete (needs the ``report`` extra,
    checked before anything runs).

    Raises
    ------
    SweepInterrupted
        On Ctrl-C / SIGTERM, after the finished units are safely written.
    SweepFailed
        If a unit raised or the cluster gave it up; finished units are kept.
    """
    from .sweeps.driver import sweep as run_sweep

    if report:
        _check_report()
    result = run_sweep(spec, out=out, seed=seed, workers=workers, scheduler=scheduler,
                       dask_local=dask_local, executor=executor, force=force, plots=plots,
                       figures=_sweep_figures, progress=progress, argv=argv, log=log)
    if report:
        write_report(result.path)
    return result


def _sweep_figures(sweep_plan: SweepPlan, summary: pd.DataFrame, folder: Path) -> list[Path]:
    from .plots.sweep import plot_sweep

    return plot_sweep(summary, axes=sweep_plan.spec.axes(), folder=folder,
                      skipped=[{**s.values, "reason": s.reason} for s in sweep_plan.skipped],
                      title=f"sweep {sweep_plan.spec.name}")


def verify(*, quick: bool = False, seed: int | None = None, out: Path | str | None = None,
           plots: bool = True, progress: Callable[[str], None] | None = None,
           on_start: Callable[[list[Case]], None] | None = None,
           argv: list[str] | None = None) -> Report:
    """Check the simulator against exact theory and write the folder with its figures.

    The arguments are those of :func:`modelcollapse.studies.verify.verify` (``seed`` ``None``:
    its fixed default); ``plots`` draws ``qq.png`` and ``trajectories-<family>.png``.
    """
    from .studies.verify import DEFAULT_SEED
    from .studies.verify import verify as run_verify

    return run_verify(quick=quick, seed=DEFAULT_SEED if seed is None else seed, out=out,
                      figures=_verify_figures if plots else None, progress=progress,
                      on_start=on_start, argv=argv)


def _verify_figures(report: Report, folder: Path) -> list[Path]:
    from .plots.verify import write_figures

    return write_figures(report, folder)


def collapse_speed(target: str, *, out: Path | str | None = None, plots: bool = True,
                   progress: bool = False, log: Callable[[str], None] | None = None,
                   argv: list[str] | None = None, workers: int | None = None,
                   **settings: Any) -> SpeedReport:
    """Run one collapse-speed comparison and write its folder, with ``collapse-speed.png``.

    ``target`` is ``"coin"``, ``"gaussian"``, ``"gmm"``, ``"ngram"`` (decoding truncation) or
    ``"curation"`` (best-of-K, verifier and top-q curation against fresh real data); the
    arguments are those of :func:`modelcollapse.studies.collapse_speed.collapse_speed`.
    """
    from .studies.collapse_speed import collapse_speed as run_comparison

    extra = {} if log is None else {"log": log}
    return run_comparison(target, out=out, figures=_speed_figures if plots else None,
                          progress=progress, argv=argv, workers=workers, **extra, **settings)


def _speed_figures(result: Any, folder: Path) -> list[Path]:
    from .plots.collapse_speed import write_speed_figure

    return write_speed_figure(result, folder)


def load(path: Path | str) -> Result | SweepResult:
    """Open a folder written by ``modelcollapse run`` or ``modelcollapse sweep``.

    Returns a :class:`~modelcollapse.results.run.Result` for a run and a
    :class:`~modelcollapse.sweeps.reader.SweepResult` for a sweep, complete or not.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> result = mc.load("runs/gmm-20261121-101500")              # doctest: +SKIP
    >>> var = result.metrics.query("metric == 'var'")                # doctest: +SKIP
    >>> var.groupby("generation").value.median()                      # doctest: +SKIP
    """
    from .results.run import Result, read_manifest

    path = Path(path)
    manifest = read_manifest(path)
    if manifest.get("kind") == "sweep":
        from .sweeps.reader import SweepResult

        return SweepResult(path, manifest)
    return Result(manifest, path=path)


def write_report(path: Path | str, *, title: str | None = None,
                 out: Path | str | None = None) -> Path:
    """Write the interactive ``report.html`` of a run or sweep folder.

    See :func:`modelcollapse.report.write_report` (needs ``pip install
    'modelcollapse[report]'``).
    """
    from .errors import ConfigError
    from .report.write import FILE_NAME
    from .report.write import write_report as write
    from .results.folders import prepare_output_file

    folder = Path(path)
    if out is not None:  # before the page is built: where it goes is checked first
        prepare_output_file(out, field="--out")
    elif folder.is_dir():
        target = folder / FILE_NAME
        try:
            prepare_output_file(target)
        except ConfigError as err:
            raise ConfigError("DIR", f"cannot hold its report: {target} {err.problem}",
                              str(folder)) from None
    return write(path, title=title, out=out)


def write_explorer(out: Path | str | None = None) -> Path:
    """Write the explorer: one self-contained page where the coin, the Gaussian, the categorical
    and the mixture are simulated in the browser, exact theory beside them.

    See :func:`modelcollapse.report.explorer.write_explorer` (needs ``pip install
    'modelcollapse[report]'``); ``out`` defaults to ``explorer.html`` here.
    """
    from .report.explorer import write_explorer as write

    return write(out)


def _check_report() -> None:
    from .report.write import check_available

    check_available()


def cold_kernels(family: Family) -> list[str]:
    """The compiled kernels of ``family`` that this machine has not compiled yet (first run)."""
    from .runner.compilation import cold_kernels as cold

    return cold(family.kernels())


def compile_ahead(config: RunConfig, *, tick: Callable[[float], None] | None = None) -> float:
    """Compile the kernels ``config`` will call before it runs, calling ``tick(seconds)`` every
    10 s meanwhile: see :func:`modelcollapse.runner.driver.compile_ahead`."""
    from .runner.driver import compile_ahead as compile_

    return compile_(config, tick=tick)


def estimate_duration(config: RunConfig, *, workers: int | None = None) -> DurationEstimate:
    """How long ``config`` will take on ``workers`` threads (default: all cores), before it
    starts: see :func:`modelcollapse.runner.duration.estimate_duration` (rough, and a floor
    for the GMM, whose EM iterations depend on the data)."""
    from .runner.blocks import default_workers
    from .runner.duration import estimate_duration as estimate

    return estimate(config, workers=workers or default_workers())


def verify_needs_compiling(quick: bool) -> bool:
    """Whether ``verify`` (``quick`` or full) will compile kernels first (once per machine)."""
    from .studies.verify import needs_compiling

    return needs_compiling(quick)
