"""The gmm family in d ≥ 2 dimensions with full covariances (``--dim``).

The 1-D family is untouched (tests/test_em.py, test_mixtures.py, test_gmm_warm_start.py and
test_reproducibility.py prove it); here: validation, the exact d-D mixture-variance identity on
hand data, sampling, every policy and loop setting, degenerate data, and the statistical check
of ``E var_t`` under ``replace`` against predict, which fails on planted bugs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.checks import critical_z, mean_check
from modelcollapse.errors import ConfigError
from modelcollapse.families.gmm import nd
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Samples

ALPHA = 1e-3
POLICIES = {"replace": {}, "mix": {"real": 0.2, "synthetic": 0.5},
            "accumulate": {"real": 0.1}, "accumulate-subsample": {"real": 0.1},
            "augment": {"synthetic": 0.5}}


def test_dim_is_neutral_and_one_d_is_unchanged():
    one = mc.GMM()
    assert one.dim == 1 and one.covs is None
    assert "dim" not in one.stream_settings() and "covs" not in one.stream_settings()
    assert mc.GMM(dim=1) == one
    assert one.param_shape == (3, 2) and one.sample_width == 1 and one.points(None) is None
    assert one.key_metrics == ("var", "w2", "kl", "tail_mass")


def test_blobs_preset_and_resolution():
    fam = mc.GMM(dim=2)
    assert fam.means == (-2.0, 0.0, 2.0, 0.0)
    assert fam.covs == (1.0, 0.0, 0.0, 1.0) * 2
    assert "Shumailov blobs" in fam.describe()
    assert fam.param_shape == (7, 2) and fam.sample_width == 2 and fam.key_metrics == ("var",)
    # Sorted by first coordinate; a resolved configuration rebuilds to itself.
    fam = mc.GMM(dim=2, means=(3, 1, -1, 0), covs=(2, 0.5, 0.5, 1, 1, 0, 0, 1), weights=(.3, .7))
    assert fam.means == (-1.0, 0.0, 3.0, 1.0) and fam.weights == (0.7, 0.3)
    assert fam.covs == (1.0, 0.0, 0.0, 1.0, 2.0, 0.5, 0.5, 1.0)
    assert mc.GMM(**fam.settings()) == fam
    assert fam.stream_settings()["dim"] == 2


@pytest.mark.parametrize(("settings", "field"), [
    ({"dim": 0}, "dim"), ({"dim": 17}, "dim"), ({"dim": 2.5}, "dim"),
    ({"covs": (1.0,)}, "covs"),
    ({"dim": 2, "means": (1, 2, 3)}, "means"),
    ({"dim": 2, "covs": (1, 0, 0, 1)}, "covs"),
    ({"dim": 2, "covs": (1, 2, 2, 1, 1, 0, 0, 1)}, "covs"),
    ({"dim": 2, "covs": (1, 0.5, 0, 1, 1, 0, 0, 1)}, "covs"),
    ({"dim": 2, "covs": (1, 0, 0, 1) * 2, "stds": (2, 2)}, "stds"),
    ({"dim": 2, "means": (0, 0, 0, 0)}, "means"),
    ({"dim": 2, "weights": (0.5, 0.6)}, "weights"),
    ({"dim": 16, "n_components": 8, "means": (0.0,) * 128}, "n_components"),
])
def test_bad_input_names_the_field(settings, field):
    with pytest.raises(ConfigError) as err:
        mc.GMM(**settings)
    assert err.value.field == field


def test_every_curator_is_available_in_d_dimensions_and_accelerate_is_idle():
    fam = mc.GMM(dim=2)
    assert fam.available_curators == mc.GMM().available_curators
    assert fam.reward("truth").words == "reward: the truth's log density"
    assert "accelerate" in fam.idle_settings()  # curation's own tests: test_gmm_nd_curation.py


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(0)
    params = rng.normal(size=(4, 1 + 3 + 9, 2))
    np.testing.assert_array_equal(nd.pack(*nd.unpack(params, 3)), params)


def _hand_data():
    x = np.array([[0.0, 0.0], [1.0, 0.5], [0.2, -0.3], [5.0, 4.0], [6.0, 5.5], [5.5, 3.9],
                  [2.5, 2.0]])
    return x[None]


@pytest.mark.parametrize("init", ["warm", "kmeans"])
@pytest.mark.parametrize("weighted", [False, True])
def test_mixture_variance_identity_is_exact(init, weighted):
    """After a fit (which ends on an M-step) the mixture's mean is the sample's and its total
    covariance is the sample's (divisor Σω) plus reg·I, to rounding."""
    from modelcollapse.families.gmm.em_nd import fit_block_nd, fit_block_nd_kmeans

    x = _hand_data()
    omega = np.linspace(0.5, 2.0, x.shape[1])[None] if weighted else np.ones(x.shape[:2])
    w = np.array([[0.5, 0.5]])
    mu = np.array([[[0.0, 0.0], [5.0, 5.0]]])
    cov = np.array([[np.eye(2), np.eye(2)]])
    reg = 1e-3
    for max_iter in (1, 3, 1000):
        args = [x, omega, w.copy(), mu.copy(), cov.copy(), 1e-12, max_iter, reg]
        if init == "warm":
            fit_block_nd(*args)
        else:
            fit_block_nd_kmeans(np.random.default_rng(1), *args)
        m, total = nd.mixture_moments(args[2], args[3], args[4])
        p = omega[0] / omega.sum()
        mean = p @ x[0]
        sample_cov = (p[:, None] * (x[0] - mean)).T @ (x[0] - mean)
        np.testing.assert_allclose(m[0], mean, rtol=0, atol=1e-12)
        np.testing.assert_allclose(total[0], sample_cov + reg * np.eye(2), rtol=0, atol=1e-12)


