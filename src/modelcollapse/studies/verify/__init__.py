"""TODO."""

from __future__ import annotations

from . import catalogue  # noqa: F401  (registers the cases)
from .cases import CASES, Case, case_seed, select_cases
from .driver import DEFAULT_SEED, needs_compiling, run_cases, verify
from .report import EXIT_FAILED, EXIT_PASSED, Report

__all__ = [
           "CASES",
           "DEFAULT_SEED",
           "EXIT_FAILED",
           "EXIT_PASSED",
           "Case",
           "Report",
           "case_seed",
           "needs_compiling",
           "run_cases",
           "select_cases",
           "verify",
]
