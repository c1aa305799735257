"""Speed without giving up a digit: the fast paths reach the same answers as the slow ones.

* The numba EM (Newton after EM steps, SQUAREM fallback) finds the same maximum-likelihood fit as
  scikit-learn's GaussianMixture, to 1e-6 relative, when both run to a tight tolerance from the
  same start, on separated, overlapping, unbalanced and nearly collapsed data.
* Every exact sufficient-statistic shortcut gives the same distribution as drawing and refitting
  every sample (two-sample KS or chi-square tests over many replicates, α = 1e-3, Bonferroni).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.training_sets import Samples

# -- scikit-learn agreement ---------------------------------------------------------------------

#: (name, [(weight, mean, std), ...], n) — data drawn once per case from these mixtures.
#: On the overlapping ones the likelihood is so flat that scikit-learn's stopping rule (the gain
#: in mean log-likelihood) fires while its parameters are still moving; there it runs a fixed
#: 20 000 iterations instead.
FLAT = {"overlapping", "badly overlapping"}
DATASETS = [
    ("separated", [(0.5, -2.0, 1.0), (0.5, 2.0, 1.0)], 2000),
    ("overlapping", [(0.5, -0.8, 1.0), (0.5, 0.8, 1.0)], 2000),
    ("badly overlapping", [(0.6, -0.4, 1.0), (0.4, 0.5, 1.3)], 3000),
    ("unbalanced", [(0.95, 0.0, 1.0), (0.05, 3.0, 0.5)], 2000),
    ("unequal widths", [(0.5, -1.0, 0.2), (0.5, 1.0, 2.0)], 2000),
    ("nearly collapsed", [(0.3, -1.5, 0.01), (0.7, 2.0, 1.0)], 1000),
    ("both narrow", [(0.5, 0.0, 0.02), (0.5, 0.1, 0.03)], 1000),
]


def draw(components, n, rng):
    counts = rng.multinomial(n, [c[0] for c in components])
    return np.concatenate([rng.normal(m, s, k) for (_, m, s), k in zip(components, counts,
                                                                        strict=True)])


def sklearn_fit(x, start, max_iter, tol=1e-16):
    from sklearn.mixture import GaussianMixture

    w, mu, var = start
    model = GaussianMixture(2, tol=tol, reg_covar=0.0, max_iter=max_iter,
                            weights_init=w, means_init=mu[:, None],
                            precisions_init=(1.0 / var)[:, None, None]).fit(x[:, None])
    order = np.argsort(model.means_[:, 0])
    return (model.weights_[order], model.means_[order, 0],
            model.covariances_[order, 0, 0], model.n_iter_)


@pytest.mark.parametrize(("name", "components", "n"), DATASETS, ids=[d[0] for d in DATASETS])
def test_numba_em_finds_scikit_learns_maximum(name, components, n):
    pytest.importorskip("sklearn")
    import warnings

    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = draw(components, n, rng)
    # A common start near the truth: both climb the same hill.
    start = (np.array([c[0] for c in components]), np.array([c[1] for c in components]) + 0.1,
             np.array([c[2] ** 2 for c in components]) * 1.2)
    family = mc.GMM(init="warm", tol=1e-14, var_floor=1e-300)
    previous = np.array(start)[None]
    ours, _ = family.fit(Samples(x[None]), rng=rng, previous=previous)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning where max_iter is reached
        w, mu, var, _ = sklearn_fit(x, start, max_iter=20_000, tol=0.0 if name in FLAT else 1e-16)
    np.testing.assert_allclose(ours[0, 0], w, rtol=1e-6, err_msg="weights")
    np.testing.assert_allclose(ours[0, 1], mu, rtol=1e-6, atol=1e-9, err_msg="means")
    np.testing.assert_allclose(ours[0, 2], var, rtol=1e-6, err_msg="variances")


def newton_decrement(x, params):
    """The mean log-likelihood one more Newton step would gain at ``params`` (0 at a maximum)."""
    from modelcollapse.families.gmm import em

    w, mu, var = (np.array(a, dtype=float) for a in params)
    out = [np.empty(2) for _ in range(3)]
    sums = np.empty(11)
    em._step2_newton(x, w, mu, var, *out, 1e-300, sums)
    return em._newton_direction(x.size, w, mu, var, sums, np.empty(5))


@pytest.mark.parametrize(("name", "components", "n"), DATASETS, ids=[d[0] for d in DATASETS])
def test_fits_are_maxima_never_below_scikit_learn(name, components, n):
    """On more draws, where scikit-learn's linear EM may still be short of the top after
    thousands of iterations, ours is at a stationary point and at least as high."""
    pytest.importorskip("sklearn")
    import warnings

    from modelcollapse.families.gmm import em

    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = draw(components, n, rng)
        start = (np.array([c[0] for c in components]), np.array([c[1] for c in components])
                 + 0.1, np.array([c[2] ** 2 for c in components]) * 1.2)
        ours, info = mc.GMM(init="warm", tol=1e-14, var_floor=1e-300).fit(
            Samples(x[None]), rng=rng, previous=np.array(start)[None])
        assert info["em_iterations"][0] < 200, "converges in a few data passes"
        assert 0.0 <= newton_decrement(x, ours[0]) < 1e-16
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w, mu, var, _ = sklearn_fit(x, start, max_iter=2000)
        assert em.log_likelihood(x, *ours[0]) >= em.log_likelihood(x, w, mu, var) - 1e-14


# -- exact shortcuts equal the sample path in distribution --------------------------------------

#: Two-sample comparisons in this module, for the Bonferroni correction.
N_COMPARISONS = 11
ALPHA = 1e-3 / N_COMPARISONS


def paths(family_factory, policy, *, n_samples, n_generations, n_replicates, metric, seed=3):
    """The same experiment with the shortcut on and off: final values of ``metric``."""
    out = []
    for shortcut in (True, False):
        config = mc.RunConfig(family_factory(shortcut), policy, n_samples=n_samples,
                              n_generations=n_generations, n_replicates=n_replicates, seed=seed)
        assert config.model.uses_sufficient_statistics(config.data_policy, n_samples) == shortcut
        out.append(mc.simulate(config).trajectories(metric)[:, -1])
    return out


def discrete_same(a, b):
    """Chi-square test of homogeneity on the values' counts (pooling rare values)."""
    values = np.union1d(a, b)
    table = np.array([[np.sum(a == v) for v in values], [np.sum(b == v) for v in values]])
    keep = table.sum(axis=0) >= 10
    table = np.column_stack([table[:, keep], table[:, ~keep].sum(axis=1)])
    table = table[:, table.sum(axis=0) > 0]
    return stats.chi2_contingency(table).pvalue


