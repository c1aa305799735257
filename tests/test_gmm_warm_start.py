"""The GMM warm start when the truth's components coincide (issue 19).

Shumailov et al.'s single blob fitted with two components (``--means 0,0``) warm-starts
generation 1 at the truth, where both components are the same normal. That point is a fixed point
of EM, so without help the components never separate: the "fit" is one normal written twice.
:func:`~modelcollapse.families.gmm.warm_start.split_coinciding` splits such a start
deterministically; these tests check the split itself against truncated normals from scipy, that
it leaves every other start alone, and that the fits it leads to are separated maximum-likelihood
fits (EM fixed points with the sample's mean and variance and a higher likelihood than the single
normal), reached in a few dozen steps, on every backend that warm-starts.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.families.gmm import em
from modelcollapse.families.gmm.warm_start import TIE, split_coinciding
from modelcollapse.training_sets import Samples


def start(weights, means, variances, rows=1):
    return np.broadcast_to(np.array([weights, means, variances], dtype=float),
                           (rows, 3, len(weights))).copy()


def moments(params):
    """The mixtures' means and total variances, ``[R]`` each."""
    w, mu, var = params[:, 0], params[:, 1], params[:, 2]
    mean = (w * mu).sum(axis=1)
    return mean, (w * (var + (mu - mean[:, None]) ** 2)).sum(axis=1)


# -- the split -----------------------------------------------------------------------------------

def test_two_equal_components_split_at_the_median():
    """Each half of N(μ, σ²): mean μ ± σ√(2/π), variance σ²(1 − 2/π)."""
    out = split_coinciding(start([0.5, 0.5], [3.0, 3.0], [4.0, 4.0]), 1e-6)
    np.testing.assert_allclose(out[0, 1], [3 - 2 * np.sqrt(2 / np.pi), 3 + 2 * np.sqrt(2 / np.pi)],
                               rtol=1e-14)
    np.testing.assert_allclose(out[0, 2], 4 * (1 - 2 / np.pi), rtol=1e-14)
    np.testing.assert_array_equal(out[0, 0], [0.5, 0.5])


