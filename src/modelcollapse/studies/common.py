"""TODO docstring (modelcollapse.collapse_speed)."""

from __future__ import annotations

from collections.abc import Callable

from ..families.base import check_int
from ..seeding import draw_seed

Log = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def _seed(seed: int | None) -> tuple[int, bool]:
    if seed is None:
        return draw_seed(), True
    return check_int("seed", seed, minimum=0), False


def _log_seed(log: Log, seed: int, drawn: bool) -> None:
    log(f"seed {seed}" + (" (drawn; give this seed to repeat the run)" if drawn else ""))
