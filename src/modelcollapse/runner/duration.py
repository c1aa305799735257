"""How long a run will take, estimated before it starts.

The estimate multiplies the replicate-generations a run computes (whole replicate blocks: a run of
2 replicates of a family whose blocks hold 64 computes 64) by a rough cost per
replicate-generation (:func:`generation_cost`, from each family's measured
:attr:`~modelcollapse.families.Family.cost_ns` and
:attr:`~modelcollapse.families.Family.generation_ns`) and divides by the blocks that run at
once. It is the figure a sweep's dry run prints, good to a factor of about two where the cost
does not depend on the data (the coin, the categorical, the Gaussian); a GMM fit's EM iterations
do, so there it is a floor. The command line prints it before a run that will take longer than
:data:`LONG_RUN_SECONDS`, so that a long run says so up front instead of looking stalled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import RunConfig

#: Nanoseconds per metric per replicate-generation: computing it, and building, compressing and
#: writing its row of the metrics table.
METRIC_NS = 90.0

#: Seconds per unit of work (work is counted in nanoseconds of one core).
SECONDS_PER_WORK = 1e-9

#: A run estimated to take longer than this is announced before it starts.
LONG_RUN_SECONDS = 60.0


def generation_cost(config: RunConfig) -> float:
    """Rough cost of one replicate-generation, in nanoseconds of one core.

    Families that keep exact sufficient statistics update a few numbers per parameter; the
    others draw and fit their whole training set (``accumulate`` fits a set that grows, on
    average half its final size), at the family's :attr:`~modelcollapse.families.Family.cost_ns`
    per value; each generation adds the family's fixed ``generation_ns`` and :data:`METRIC_NS`
    per metric. Used to size a sweep's work units and to estimate time (within a factor of
    about two where the cost does not depend on the data); never changes a number.
    """
    family, policy = config.model, config.data_policy
    n, g = config.n_samples, config.n_generations
    per_value, per_parameter = family.cost_ns
    if family.uses_sufficient_statistics(policy, n):
        cost = per_parameter * max(1, int(np.prod(family.param_shape)))
    else:
        cost = per_value * policy.stored_samples(n, g) / 2
    if not config.curator.is_identity:  # every candidate drawn raw and scored
        cost += per_value * n * config.curator.candidates_per_unit
    return cost + family.generation_ns + METRIC_NS * len(config.metric_names)


@dataclass(frozen=True)
class DurationEstimate:
    """A run's estimated wall time.

    Attributes
    ----------
    seconds
        Estimated wall time of the simulation on ``workers`` threads.
    replicate_generations
        Replicate-generations computed (whole blocks, so at least the ones asked for).
    seconds_each
        Estimated seconds of one core per replicate-generation.
    workers
        Blocks that run at once (at most the number of blocks).
    """

    seconds: float
    replicate_generations: int
    seconds_each: float
    workers: int

    @property
    def long(self) -> bool:
        """Longer than :data:`LONG_RUN_SECONDS`: worth saying before the run starts."""
        return self.seconds > LONG_RUN_SECONDS

    def describe(self) -> str:
        """``about 31 min (50,000 replicate-generations of about 75 ms on 2 threads)``."""
        threads = "thread" if self.workers == 1 else "threads"
        return (f"about {format_seconds(self.seconds)} ({self.replicate_generations:,} "
                f"replicate-generations of about {format_seconds(self.seconds_each)} on "
                f"{self.workers} {threads})")


def format_seconds(seconds: float) -> str:
    """``75.3 ms``, ``42 s``, ``31 min``, ``5.2 h``, ``2.3 days`` (three digits at most)."""
    for limit, scale, unit in ((1e-3, 1e6, "µs"), (1.0, 1e3, "ms"), (120.0, 1.0, "s"),
                               (7200.0, 1 / 60, "min"), (172800.0, 1 / 3600, "h")):
        if seconds < limit:
            return f"{seconds * scale:.3g} {unit}"
    return f"{seconds / 86400:.3g} days"


def estimate_duration(config: RunConfig, *, workers: int) -> DurationEstimate:
    """The wall time ``config`` will take on ``workers`` threads, before it starts.

    Blocks of :attr:`RunConfig.block_size` replicates run ``workers`` at a time, each for
    ``block_size × G`` replicate-generations at :func:`generation_cost` each.
    """
    block = config.block_size
    n_blocks = math.ceil(config.n_replicates / block)
    parallel = max(1, min(workers, n_blocks))
    each = generation_cost(config) * SECONDS_PER_WORK
    per_block = block * config.n_generations * each
    return DurationEstimate(seconds=math.ceil(n_blocks / parallel) * per_block,
                            replicate_generations=n_blocks * block * config.n_generations,
                            seconds_each=each, workers=parallel)
