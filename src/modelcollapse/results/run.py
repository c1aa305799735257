"""A run's folder: written block by block as the run goes, published whole, read back lazily.

A run folder holds

``manifest.json``
    config, seed, stream key, versions, argv, start/end and wall time, summary, file list;
``metrics.parquet``
    the tidy long table ``replicate (int32), metric (dictionary string), generation (int32),
    value (float64)``, sorted by replicate, metric, generation (:mod:`modelcollapse.results.
    tables`). No NaN; ``inf`` only where the metric is mathematically infinite (``kl`` of a
    fitted normal whose variance is exactly 0);
``replicates.parquet``
    one row per replicate: event times (:mod:`modelcollapse.events`; missing where the event did
    not happen within the run) and each metric's final value as ``final_<metric>``;
``samples.parquet`` (text families)
    ``replicate, generation, text``: a sample of each generation's model for the first few
    replicates, so a reader can watch the language degrade;
``points.parquet`` (families with points in the plane)
    ``replicate, generation, x, y``: replicate 0's training points (at most 500) at the few
    pictured generations (:func:`modelcollapse.loop.pictured_generations`), for the scatter
    picture per generation;
``pictures.parquet`` (families whose samples are images)
    ``replicate, generation, index, height, width, pixels``: replicate 0's first few sampled
    images (at most 16; ``pixels`` a list of ``height × width`` float32 values in [0, 1], row by
    row) at the same pictured generations, for the grid of samples per generation
    (``samples.png``);
``*.png``
    figures.

:class:`RunWriter` streams the tables into a :class:`~modelcollapse.results.folders.
PartialFolder`, the manifest last, so a folder that looks finished is finished;
:class:`Result` reads one back (or holds an in-memory run) with its tables as DataFrames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import RunConfig
from .folders import (
    PartialFolder,
    describe_record,
    partial_writer,
    record_gone,
    write_json,
)
from .tables import (
    Columns,
    join_columns,
    long_table,
    metrics_schema,
    picture_sets,
    pictures_table,
    point_sets,
    points_table,
    replicate_columns,
    replicate_frame,
    replicate_table,
    samples_table,
)

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for (start-up time)
    import pandas as pd

#: The files of a run folder.
MANIFEST = "manifest.json"
METRICS = "metrics.parquet"
REPLICATES = "replicates.parquet"
SAMPLES = "samples.parquet"
POINTS = "points.parquet"
PICTURES = "pictures.parquet"

#: Rows buffered before a Parquet row group is written.
ROW_GROUP = 1 << 20


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
        self._partial = PartialFolder(path)
        self.path = self._partial.path
        self.config = config
        self.names = list(config.metric_names)
        # Dictionary-encode only the metric names: the numeric columns compress as well without
        # it and write about a third faster (10⁹-row runs are write-bound). The partial folder
        # exists from here on: an interrupt (Ctrl-C, SIGTERM) before the caller's try: block
        # is reached must not leave it behind.
        try:
            self._writer = pq.ParquetWriter(self.folder / METRICS, metrics_schema(),
                                            compression="zstd", use_dictionary=["metric"])
        except BaseException:
            self._partial.abort()
            raise
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._replicates: list[Columns] = []

    @property
    def folder(self) -> Path:
        """Where files go until the run is published (figures are drawn here too)."""
        return self._partial.tmp

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
        pq.write_table(samples_table(excerpts), self.folder / SAMPLES)
        return SAMPLES

    def write_points(self, points: dict[int, np.ndarray]) -> str:
        """Write replicate 0's points per pictured generation (``points.parquet``); return the
        name."""
        pq.write_table(points_table(points), self.folder / POINTS)
        return POINTS

    def write_pictures(self, pictures: dict[int, np.ndarray]) -> str:
        """Write replicate 0's images per pictured generation (``pictures.parquet``); return the
        name."""
        pq.write_table(pictures_table(pictures), self.folder / PICTURES)
        return PICTURES

    def finish(self, manifest: dict[str, Any]) -> Path:
        """Write the remaining rows, the replicate table and the manifest; publish the folder."""
        self._flush()
        self._writer.close()
        pq.write_table(replicate_table(self.replicates()), self.folder / REPLICATES)
        write_json(self.folder / MANIFEST, manifest)
        return self._partial.publish()

    def abort(self) -> None:
        """Remove everything written so far."""
        try:
            self._writer.close()
        finally:
            self._partial.abort()


class Result:
    """A finished run: its manifest and its tables as pandas DataFrames.

    Returned by :func:`modelcollapse.run` and :func:`modelcollapse.simulate` and by
    :func:`modelcollapse.load`. Tables are read from disk lazily.

    Attributes
    ----------
    manifest
        The run's manifest (config, seed, versions, times, summary).
    path
        The run folder, or ``None`` for an in-memory result.
    """

    def __init__(self, manifest: dict[str, Any], *, path: Path | None = None,
                 arrays: dict[str, np.ndarray] | None = None,
                 replicates: Columns | None = None,
                 points: dict[int, np.ndarray] | None = None,
                 pictures: dict[int, np.ndarray] | None = None) -> None:
        self.manifest = manifest
        self.path = path
        self._arrays = arrays
        self._points = points
        self._pictures = pictures
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

    @property
    def points(self) -> pd.DataFrame:
        """Replicate 0's training points at the pictured generations (``replicate, generation,
        x, y``; families with points in the plane only, else empty)."""
        return points_table(self.point_sets()).to_pandas()

    def point_sets(self) -> dict[int, np.ndarray]:
        """:attr:`points` as ``generation → [n, 2]`` (empty when the run has none).

        Generation 0's are the truth's; generation ``t``'s come from the first sample drawn
        from model ``t``. Read from ``points.parquet`` of a run folder, or held in memory.
        """
        if self._points is None:
            if self.path is not None and (self.path / POINTS).is_file():
                self._points = point_sets(pq.read_table(self.path / POINTS))
            else:
                self._points = {}
        return self._points

    def pictures(self) -> dict[int, np.ndarray]:
        """Replicate 0's sampled images at the pictured generations, ``generation → [m, h, w]``
        (float32 in [0, 1]; empty when the run has none: a family whose samples are not images).

        Generation 0's are the truth's (real data); generation ``t``'s are the first ``m``
        images of the first sample drawn from model ``t``. Read from ``pictures.parquet`` of a
        run folder, or held in memory; the two are equal exactly.
        """
        if self._pictures is None:
            if self.path is not None and (self.path / PICTURES).is_file():
                self._pictures = picture_sets(pq.read_table(self.path / PICTURES))
            else:
                self._pictures = {}
        return self._pictures

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


def open_run(path: Path | str) -> Result:
    """The :class:`Result` of a run folder written by ``modelcollapse run``.

    Raises
    ------
    FileNotFoundError
        When the folder has no manifest (not a run, or an interrupted one).
    """
    path = Path(path)
    manifest = read_manifest(path)
    return Result(manifest, path=path)


def read_manifest(path: Path) -> dict[str, Any]:
    """The ``manifest.json`` of a results folder (of any kind)."""
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{path} is not a finished modelcollapse run: no "
                                f"{MANIFEST}{_partial_hint(path)}")
    return json.loads(manifest_file.read_text())


def _partial_hint(path: Path) -> str:
    """What a folder without a manifest is, if it is a partial folder: being written, or left
    by a run that was killed."""
    if ".partial" not in path.name:
        return ""
    writer = partial_writer(path)
    if writer is None:
        return " (it looks like an interrupted run)"
    if record_gone(writer):
        return " (left by a run that was killed; the next run writing beside it removes it)"
    return f" (a run is still writing it: {describe_record(writer)})"
