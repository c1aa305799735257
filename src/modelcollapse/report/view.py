"""A run as the report's charts read it: the trajectories of the first replicates, read once.

:class:`ReportRun` extends :class:`~modelcollapse.views.run.RunView` (which the PNG figures share)
with the report's limits: bands and distributions over the first :data:`BAND_REPLICATES`
replicates (every replicate in most runs; the page says when not), and the heatmaps' size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..views.run import (
    RunView,
    plural,
)

if TYPE_CHECKING:
    from ..results.run import Result


#: Replicates over which the bands and distributions are computed.
BAND_REPLICATES = 10_000

#: Rows (generations) and columns (x) of the density heatmap.
HEAT_ROWS, HEAT_COLUMNS = 200, 200


class ReportRun(RunView):
    """A result's config, trajectories of the first :data:`BAND_REPLICATES` replicates (read
    once) and prediction."""

    def __init__(self, result: Result) -> None:
        super().__init__(result, BAND_REPLICATES)
        self.g = int(self.config.n_generations)

    def over(self) -> str:
        """"over all 100 replicates" or "over the first 10,000 of 10⁶ replicates"."""
        if self.shown >= self.total:
            return f"over all {plural(self.total, 'replicate')}"
        return f"over the first {self.shown:,} of {self.total:,} replicates"