@pytest.mark.parametrize("policy", [mc.Replace(), mc.Accumulate(), mc.Mix(real=0.2, synthetic=0.5)],
                         ids=["replace", "accumulate", "mix-with-carry-over"])
def test_coin_counts_equal_tosses_in_distribution(policy):
    a, b = paths(lambda s: mc.Coin(p0=0.3, shortcut=s), policy, n_samples=10, n_generations=6,
                 n_replicates=8000, metric="p")
    assert discrete_same(a, b) > ALPHA


@pytest.mark.parametrize("policy", [mc.Replace(), mc.AccumulateSubsample(real=0.1)],
                         ids=["replace", "accumulate-subsample"])
def test_categorical_counts_equal_tokens_in_distribution(policy):
    family = lambda s: mc.Categorical(vocab=30, zipf=1.2, shortcut=s)  # noqa: E731
    a, b = paths(family, policy, n_samples=60, n_generations=4, n_replicates=4000,
                 metric="support")
    assert discrete_same(a, b) > ALPHA
    a, b = paths(family, policy, n_samples=60, n_generations=4, n_replicates=4000,
                 metric="entropy")
    assert stats.ks_2samp(a, b).pvalue > ALPHA


@pytest.mark.parametrize("policy", [mc.Replace(), mc.Accumulate(real=0.1), mc.Mix(real=0.3)],
                         ids=["replace", "accumulate", "mix-without-carry-over"])
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_gaussian_moments_equal_samples_in_distribution(policy, estimator):
    if estimator == "unbiased" and not isinstance(policy, mc.Replace):
        pytest.skip("one estimator suffices off replace")
    family = lambda s: mc.Gaussian(estimator=estimator, shortcut=s)  # noqa: E731
    for metric in ("var", "mean"):
        a, b = paths(family, policy, n_samples=12, n_generations=5, n_replicates=6000,
                     metric=metric)
        assert stats.ks_2samp(a, b).pvalue > ALPHA, metric


def test_comparison_count_is_honest():
    # coin 3 + categorical 2 × 2 + gaussian (2 + 2 + 2) × 2 metrics counted as pairs
    assert N_COMPARISONS == 3 + 2 + 6
