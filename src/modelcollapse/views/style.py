"""The palette and sizes shared by every figure and the report, so the set reads as one family.

Magenta (:attr:`Style.theory`) is "exact" everywhere; the coin's rollouts are orange at 1 and blue
at 0; the fan charts are one blue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:

    pass


@dataclass(frozen=True)
class Style:
    """Colours and sizes shared by every figure, so the set reads as one family of plots."""

    main: str = "#1f5a96"          # medians, bands and the fan's lines
    example: str = "#3a3a3a"       # individual replicates over a fan chart
    truth: str = "#111111"         # the true distribution / the truth's metric value
    muted: str = "#6b6b6b"         # subtitles and notes
    grid: str = "#d9d9d9"
    at_one: str = "#c2410c"        # coin rollouts fixed at 1
    at_zero: str = "#1d4ed8"       # coin rollouts fixed at 0
    drifting: str = "#7c7c7c"      # coin rollouts not absorbed yet
    theory: str = "#c026d3"        # exact predictions (dashed lines, dotted band edges)
    components: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                   "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
    title_size: float = 12.0
    subtitle_size: float = 8.5
    label_size: float = 9.0
    tick_size: float = 8.0
    note_size: float = 7.5
    legend_size: float = 8.0


STYLE = Style()
