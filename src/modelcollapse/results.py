"""Results of a run: the tidy metrics table, the per-replicate table, the manifest.

A run folder holds

``manifest.json``
    config, seed, stream key, versions, argv, start/end and wall time, summary, file list;
``metrics.parquet``
    the tidy long table ``replicate (int32), metric (dictionary string), generation (int32),
    value (float64)``, sorted by replicate, metric, generation. No NaN; ``inf`` only where the
    metric is mathematically infinite (``kl`` of a fitted normal whose variance is exactly 0);
``replicates.parquet``
    one row per replicate: event times (``absorption_time``, ``collapse_time``,
    ``fixation_time``; missing where the event did not happen within the run) and each metric's
    final value as ``final_<metric>``;
``samples.parquet`` (text families)
    ``replicate, generation, text``: a sample of each generation's model for the first few
    replicates, so a reader can watch the language degrade;
``*.png``
    figures.

Everything is written into a hidden ``.<name>.partial-<pid>`` folder; the manifest is written last
and the folder renamed into place, so a folder without ``.partial`` in its name is always complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .config import RunConfig
from .errors import ConfigError

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for (start-up time)
    import pandas as pd

#: The per-replicate table as numpy columns: integer event times are floats with NaN for
#: "did not happen within the run", written to Parquet as nullable integers.
Columns = dict[str, np.ndarray]

MANIFEST = "manifest.json"
METRICS = "metrics.parquet"
REPLICATES = "replicates.parquet"
SAMPLES = "samples.parquet"

#: Rows buffered before a Parquet row group is written.
ROW_GROUP = 1 << 20


# Arrow arrays are built from raw buffers: pa.array() on numpy arrays or lists imports pandas
# to check for pandas objects, which would add 0.2 s to every run's start-up.
_ARROW_TYPES = {np.dtype(np.int8): pa.int8(), np.dtype(np.int32): pa.int32(),
                np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}


def arrow_array(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A zero-copy Arrow array of a 1-D numpy array; ``missing`` marks nulls."""
    values = np.ascontiguousarray(values)
    validity = None
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(_ARROW_TYPES[values.dtype], values.size,
                                 [validity, pa.py_buffer(values)])


def arrow_strings(values: Iterable[str]) -> pa.Array:
    """An Arrow string array of a few Python strings."""
    encoded = [v.encode() for v in values]
    offsets = np.cumsum([0, *(len(e) for e in encoded)], dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def metrics_schema() -> pa.Schema:
    return pa.schema([("replicate", pa.int32()),
                      ("metric", pa.dictionary(pa.int8(), pa.string())),
                      ("generation", pa.int32()),
                      ("value", pa.float64())])


@lru_cache(maxsize=8)
def _fixed_columns(names: tuple[str, ...], n_rep: int, n_gen: int) -> tuple[pa.Array, pa.Array]:
    """The metric and generation columns, identical for every block of one shape."""
    n_met = len(names)
    metric = np.tile(np.repeat(np.arange(n_met, dtype=np.int8), n_gen), n_rep)
    generation = np.tile(np.arange(n_gen, dtype=np.int32), n_rep * n_met)
    return (pa.DictionaryArray.from_arrays(arrow_array(metric), arrow_strings(names)),
            arrow_array(generation))


def long_table(metrics: dict[str, np.ndarray], names: Iterable[str],
               first_replicate: int = 0) -> pa.Table:
    """The tidy table of trajectories ``metrics[name][R, G + 1]``."""
    names = tuple(names)
    if len(names) == 1:
        values = np.ascontiguousarray(metrics[names[0]]).ravel()
        n_rep, n_gen = metrics[names[0]].shape
    else:
        stacked = np.stack([metrics[name] for name in names], axis=1)  # [R, M, G + 1]
        n_rep, _, n_gen = stacked.shape
        values = stacked.ravel()
    replicate = np.repeat(np.arange(first_replicate, first_replicate + n_rep, dtype=np.int32),
                          len(names) * n_gen)
    metric, generation = _fixed_columns(names, n_rep, n_gen)
    return pa.Table.from_arrays([arrow_array(replicate), metric, generation, arrow_array(values)],
                                schema=metrics_schema())


#: Columns of the per-replicate table holding event generations (nullable integers).
EVENT_COLUMNS = ("absorption_time", "absorbed_at", "collapse_time", "fixation_time")


def replicate_columns(config: RunConfig, metrics: dict[str, np.ndarray],
                      first_replicate: int = 0) -> Columns:
    """The per-replicate table of a block of trajectories, as numpy columns."""
    n = next(iter(metrics.values())).shape[0]
    columns: Columns = {"replicate": np.arange(first_replicate, first_replicate + n,
                                               dtype=np.int32)}
    columns.update(config.model.derived(metrics, collapse_fraction=config.collapse_fraction))
    for name in config.model.metric_names:
        columns[f"final_{name}"] = np.array(metrics[name][:, -1])
    return columns


def join_columns(parts: list[Columns]) -> Columns:
    """Concatenate per-replicate blocks column by column."""
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def replicate_table(columns: Columns) -> pa.Table:
    """The per-replicate columns as an Arrow table, event times as nullable integers."""
    arrays = []
    for name, values in columns.items():
        if name in EVENT_COLUMNS:
            missing = np.isnan(values)
            arrays.append(arrow_array(np.where(missing, 0, values).astype(np.int64), missing))
        else:
            arrays.append(arrow_array(values))
    return pa.Table.from_arrays(arrays, names=list(columns))


def replicate_frame(table: Columns | pa.Table) -> pd.DataFrame:
    """The per-replicate table as a pandas DataFrame (event times as nullable ``Int64``)."""
    if not isinstance(table, pa.Table):
        table = replicate_table(table)
    return table.to_pandas(types_mapper={pa.int64(): _int64_dtype()}.get)


def _int64_dtype() -> Any:
    import pandas as pd

    return pd.Int64Dtype()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (np.ndarray, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default, allow_nan=True) + "\n")
    os.replace(tmp, path)


