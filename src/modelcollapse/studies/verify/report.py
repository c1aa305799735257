"""The verdict of a verification: every sub-check with the set's critical value, as a table.

:class:`Report` holds one :class:`CaseReport` per case; :meth:`Report.table` is the pass/fail table
the command prints and :meth:`Report.verdict` its last line ("67 of 67 checks passed (critical
|z| = 4.33, α = 1e-3 Bonferroni over 67)"); :attr:`Report.exit_status` is the command's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ...checks import Check
from .cases import Case, Outcome

if TYPE_CHECKING:

    pass


#: Exit statuses of the command: every check passed / some check failed.
EXIT_PASSED = 0

EXIT_FAILED = 1


@dataclass
class CaseReport:
    """One case's sub-checks (with the set's critical value), size and wall time."""

    case: Case
    n_replicates: int
    checks: list[Check]
    seconds: float
    outcome: Outcome = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass
class Report:
    """The result of :func:`verify`.

    Attributes
    ----------
    quick
        Whether the quick set ran.
    seed, alpha, critical
        The base seed, the family-wise false-alarm rate and the Bonferroni critical ``|z|``.
    cases
        One :class:`CaseReport` per case, in order.
    path
        The folder written, if any.
    figures
        File names of the figures in it.
    wall_seconds
        Wall time of the whole verification.
    left_out
        Names of the cases not in this set (the quick set leaves out the slowest).
    """

    quick: bool
    seed: int
    alpha: float
    critical: float
    cases: list[CaseReport]
    path: Path | None = None
    figures: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    left_out: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[tuple[str, Check]]:
        """Every sub-check with its case's name."""
        return [(r.case.name, c) for r in self.cases for c in r.checks]

    @property
    def n_checks(self) -> int:
        return sum(len(r.checks) for r in self.cases)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for r in self.cases for c in r.checks)

    @property
    def passed(self) -> bool:
        return self.n_passed == self.n_checks

    @property
    def exit_status(self) -> int:
        return EXIT_PASSED if self.passed else EXIT_FAILED

    @property
    def set_name(self) -> str:
        return "quick" if self.quick else "full"

    def verdict(self) -> str:
        """``"N of M checks passed (critical |z| = …, α = 1e-3 Bonferroni over M)"``."""
        return (f"{self.n_passed} of {self.n_checks} checks passed (critical |z| = "
                f"{self.critical:.2f}, α = {_alpha_text(self.alpha)} Bonferroni over "
                f"{self.n_checks})")

    def table(self) -> str:
        """The pass/fail table: case, check, exact, simulated ± SE, z, result."""
        header = ("case", "check", "exact", "simulated ± SE", "z", "result")
        rows = [(name, c.name, f"{c.exact:.6g}", f"{c.simulated:.6g} ± {c.se:.2g}",
                 f"{c.z:+.2f}", "PASS" if c.passed else "FAIL") for name, c in self.checks]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        right = {2, 3, 4}  # numbers align on the right

        def line(row: Sequence[str]) -> str:
            cells = [cell.rjust(w) if i in right else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _alpha_text(alpha: float) -> str:
    """``1e-3`` rather than ``0.001`` or ``1e-03``."""
    mantissa, exponent = f"{alpha:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if float(f"{alpha:.0e}") == alpha else f"{alpha:g}"
