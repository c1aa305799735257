"""The generation loop: fit, sample, refit, for one block of replicates.

This is the only place the recursion is written. Everything family-specific sits behind
:class:`~modelcollapse.families.base.Family`, everything about data mixing behind
:class:`~modelcollapse.policies.Policy`; the loop is vectorised over the block's replicates and
draws every random number from the block's generator, in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .families.base import Family
from .policies import Policy
from .training_sets import mark

#: Parameter histories up to this size are kept, and metrics computed once per block after the
#: loop (one vectorised call instead of one per generation); larger ones are reduced every
#: generation. The numbers are the same either way.
HISTORY_BYTES = 64 << 20


@dataclass(frozen=True)
class BlockResult:
    """What one block of replicates produced.

    Attributes
    ----------
    metrics
        Metric name → array ``[R, G + 1]`` (replicate, generation).
    final_params
        Parameters of the last fitted models, ``[R, *param_shape]``.
    excerpts
        Generation ``t`` → readable samples of model ``t`` for the block's first few replicates
        (:meth:`Family.excerpts`; text families only): the truth's for ``t = 0``, then the first
        sample drawn from each model (none for the last model, which is never sampled).
    """

    metrics: dict[str, np.ndarray]
    final_params: np.ndarray
    excerpts: dict[int, list[str]] = field(default_factory=dict)


def simulate_block(family: Family, policy: Policy, *, n_samples: int, n_generations: int,
                   n_replicates: int, rng: np.random.Generator,
                   on_generation: Callable[[int], None] | None = None) -> BlockResult:
    """Simulate ``n_replicates`` independent recursive-training trajectories together.

    Order of events. Generation 0 records the truth's own metrics. Then, for ``t = 1..G``:

    1. **Build training set t.** For ``t = 1``: ``N`` fresh samples of the truth. For ``t ≥ 2``:
       ``policy.next_training_set`` assembles it from fresh truth, samples of model ``t − 1`` and
       carried-over data, drawing those pieces in that order. Model ``t − 1`` is sampled with
       the family's sampling bias (temperature, sampling scale: ``family.sampling_params``);
       the truth never is. When the fit weighs real data (``family.weighs_real``), every piece
       records its provenance (:func:`~modelcollapse.training_sets.mark`); marking draws no
       random numbers, so the streams are the same as without it.
    2. **Fit model t** to training set ``t`` (``family.fit``; warm starts see model ``t − 1``).
    3. **Record model t** and its metrics (computed per generation, or for the whole block at
       the end when its parameter history is small; the numbers are identical).

    So ``t`` counts fit steps; model ``t`` has seen ``t − 1`` rounds of its own output.

    Parameters
    ----------
    family, policy
        What is fitted and how training sets are built.
    n_samples
        ``N``, the size of a fresh batch (and of every training set except under ``accumulate``).
    n_generations
        ``G``, the number of fit steps.
    n_replicates
        Trajectories in the block (all share ``rng``; see :mod:`modelcollapse.seeding`).
    rng
        The block's generator; the only source of randomness.
    on_generation
        Called with ``t`` after each generation (progress reporting).

    Returns
    -------
    BlockResult
    """
    stats = family.uses_sufficient_statistics(policy, n_samples)
    shape = (n_replicates, *family.param_shape)
    truth = np.broadcast_to(family.truth(), shape)
    names = family.metric_names
    keep_history = (n_generations + 1) * np.prod(shape) * 8 <= HISTORY_BYTES
    if keep_history:
        history = np.empty((n_generations + 1, *shape))
        history[0] = truth
        info_history: dict[str, np.ndarray] = {}
    else:
        metrics = {name: np.empty((n_replicates, n_generations + 1)) for name in names}

    def record(t: int, params: np.ndarray, info: dict[str, np.ndarray] | None) -> None:
        if keep_history:
            history[t] = params
            for key, diagnostic in (info or {}).items():
                if key not in info_history:
                    info_history[key] = np.zeros((n_generations + 1, n_replicates))
                info_history[key][t] = diagnostic
            return
        values = family.metrics(params, info)
        for name in names:
            metrics[name][:, t] = values[name]

    excerpts: dict[int, list[str]] = {}

    def keep_excerpt(t: int, data) -> None:
        if t not in excerpts:  # reading samples never draws random numbers
            text = family.excerpts(data)
            if text is not None:
                excerpts[t] = text

    weighs_real = family.weighs_real

    def draw_truth(m: int):
        sample = family.sample(truth, m, rng, stats=stats)
        return mark(sample, real=True) if weighs_real else sample

    record(0, truth, None)
    params = truth
    train = draw_truth(n_samples)
    keep_excerpt(0, train)
    state = policy.start(train)
    for t in range(1, n_generations + 1):
        if t > 1:
            model = family.sampling_params(params)

            def draw_model(m: int, model=model, t=t):
                sample = family.sample(model, m, rng, stats=stats)
                keep_excerpt(t - 1, sample)
                return mark(sample, real=False) if weighs_real else sample

            train, state = policy.next_training_set(state, draw_model=draw_model,
                                                    draw_truth=draw_truth,
                                                    n_samples=n_samples, rng=rng)
        params, info = family.fit(train, rng=rng, previous=params)
        record(t, params, info)
        if on_generation is not None:
            on_generation(t)
    if keep_history:
        computed = family.metrics(history, info_history or None)
        metrics = {name: np.ascontiguousarray(np.asarray(computed[name], dtype=float).T)
                   for name in names}
    return BlockResult(metrics, np.asarray(params), excerpts)