def stamped_folder(root: Path | str, name: str, *, reuse_empty: bool = False) -> Path:
    """``root/<name>-<YYYYmmdd-HHMMSS>``, or the first free ``…-2``, ``…-3``, … after it.

    ``reuse_empty`` also accepts an existing empty folder as free.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return free_folder(Path(root) / f"{name}-{stamp}", reuse_empty=reuse_empty)


def free_folder(base: Path, *, reuse_empty: bool = False) -> Path:
    """``base`` if it does not exist (or, with ``reuse_empty``, is an empty folder), else the
    first of ``base-2``, ``base-3``, … that is."""
    def taken(path: Path) -> bool:
        if not path.exists():
            return False
        return not (reuse_empty and path.is_dir() and not any(path.iterdir()))

    path, n = base, 2
    while taken(path):
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path


def samples_table(excerpts: dict[int, list[str]], first_replicate: int = 0) -> pa.Table:
    """The sample texts ``excerpts[generation][row]`` as ``replicate, generation, text``."""
    rows = [(first_replicate + row, t, text) for t in sorted(excerpts)
            for row, text in enumerate(excerpts[t])]
    rows.sort()
    return pa.Table.from_arrays(
        [arrow_array(np.array([r[0] for r in rows], dtype=np.int32)),
         arrow_array(np.array([r[1] for r in rows], dtype=np.int32)),
         arrow_strings(r[2] for r in rows)],
        names=["replicate", "generation", "text"])


def prepare_output(path: Path | str) -> Path:
    """Check that ``path`` can receive a run; refuse a non-empty existing folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError("out", "must be a new or empty folder; it already holds files",
                          str(path))
    return path


