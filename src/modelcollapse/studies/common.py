"""What every study shares: its progress messages and its seed.

A study calls many simulations with one seed (each with its own random streams, keyed by the
simulation's settings) and reports each step through a ``log`` callable, silent by default; the
command line passes ``print``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..seeding import draw_seed
from ..validation import check_int

#: Receives one line per step of a study.
Log = Callable[[str], None]


def quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def resolve_seed(seed: int | None) -> tuple[int, bool]:
    """``(seed, drawn)``: the seed given (checked), or a fresh one and ``True``."""
    if seed is None:
        return draw_seed(), True
    return check_int("seed", seed, minimum=0), False


def log_seed(log: Log, seed: int, drawn: bool) -> None:
    """Say which seed the study uses, and that a drawn one repeats the study when given."""
    log(f"seed {seed}" + (" (drawn; give this seed to repeat the run)" if drawn else ""))
