"""A sweep's summary as its figure and its report read it: axes, event statistics, header.

:class:`SweepView` reads ``summary.parquet`` (:mod:`modelcollapse.sweeps.summary`): each grid
option becomes an :class:`Axis` (numeric on a linear or log scale, or categorical), each row gets
its position on every axis, invalid combinations keep their reason, and the event (found from the
summary's columns, :mod:`modelcollapse.events`) gives the statistics (:meth:`SweepView.ev`) and
the header's definition. ``sweep.png`` (:mod:`modelcollapse.plots.sweep`) and the report's sweep
page (:mod:`modelcollapse.report.grid`) both draw from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..events import COLLAPSE, Event, event_of_summary

if TYPE_CHECKING:
    import pandas as pd


#: A numeric axis whose positive values span more than this many decades is drawn on a log scale.
LOG_DECADES = 1.0

#: Axis labels of the common options (others are labelled by their name).
AXIS_LABELS = {
    "samples": "samples (N per generation)",
    "generations": "generations (G)",
    "replicates": "replicates (R)",
    "real": "real (fraction of fresh real data)",
    "synthetic": "synthetic (fraction from the last fit)",
    "policy": "policy (how training sets are built)",
    "collapse-fraction": "collapse-fraction (threshold c)",
    "zipf": "zipf (exponent s)",
    "vocab": "vocab (tokens V)",
    "p0": "p0 (true probability of heads)",
    "family": "family",
}


def _key(value: Any) -> Any:
    """A grid value as a hashable, comparable key: numbers as floats, lists as tuples, text."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_key(v) for v in value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _spelling(name: str, present: Iterable[Any]) -> str | None:
    """``name`` or its ``_`` spelling (``top-p`` → ``top_p``), whichever is in ``present``."""
    present = set(present)
    for candidate in (name, name.replace("-", "_"), name.replace("_", "-")):
        if candidate in present:
            return candidate
    return None


def value_label(key: Any) -> str:
    if isinstance(key, tuple):
        return ", ".join(value_label(k) for k in key)
    if isinstance(key, float):
        if key.is_integer() and abs(key) >= 1e4:
            return f"{key:,.0f}"
        return f"{key:g}"
    return "–" if key is None else str(key)


@dataclass
class Axis:
    """One grid option: its values in drawing order and where they are drawn."""

    name: str
    keys: list[Any]
    numeric: bool
    scale: str  # "log", "linear" or "categorical"

    @classmethod
    def of(cls, name: str, seen: list[Any]) -> Axis:
        keys = list(dict.fromkeys(k for k in seen if k is not None))
        if any(k is None for k in seen):
            keys.append(None)
        numeric = bool(keys) and all(isinstance(k, float) for k in keys)
        scale = "categorical"
        if numeric:
            keys.sort()
            positive = [k for k in keys if k > 0]
            spans = len(positive) > 1 and math.log10(positive[-1] / positive[0]) > LOG_DECADES
            if spans and len(positive) == len(keys):
                scale = "log"
            elif not spans or len(keys) <= 2:
                scale = "linear"
            # else: zero beside values spanning decades (real = 0, 0.001, 0.01, 0.1) is drawn
            # evenly spaced, where a linear axis would pile the small values onto zero.
        return cls(name, keys, numeric, scale)

    def position(self, key: Any) -> float:
        if self.scale == "categorical":
            return float(self.keys.index(key))
        return float(key)

    @property
    def positions(self) -> np.ndarray:
        return np.array([self.position(k) for k in self.keys], dtype=float)

    @property
    def labels(self) -> list[str]:
        return [value_label(k) for k in self.keys]

    @property
    def title(self) -> str:
        return AXIS_LABELS.get(self.name.replace("_", "-"), self.name)


