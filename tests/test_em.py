"""EM: its M-step against an independent estimator, the variance identity, scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.families.gmm import em
from modelcollapse.families.gmm.sampling import sample_block
from modelcollapse.training_sets import Samples


def responsibilities(x, w, mu, var):
    dens = w * stats.norm.pdf(x[:, None], mu, np.sqrt(var))
    return dens / dens.sum(axis=1, keepdims=True)


def test_m_step_matches_weighted_statistics(rng):
    x = rng.normal(size=500)
    resp = rng.dirichlet([1, 1, 1], size=500)
    w, mu, var = em.m_step(x, resp, 1e-6)
    for k in range(3):
        weights = resp[:, k]
        assert w[k] == pytest.approx(weights.mean())
        assert mu[k] == pytest.approx(np.average(x, weights=weights))
        assert var[k] == pytest.approx(np.cov(x, aweights=weights, bias=True))


def test_one_numba_iteration_equals_one_textbook_iteration(rng):
    x = np.concatenate([rng.normal(-2, 1, 300), rng.normal(2, 0.5, 200)])
    w, mu, var = np.array([0.4, 0.6]), np.array([-1.0, 1.0]), np.array([2.0, 2.0])
    expected = em.m_step(x, responsibilities(x, w, mu, var), 1e-6)
    for kernel in (em.em_step, em._step_general):  # the vectorised K = 2 kernel and the general one
        got = [np.empty(2) for _ in range(3)]
        ll = kernel(x, w, mu, var, *got, 1e-6)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        assert ll == pytest.approx(em.log_likelihood(x, w, mu, var), rel=1e-13)


@pytest.mark.parametrize("init", ["kmeans", "warm"])
def test_fitted_mixture_matches_the_samples_mean_and_variance(rng, init):
    """After each M-step the mixture's mean and variance equal the training sample's."""
    fam = mc.GMM(init=init)
    x = np.concatenate([rng.normal(-2, 1, (3, 600)), rng.normal(1.5, 0.7, (3, 400))], axis=1)
    params, _ = fam.fit(Samples(x), rng=rng,
                        previous=np.broadcast_to(fam.truth(), (3, 3, 2)).copy())
    w, mu, var = params[:, 0], params[:, 1], params[:, 2]
    mean = (w * mu).sum(axis=1)
    total = (w * (var + (mu - mean[:, None]) ** 2)).sum(axis=1)
    np.testing.assert_allclose(mean, x.mean(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(total, x.var(axis=1), rtol=1e-10)


def test_log_likelihood_increases(rng):
    x = np.concatenate([rng.normal(-1, 1, 400), rng.normal(1.2, 0.6, 300)])
    w, mu, var = np.array([0.5, 0.5]), np.array([-0.2, 0.2]), np.array([1.0, 1.0])
    values = []
    for _ in range(30):
        out = [np.empty(2) for _ in range(3)]
        values.append(em.em_step(x, w, mu, var, *out, 1e-6))
        w, mu, var = out
    assert np.all(np.diff(values) >= -1e-12)


def test_agrees_with_scikit_learn_at_tight_tolerance(rng):
    """Both stop on the same log-likelihood criterion; EM's slow linear convergence on
    overlapping components leaves both up to ~2e-5 short of the exact maximum."""
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    for trial in range(5):
        x = np.concatenate([rng.normal(-2, 1, 700), rng.normal(2 - 0.5 * trial, 1, 300)])
        ours = mc.GMM(tol=1e-14, init="kmeans")
        params, _ = ours.fit(Samples(x[None]), rng=rng,
                             previous=np.broadcast_to(ours.truth(), (1, 3, 2)).copy())
        ref = sklearn_mixture.GaussianMixture(2, tol=1e-14, max_iter=100_000, reg_covar=0.0,
                                              random_state=trial).fit(x[:, None])
        order = np.argsort(ref.means_[:, 0])
        np.testing.assert_allclose(params[0, 0], ref.weights_[order], atol=5e-5)
        np.testing.assert_allclose(params[0, 1], ref.means_[order, 0], atol=5e-5)
        np.testing.assert_allclose(params[0, 2], ref.covariances_[order, 0, 0], atol=5e-5)


def test_sklearn_backend_runs_the_classic_fitter():
    pytest.importorskip("sklearn")
    fam = mc.GMM(backend="sklearn")
    assert fam.tol == 1e-3 and fam.max_iter == 100
    result = mc.simulate(mc.RunConfig(fam, n_samples=300, n_generations=3, n_replicates=2,
                                      seed=1))
    assert np.isfinite(result.trajectories("var")).all()


def test_sampler_draws_the_mixture(rng):
    w = np.array([[0.3, 0.7]])
    mu = np.array([[-3.0, 2.0]])
    sd = np.array([[0.5, 1.5]])
    out = np.empty((1, 200_000))
    sample_block(rng, w, mu, sd, 200_000, out)
    def cdf(x):
        return 0.3 * stats.norm.cdf(x, -3, 0.5) + 0.7 * stats.norm.cdf(x, 2, 1.5)
    assert stats.kstest(out[0], cdf).pvalue > 1e-3


def test_sampler_never_uses_a_dead_component(rng):
    out = np.empty((1, 10_000))
    sample_block(rng, np.array([[1.0 - 1e-17, 0.0]]), np.array([[0.0, 100.0]]),
                    np.array([[1.0, 1.0]]), 10_000, out)
    assert out.max() < 50
