"""The tables of a run as Arrow tables: tidy metrics, one row per replicate, samples, points,
pictures.

:func:`long_table` turns a block's trajectories ``metrics[name][R, G + 1]`` into the tidy table
``replicate (int32), metric (dictionary string), generation (int32), value (float64)``;
:func:`replicate_columns` computes the per-replicate table (the family's event times, see
:mod:`modelcollapse.events`, and each metric's final value) and :func:`replicate_table` writes its
event columns as nullable integers (missing: the event did not happen within the run);
:func:`samples_table` holds a text family's sample sentences, :func:`points_table` a
two-dimensional family's training points at the pictured generations and :func:`pictures_table`
an image family's sampled images there (one row per image). Arrays are handed to
Arrow as raw buffers (:func:`arrow_array`): ``pa.array`` on numpy imports pandas to look for
pandas objects, which would add a fifth of a second to every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..config import RunConfig
from ..events import INTEGER_COLUMNS

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for (start-up time)
    import pandas as pd


#: The per-replicate table as numpy columns: integer event times are floats with NaN for
#: "did not happen within the run", written to Parquet as nullable integers.
Columns = dict[str, np.ndarray]

# Arrow arrays are built from raw buffers: pa.array() on numpy arrays or lists imports pandas
# to check for pandas objects, which would add 0.2 s to every run's start-up.
_ARROW_TYPES = {np.dtype(np.int8): pa.int8(), np.dtype(np.int16): pa.int16(),
                np.dtype(np.int32): pa.int32(), np.dtype(np.int64): pa.int64(),
                np.dtype(np.float32): pa.float32(), np.dtype(np.float64): pa.float64()}


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




def replicate_columns(config: RunConfig, metrics: dict[str, np.ndarray],
                      first_replicate: int = 0) -> Columns:
    """The per-replicate table of a block of trajectories, as numpy columns."""
    n = next(iter(metrics.values())).shape[0]
    columns: Columns = {"replicate": np.arange(first_replicate, first_replicate + n,
                                               dtype=np.int32)}
    columns.update(config.model.derived(metrics, collapse_fraction=config.collapse_fraction))
    for name in config.metric_names:
        columns[f"final_{name}"] = np.array(metrics[name][:, -1])
    return columns


def join_columns(parts: list[Columns]) -> Columns:
    """Concatenate per-replicate blocks column by column."""
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def replicate_table(columns: Columns) -> pa.Table:
    """The per-replicate columns as an Arrow table, event times as nullable integers."""
    arrays = []
    for name, values in columns.items():
        if name in INTEGER_COLUMNS:
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


def points_schema() -> pa.Schema:
    return pa.schema([("replicate", pa.int32()), ("generation", pa.int32()),
                      ("x", pa.float64()), ("y", pa.float64())])


def points_table(points: Mapping[int, np.ndarray], replicate: int = 0) -> pa.Table:
    """One replicate's training points ``points[generation][n, 2]`` as
    ``replicate, generation, x, y``, by generation then in draw order."""
    generations = sorted(points)
    arrays = [np.asarray(points[t], dtype=float).reshape(-1, 2) for t in generations]
    xy = np.concatenate(arrays) if arrays else np.empty((0, 2))
    generation = np.repeat(np.array(generations, dtype=np.int32),
                           [a.shape[0] for a in arrays]).astype(np.int32)
    columns = [arrow_array(np.full(xy.shape[0], replicate, dtype=np.int32)),
               arrow_array(generation), arrow_array(xy[:, 0]), arrow_array(xy[:, 1])]
    return pa.Table.from_arrays(columns, schema=points_schema())


def point_sets(table: pa.Table) -> dict[int, np.ndarray]:
    """:func:`points_table`'s table back as ``generation → [n, 2]`` (its first replicate's)."""
    if table.num_rows == 0:
        return {}
    replicate = table["replicate"].to_numpy()
    keep = replicate == replicate.min()
    generation = table["generation"].to_numpy()[keep]
    xy = np.stack([table["x"].to_numpy()[keep], table["y"].to_numpy()[keep]], axis=1)
    return {int(t): xy[generation == t] for t in np.unique(generation)}


def pictures_schema() -> pa.Schema:
    return pa.schema([("replicate", pa.int32()), ("generation", pa.int32()),
                      ("index", pa.int16()), ("height", pa.int32()), ("width", pa.int32()),
                      ("pixels", pa.list_(pa.float32()))])


def pictures_table(pictures: Mapping[int, np.ndarray], replicate: int = 0) -> pa.Table:
    """One replicate's images ``pictures[generation][m, h, w]`` as one row per image:
    ``replicate, generation, index, height, width, pixels``, by generation then index.

    ``pixels`` holds the image's ``height × width`` values row by row (C order) as float32, the
    type the loop keeps them in, so a table read back equals the run's images exactly.
    """
    generations = sorted(pictures)
    stacks = [np.asarray(pictures[t], dtype=np.float32) for t in generations]
    counts = [a.shape[0] for a in stacks]
    generation = np.repeat(np.array(generations, dtype=np.int32), counts).astype(np.int32)
    index = np.concatenate([np.arange(m, dtype=np.int16) for m in counts]) if stacks \
        else np.empty(0, dtype=np.int16)
    height = np.repeat(np.array([a.shape[1] for a in stacks], dtype=np.int32), counts)
    width = np.repeat(np.array([a.shape[2] for a in stacks], dtype=np.int32), counts)
    flat = (np.concatenate([a.ravel() for a in stacks]) if stacks
            else np.empty(0, dtype=np.float32))
    offsets = np.concatenate([[0], np.cumsum(height.astype(np.int64) * width)]).astype(np.int32)
    pixels = pa.ListArray.from_arrays(arrow_array(offsets), arrow_array(flat))
    columns = [arrow_array(np.full(generation.size, replicate, dtype=np.int32)),
               arrow_array(generation), arrow_array(index), arrow_array(height),
               arrow_array(width), pixels]
    return pa.Table.from_arrays(columns, schema=pictures_schema())


def picture_sets(table: pa.Table) -> dict[int, np.ndarray]:
    """:func:`pictures_table`'s table back as ``generation → [m, h, w]`` float32 (its first
    replicate's, images in ``index`` order)."""
    if table.num_rows == 0:
        return {}
    replicate = table["replicate"].to_numpy()
    generation = table["generation"].to_numpy()
    height, width = table["height"].to_numpy(), table["width"].to_numpy()
    keep = np.flatnonzero(replicate == replicate.min())
    order = keep[np.lexsort((table["index"].to_numpy()[keep], generation[keep]))]
    pixels = table["pixels"].combine_chunks()
    out: dict[int, list[np.ndarray]] = {}
    for row in order.tolist():
        values = pixels[row].values.to_numpy(zero_copy_only=False)
        image = np.asarray(values, dtype=np.float32).reshape(height[row], width[row])
        out.setdefault(int(generation[row]), []).append(image)
    return {t: np.stack(images) for t, images in out.items()}


def float_column(replicates: Mapping[str, Any], name: str) -> np.ndarray:
    """A per-replicate column as floats, missing values as NaN.

    ``replicates`` is the per-replicate table as numpy columns (:func:`replicate_columns`) or as
    a DataFrame read back from ``replicates.parquet`` (event times as nullable ``Int64``).
    """
    values = replicates[name]
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)