@dataclass
class SweepView:
    """The summary's columns as float arrays, with each row's position on every axis."""

    frame: pd.DataFrame
    axes: list[Axis]
    keys: list[tuple[Any, ...]]          # each row's key on every axis
    invalid: dict[tuple[Any, ...], str]  # skipped cells' keys → reason
    event: Event | None
    constants: dict[str, Any]

    @classmethod
    def of(cls, frame: pd.DataFrame, names: list[str], skipped: list[Mapping[str, Any]],
           constants: dict[str, Any]) -> SweepView:
        # An option's column may be spelled as the option (``top-p``) or with ``_``
        # (``top_p``, as sweeps write them); skipped cells' values likewise.
        columns = [_spelling(name, frame.columns) for name in names]
        for name, column in zip(names, columns, strict=True):
            if column is None and not any(_spelling(name, s) for s in skipped):
                raise ValueError(f"grid option {name!r} is not a column of the summary "
                                 f"(columns: {', '.join(map(str, frame.columns))})")
        row_keys = [tuple(_key(frame[c].iloc[i]) if c is not None else None for c in columns)
                    for i in range(len(frame))]
        skip_keys = [tuple(_key(s.get(_spelling(name, s) or name)) for name in names)
                     for s in skipped]
        axes = [Axis.of(name, [k[i] for k in row_keys + skip_keys])
                for i, name in enumerate(names)]
        invalid = {k: str(s.get("reason", "invalid")) for k, s in zip(skip_keys, skipped,
                                                                       strict=True)}
        event = event_of_summary(frame.columns)
        return cls(frame, axes, row_keys, invalid, event, constants)

    def column(self, name: str) -> np.ndarray:
        """A column as floats, missing (or absent) as NaN."""
        if name not in self.frame.columns:
            return np.full(len(self.frame), np.nan)
        import pandas as pd

        values = pd.to_numeric(self.frame[name], errors="coerce")
        return values.to_numpy(dtype=float, na_value=np.nan)

    def ev(self, stat: str, *, exact: bool = False) -> np.ndarray:
        """An event statistic, NaN where there is none: ``"fraction"`` and ``"fraction_se"``
        (the ``<verb>_by_end`` columns) or a time statistic (``"time_mean"``, ...)."""
        if self.event is None:
            return np.full(len(self.frame), np.nan)
        stem = (self.event.share_column + stat.removeprefix("fraction")
                if stat.startswith("fraction") else f"{self.event.name}_{stat}")
        return self.column(f"{'exact_' if exact else ''}{stem}")

    def constant(self, name: str) -> Any:
        """The option's value if the whole sweep shares one, else ``None``."""
        key = _spelling(name, self.constants)
        if key is not None:
            return self.constants[key]
        column = _spelling(name, self.frame.columns)
        if column is None or any(a.name == name for a in self.axes):
            return None
        values = {_key(v) for v in self.frame[column]}
        if len(values) != 1:
            return None
        only = self.frame[column].iloc[0]
        return only.item() if hasattr(only, "item") else only

    def horizon(self) -> np.ndarray:
        """Each row's ``G`` (NaN where unknown)."""
        g = self.constant("generations")
        if g is not None:
            return np.full(len(self.frame), float(g))
        return self.column("generations")

    @property
    def verb(self) -> str:
        return self.event.participle if self.event else "affected"

    def collapse_metric(self) -> str:
        """The metric whose fall defines collapse (``var``; ``tail_share`` for the n-gram)."""
        from ..families import FAMILIES

        family = self.constant("family")
        if family in FAMILIES:
            return FAMILIES.get(str(family)).collapse_metric or "var"
        return "the metric"

    def header(self, title: str) -> tuple[str, str]:
        """Title and subtitle: family, constants, cells, the event's definition."""
        names = " × ".join(a.name for a in self.axes)
        family = self.constant("family")
        noun = self.event.name if self.event else "collapse"
        shown = {"gmm": "GMM", "ngram": "N-gram"}.get(str(family), str(family).capitalize())
        what = (f"{shown}: {noun}" if family else noun.capitalize()) \
            + f" speed across the grid of {names}"
        title = f"{what} ({title})" if title else what
        parts = []
        if family is not None:
            parts.append(f"family {family}")
        policy = self.constant("policy")
        if policy is not None:
            parts.append(f"policy {policy}")
        for name, symbol in (("samples", "N"), ("generations", "G")):
            value = self.constant(name)
            if value is not None:
                parts.append(f"{symbol} = {value_label(_key(value))}")
        r = self.constant("replicates")
        if r is not None:
            parts.append(f"R = {value_label(_key(r))} replicates per cell")
        invalid = f", {len(self.invalid)} invalid" if self.invalid else ""
        parts.append(f"{len(self.frame)} cells{invalid}")
        lines = [" · ".join(parts)]
        if self.event is not None:
            c = self.constant("collapse-fraction")
            c_text = "c" if c is None else value_label(_key(c))
            unknown = c is None and self.event is COLLAPSE and "collapse-fraction" not in [
                a.name for a in self.axes]
            lines.append(self.event.defined(metric=self.collapse_metric(), fraction=c_text)
                         + (" (c = collapse-fraction, default 0.5)" if unknown else ""))
        else:
            lines.append("no event-time columns in the summary")
        return title, "\n".join(lines)
