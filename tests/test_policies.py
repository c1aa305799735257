"""Data policies: fractions, sizes, carry-over without replacement, validation."""

from __future__ import annotations

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.errors import ConfigError
from modelcollapse.policies import fraction_count, get_policy
from modelcollapse.training_sets import Samples


@pytest.mark.parametrize(("fraction", "n", "expected"), [
    (0.29, 100, 29), (0.1, 10_000, 1000), (0.5, 3, 1), (1 / 3, 3, 1), (0.0, 7, 0), (1.0, 7, 7),
    (0.999, 10, 9),
])
def test_fraction_count_is_floor_robust_to_decimals(fraction, n, expected):
    assert fraction_count(fraction, n) == expected


def test_mix_split_and_default_synthetic():
    assert mc.Mix(real=0.1, synthetic=0.5).split(100) == (10, 50, 40)
    assert mc.Mix(real=0.1).split(100) == (10, 90, 0)
    assert mc.Mix().split(100) == (0, 100, 0)
    assert not mc.Mix(real=0.2).needs_subsample(100) and mc.Mix(0.2, 0.5).needs_subsample(100)


def test_mix_floors_follow_the_design_rule():
    # ⌊0.25 · 30⌋ + ⌊0.75 · 30⌋ = 7 + 22: one sample is carried over, as DESIGN §2 says ...
    assert mc.Mix(real=0.25, synthetic=0.75).split(30) == (7, 22, 1)
    assert mc.Mix(real=0.25, synthetic=0.75).needs_subsample(30)
    # ... while "synthetic = the rest" (the default) carries nothing over
    assert mc.Mix(real=0.25).split(30) == (7, 23, 0)
    assert not mc.Mix(real=0.25).needs_subsample(30)


@pytest.mark.parametrize(("real", "synthetic", "text"), [
    (0.7, 0.5, "real + synthetic must be at most 1 (got 0.7 + 0.5 = 1.2)"),
    (-0.1, 0.5, "real must be a number between 0 and 1 (got -0.1)"),
    (float("nan"), 0.5, "real must be a number between 0 and 1 (got nan)"),
    (0.2, 1.5, "synthetic must be a number between 0 and 1 (got 1.5)"),
    ("x", 0.5, "real must be a number between 0 and 1 (got x)"),
])
def test_invalid_fractions_name_the_fields(real, synthetic, text):
    with pytest.raises(ConfigError) as err:
        mc.Mix(real=real, synthetic=synthetic)
    assert str(err.value) == text


def test_get_policy_rejects_settings_it_does_not_take():
    with pytest.raises(ConfigError, match="synthetic does not apply to policy accumulate"):
        get_policy("accumulate", synthetic=0.3)
    with pytest.raises(ConfigError, match="must be one of replace, mix"):
        get_policy("sometimes")


def _ids(rng, start):
    """A draw function returning distinct, traceable values: start, start + 1, ..."""
    counter = [start]

    def draw(m):
        values = np.arange(counter[0], counter[0] + m, dtype=float)[None, :]
        counter[0] += m
        return Samples(values)
    return draw


def test_mix_builds_truth_model_and_carry_over(rng):
    policy = mc.Mix(real=0.2, synthetic=0.3)
    first = Samples(np.arange(10.0)[None, :])
    train, state = policy.next_training_set(policy.start(first), draw_model=_ids(rng, 1000),
                                            draw_truth=_ids(rng, 2000), n_samples=10, rng=rng)
    values = set(train.values[0])
    assert train.size == 10 and state is train
    assert {2000, 2001} <= values and {1000, 1001, 1002} <= values
    carried = values & set(range(10))
    assert len(carried) == 5  # 10 − 2 − 3, distinct: drawn without replacement


def test_accumulate_grows_and_subsample_keeps_size(rng):
    first = Samples(np.arange(4.0)[None, :])
    grow = mc.Accumulate(real=0.25)
    state = grow.start(first)
    for t in range(2, 5):
        train, state = grow.next_training_set(state, draw_model=_ids(rng, 100 * t),
                                              draw_truth=_ids(rng, 1000 * t), n_samples=4,
                                              rng=rng)
        assert train.size == 4 * t
        assert 1000 * t in set(train.values[0])  # ⌊0.25 · 4⌋ = 1 fresh truth sample
    sub = mc.AccumulateSubsample()
    state = sub.start(first)
    for t in range(2, 5):
        train, state = sub.next_training_set(state, draw_model=_ids(rng, 100 * t),
                                             draw_truth=_ids(rng, 1000 * t), n_samples=4,
                                             rng=rng)
        assert train.size == 4 and state.size == 4 * t
        assert set(train.values[0]) <= set(state.values[0])
        assert len(set(train.values[0])) == 4


def test_registry_lists_every_policy_and_family():
    assert mc.POLICIES.names() == ("replace", "mix", "accumulate", "accumulate-subsample",
                                  "augment")
    assert mc.FAMILIES.names() == ("coin", "categorical", "gaussian", "gmm", "ngram",
                                  "mvgaussian", "regression", "kde", "vae", "charlm")
    with pytest.raises(ValueError, match="already registered"):
        mc.POLICIES.register(mc.Replace)