@pytest.mark.parametrize(("weights", "means", "variances", "group"), [
    ([0.3, 0.7], [1.0, 1.0], [2.0, 2.0], [0, 1]),
    ([0.2, 0.3, 0.5], [-1.0, -1.0, -1.0], [0.5, 0.5, 0.5], [0, 1, 2]),
    ([0.25, 0.25, 0.5], [-5.0, 2.0, 2.0], [1.0, 3.0, 3.0], [1, 2]),  # a separate one beside
    ([0.4, 0.0, 0.6], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0, 2]),  # a dead one among them
    ([0.5, 0.2, 0.3], [0.0, 0.0, 0.0], [1.0, 9.0, 1.0], [0, 2]),  # same mean, other variance
    ([1e-17, 1 - 1e-17], [0.0, 0.0], [1.0, 1.0], [0, 1]),  # a slab of 1e-17 keeps its width
])
def test_split_gives_truncated_normals_and_keeps_the_mixtures_moments(weights, means, variances,
                                                                      group):
    params = start(weights, means, variances)
    out = split_coinciding(params, 1e-300)
    w = np.array(weights)[group]
    p = w / w.sum()
    mu, sd = means[group[0]], np.sqrt(variances[group[0]])
    cuts = stats.norm.ppf(np.concatenate([[0.0], np.cumsum(p)]))
    cuts[-1] = np.inf
    for j, k in enumerate(group):  # scipy's truncated normal on each slab, independently
        slab = stats.truncnorm(cuts[j], cuts[j + 1], loc=mu, scale=sd)
        assert out[0, 1, k] == pytest.approx(slab.mean(), rel=1e-9, abs=1e-9 * sd)
        assert out[0, 2, k] == pytest.approx(slab.var(), rel=1e-7)
    others = [k for k in range(len(weights)) if k not in group]
    np.testing.assert_array_equal(out[0][:, others], params[0][:, others])  # bit for bit
    np.testing.assert_array_equal(out[:, 0], params[:, 0])  # weights unchanged
    for a, b in zip(moments(out), moments(params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_every_row_is_split_on_its_own():
    params = np.concatenate([start([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0]),
                             start([0.5, 0.5], [0.0, 0.0], [1.0, 1.0]),
                             start([0.5, 0.5], [7.0, 7.0], [1e-6, 1e-6])])
    out = split_coinciding(params, 1e-6)
    np.testing.assert_array_equal(out[0], params[0])
    np.testing.assert_allclose(out[1, 1], [-np.sqrt(2 / np.pi), np.sqrt(2 / np.pi)], rtol=1e-14)
    assert np.all(out[2, 2] == 1e-6)  # raised to the floor, never below it
    assert out[2, 1, 0] < 7.0 < out[2, 1, 1]


@pytest.mark.parametrize("params", [
    start([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0], rows=4),  # the classic truth
    start([0.5, 0.5], [0.0, 100 * TIE], [1.0, 1.0]),  # close, but resolvable
    start([0.5, 0.5], [0.0, 0.0], [1.0, 1.0 + 100 * TIE]),
    start([0.0, 1.0], [0.0, 0.0], [1.0, 1.0]),  # one of them dead: nothing to separate
    start([0.5, 0.5], [0.0, 0.0], [1.0, np.inf]),  # a blown-up model
    start([1.0], [0.0], [1.0]),
])
def test_a_start_without_coinciding_components_is_passed_on_as_it_is(params):
    """The same object, so runs without coinciding components fit exactly as before."""
    assert split_coinciding(params, 1e-6) is params


def test_numerically_indistinguishable_components_coincide():
    """Rounding noise (1e-15 after a few generations from a symmetric start) is no separation."""
    params = start([0.5, 0.5], [0.0, 1e-15], [1.0, 1.0 + 1e-14])
    out = split_coinciding(params, 1e-6)
    assert out[0, 1, 1] - out[0, 1, 0] > 1.5


# -- why: EM cannot leave a coinciding start ------------------------------------------------------

@pytest.mark.parametrize("accelerate", [True, False])
def test_em_cannot_leave_a_coinciding_start(rng, accelerate):
    """The fixed point the split exists for: the kernels alone keep both components one normal."""
    x = rng.normal(size=(4, 2000))
    w, mu, var = (np.array(start([0.4, 0.6], [0.0, 0.0], [1.0, 1.0], rows=4)[:, i])
                  for i in range(3))
    em.fit_block_warm(x, w, mu, var, 1e-10, 200, 1e-6, accelerate)
    np.testing.assert_allclose(mu[:, 1] - mu[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(mu[:, 0], x.mean(axis=1), rtol=1e-9, atol=1e-12)


# -- the fits: separated, converged, maximum likelihood -------------------------------------------

def em_residual(x, w, mu, var):
    """The largest change one textbook EM step (scipy densities, numpy M-step) makes."""
    dens = w * stats.norm.pdf(x[:, None], mu, np.sqrt(var))
    new = em.m_step(x, dens / dens.sum(axis=1, keepdims=True), 0.0)
    return max(np.abs(new[0] - w).max(), np.abs(new[1] - mu).max(), np.abs(new[2] - var).max())


def test_fits_from_a_coinciding_truth_are_separated_maximum_likelihood_fits(rng):
    """Two components fitted to one blob, generation after generation from the truth on.

    The components separate, in a few dozen Newton steps (far below the cap). Every fit whose
    variances are well off the floor is a maximum-likelihood fit: a fixed point of a textbook EM
    step, with the training sample's mean and variance (the M-step's identity, DESIGN §6) and a
    higher likelihood than the single normal N(x̄, s²) that the symmetric point stands for.
    (A fit may instead put a component of weight ≈ 1/n on one outlying point, its variance at
    the floor: the likelihood's spike, a collapse the floor records, where the identity holds
    only up to the floor.)
    """
    fam = mc.GMM(means=(0.0, 0.0))
    rows, n = 12, 2000
    params = np.broadcast_to(fam.truth(), (rows, *fam.param_shape)).copy()
    x = rng.normal(size=(rows, n))
    checked = 0
    for _ in range(4):
        params, info = fam.fit(Samples(x), rng=rng, previous=params)
        assert info["em_iterations"].max() < fam.max_iter / 20
        gaps = params[:, 1, 1] - params[:, 1, 0]
        assert np.mean(gaps > 1e-3) >= 0.75, gaps
        free = (params[:, 2] > 10 * fam.var_floor).all(axis=1)
        mean, var = moments(params)
        np.testing.assert_allclose(mean[free], x[free].mean(axis=1), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(var[free], x[free].var(axis=1), rtol=1e-8)
        for r in np.flatnonzero(free):
            w, mu, v = params[r]
            assert em_residual(x[r], w, mu, v) < 1e-6
            single = em.log_likelihood(x[r], np.ones(1), x[r].mean(keepdims=True),
                                       x[r].var(keepdims=True))
            assert em.log_likelihood(x[r], w, mu, v) > single
        checked += free.sum()
        x = fam.sample(params, n, rng, stats=False).values
    assert checked >= 0.75 * 4 * rows


@pytest.mark.parametrize(("settings", "policy"), [
    ({}, mc.Replace()),
    ({"means": (1.0, 1.0, 1.0), "max_iter": 300}, mc.Replace()),
    ({"accelerate": False, "max_iter": 300}, mc.Replace()),
    ({"real_weight": 0.5, "max_iter": 300}, mc.Mix(real=0.5)),  # weighted EM, always warm
    ({"backend": "sklearn", "init": "warm"}, mc.Replace()),
])
def test_every_warm_started_fitter_separates_the_components(settings, policy):
    """Through the loop, on every fitter that warm-starts. Only the default fitter (Newton, two
    components) is held to an iteration count: plain EM, SQUAREM for K = 3 and the weighted EM
    crawl along the flat likelihood of an overfitted mixture from any start (k-means++'s too),
    so they get a small cap here and are checked for separation only."""
    if settings.get("backend") == "sklearn":
        pytest.importorskip("sklearn.mixture")
    fam = mc.GMM(**{"means": (0.0, 0.0), **settings})
    result = mc.simulate_block(fam, policy, n_samples=1000, n_generations=4, n_replicates=8,
                               rng=np.random.default_rng(7))
    means = np.stack([result.metrics[f"mean_{i}"][:, 1:] for i in range(fam.n_components)])
    gap = np.diff(means, axis=0).min(axis=0)
    assert np.mean(gap > 1e-3) >= 0.75, gap
    if not settings:
        assert result.metrics["em_iterations"][:, 1:].max() < fam.max_iter / 20
    np.testing.assert_array_equal(result.metrics["mean_0"][:, 0], fam.means[0])  # the truth


def test_kmeans_init_is_untouched(rng):
    """``--init kmeans`` never uses the start, so the split is not applied (nor needed)."""
    fam = mc.GMM(means=(0.0, 0.0), init="kmeans")
    x = rng.normal(size=(3, 500))
    previous = np.broadcast_to(fam.truth(), (3, 3, 2)).copy()
    a, _ = fam.fit(Samples(x), rng=np.random.default_rng(1), previous=previous)
    w, mu, var = (np.array(previous[:, i]) for i in range(3))
    em.fit_block(np.random.default_rng(1), x, w, mu, var, fam.tol, fam.max_iter, fam.var_floor,
                 fam.accelerate)
    np.testing.assert_array_equal(a, np.stack([w, mu, var], axis=1))
