"""Reading a sweep folder back: :class:`SweepResult`, complete or not.

Its manifest, cells, summary and unit tables as pandas DataFrames, read lazily, and
:meth:`SweepResult.table`, the text table ``modelcollapse sweep`` prints at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..config import RunConfig
from ..events import EVENTS
from .grid import column_name, show_value
from .store import SUMMARY, SweepFolder, sweep_status, unit_name

if TYPE_CHECKING:
    import pandas as pd


class SweepResult:
    """A sweep folder: its manifest, summary and unit tables as pandas DataFrames.

    Returned by :func:`sweep` and by :func:`modelcollapse.load` on a sweep folder. Tables are
    read lazily; ``metrics`` holds every replicate's every generation and can be large (filter
    with ``metrics_of(cell)`` or read the Parquet folder with DuckDB or polars).

    Attributes
    ----------
    path
        The sweep folder.
    manifest
        Spec, seed, cells, skipped combinations, status, versions, sessions (each with the
        process that ran it: pid, host, start).
    status
        ``complete``, ``running``, ``interrupted`` (Ctrl-C, SIGTERM), ``failed``, or
        ``interrupted (process gone)``: the manifest says ``running`` but the process running
        it has ended (killed outright); run the same sweep again to resume it.
    """

    def __init__(self, path: Path | str, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._summary: pd.DataFrame | None = None

    @property
    def complete(self) -> bool:
        return self.manifest.get("status") == "complete"

    @property
    def status(self) -> str:
        # Checked on every read: a running sweep may be killed while this object lives.
        return sweep_status(self.manifest)

    @property
    def seed(self) -> int:
        return int(self.manifest["seed"])

    @property
    def cells(self) -> pd.DataFrame:
        """One row per cell: ``cell`` (id), ``cell_index``, grid values, units, finished units."""
        import pandas as pd

        finished = SweepFolder(self.path).finished_units()
        rows = []
        for c in self.manifest["cells"]:
            done = sum(unit_name(c["id"], u) in finished for u in range(c["units"]))
            values = {column_name(k): v for k, v in c["values"].items()}
            rows.append({"cell": c["id"], "cell_index": c["index"], **values,
                         "units": c["units"], "finished_units": done})
        return pd.DataFrame(rows)

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """The invalid combinations and why."""
        return list(self.manifest["skipped"])

    @property
    def summary(self) -> pd.DataFrame:
        """One row per cell (complete sweeps only)."""
        if self._summary is None:
            import pandas as pd

            file = self.path / SUMMARY
            if not file.is_file():
                status = self.status
                then = ("wait for it to finish, or run it again if it was stopped"
                        if status == "running" else "run it again to finish")
                raise FileNotFoundError(f"{self.path} has no {SUMMARY}: the sweep is "
                                        f"{status}; {then}")
            self._summary = pd.read_parquet(file)
        return self._summary

    @property
    def metrics(self) -> pd.DataFrame:
        """Every finished unit's tidy metrics, with ``cell`` and grid columns."""
        return self._read(SweepFolder(self.path).metrics_dir)

    @property
    def replicates(self) -> pd.DataFrame:
        """Every finished unit's per-replicate table, with ``cell`` and grid columns."""
        return self._read(SweepFolder(self.path).replicates_dir)

    def metrics_of(self, cell: str) -> pd.DataFrame:
        """The tidy metrics of one cell (by id), sorted by replicate, metric, generation."""
        table = self._table(SweepFolder(self.path).metrics_dir, f"{cell}-u*.parquet")
        return table.to_pandas().sort_values(["replicate", "metric", "generation"],
                                             ignore_index=True)

    def config(self, cell: str) -> RunConfig:
        """The run configuration of a cell (by id)."""
        for c in self.manifest["cells"]:
            if c["id"] == cell:
                return RunConfig.from_dict(c["config"])
        raise KeyError(f"no cell {cell!r} in this sweep")

    def table(self, max_rows: int = 40) -> str:
        """The summary as aligned text: per cell, how often and how fast it collapsed.

        The event is the family's: absorption (coin), collapse (gaussian, gmm; ``var`` below
        ``collapse_fraction`` of the truth's), fixation on one token (categorical). Times are
        means over the replicates where the event happened within the run, beside theory's
        exact ``E[T | T ≤ G]`` where it has one.
        """
        frame = self.summary
        keys = [column_name(k) for k in self.manifest["spec"]["grid"]]
        events = [e for e in EVENTS.values() if e.share_column in frame.columns]
        verb = events[0].participle if len(events) == 1 else "event"
        # Each key column as wide as its widest value (at least 10), plus a space between
        # columns, so "accumulate-subsample" or a list never runs into its neighbour.
        widths = {k: max([10, len(k) + 1, *(len(show_value(v)) + 2 for v in frame[k])])
                  for k in keys}
        head = "".join(f"{k:>{widths[k]}}" for k in keys) + (
            f"{'R':>8}{verb + ' %':>13}{'exact %':>9}{'mean time ± SE':>20}{'exact':>8}"
            f"{'median':>8}")
        lines = [f"{len(frame)} cells of sweep {self.manifest.get('name')}:", head]

        def get(row: Any, name: str) -> float | None:
            value = row.get(name) if name in row else None
            return None if value is None or pd_isna(value) else float(value)

        for _, row in frame.head(max_rows).iterrows():
            event = next((e for e in events if get(row, e.share_column) is not None), None)
            text = ("".join(f"{show_value(row[k]):>{widths[k]}}" for k in keys)
                    + f"{int(row['replicates']):>8}")
            if event is None:
                lines.append(text + f"{'–':>13}")
                continue
            share, time = event.share_column, event.column
            frac, se = get(row, share), get(row, f"{share}_se")
            exact = get(row, f"exact_{share}")
            mean, mean_se = get(row, f"{time}_mean"), get(row, f"{time}_se")
            exact_mean = get(row, f"exact_{time}_mean")
            median = get(row, f"{time}_median")
            shown = f"{100 * frac:.1f} ± {100 * (se or 0):.1f}" if frac is not None else "–"
            text += f"{shown:>13}{_pct(exact):>9}"
            time_text = "–" if mean is None else (
                f"{mean:.4g} ± {mean_se:.2g}" if mean_se is not None else f"{mean:.4g}")
            text += f"{time_text:>20}{_num(exact_mean):>8}"
            text += f"{(_num(median) if median is not None else '> G'):>8}"
            lines.append(text)
        if len(frame) > max_rows:
            lines.append(f"... {len(frame) - max_rows} more cells in summary.parquet")
        if self.skipped:
            lines.append(f"{len(self.skipped)} invalid combinations skipped (see manifest.json)")
        return "\n".join(lines)

    def _read(self, folder: Path) -> pd.DataFrame:
        return self._table(folder, "*.parquet").to_pandas()

    @staticmethod
    def _table(folder: Path, pattern: str) -> pa.Table:
        files = sorted(folder.glob(pattern))
        if not files:
            raise FileNotFoundError(f"no finished units in {folder}")
        return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")

    def __repr__(self) -> str:
        return (f"<SweepResult {self.manifest.get('name')}: {len(self.manifest['cells'])} cells, "
                f"{self.status} at {self.path}>")


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def load_sweep(path: Path | str) -> SweepResult:
    """Open a sweep folder (complete or not)."""
    path = Path(path)
    manifest = SweepFolder(path).manifest()
    if manifest is None or manifest.get("kind") != "sweep":
        raise FileNotFoundError(f"{path} is not a modelcollapse sweep folder (no sweep manifest)")
    return SweepResult(path, manifest)
