"""A sweep's work unit: a range of one cell's replicate blocks, simulated and encoded by a worker.

:class:`UnitTask` is everything a worker needs (picklable, for processes and Dask); :func:`run_unit`
simulates the blocks exactly as ``modelcollapse run`` does (same streams) and encodes the unit's
metrics and per-replicate tables, with the cell id and grid values as constant columns, as
Parquet bytes (:class:`UnitOutput`), so the machine that started the sweep only writes files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import RunConfig
from ..results.tables import (
    arrow_array,
    arrow_strings,
    join_columns,
    long_table,
    replicate_columns,
    replicate_table,
)
from ..runner.blocks import iter_blocks

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class UnitTask:
    """One work unit: a range of one cell's replicate blocks (everything a worker needs).

    Attributes
    ----------
    name
        ``<cell>-u<unit>``, the unit's file name.
    cell_id
        The cell's id (a column of both tables).
    config
        The cell's run, with the sweep's seed.
    blocks
        Replicate blocks to simulate.
    columns
        Grid key → value, added as constant columns.
    """

    name: str
    cell_id: str
    config: RunConfig
    blocks: range
    columns: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class UnitOutput:
    """A finished unit: its two tables encoded as Parquet, ready to be written as they are."""

    name: str
    metrics: pa.Buffer
    replicates: pa.Buffer
    n_replicates: int
    seconds: float


def run_unit(task: UnitTask) -> UnitOutput:
    """Simulate a unit's blocks and encode its metrics and per-replicate tables.

    Runs in a worker (any executor); encoding there spreads the compression over the workers.
    """
    t0 = time.perf_counter()
    config = task.config
    names = list(config.metric_names)
    tables: list[pa.Table] = []
    rows = []
    for block in iter_blocks(config, workers=1, blocks=task.blocks):
        tables.append(long_table(block.result.metrics, names, block.first_replicate))
        rows.append(replicate_columns(config, block.result.metrics, block.first_replicate))
    columns = (("cell", task.cell_id), *task.columns)
    metrics = _with_columns(pa.concat_tables(tables), columns)
    replicates = _with_columns(replicate_table(join_columns(rows)), columns)
    return UnitOutput(task.name, _encode(metrics), _encode(replicates), replicates.num_rows,
                      time.perf_counter() - t0)


def _constant(value: Any, n: int) -> pa.Array:
    """A column holding ``value`` ``n`` times (strings dictionary-encoded: one copy)."""
    if isinstance(value, bool):
        return pa.array(np.full(n, value))
    if isinstance(value, int):
        return arrow_array(np.full(n, value, dtype=np.int64))
    if isinstance(value, float):
        return arrow_array(np.full(n, value, dtype=np.float64))
    return pa.DictionaryArray.from_arrays(arrow_array(np.zeros(n, dtype=np.int32)),
                                          arrow_strings([str(value)]))


def _with_columns(table: pa.Table, columns: tuple[tuple[str, Any], ...]) -> pa.Table:
    n = table.num_rows
    names = [name for name, _ in columns] + table.column_names
    arrays = [_constant(value, n) for _, value in columns] + list(table.columns)
    return pa.Table.from_arrays(arrays, names=names)


def _encode(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    strings = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, sink, compression="zstd", use_dictionary=strings)
    return sink.getvalue()