def test_all_equal_points_floor_the_covariance():
    fam = mc.GMM(dim=3, init="kmeans")
    data = Samples(np.ones((2, 30, 3)))
    params, info = fam.fit(data, rng=np.random.default_rng(0), previous=np.repeat(
        fam.truth()[None], 2, axis=0))
    metrics = fam.metrics(params, info)
    assert all(np.isfinite(v).all() for v in metrics.values())
    np.testing.assert_allclose(metrics["var"], 3 * fam.var_floor, rtol=1e-9)


def test_sampling_matches_the_truth():
    fam = mc.GMM(dim=2, means=(-1, 0, 2, 1), covs=(1, 0.6, 0.6, 2, 0.5, -0.2, -0.2, 0.3),
                 weights=(0.3, 0.7))
    x = fam.sample(fam.truth()[None], 200_000, np.random.default_rng(5), stats=False).values[0]
    m, total = nd.mixture_moments(*nd.unpack(fam.truth(), 2))
    z = critical_z(ALPHA, 5)
    for j in range(2):
        check = mean_check(f"mean {j}", x[:, j], float(m[j]), critical=z)
        assert check.passed, str(check)
    for a, b in ((0, 0), (1, 1), (0, 1)):
        prod = (x[:, a] - m[a]) * (x[:, b] - m[b])
        check = mean_check(f"cov {a}{b}", prod, float(total[a, b]), critical=z)
        assert check.passed, str(check)
    assert fam.points(Samples(x[None])).shape == (200_000, 2)


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("settings", [{}, {"init": "kmeans"}, {"real_weight": 0.5},
                                      {"sampling_scale": 0.9}])
def test_every_policy_and_setting_runs(policy, settings):
    fam = mc.GMM(dim=2, **settings)
    pol = mc.get_policy(policy, **POLICIES[policy])
    result = simulate_block(fam, pol, n_samples=40, n_generations=4, n_replicates=3,
                            rng=np.random.default_rng(2))
    assert list(result.metrics) == list(fam.metric_names)
    assert result.final_params.shape == (3, *fam.param_shape)
    truth = fam.metrics(fam.truth()[None])
    for name, values in result.metrics.items():
        assert values.shape == (3, 5) and np.isfinite(values).all(), name
        np.testing.assert_allclose(values[:, 0], truth[name][0], err_msg=name)


def test_sklearn_backend_in_two_dimensions():
    pytest.importorskip("sklearn")
    fam = mc.GMM(dim=2, backend="sklearn")
    result = simulate_block(fam, mc.get_policy("replace"), n_samples=60, n_generations=3,
                            n_replicates=2, rng=np.random.default_rng(3))
    assert np.isfinite(result.metrics["var"]).all()


def test_points_and_a_full_run_through_the_api():
    cfg = mc.RunConfig(family=mc.GMM(dim=2), n_samples=50, n_generations=3, n_replicates=2)
    result = mc.simulate(cfg)
    sets = result.point_sets()
    assert sets and all(v.shape == (50, 2) for v in sets.values())


# -- E var_t against predict, and planted bugs --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UnbiasedCovGMM(mc.GMM):
    """Bug: every fitted covariance scaled by N/(N − 1) (an 'unbiased' divisor)."""

    def fit(self, data, *, rng, previous):
        params, info = super().fit(data, rng=rng, previous=previous)
        params = params.copy()
        params[:, 1 + self.dim:] *= data.size / (data.size - 1)
        return params, info


N, G, R = 30, 6, 400


def _var_checks(fam, shift: int = 0):
    cfg = mc.RunConfig(family=fam, policy="replace", n_samples=N, n_generations=G,
                       n_replicates=R, seed=20261204)
    exact = mc.predict(dataclasses.replace(cfg, family=mc.GMM(**{
        k: v for k, v in fam.settings().items()}))).for_metric("var")[0].values
    traj = mc.simulate(cfg).trajectories("var")
    z = critical_z(ALPHA, G)
    return [mean_check(f"E var_{t}", traj[:, t], float(exact[max(t - shift, 0)]), critical=z)
            for t in range(1, G + 1)]


@pytest.fixture(scope="module")
def good_checks():
    return _var_checks(mc.GMM(dim=2, means=(-1, 0, 1, 0.5)))


def test_expected_trace_follows_the_identity(good_checks):
    assert all(c.passed for c in good_checks), "\n".join(map(str, good_checks))


def test_planted_unbiased_divisor_fails():
    checks = _var_checks(UnbiasedCovGMM(dim=2, means=(-1, 0, 1, 0.5)))
    assert not all(c.passed for c in checks)


def test_planted_theory_off_by_one_generation_fails():
    checks = _var_checks(mc.GMM(dim=2, means=(-1, 0, 1, 0.5)), shift=1)
    assert not all(c.passed for c in checks)


def test_replace_trace_recursion():
    values = nd.replace_trace(6.0, 10, 3, 2, 0.01)
    expected = [6.0]
    for _ in range(3):
        expected.append(expected[-1] * 0.9 + 0.02)
    np.testing.assert_allclose(values, expected, rtol=1e-13)
