"""What a sweep will do: its cells, the combinations skipped, and the work units of each cell.

:func:`plan` expands a sweep (:mod:`modelcollapse.sweeps.grid`) and cuts each cell's replicates
into units of whole replicate blocks, about a second of one core's work each
(:func:`~modelcollapse.runner.duration.generation_cost`, a scheduling hint that never changes
a number). :meth:`SweepPlan.format`
is ``modelcollapse sweep --dry-run``'s listing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..runner.duration import SECONDS_PER_WORK, generation_cost
from .grid import Cell, SkippedCell, SweepSpec, column_name, expand, show_value
from .store import unit_name
from .units import UnitTask

if TYPE_CHECKING:
    pass


#: Target work per unit, in estimated nanoseconds of one core (:func:`generation_cost`).
UNIT_WORK = 1e9

#: Upper bound on a cell's units (bigger cells get bigger units).
MAX_UNITS_PER_CELL = 4096


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
        columns = tuple((column_name(k), column_value(v)) for k, v in axes_values.items())
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


def column_value(value: Any) -> Any:
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
    :func:`modelcollapse.plan_sweep` is this function.
    """
    spec = as_spec(spec)
    seed = spec.seed if seed is None else seed
    expansion = expand(spec, seed=seed)
    blocks_per_unit = blocks_per_unit or {}
    cells = tuple(PlannedCell(c, blocks_per_unit.get(c.id) or plan_units(c.config))
                  for c in expansion.cells)
    return SweepPlan(spec, seed, cells, expansion.skipped)
