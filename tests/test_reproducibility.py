"""Results depend only on (config, seed): not on workers, run size, or run length."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import modelcollapse as mc

CONFIGS = {
    "coin": mc.RunConfig("coin", n_generations=30, n_replicates=50),
    "categorical": mc.RunConfig(mc.Categorical(vocab=30), n_samples=50, n_generations=10,
                                n_replicates=40),
    "gaussian": mc.RunConfig("gaussian", n_samples=20, n_generations=20, n_replicates=40),
    "gaussian-raw": mc.RunConfig("gaussian", policy=mc.Mix(0.1, 0.5), n_samples=2000,
                                 n_generations=5, n_replicates=20),
    "gmm": mc.RunConfig("gmm", n_samples=2000, n_generations=4, n_replicates=20),
    "ngram": mc.RunConfig(mc.NGram(vocab=30, length=10, top_p=0.9), policy=mc.Mix(0.1, 0.5),
                          n_samples=5000, n_generations=4, n_replicates=20),
}


def arrays(config, **kwargs):
    result = mc.simulate(config, **kwargs)
    return {name: result.trajectories(name) for name in result.metric_names}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_seed_same_numbers_whatever_the_workers(name):
    config = mc.RunConfig(**{**CONFIGS[name].__dict__, "seed": 11})
    one, two = arrays(config, workers=1), arrays(config, workers=2)
    for metric in one:
        np.testing.assert_array_equal(one[metric], two[metric])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_replicate_i_is_the_same_in_a_smaller_run(name):
    base = CONFIGS[name]
    big = arrays(mc.RunConfig(**{**base.__dict__, "seed": 5}))
    small = arrays(mc.RunConfig(**{**base.__dict__, "seed": 5, "n_replicates": 3}))
    for metric in big:
        np.testing.assert_array_equal(small[metric], big[metric][:3])


def test_blocks_actually_split_the_gmm_run():
    assert CONFIGS["gmm"].block_size < CONFIGS["gmm"].n_replicates  # the test above spans blocks
    assert CONFIGS["ngram"].block_size < CONFIGS["ngram"].n_replicates


def test_a_longer_run_extends_a_shorter_one():
    base = mc.RunConfig("gaussian", n_samples=20, n_generations=10, n_replicates=30, seed=2)
    longer = mc.RunConfig(**{**base.__dict__, "n_generations": 25})
    short, long = arrays(base), arrays(longer)
    for metric in short:
        np.testing.assert_array_equal(short[metric], long[metric][:, :11])


def test_different_settings_use_unrelated_streams():
    a = mc.RunConfig(mc.Gaussian(), n_samples=20, seed=1)
    b = mc.RunConfig(mc.Gaussian(estimator="unbiased"), n_samples=20, seed=1)
    assert a.stream_key != b.stream_key


def test_same_seed_same_results_folder(tmp_path):
    config = mc.RunConfig("coin", n_generations=20, n_replicates=30, seed=9)
    first = mc.run(config, out=tmp_path / "a", plots=False)
    second = mc.run(config, out=tmp_path / "b", plots=False, workers=1)
    pd.testing.assert_frame_equal(first.metrics, second.metrics)
    pd.testing.assert_frame_equal(first.replicates, second.replicates)
    assert first.manifest["config"] == second.manifest["config"]


def test_interrupted_library_run_removes_its_partial_folder(tmp_path, monkeypatch):
    from modelcollapse.runner import driver

    def interrupted(*args, **kwargs):
        yield from []
        raise KeyboardInterrupt

    monkeypatch.setattr(driver, "iter_blocks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mc.run(mc.RunConfig("coin", seed=1), out=tmp_path / "r", plots=False)
    assert list(tmp_path.iterdir()) == []