class RunWriter:
    """Streams a run's blocks to disk and publishes the folder when complete.

    Parameters
    ----------
    path
        The final run folder (must not hold files).
    config
        The run's configuration, with its seed.
    """

    def __init__(self, path: Path | str, config: RunConfig) -> None:
        self.path = prepare_output(path)
        self.config = config
        self.names = list(config.model.metric_names)
        self.tmp = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()
        # Dictionary-encode only the metric names: the numeric columns compress as well without
        # it and write about a third faster (10⁹-row runs are write-bound).
        self._writer = pq.ParquetWriter(self.tmp / METRICS, metrics_schema(), compression="zstd",
                                        use_dictionary=["metric"])
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._replicates: list[Columns] = []

    @property
    def folder(self) -> Path:
        """Where files go until the run is published (plots are written here too)."""
        return self.tmp

    def prepare(self, metrics: dict[str, np.ndarray],
                first_replicate: int) -> tuple[pa.Table, Columns]:
        """The tidy table and per-replicate columns of a block (safe to call from any thread)."""
        return (long_table(metrics, self.names, first_replicate),
                replicate_columns(self.config, metrics, first_replicate))

    def add(self, metrics: dict[str, np.ndarray], first_replicate: int,
            prepared: tuple[pa.Table, Columns] | None = None) -> Columns:
        """Append a block of trajectories (``prepared`` by :meth:`prepare` if already done)."""
        table, rows = prepared or self.prepare(metrics, first_replicate)
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= ROW_GROUP:
            self._flush()
        self._replicates.append(rows)
        return rows

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=ROW_GROUP)
            self._buffer, self._buffered = [], 0

    def replicates(self) -> Columns:
        return join_columns(self._replicates)

    def write_samples(self, excerpts: dict[int, list[str]]) -> str:
        """Write the first replicates' sample texts (``samples.parquet``); return the name."""
        pq.write_table(samples_table(excerpts), self.tmp / SAMPLES)
        return SAMPLES

    def finish(self, manifest: dict[str, Any]) -> Path:
        """Write the remaining rows, the replicate table and the manifest; publish the folder."""
        self._flush()
        self._writer.close()
        pq.write_table(replicate_table(self.replicates()), self.tmp / REPLICATES)
        write_json(self.tmp / MANIFEST, manifest)
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Remove everything written so far."""
        try:
            self._writer.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Result:
    """A finished run: its manifest and its tables as pandas DataFrames.

    Returned by :func:`modelcollapse.run` and :func:`modelcollapse.simulate` and by
    :func:`load`. Tables are read from disk lazily.

    Attributes
    ----------
    manifest
        The run's manifest (config, seed, versions, times, summary).
    path
        The run folder, or ``None`` for an in-memory result.
    """

    def __init__(self, manifest: dict[str, Any], *, path: Path | None = None,
                 arrays: dict[str, np.ndarray] | None = None,
                 replicates: Columns | None = None) -> None:
        self.manifest = manifest
        self.path = path
        self._arrays = arrays
        self._replicate_columns = replicates
        self._replicates: pd.DataFrame | None = None
        self._metrics: pd.DataFrame | None = None

    @property
    def config(self) -> RunConfig:
        return RunConfig.from_dict(self.manifest["config"])

    @property
    def seed(self) -> int:
        return int(self.manifest["config"]["seed"])

    @property
    def metric_names(self) -> list[str]:
        return list(self.manifest["metrics"])

    @property
    def metrics(self) -> pd.DataFrame:
        """The tidy table: ``replicate, metric, generation, value``."""
        if self._metrics is None:
            if self._arrays is not None:
                table = long_table(self._arrays, self.metric_names)
            else:
                table = pq.read_table(self._file(METRICS))
            self._metrics = table.to_pandas()
        return self._metrics

    @property
    def replicates(self) -> pd.DataFrame:
        """One row per replicate: event times and final metric values."""
        if self._replicates is None:
            if self._replicate_columns is not None:
                self._replicates = replicate_frame(self._replicate_columns)
            else:
                self._replicates = replicate_frame(pq.read_table(self._file(REPLICATES)))
        return self._replicates

    @property
    def samples(self) -> pd.DataFrame:
        """Sample texts per generation (``replicate, generation, text``; text families only)."""
        if self.path is not None and (self.path / SAMPLES).is_file():
            return pq.read_table(self.path / SAMPLES).to_pandas()
        import pandas as pd

        return pd.DataFrame({"replicate": [], "generation": [], "text": []})

    def trajectories(self, metric: str, max_replicates: int | None = None) -> np.ndarray:
        """Metric ``metric`` as an array ``[replicate, generation]``.

        Parameters
        ----------
        max_replicates
            Only the first this many replicates (read selectively from disk: a run of 10⁶
            replicates need not be loaded to look at a few hundred).
        """
        if metric not in self.metric_names:
            raise KeyError(f"no metric {metric!r}; this run has {', '.join(self.metric_names)}")
        if self._arrays is not None:
            return self._arrays[metric][:max_replicates]
        n_gen = int(self.manifest["config"]["n_generations"]) + 1
        filters: list[tuple[str, str, Any]] = [("metric", "=", metric)]
        if max_replicates is not None:
            filters.append(("replicate", "<", max_replicates))
        table = pq.read_table(self._file(METRICS), filters=filters,
                              columns=["replicate", "generation", "value"])
        order = np.lexsort((table["generation"].to_numpy(), table["replicate"].to_numpy()))
        return table["value"].to_numpy()[order].reshape(-1, n_gen)

    def _file(self, name: str) -> Path:
        if self.path is None:
            raise FileNotFoundError(f"this result is in memory only; it has no {name}")
        return self.path / name

    def __repr__(self) -> str:
        where = f" at {self.path}" if self.path else " (in memory)"
        return f"<Result {RunConfig.from_dict(self.manifest['config']).describe()}{where}>"


def load(path: Path | str) -> Any:
    """Open a run folder written by ``modelcollapse run``, or a sweep folder.

    Returns a :class:`Result` for a run and a :class:`~modelcollapse.sweep.SweepResult` for a
    sweep (``modelcollapse sweep``), complete or not.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> result = mc.load("runs/gmm-20261121-101500")              # doctest: +SKIP
    >>> var = result.metrics.query("metric == 'var'")                # doctest: +SKIP
    >>> var.groupby("generation").value.median()                      # doctest: +SKIP
    """
    path = Path(path)
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        hint = " (it looks like an interrupted run)" if ".partial" in path.name else ""
        raise FileNotFoundError(f"{path} is not a finished modelcollapse run: no {MANIFEST}{hint}")
    manifest = json.loads(manifest_file.read_text())
    if manifest.get("kind") == "sweep":
        from .sweep import SweepResult  # the sweep driver imports this module

        return SweepResult(path, manifest)
    return Result(manifest, path=path)
