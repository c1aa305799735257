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

from .curation import Curator, curation_metric_names
from .families.base import Family
from .policies import Policy
from .rewards import Reward
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
                   on_generation: Callable[[int], None] | None = None,
                   curation: Curator | None = None,
                   reward: Reward | None = None) -> BlockResult:
    """Simulate ``n_replicates`` independent recursive-training trajectories together.

    Order of events. Generation 0 records the truth's own metrics. Then, for ``t = 1..G``:

    1. **Build training set t.** For ``t = 1``: ``N`` fresh samples of the truth. For ``t ≥ 2``:
       ``policy.next_training_set`` assembles it from fresh truth, samples of model ``t − 1`` and
       carried-over data, drawing those pieces in that order. Model ``t − 1`` is sampled with
       the family's sampling bias (temperature, sampling scale: ``family.sampling_params``);
       the truth never is. With a curator, every draw of model ``t − 1`` is curated
       (:mod:`modelcollapse.curation`: candidates, then the curator's own uniforms); fresh
       truth and carry-over never are. When the fit weighs real data
       (``family.weighs_real``), every piece records its provenance
       (:func:`~modelcollapse.training_sets.mark`); marking draws no random numbers, so the
       streams are the same as without it.
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
    curation
        How the synthetic samples are selected (``None`` or an identity curator: every draw
        kept, the uncurated run exactly).
    reward
        The run's reward: best-of curation scores by it, and the metric ``reward``
        (``E_model r`` of every model, the truth's at generation 0) is recorded.

    Returns
    -------
    BlockResult
    """
    # A family bound by its RunConfig is returned unchanged; a bare one is bound here.
    family = family.for_run(n_samples, n_generations, policy)
    stats = family.uses_sufficient_statistics(policy, n_samples)
    shape = (n_replicates, *family.param_shape)
    truth = np.broadcast_to(family.truth(), shape)
    if curation is not None and curation.is_identity:
        curation = None
    extra = curation_metric_names(curation, reward)
    names = family.metric_names
    keep_history = (n_generations + 1) * np.prod(shape) * 8 <= HISTORY_BYTES
    if keep_history:
        history = np.empty((n_generations + 1, *shape))
        history[0] = truth
        info_history: dict[str, np.ndarray] = {}
    else:
        metrics = {name: np.empty((n_replicates, n_generations + 1)) for name in names}

    # The kept share of candidates per replicate and generation (1 where none were curated).
    accept = np.ones((n_replicates, n_generations + 1)) if curation is not None else None
    if reward is not None:
        rewards = np.empty((n_replicates, n_generations + 1))

    def record(t: int, params: np.ndarray, info: dict[str, np.ndarray] | None) -> None:
        if reward is not None:
            rewards[:, t] = reward.expected(params)
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
            drawn = np.zeros(n_replicates)
            kept = 0

            def draw_model(m: int, model=model, t=t, fitted=params):
                nonlocal drawn, kept
                if curation is None:
                    sample = family.sample(model, m, rng, stats=stats)
                    keep_excerpt(t - 1, sample)
                else:
                    units = family.curation_units(m)
                    curated = curation.curate(family, fitted, model, units, rng, reward)
                    drawn = drawn + curated.candidates
                    kept += units
                    keep_excerpt(t - 1, curated.units)
                    sample = family.training_form(curated.units, m, stats=stats)
                return mark(sample, real=False) if weighs_real else sample

            train, state = policy.next_training_set(state, draw_model=draw_model,
                                                    draw_truth=draw_truth,
                                                    n_samples=n_samples, rng=rng)
        params, info = family.fit(train, rng=rng, previous=params)
        if accept is not None and t > 1 and kept:
            accept[:, t] = kept / drawn
        record(t, params, info)
        if on_generation is not None:
            on_generation(t)
    if keep_history:
        computed = family.metrics(history, info_history or None)
        metrics = {name: np.ascontiguousarray(np.asarray(computed[name], dtype=float).T)
                   for name in names}
    if reward is not None:
        metrics["reward"] = rewards
    if accept is not None:
        metrics["accept_rate"] = accept
    assert tuple(metrics) == (*names, *extra)
    return BlockResult(metrics, np.asarray(params), excerpts)
