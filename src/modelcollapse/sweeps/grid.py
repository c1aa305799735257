"""Sweep files: one experiment and a grid of option values, expanded into cells.

A sweep file is TOML with two tables::

    [experiment]          # any `modelcollapse run` option, as in a run's --config file
    family = "gmm"
    samples = 1000
    generations = 500
    policy = "mix"

    [grid]                # option → list of values; the sweep is their Cartesian product
    real = [0.0, 0.05, 0.1]
    synthetic = [0.5, 0.9, 1.0]

Every combination is a *cell*: an ordinary :class:`~modelcollapse.config.RunConfig`. A cell whose
combination is invalid (here ``real + synthetic > 1``) is listed with the reason and skipped; a
value of the wrong type (``samples = "many"``), an unknown option, or a grid with no valid cell is
an error. Output settings (``out``, ``workers``, ``plots``) may appear in ``[experiment]`` but not
in the grid, and neither may ``seed``: a sweep has one seed, and each cell's random streams are
keyed by the cell's own settings (:mod:`modelcollapse.seeding`), so adding a grid value never
changes the numbers of the cells that were already there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import ConfigError
from ..families import FAMILIES
from ..options import (
    Option,
    OptionSet,
    all_options,
    build,
    check_workers,
    load_toml,
    normalise_key,
    parse_value,
    suggest,
)
from ..seeding import STREAM_VERSION

#: Keys of ``[experiment]`` that say where and how results are written, not what is simulated.
OUTPUT_KEYS = ("out", "workers", "plots")
#: Keys that cannot vary in a grid, and why.
NOT_IN_GRID = {
    "seed": "a sweep has one seed (each cell's streams are keyed by its settings); use more "
            "replicates instead of more seeds",
    "out": "the sweep writes one folder",
    "workers": "workers never change the numbers",
    "plots": "plots never change the numbers",
}


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file: the fixed experiment and the grid.

    Attributes
    ----------
    experiment
        Option name → value, as written (validated by :meth:`validate`).
    grid
        Option name → tuple of values, in the file's order.
    name
        Names the default results folder, ``runs/sweep-<name>``.
    source
        Where it came from, for messages (the file's name).
    """

    experiment: Mapping[str, Any]
    grid: Mapping[str, tuple[Any, ...]]
    name: str = "sweep"
    source: str = "sweep"

    @classmethod
    def from_toml(cls, path: Path | str) -> SweepSpec:
        """Read a sweep file."""
        path = Path(path)
        data = load_toml(path, label="SWEEP.toml", by_name=True)
        return cls.from_dict(data, name=path.stem, source=path.name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str = "sweep",
                  source: str = "sweep") -> SweepSpec:
        """Build from a mapping with ``experiment`` and ``grid`` tables (as in the file)."""
        unknown = [k for k in data if k not in ("experiment", "grid")]
        if unknown:
            raise ConfigError(f"[{unknown[0]}] (in {source})",
                              "is not a sweep table; a sweep file has [experiment] and [grid]")
        experiment = data.get("experiment", {})
        grid = data.get("grid")
        if not isinstance(experiment, Mapping):
            raise ConfigError(f"experiment (in {source})", "must be a table of options")
        if not isinstance(grid, Mapping) or not grid:
            raise ConfigError(f"[grid] (in {source})",
                              "must list at least one option with a list of values, e.g. "
                              "samples = [10, 100]")
        spec = cls({normalise_key(k): v for k, v in experiment.items()},
                   {normalise_key(k): _as_values(k, v, source) for k, v in grid.items()},
                   name=name, source=source)
        spec.validate()
        return spec

    def label(self, table: str, key: str) -> str:
        return f"{key} (in [{table}] of {self.source})"

    def validate(self) -> None:
        """Refuse unknown options, values of the wrong type and keys that cannot vary.

        Combinations are not checked here: an invalid combination is a skipped cell.
        """
        known = all_options()
        for key in self.grid:
            if key in NOT_IN_GRID:
                raise ConfigError(self.label("grid", key), f"cannot vary: {NOT_IN_GRID[key]}")
            if key in self.experiment:
                raise ConfigError(self.label("grid", key),
                                  "is also set in [experiment]; set it in one table only")
        for table, items in (("experiment", {k: (v,) for k, v in self.experiment.items()}),
                             ("grid", self.grid)):
            for key, values in items.items():
                label = self.label(table, key)
                if key == "family":
                    for value in values:
                        if value not in FAMILIES:
                            raise ConfigError(label, f"must be one of "
                                              f"{', '.join(FAMILIES.names())}", value)
                    continue
                if key not in known:
                    raise ConfigError(label, "is not a known setting" + suggest(key, list(known)))
                for value in values:
                    parse_any(known[key], value, label)

    def parsed_grid(self) -> dict[str, tuple[Any, ...]]:
        """Grid values converted to their options' types (``"0.1"`` → 0.1, lists → tuples)."""
        known = all_options()
        out: dict[str, tuple[Any, ...]] = {}
        for key, values in self.grid.items():
            if key == "family":
                out[key] = tuple(str(v) for v in values)
            else:
                out[key] = tuple(parse_any(known[key], v, self.label("grid", key))
                                 for v in values)
        return out

    def axes(self) -> list[str]:
        """Grid keys with more than one value, in the file's order."""
        return [key for key, values in self.grid.items() if len(values) > 1]

    def canonical(self) -> dict[str, Any]:
        """What defines the sweep's numbers, as plain JSON (output settings and seed excluded)."""
        known = all_options()
        experiment = {}
        for key, value in sorted(self.experiment.items()):
            if key in OUTPUT_KEYS or key == "seed":
                continue
            experiment[key] = value if key == "family" else _plain(
                parse_any(known[key], value, key))
        grid = {key: [_plain(v) for v in values] for key, values in self.parsed_grid().items()}
        return {"experiment": experiment, "grid": grid}

    @property
    def seed(self) -> int | None:
        value = self.experiment.get("seed")
        return None if value is None else parse_value(all_options()["seed"], value,
                                                      self.label("experiment", "seed"))

    def output_settings(self) -> dict[str, Any]:
        """``out``, ``workers`` and ``plots`` from ``[experiment]``, parsed."""
        known = all_options()
        out = {key: parse_value(known[key], self.experiment[key], self.label("experiment", key))
               for key in OUTPUT_KEYS if key in self.experiment}
        if "workers" in out:
            check_workers(out["workers"], self.label("experiment", "workers"))
        return out


