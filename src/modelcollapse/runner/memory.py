"""How much memory a run will need, estimated before it starts.

A run holds at most ``2 × workers`` replicate blocks at once (:mod:`modelcollapse.runner.blocks`),
so its memory does not grow with the number of replicates. Within a block it grows with the
training set: under ``accumulate`` and ``accumulate-subsample`` a family without sufficient
statistics (the GMM; the Gaussian and discrete families whenever they keep raw samples) keeps
every sample it has seen, ``N × (G + 1)`` per replicate. :func:`check_memory` refuses a run that
would not fit, up front, with the estimate and what to change, instead of letting the machine swap
or the process die.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..config import RunConfig
from ..errors import OutOfMemoryEstimate
from ..loop import HISTORY_BYTES

#: Bytes per row of the tidy metrics table in memory (int32, int8, int32, float64).
ROW_BYTES = 17
#: Working copies of a training set alive while the next one is built: the old and the new set
#: and a contiguous copy for the fit; subsampling adds its random keys and their indices.
COPIES = 3
COPIES_WHEN_SUBSAMPLING = 5
#: Fraction of the available memory a run may plan to use.
HEADROOM = 0.8


def estimate_memory(config: RunConfig, *, workers: int, in_memory: bool = False) -> int:
    """Peak bytes the run is expected to need, beyond the interpreter and libraries.

    Parameters
    ----------
    config
        The run.
    workers
        Worker threads (each can hold two blocks in flight).
    in_memory
        Every trajectory is kept (:func:`modelcollapse.simulate`) rather than streamed to disk.
    """
    family, policy = config.model, config.data_policy
    n, g, r = config.n_samples, config.n_generations, config.n_replicates
    block = config.block_size
    n_blocks = math.ceil(r / block)
    in_flight = min(n_blocks, 2 * workers)
    n_metrics = len(family.metric_names)
    params = int(np.prod(family.param_shape))
    if family.uses_sufficient_statistics(policy, n):
        data = block * max(params, 2) * 8 * 4
    else:
        copies = COPIES_WHEN_SUBSAMPLING if policy.needs_subsample(n) else COPIES
        data = block * policy.stored_samples(n, g) * 8 * copies
    history = (g + 1) * block * params * 8
    if history > HISTORY_BYTES:
        history = 0  # reduced to metrics every generation instead
    trajectories = n_metrics * block * (g + 1) * (8 + ROW_BYTES)  # arrays and their table
    per_block = data + history + trajectories
    kept = min(r, 500) * n_metrics * (g + 1) * 8  # trajectories kept for the figures
    if in_memory:
        kept = r * n_metrics * (g + 1) * 8
    return int(in_flight * per_block + kept + r * (n_metrics + 4) * 8)


def memory_limit() -> int | None:
    """The ``MODELCOLLAPSE_MEMORY`` cap in bytes (``4G``, ``512M``, ``2000000``), if set."""
    text = os.environ.get("MODELCOLLAPSE_MEMORY", "").strip().upper()
    if not text:
        return None
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1], 1)
    number = text[:-1] if text[-1] in "KMGT" else text
    try:
        return int(float(number) * scale)
    except ValueError:
        raise OutOfMemoryEstimate("MODELCOLLAPSE_MEMORY", "must be a size like 4G or 512M",
                                  text) from None


def available_memory() -> int | None:
    """Bytes a run may use: the ``MODELCOLLAPSE_MEMORY`` cap if set, else what the operating
    system can give this process now (``None`` if unknown)."""
    limit = memory_limit()
    if limit is not None:
        return limit
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(config: RunConfig, *, workers: int, in_memory: bool = False,
                 available: int | None = None) -> int:
    """Raise :class:`OutOfMemoryEstimate` if the run would not fit; return the estimate.

    Parameters
    ----------
    available
        Bytes available (default: asked of the operating system).
    """
    need = estimate_memory(config, workers=workers, in_memory=in_memory)
    available = available_memory() if available is None else available
    if available is None or need <= HEADROOM * available:
        return need
    family, policy = config.model, config.data_policy
    if not family.uses_sufficient_statistics(policy, config.n_samples) and \
            policy.stored_samples(config.n_samples, config.n_generations) > 2 * config.n_samples:
        why = (f"{policy.name} keeps every sample, {config.n_samples} × "
               f"{config.n_generations + 1} per replicate; use fewer --generations or "
               f"--samples, or --workers 1")
    elif in_memory:
        why = ("every trajectory is kept in memory; use modelcollapse.run, which streams them "
               "to disk, or fewer replicates")
    else:
        why = "use fewer --generations, --samples or --workers"
    raise OutOfMemoryEstimate(
        "memory", f"would be about {_gib(need)} but {_gib(available)} is available: {why}")
