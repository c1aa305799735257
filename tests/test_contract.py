"""The contract every registered family honours under every registered policy.

Generated from the registries, so a new family or policy is covered the moment it is registered.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Samples

#: Small but non-trivial settings per family, and sizes that keep the suite quick.
FAMILY_SETTINGS = {"coin": {}, "categorical": {"vocab": 20}, "gaussian": {}, "gmm": {},
                   "ngram": {"vocab": 20, "length": 8}, "regression": {"dim": 3},
                   "mvgaussian": {"dim": 3}, "kde": {},
                   "vae": {"hidden": 16, "latent": 2, "epochs": 2, "batch_size": 32},
                   "charlm": {"embedding": 16, "layers": 1, "heads": 2, "context": 8,
                              "length": 8, "epochs": 1, "batch_size": 8}}
POLICY_SETTINGS = {"replace": {}, "mix": {"real": 0.2, "synthetic": 0.5},
                   "accumulate": {"real": 0.1}, "accumulate-subsample": {"real": 0.1},
                   "augment": {"synthetic": 0.5}}
N_SAMPLES, N_GENERATIONS, N_REPLICATES = 40, 6, 3
#: Families whose fitted parameters hold the training data itself (a KDE's points).
HOLDS_DATA = {"kde"}
#: Families whose parameters are a trained network: the truth is data, not a network's weights.
NETWORKS = {"vae", "charlm"}

CASES = list(itertools.product(mc.FAMILIES.names(), mc.POLICIES.names()))


def make(family: str, policy: str, **family_overrides):
    fam = mc.get_family(family, **{**FAMILY_SETTINGS.get(family, {}), **family_overrides})
    return fam, mc.get_policy(policy, **POLICY_SETTINGS.get(policy, {}))


def run_block(family, policy, seed=1, n_replicates=N_REPLICATES):
    return simulate_block(family, policy, n_samples=N_SAMPLES, n_generations=N_GENERATIONS,
                          n_replicates=n_replicates, rng=np.random.default_rng(seed))


def test_registries_are_covered():
    assert len(CASES) >= 16, "the contract suite must cover every family and policy"
    assert set(FAMILY_SETTINGS) == set(mc.FAMILIES.names())
    assert set(POLICY_SETTINGS) == set(mc.POLICIES.names())


@pytest.mark.parametrize(("family", "policy"), CASES)
def test_shapes_and_generation_zero(family, policy):
    fam, pol = make(family, policy)
    result = run_block(fam, pol)
    assert list(result.metrics) == list(fam.metric_names)
    for name, values in result.metrics.items():
        assert values.shape == (N_REPLICATES, N_GENERATIONS + 1), name
    bound = fam.for_run(N_SAMPLES, N_GENERATIONS, pol)  # a KDE's parameters hold its points
    assert result.final_params.shape == (N_REPLICATES, *bound.param_shape)
    truth = fam.metrics(fam.truth()[None])
    for name, values in result.metrics.items():
        np.testing.assert_allclose(values[:, 0], truth[name][0], err_msg=name)


@pytest.mark.parametrize(("family", "policy"), CASES)
def test_metrics_are_finite(family, policy):
    fam, pol = make(family, policy)
    for name, values in run_block(fam, pol).metrics.items():
        assert_recorded(fam, name, values)


def assert_recorded(fam, name, values):
    """Every value finite, except a network's own metrics at generation 0: NaN by definition
    (the truth is data, which has no encoder or held-out loss)."""
    if name in getattr(fam, "model_only_metrics", ()):
        assert np.isnan(values[:, 0]).all(), name
        values = values[:, 1:]
    assert np.isfinite(values).all(), name


@pytest.mark.parametrize(("family", "policy"), CASES)
def test_deterministic_for_a_seed_and_different_across_seeds(family, policy):
    fam, pol = make(family, policy)
    a, b, c = run_block(fam, pol, 7), run_block(fam, pol, 7), run_block(fam, pol, 8)
    for name in fam.metric_names:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    key = fam.key_metrics[0]
    assert not np.array_equal(a.metrics[key], c.metrics[key])


@pytest.mark.parametrize("family", mc.FAMILIES.names())
def test_training_sets_are_honoured_by_fit(family):
    """Fitting to samples of the truth recovers it on average (sanity of sample ∘ fit)."""
    if family in NETWORKS:
        pytest.skip("a network's weights do not estimate the truth's parameters (the truth is "
                    "data); test_vae.py and test_charlm.py check that training learns")
    fam, pol = make(family, "replace")
    fam = fam.for_run(20_000, 1, pol)
    rng = np.random.default_rng(3)
    truth = np.broadcast_to(fam.truth(), (4, *fam.param_shape))
    data = fam.sample(truth, 20_000, rng, stats=False)
    params, _ = fam.fit(data, rng=rng, previous=truth)
    if family in HOLDS_DATA:  # the fit *is* the data: its mean and spread recover the truth's
        fitted, exact = fam.metrics(params), fam.metrics(fam.truth()[None])
        for name in ("mean", "var"):
            np.testing.assert_allclose(fitted[name].mean(), exact[name][0], atol=0.05)
        return
    np.testing.assert_allclose(params.mean(axis=0), fam.truth(), atol=0.05)


# -- degenerate data: an outcome to record, never a crash or a NaN ------------------------------

def test_coin_at_zero_or_one_is_absorbed_at_generation_zero():
    for p0 in (0.0, 1.0):
        result = mc.simulate(mc.RunConfig(mc.Coin(p0=p0), n_generations=5, n_replicates=4,
                                          seed=1))
        assert (result.trajectories("p") == p0).all()
        assert (result.replicates["absorption_time"] == 0).all()


def test_categorical_with_one_surviving_token():
    fam = mc.Categorical(probs=(1.0, 0.0, 0.0))
    result = run_block(fam, mc.Replace())
    assert (result.metrics["support"] == 1).all()
    assert (result.metrics["entropy"] == 0).all()


@pytest.mark.parametrize("policy", mc.POLICIES.names())
def test_gaussian_collapse_to_zero_variance_is_recorded(policy):
    fam = mc.Gaussian(estimator="mle")
    pol = mc.get_policy(policy, **POLICY_SETTINGS[policy])
    result = simulate_block(fam, pol, n_samples=1, n_generations=5, n_replicates=3,
                            rng=np.random.default_rng(0))
    var = result.metrics["var"]
    assert (var[:, 1] == 0).all()
    assert not np.isnan(np.stack(list(result.metrics.values()))).any()
    if policy == "replace":  # absorbing: a point mass stays a point mass
        assert (var[:, 1:] == 0).all() and np.isinf(result.metrics["kl"][:, 1:]).all()


def test_gmm_on_all_equal_data_floors_the_variance():
    fam = mc.GMM()
    data = Samples(np.full((2, 50), 3.0))
    params, info = fam.fit(data, rng=np.random.default_rng(0),
                           previous=np.broadcast_to(fam.truth(), (2, 3, 2)).copy())
    assert np.isfinite(params).all()
    np.testing.assert_allclose((params[:, 0] * params[:, 1]).sum(axis=1), 3.0)
    assert (params[:, 2] >= fam.var_floor).all() and (params[:, 2] <= 2 * fam.var_floor).all()
    metrics = fam.metrics(params, info)
    assert all(np.isfinite(v).all() for v in metrics.values())


def test_gmm_component_that_loses_its_points_is_recorded_not_nan():
    fam = mc.GMM(init="warm")
    rng = np.random.default_rng(0)
    data = Samples(rng.normal(5.0, 0.1, size=(1, 200)))
    previous = np.array([[[0.5, 0.5], [-40.0, 5.0], [1e-6, 1.0]]])  # component 0 far away
    params, info = fam.fit(data, rng=rng, previous=previous)
    assert np.isfinite(params).all()
    assert params[0, 0, 0] < 1e-12  # weight gone
    metrics = fam.metrics(params, info)
    assert all(np.isfinite(v).all() for v in metrics.values())


@pytest.mark.parametrize("family", mc.FAMILIES.names())
def test_mix_whose_floors_leave_one_carried_sample(family):
    """⌊0.25·30⌋ + ⌊0.75·30⌋ = 29: one sample is carried over, so no moments shortcut."""
    fam, _ = make(family, "replace")
    result = simulate_block(fam, mc.Mix(real=0.25, synthetic=0.75), n_samples=30,
                            n_generations=3, n_replicates=2, rng=np.random.default_rng(0))
    for name, values in result.metrics.items():
        assert_recorded(fam, name, values)
