"""Running a verification set and writing its folder (``modelcollapse verify``).

:func:`run_cases` runs the cases and gives every sub-check the set's Bonferroni critical value;
:func:`verify` checks the arguments before any work, runs the quick or the full set and writes
``checks.csv``, ``verify.json`` and the figures it is given through
:func:`modelcollapse.studies.output.write_study`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...checks import ALPHA, critical_z, with_bonferroni
from ...errors import ConfigError
from ...families import GMM
from ...results.folders import prepare_output, stamped_folder
from ...runner.provenance import now
from ..output import write_study
from .cases import CASES, Case, case_seed, select_cases
from .report import CaseReport, Report

#: Draws the figures of a verification: ``(report, folder) -> files written``.
VerifyFigures = Callable[[Report, Path], Iterable[Path | str]]

#: The default seed, so that ``modelcollapse verify`` gives the same numbers on every machine.
DEFAULT_SEED = 20261121


def needs_compiling(quick: bool) -> bool:
    """Whether a case of the set will compile numba kernels first (20 s to two minutes, once)."""
    from ...runner.compilation import cold_kernels

    if not any(c.family == "gmm" for c in select_cases(quick)):
        return False
    return bool(cold_kernels(GMM().kernels()))


def default_out(root: Path | str = "runs") -> Path:
    """``runs/verify-<YYYYmmdd-HHMMSS>``, with a numeric suffix if that exists already."""
    return stamped_folder(root, "verify")


def run_cases(cases: Sequence[Case], *, quick: bool, seed: int, alpha: float = ALPHA,
              progress: Callable[[str], None] | None = None) -> list[CaseReport]:
    """Run ``cases`` and give every sub-check the set's Bonferroni critical value."""
    reports = []
    for i, case in enumerate(cases, start=1):
        if progress is not None:
            progress(f"[{i}/{len(cases)}] {case.name}")
        n_replicates = case.replicates(quick)
        t0 = time.perf_counter()
        outcome = case.run(n_replicates, case_seed(seed, case.name))
        reports.append(CaseReport(case, n_replicates, outcome.checks,
                                  time.perf_counter() - t0, outcome))
    checks = with_bonferroni([c for r in reports for c in r.checks], alpha)
    for report in reports:
        report.checks, checks = checks[:len(report.checks)], checks[len(report.checks):]
    return reports


def verify(*, quick: bool = False, seed: int = DEFAULT_SEED, out: Path | str | None = None,
           save: bool = True, figures: VerifyFigures | None = None, alpha: float = ALPHA,
           progress: Callable[[str], None] | None = None,
           on_start: Callable[[list[Case]], None] | None = None,
           argv: list[str] | None = None) -> Report:
    """Run the verification set and (by default) write its folder.

    Parameters
    ----------
    quick
        Run the quick set (fewer cases and replicates; under a minute on two cores).
    seed
        Base seed (default :data:`DEFAULT_SEED`); each case's stream is keyed by its name.
    out
        The folder (new or empty); default ``runs/verify-<timestamp>``.
    save
        Write the folder at all (``False``: in memory only).
    figures
        Draws the figures into the folder from the report (``None``: none;
        :func:`modelcollapse.api.verify` passes the QQ and trajectory plots).
    alpha
        Family-wise false-alarm rate; each sub-check is two-sided at ``alpha / M``.
    progress
        Called with a short message as each case starts.
    on_start
        Called with the cases of the set once the arguments are known to be good, before the
        first case runs.
    argv
        The command line to record in ``verify.json``.

    Returns
    -------
    Report
        ``report.passed``, ``report.table()``, ``report.verdict()``, ``report.exit_status``.

    Raises
    ------
    ConfigError
        For a negative seed, an ``alpha`` outside (0, 1) or an ``out`` folder that holds files,
        before anything runs.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", "must be an integer ≥ 0", seed)
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", "must lie strictly between 0 and 1", alpha)
    path = prepare_output(out if out is not None else default_out()) if save else None
    started, t0 = now(), time.perf_counter()
    cases = select_cases(quick)
    if on_start is not None:
        on_start(cases)
    reports = run_cases(cases, quick=quick, seed=int(seed), alpha=alpha, progress=progress)
    report = Report(quick, int(seed), alpha, critical_z(alpha, sum(len(r.checks)
                                                                  for r in reports)),
                    reports, left_out=[c.name for c in CASES if c not in cases])
    report.wall_seconds = time.perf_counter() - t0
    if path is not None:
        draw = None if figures is None else (lambda folder: figures(report, folder))

        def summary(names: list[str]) -> dict[str, Any]:
            report.figures = names
            return _summary(report, started=started)

        report.path, _ = write_study(path, tables={CHECKS_FILE: _check_rows(report)},
                                     summary_file=SUMMARY_FILE, summary=summary, figures=draw,
                                     started=started, t0=t0, argv=argv)
        report.wall_seconds = time.perf_counter() - t0
    return report


CHECKS_FILE = "checks.csv"
SUMMARY_FILE = "verify.json"


def _check_rows(report: Report) -> list[dict[str, Any]]:
    return [{"case": name, "check": c.name, "exact": c.exact, "simulated": c.simulated,
             "se": c.se, "z": c.z, "critical": c.critical, "passed": c.passed}
            for name, c in report.checks]


def _summary(report: Report, *, started: str) -> dict[str, Any]:
    return {
        "kind": "verify",
        "format": 1,
        "set": report.set_name,
        "seed": report.seed,
        "alpha": report.alpha,
        "correction": "bonferroni",
        "critical_z": report.critical,
        "n_checks": report.n_checks,
        "n_passed": report.n_passed,
        "passed": report.passed,
        "cases": [{"name": r.case.name, "title": r.case.title, "family": r.case.family,
                   "n_replicates": r.n_replicates, "seed": case_seed(report.seed, r.case.name),
                   "n_checks": len(r.checks), "passed": r.passed,
                   "seconds": round(r.seconds, 3)} for r in report.cases],
        "left_out": report.left_out,
        "files": {"checks": CHECKS_FILE, "figures": report.figures},
        "started": started,
    }
