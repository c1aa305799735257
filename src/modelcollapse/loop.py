"""The generation loop: fit, sample, refit, for one block of replicates.

This is the only place the recursion is written. Everything family-specific sits behind
:class:`~modelcollapse.families.base.Family`, everything about data mixing behind
:class:`~modelcollapse.policies.Policy`; the loop is vectorised over the block's replicates and
draws every random number from the block's generator, in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

#: Most generations whose training points (:meth:`Family.points`) and images
#: (:meth:`Family.pictures`) are kept for a picture per generation.
MAX_PICTURED = 8
#: Most points kept per pictured generation (evenly spaced through the first replicate's).
PICTURED_POINTS = 500
#: Most images a family may return per pictured generation (:meth:`Family.pictures`).
PICTURED_IMAGES = 16


def spread_subset(points: np.ndarray, m: int) -> np.ndarray:
    """At most ``m`` rows of ``points``, evenly spaced through them (all when there are fewer).

    Not the first ``m``: a sampler may group its output (the mixture's, by component), and the
    first rows would then show one component only. No random numbers are drawn.
    """
    n = points.shape[0]
    if n <= m:
        return points
    return points[np.linspace(0, n - 1, m).round().astype(np.int64)]


def checked_pictures(family: str, images: Any) -> np.ndarray | None:
    """A float32 copy of what :meth:`Family.pictures` returned, ``None`` for no image, or a
    clear error.

    The images must be ``[m, h, w]`` with ``m ≤`` :data:`PICTURED_IMAGES` and ``h, w ≥ 1``, and
    every finite pixel in ``[0, 1]`` (a family handing over raw grey levels, 0..16, is a bug to
    report, not a picture to saturate). NaN or infinite pixels are kept: a model that blew up
    is an outcome, drawn red. ``m = 0`` (an empty sample) is nothing to keep. A copy, because
    training sets may be reused in place.
    """
    shown = np.array(images, dtype=np.float32)
    if (shown.ndim != 3 or shown.shape[0] > PICTURED_IMAGES or shown.shape[1] == 0
            or shown.shape[2] == 0):
        raise ValueError(f"{family}.pictures() must return images [m, h, w] with m ≤ "
                         f"{PICTURED_IMAGES}, not an array of shape {shown.shape}")
    if shown.shape[0] == 0:
        return None
    finite = shown[np.isfinite(shown)]
    if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
        raise ValueError(f"{family}.pictures() must return pixels in [0, 1], not values from "
                         f"{float(finite.min()):g} to {float(finite.max()):g}")
    return shown


def pictured_generations(n_generations: int) -> tuple[int, ...]:
    """The generations whose points and images a run keeps for its pictures, from ``G`` alone.

    Generation ``t``'s points (or images) are the first sample drawn from model ``t`` (the
    truth's for ``t = 0``); the last model, ``G``, is never sampled, so the last generation
    pictured is ``G − 1``. The others follow the densest of the series 1-2-5 (0, 1, 2, 5, 10,
    20, 50, …), 1-3 (0, 1, 3, 10, 30, …) and powers of ten (0, 1, 10, 100, …) that gives at
    most :data:`MAX_PICTURED` generations with ``G − 1``; beyond ``10⁷`` generations the powers
    of ten are thinned evenly. They depend on ``G`` only, never on the data or the machine.

    Examples
    --------
    >>> pictured_generations(100)
    (0, 1, 2, 5, 10, 20, 50, 99)
    >>> pictured_generations(2000)
    (0, 1, 10, 100, 1000, 1999)
    >>> pictured_generations(1)
    (0,)
    """
    last = n_generations - 1
    if last < 0:
        return ()
    chosen: list[int] = []
    for steps in ((1, 2, 5), (1, 3), (1,)):
        series = [0, *sorted({s * 10**k for k in range(len(str(max(last, 1))) + 1)
                              for s in steps})]
        chosen = sorted({t for t in series if t < last} | {last})
        if len(chosen) <= MAX_PICTURED:
            return tuple(chosen)
    # Only for G > 10⁷: keep the first and the last, spread the rest evenly over the list.
    pick = np.unique(np.linspace(0, len(chosen) - 1, MAX_PICTURED).round().astype(int))
    return tuple(chosen[i] for i in pick)


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
    points
        Generation ``t`` → the block's first replicate's training points ``[n ≤ 500, 2]``
        (:meth:`Family.points`; families with points in the plane only), at the
        :func:`pictured_generations` of the run: the truth's for ``t = 0``, then those of the
        first sample drawn from model ``t``, like ``excerpts``.
    pictures
        Generation ``t`` → the block's first replicate's first few samples as images
        ``[m ≤ 16, h, w]`` (float32; :meth:`Family.pictures`; image families only), at the same
        generations and from the same samples as ``points``.
    """

    metrics: dict[str, np.ndarray]
    final_params: np.ndarray
    excerpts: dict[int, list[str]] = field(default_factory=dict)
    points: dict[int, np.ndarray] = field(default_factory=dict)
    pictures: dict[int, np.ndarray] = field(default_factory=dict)


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
    points: dict[int, np.ndarray] = {}
    pictures: dict[int, np.ndarray] = {}
    pictured = frozenset(pictured_generations(n_generations))

    def keep_excerpt(t: int, data) -> None:
        if t not in excerpts:  # reading samples never draws random numbers
            text = family.excerpts(data)
            if text is not None:
                excerpts[t] = text
        if t in pictured and t not in points:  # nor does reading points
            drawn = family.points(data)
            if drawn is not None:  # a copy: training sets may be reused in place
                shown = np.array(spread_subset(np.asarray(drawn), PICTURED_POINTS), dtype=float)
                if shown.ndim != 2 or shown.shape[1] != 2:
                    raise ValueError(f"{family.name}.points() must return [n, 2] points, "
                                     f"not an array of shape {shown.shape}")
                points[t] = shown
        if t in pictured and t not in pictures:  # nor does reading images
            images = family.pictures(data)
            checked = None if images is None else checked_pictures(family.name, images)
            if checked is not None:
                pictures[t] = checked

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
    return BlockResult(metrics, np.asarray(params), excerpts, points, pictures)
