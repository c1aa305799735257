"""Running a configuration: replicate blocks on worker threads, gathered in order.

Blocks are independent (each has its own generator, :mod:`modelcollapse.seeding`), so they run on a
thread pool: the hot paths (numba kernels, numpy's generators) release the GIL, and threads share
memory and start instantly. Results come back in block order whatever the completion order, with a
bounded number in flight, so a run's memory does not grow with its number of replicates.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import RunConfig
from ..errors import ConfigError
from ..loop import BlockResult, simulate_block
from ..seeding import block_rng
from ..validation import check_int

#: Called with the number of replicate-generations just completed.
ProgressCallback = Callable[[int], None]


class Cancelled(Exception):
    """Raised inside a worker to abandon its block when the run is being stopped."""


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Block:
    """One block's result, already trimmed to the requested replicates.

    ``prepared`` is whatever the ``finish`` hook of :func:`iter_blocks` returned for it,
    computed in the worker thread.
    """

    index: int
    first_replicate: int
    result: BlockResult
    prepared: Any = None

    @property
    def n_replicates(self) -> int:
        return int(self.result.final_params.shape[0])


def iter_blocks(config: RunConfig, *, workers: int | None = None,
                progress: ProgressCallback | None = None,
                finish: Callable[[Block], Any] | None = None,
                blocks: range | None = None) -> Iterator[Block]:
    """Simulate the replicate blocks of ``config`` and yield them in replicate order.

    Parameters
    ----------
    config
        Must have a seed (:meth:`RunConfig.with_seed`).
    workers
        Threads to use; default all available cores. The numbers do not depend on it.
    progress
        Receives the number of replicate-generations completed, as they complete.
    finish
        Called in the worker thread on each finished block; its result is ``Block.prepared``.
        Work done here (e.g. building output tables) runs in parallel instead of in the caller.
    blocks
        Only these block indices (default: all, ``range(ceil(R / block_size))``). A sweep's work
        unit is a range of blocks; each block's numbers are the same whichever range it is in.
    """
    if config.seed is None:
        raise ConfigError("seed", "must be set before simulating (use config.with_seed())")
    seed = config.seed
    workers = default_workers() if workers is None else check_int("workers", workers, minimum=1)
    size = config.block_size
    n_blocks = math.ceil(config.n_replicates / size)
    indices = range(n_blocks) if blocks is None else blocks
    if indices and (indices[0] < 0 or indices[-1] >= n_blocks):
        raise ConfigError("blocks", f"must lie within 0..{n_blocks - 1}", indices)
    key = config.stream_key
    stop = threading.Event()  # set when the consumer stops early (Ctrl-C, an error)

    def run_block(index: int) -> Block:
        first = index * size
        kept = min(size, config.n_replicates - first)

        def tick(t: int) -> None:
            if stop.is_set():
                raise Cancelled
            if progress is not None:
                progress(kept)

        result = simulate_block(config.model, config.data_policy,
                                n_samples=config.n_samples,
                                n_generations=config.n_generations,
                                n_replicates=size, rng=block_rng(seed, key, index),
                                on_generation=tick, curation=config.curator,
                                reward=config.bound_reward())
        if kept < size:  # the whole block is always drawn; surplus replicates are dropped
            # Points and pictures are the first replicate's: always kept (replace keeps them).
            result = dataclasses.replace(
                result, metrics={k: v[:kept] for k, v in result.metrics.items()},
                final_params=result.final_params[:kept],
                excerpts={t: text[:kept] for t, text in result.excerpts.items()})
        block = Block(index, first, result)
        if finish is None:
            return block
        return Block(index, first, result, finish(block))

    if workers == 1 or len(indices) == 1:
        for index in indices:
            yield run_block(index)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(indices)),
                            thread_name_prefix="modelcollapse") as pool:
        pending: deque[Future[Block]] = deque()
        todo = iter(indices)
        next_index = next(todo, None)
        try:
            while next_index is not None or pending:
                while next_index is not None and len(pending) < 2 * workers:
                    pending.append(pool.submit(run_block, next_index))
                    next_index = next(todo, None)
                yield pending.popleft().result()
        finally:
            # Stop promptly: queued blocks never start, running ones quit at their next
            # generation instead of holding the interrupt until they finish.
            stop.set()
            for future in pending:
                future.cancel()


@dataclass(frozen=True)
class Trajectories:
    """Every replicate's metrics in memory.

    Attributes
    ----------
    config
        The configuration, with its seed.
    metrics
        Metric name → array ``[R, G + 1]``.
    final_params
        The last fitted parameters, ``[R, *param_shape]``.
    points
        Replicate 0's training points at the pictured generations (``BlockResult.points``;
        empty for a family without points in the plane).
    pictures
        Replicate 0's first few samples as images ``[m, h, w]`` at the pictured generations
        (``BlockResult.pictures``; empty for a family whose samples are not images).
    """

    config: RunConfig
    metrics: dict[str, np.ndarray]
    final_params: np.ndarray
    points: dict[int, np.ndarray] = field(default_factory=dict)
    pictures: dict[int, np.ndarray] = field(default_factory=dict)


def simulate_arrays(config: RunConfig, *, workers: int | None = None,
                    progress: ProgressCallback | None = None) -> Trajectories:
    """Run ``config`` (drawing a seed if it has none) and keep every trajectory in memory."""
    config = config.with_seed()
    blocks = list(iter_blocks(config, workers=workers, progress=progress))
    names = config.metric_names
    metrics = {name: np.concatenate([b.result.metrics[name] for b in blocks]) for name in names}
    final = np.concatenate([b.result.final_params for b in blocks])
    first = blocks[0].result
    return Trajectories(config, metrics, final, first.points, first.pictures)
