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

    The sum of :func:`memory_parts`.

    Parameters
    ----------
    config
        The run.
    workers
        Worker threads (each can hold two blocks in flight).
    in_memory
        Every trajectory is kept (:func:`modelcollapse.simulate`) rather than streamed to disk.
    """
    return sum(memory_parts(config, workers=workers, in_memory=in_memory))


def memory_parts(config: RunConfig, *, workers: int, in_memory: bool = False) -> tuple[int, int]:
    """The estimate in two parts: the blocks in flight, and what grows with the replicates.

    The first part is ``in flight × (training sets + parameter history + trajectories)`` of one
    block and grows with N and G; the second is the kept trajectories and one summary row per
    replicate, and grows with R. The refusal message names the settings of the larger part.
    """
    family, policy = config.model, config.data_policy
    n, g, r = config.n_samples, config.n_generations, config.n_replicates
    block = config.block_size
    n_blocks = math.ceil(r / block)
    in_flight = min(n_blocks, 2 * workers)
    n_metrics = len(config.metric_names)
    params = int(np.prod(family.param_shape))
    if family.uses_sufficient_statistics(policy, n):
        data = block * max(params, 2) * 8 * 4
    else:
        copies = COPIES_WHEN_SUBSAMPLING if policy.needs_subsample(n) else COPIES
        data = block * policy.stored_samples(n, g) * family.sample_width * 8 * copies
    if not config.curator.is_identity:  # the candidates, with their scores and indices
        data += int(block * n * config.curator.candidates_per_unit * 8 * 3
                    * family.sample_width)
    data += family.fit_bytes(policy.stored_samples(n, g), block)
    history = (g + 1) * block * params * 8
    if history > HISTORY_BYTES:
        history = 0  # reduced to metrics every generation instead
    trajectories = n_metrics * block * (g + 1) * (8 + ROW_BYTES)  # arrays and their table
    per_block = data + history + trajectories
    kept = min(r, 500) * n_metrics * (g + 1) * 8  # trajectories kept for the figures
    if in_memory:
        kept = r * n_metrics * (g + 1) * 8
    return int(in_flight * per_block), int(kept + r * (n_metrics + 4) * 8)


def memory_limit() -> int | None:
    """The ``MODELCOLLAPSE_MEMORY`` cap in bytes (``4G``, ``512M``, ``2000000``), if set."""
    text = os.environ.get("MODELCOLLAPSE_MEMORY", "").strip().upper()
    if not text:
        return None
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1], 1)
    number = text[:-1] if text[-1] in "KMGT" else text
    try:
        limit = float(number) * scale
    except ValueError:
        limit = math.nan
    # A cap of zero, a negative one or one below a kibibyte is a typo, not a wish to refuse
    # every run; nan and inf are not sizes.
    if not math.isfinite(limit) or limit < 2**10:
        raise OutOfMemoryEstimate("MODELCOLLAPSE_MEMORY",
                                  "must be a size of at least 1K, like 4G or 512M", text)
    return int(limit)


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


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps a leading digit: 512 B, 3.2 MiB."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def check_memory(config: RunConfig, *, workers: int, in_memory: bool = False,
                 available: int | None = None) -> int:
    """Raise :class:`OutOfMemoryEstimate` if the run would not fit; return the estimate.

    Parameters
    ----------
    available
        Bytes available (default: asked of the operating system).
    """
    blocks, replicates = memory_parts(config, workers=workers, in_memory=in_memory)
    need = blocks + replicates
    capped = available is None and memory_limit() is not None
    available = available_memory() if available is None else available
    if available is None or need <= HEADROOM * available:
        return need
    family, policy = config.model, config.data_policy
    # Name the setting that drives the estimate: the part that grows with the replicates (their
    # summaries, or every trajectory when kept in memory) or the part that grows with a block's
    # training sets and trajectories.
    if in_memory and replicates > blocks:
        why = ("every trajectory is kept in memory; use modelcollapse.run, which streams them "
               "to disk, or fewer --replicates")
    elif replicates > blocks:
        why = "use fewer --replicates, or split them over several runs with different --seed"
    elif not family.uses_sufficient_statistics(policy, config.n_samples) and \
            policy.stored_samples(config.n_samples, config.n_generations) > 2 * config.n_samples:
        why = (f"{policy.name} keeps every sample, {config.n_samples} × "
               f"{config.n_generations + 1} per replicate; use fewer --generations or "
               f"--samples, or --workers 1")
    else:
        why = "use fewer --generations, --samples or --workers"
    if config.curator.candidates_per_unit > 1:
        # Candidates are drawn and scored together: they multiply a generation's samples.
        flag = {"best-of": "--curate-k", "verifier": "--verifier-strictness"}.get(
            config.curator.name, "--curate-keep")
        why += (f"; the curator draws {config.curator.candidates_per_unit:g} candidates per "
                f"kept sample ({flag} sets it)")
    room = (f"MODELCOLLAPSE_MEMORY allows {format_bytes(available)}" if capped
            else f"only {format_bytes(available)} is available")
    raise OutOfMemoryEstimate("memory", f"would be about {format_bytes(need)} but {room}: {why}")
