"""A sweep's folder: one Parquet file per finished work unit, a manifest, a summary.

Layout::

    SWEEP/
      manifest.json               the sweep: spec, seed, cells, skipped cells, unit plan, status
      metrics/<cell>-u<unit>.parquet     tidy metrics of a unit's replicates
      replicates/<cell>-u<unit>.parquet  their per-replicate table (event times, final values)
      summary.parquet             one row per cell (when the sweep is complete)
      sweep.png                   collapse speed across the grid

Both unit tables carry ``cell`` (the cell's id) and one column per grid key, so the folders read
as one table each: ``pandas.read_parquet("SWEEP/metrics")``, or in DuckDB
``SELECT * FROM 'SWEEP/metrics/*.parquet'``.

Every file is written to a hidden temporary name and renamed into place, the replicate table
first and the metrics table last, so a unit is finished exactly when its metrics file exists. A
sweep killed at any moment (even with SIGKILL) leaves finished units whole and at most a few hidden
temporary files, which the next run removes; readers skip hidden files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError
from ..results.folders import atomic_write, write_json

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
METRICS_DIR = "metrics"
REPLICATES_DIR = "replicates"
SUMMARY = "summary.parquet"
#: Bumped when the folder layout changes (a sweep is only resumed by a compatible version).
FORMAT = 1


def unit_name(cell_id: str, unit: int) -> str:
    """``<cell>-u00003``: the file stem of a work unit."""
    return f"{cell_id}-u{unit:05d}"


class SweepFolder:
    """Reads and writes one sweep folder."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def metrics_dir(self) -> Path:
        return self.path / METRICS_DIR

    @property
    def replicates_dir(self) -> Path:
        return self.path / REPLICATES_DIR

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` if there is none."""
        file = self.path / MANIFEST
        if not file.is_file():
            return None
        return json.loads(file.read_text())

    def create(self) -> None:
        """Make the folder and its unit folders; remove temporaries a killed run left."""
        for folder in (self.metrics_dir, self.replicates_dir):
            folder.mkdir(parents=True, exist_ok=True)
            for leftover in folder.glob(".*.tmp-*"):
                leftover.unlink(missing_ok=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.path / MANIFEST, manifest)

    def finished_units(self) -> set[str]:
        """Names of the units whose files are both in place."""
        if not self.metrics_dir.is_dir():
            return set()
        metrics = {p.stem for p in self.metrics_dir.glob("*.parquet")}
        replicates = {p.stem for p in self.replicates_dir.glob("*.parquet")}
        return metrics & replicates

    def write_unit(self, name: str, metrics: pa.Buffer | bytes,
                   replicates: pa.Buffer | bytes) -> None:
        """Publish a unit's two Parquet files (already encoded by the worker)."""
        _write_atomic(self.replicates_dir / f"{name}.parquet", replicates)
        _write_atomic(self.metrics_dir / f"{name}.parquet", metrics)

    def read_replicates(self, cell_id: str) -> pa.Table:
        """A cell's per-replicate table, in replicate order."""
        files = sorted(self.replicates_dir.glob(f"{cell_id}-u*.parquet"))
        table = pa.concat_tables([pq.read_table(f) for f in files])
        return table.sort_by("replicate")

    def write_summary(self, frame: pd.DataFrame) -> None:
        atomic_write(self.path / SUMMARY, lambda tmp: frame.to_parquet(tmp, index=False))


def _write_atomic(path: Path, data: pa.Buffer | bytes) -> None:
    # Synced: the rename must not publish a file whose bytes a crash of the machine loses.
    atomic_write(path, lambda tmp: tmp.write_bytes(memoryview(data)), sync=True)


def check_resumable(folder: SweepFolder, manifest: dict[str, Any], *, spec: dict[str, Any],
                    seed: int | None, stream_version: int) -> None:
    """Refuse to add units to a folder holding a different sweep.

    Raises
    ------
    ConfigError
        Naming the first difference and the way out (``--force`` or another ``--out``).
    """
    way_out = "; use --force to start a new folder, or another --out"
    if manifest.get("kind") != "sweep":
        raise ConfigError("--out", "holds something other than a sweep" + way_out,
                          str(folder.path))
    old = manifest["spec"]
    if manifest.get("format") != FORMAT or manifest.get("stream_version") != stream_version:
        raise ConfigError("--out", "holds a sweep written by an incompatible version of "
                          f"modelcollapse ({manifest.get('versions', {}).get('modelcollapse')})"
                          + way_out, str(folder.path))
    if seed is not None and seed != manifest["seed"]:
        raise ConfigError("--out", f"holds this sweep with seed {manifest['seed']}, not {seed}"
                          + way_out, str(folder.path))
    difference = _first_difference(old, spec)
    if difference:
        raise ConfigError("--out", f"holds a different sweep ({difference})" + way_out,
                          str(folder.path))


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    for table in ("experiment", "grid"):
        a, b = old.get(table, {}), new.get(table, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                was = "unset" if key not in a else json.dumps(a[key])
                now = "unset" if key not in b else json.dumps(b[key])
                return f"[{table}] {key} was {was}, is now {now}"
    return None