def parse_any(option: Option, value: Any, label: str) -> Any:
    """``value`` parsed by the first of the option's declarations that takes it.

    A flag several families declare with different kinds (``--mean``: a number or a list) is
    parsed here without knowing the cell's family; each cell's run parses it again by its own
    family's kind (:func:`modelcollapse.options.build`), so a value no family takes is refused
    here and a value of the wrong kind for a cell's family makes that cell invalid.
    """
    first: ConfigError | None = None
    for declared in option.kinds():
        try:
            return parse_value(declared, value, label)
        except ConfigError as err:
            first = first or err
    assert first is not None
    raise first


def _as_values(key: str, value: Any, source: str) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} (in [grid] of {source})",
                          "must be a list of values, e.g. [1, 2]", value)
    if not value:
        raise ConfigError(f"{key} (in [grid] of {source})", "must list at least one value")
    seen: list[Any] = []
    for v in value:
        if v in seen:
            raise ConfigError(f"{key} (in [grid] of {source})", "lists a value twice", v)
        seen.append(v)
    return tuple(value)


def column_name(key: str) -> str:
    """The table column of a grid key: ``top-p`` → ``top_p`` (easy in pandas and SQL)."""
    return key.replace("-", "_")


def _plain(value: Any) -> Any:
    """A parsed option value as plain JSON (tuples → lists, paths → strings)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class Cell:
    """One combination of grid values and the run it defines.

    Attributes
    ----------
    index
        Position in the grid's product (the last grid key varies fastest).
    values
        Grid key → value (parsed).
    config
        The run, with the sweep's seed.
    """

    index: int
    values: Mapping[str, Any]
    config: RunConfig

    @property
    def id(self) -> str:
        """A short hash of everything that defines the cell's numbers except the seed.

        The same settings give the same id in any grid, at any position.
        """
        return cell_id(self.config)

    def label(self) -> str:
        """``real=0.1, synthetic=0.9``."""
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.values.items())


def cell_id(config: RunConfig) -> str:
    data = {k: v for k, v in config.to_dict().items() if k != "seed"}
    payload = json.dumps({"stream": STREAM_VERSION, **data}, sort_keys=True,
                         separators=(",", ":"), default=str)
    return hashlib.blake2b(payload.encode(), digest_size=5).hexdigest()


def show_value(value: Any) -> str:
    """A grid value as the user reads it: ``0.1``, ``-2,2``, ``mix``."""
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class SkippedCell:
    """A combination of grid values that is not a valid run, and why."""

    index: int
    values: Mapping[str, Any]
    reason: str

    def label(self) -> str:
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class Expansion:
    """The cells of a grid and the combinations skipped."""

    cells: tuple[Cell, ...]
    skipped: tuple[SkippedCell, ...]


def expand(spec: SweepSpec, *, seed: int | None = None) -> Expansion:
    """Every combination of the grid's values, as a valid cell or a skipped one.

    Parameters
    ----------
    spec
        The sweep.
    seed
        Given to every cell's config (a sweep has one seed).

    Raises
    ------
    ConfigError
        If no combination is a valid run (the message gives the first reason).
    """
    grid = spec.parsed_grid()
    keys = list(grid)
    experiment = {k: v for k, v in spec.experiment.items() if k not in OUTPUT_KEYS}
    experiment.pop("seed", None)
    cells: list[Cell] = []
    skipped: list[SkippedCell] = []
    seen: dict[str, int] = {}
    for index, combination in enumerate(itertools.product(*grid.values())):
        values = dict(zip(keys, combination, strict=True))
        options = OptionSet()
        options.update(experiment, source=f"[experiment] of {spec.source}")
        options.update(values, source=f"[grid] of {spec.source}")
        try:
            config, _ = build(options)
        except ConfigError as err:
            # Within a cell every option comes from the file; "(in [grid] of f.toml)" after
            # each name would only clutter the reason.
            reason = str(err)
            for table in ("experiment", "grid"):
                reason = reason.replace(f" (in [{table}] of {spec.source})", "")
            skipped.append(SkippedCell(index, values, reason))
            continue
        config = dataclasses.replace(config, seed=seed)
        cell = Cell(index, values, config)
        if cell.id in seen:
            skipped.append(SkippedCell(index, values, f"the same run as cell {seen[cell.id]}"))
            continue
        seen[cell.id] = index
        cells.append(cell)
    if not cells:
        first = skipped[0]
        raise ConfigError(f"[grid] (in {spec.source})",
                          f"has no valid cell: all {len(skipped)} combinations are invalid "
                          f"(e.g. {first.label()}: {first.reason})")
    return Expansion(tuple(cells), tuple(skipped))
