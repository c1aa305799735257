"""The ``vae`` family: its fixed rulers, the loop under every policy, learning, stationarity under
fresh real data against ``replace``, reproducibility, the stacked training against one network at
a time, weighted losses, curation and bad input. Statistical checks use the t distribution of
the replicates (few of them) with a Bonferroni budget, and each is shown to fail on a planted
bug."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.checks import ALPHA, critical_z
from modelcollapse.curation import get_curator
from modelcollapse.errors import ConfigError
from modelcollapse.families.neural import digits
from modelcollapse.families.neural import vae as vae_module
from modelcollapse.families.neural.vae import VAE
from modelcollapse.loop import simulate_block
from modelcollapse.rewards import Reward
from modelcollapse.training_sets import Samples, mark
from neural_support import require_torch

torch = require_torch()

#: Smoke sizes (every policy, reproducibility, the command line).
FAST = {"hidden": 16, "latent": 2, "epochs": 2, "batch_size": 32}
#: The smallest networks that learn digits well enough to show an effect (0.1 s a generation).
LEARN = {"hidden": 32, "latent": 4, "epochs": 30, "batch_size": 32}
POLICY_SETTINGS = {"replace": {}, "mix": {"real": 0.2, "synthetic": 0.5},
                   "accumulate": {"real": 0.1}, "accumulate-subsample": {"real": 0.1},
                   "augment": {"synthetic": 0.5}}
#: Every statistical check of this file shares one Bonferroni budget: learning (1), stationarity
#: (3 metrics), best-of's selection (1), best-of towards a digit (1).
N_SUBCHECKS = 6
STATIONARY_METRICS = ("frechet", "nelbo", "pixel_var")


def t_critical(n_replicates: int) -> float:
    """Two-sided critical |t| of one of the file's checks with ``n_replicates − 1`` degrees of
    freedom (replicates are few: the t law, not the normal, is the honest tolerance)."""
    return float(stats.t.isf(ALPHA / (2 * N_SUBCHECKS), df=n_replicates - 1))


def t_value(differences: np.ndarray) -> float:
    """``mean / SE`` of per-replicate differences."""
    d = np.asarray(differences, dtype=float)
    return float(d.mean() / (d.std(ddof=1) / np.sqrt(d.size)))


def run(family, policy="replace", *, n=100, g=2, r=3, seed=1, **kwargs):
    pol = policy if isinstance(policy, mc.Policy) else mc.get_policy(
        policy, **POLICY_SETTINGS.get(policy, {}))
    return simulate_block(family, pol, n_samples=n, n_generations=g, n_replicates=r,
                          rng=np.random.default_rng(seed), **kwargs)


def truth_rows(family, rows):
    return np.broadcast_to(family.truth(), (rows, *family.param_shape))


# -- the rulers ------------------------------------------------------------------------------

def test_split_is_fixed_and_stratified():
    from sklearn.datasets import load_digits

    data = digits.digits()
    assert data.train.shape == (1438, 64) and data.heldout.shape == (359, 64)
    labels = load_digits().target
    for c in range(10):
        n_c = int((labels == c).sum())
        assert (data.heldout_labels == c).sum() == round(0.2 * n_c)
        assert (data.train_labels == c).sum() == n_c - round(0.2 * n_c)
    assert data.train.min() == 0.0 and data.train.max() == 1.0
    assert not data.train.flags.writeable and not data.heldout.flags.writeable
    np.testing.assert_allclose(data.class_mix.sum(), 1.0)


def test_missing_scikit_learn_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    with pytest.raises(ConfigError, match="vae needs scikit-learn"):
        digits.digits.__wrapped__()


def test_ruler_is_fixed_accurate_and_rebuilt_identically():
    ruler = digits.ruler()
    assert ruler is digits.ruler()  # one ruler per process
    assert ruler.accuracy >= 0.95
    rebuilt = digits._build_ruler()  # fixed keys: the same classifier, bit for bit
    for name, value in ruler.weights.items():
        np.testing.assert_array_equal(rebuilt.weights[name], value)
    np.testing.assert_array_equal(rebuilt.real_radii, ruler.real_radii)
    fresh = np.random.default_rng(np.random.SeedSequence(digits.LATENT_KEY)).standard_normal(
        (359, 4))
    np.testing.assert_array_equal(digits.ruler_latents(4), fresh)
    assert digits.ruler_latents(4) is digits.ruler_latents(4)


def test_image_metrics_on_known_sets():
    ruler = digits.ruler()
    held = digits.heldout_image_metrics()
    assert held["class_entropy"] == pytest.approx(np.log(10), abs=0.01)
    assert 0 < held["frechet"] < 1 and held["precision"] > 0.8 and held["recall"] > 0.8
    train = digits.digits().train
    one = ruler.image_metrics(np.repeat(train[None, :1], 359, axis=1))  # one image, 359 times
    assert one["class_entropy"][0] == 0.0 and one["pixel_var"][0] == 0.0
    label = digits.digits().train_labels[0]
    np.testing.assert_allclose(one["class_kl"][0], -np.log(ruler.class_mix[label]))
    assert one["recall"][0] < 0.01 and one["frechet"][0] > 10
    blank = ruler.image_metrics(np.zeros((1, 359, 64)))
    assert all(np.isfinite(v).all() for v in blank.values())


def test_frechet_against_the_eigenvalues_of_the_product():
    """``tr (Σ_r Σ_g)^{1/2}`` is the sum of the square roots of the (real, ≥ 0) eigenvalues
    of ``Σ_r Σ_g``: an independent route to the same number."""
    rng = np.random.default_rng(0)
    features = np.abs(rng.normal(size=(2, 300, 64)))
    ruler = digits.ruler()
    got = ruler.frechet(features)
    real = ruler.real_features
    for b in range(2):
        cov_r, cov_g = np.cov(real, rowvar=False), np.cov(features[b], rowvar=False)
        eig = np.linalg.eigvals(cov_r @ cov_g).real
        exact = (((real.mean(0) - features[b].mean(0)) ** 2).sum()
                 + np.trace(cov_r + cov_g) - 2 * np.sqrt(np.maximum(eig, 0.0)).sum())
        np.testing.assert_allclose(got[b], exact, rtol=1e-6)


def test_precision_recall_by_brute_force():
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(1)
    ruler = digits.ruler()
    features = ruler.real_features[rng.choice(1438, 40)] + rng.normal(0, 0.5, size=(40, 64))
    real = ruler.real_features
    radius_r = np.sort(cdist(real, real), axis=1)[:, 3]  # the 3rd neighbour, itself excluded
    d_gr, d_gg = cdist(features, real), cdist(features, features)
    radius_g = np.sort(d_gg, axis=1)[:, 3]
    precision = (d_gr <= radius_r[None] + 1e-9).any(axis=1).mean()
    recall = (d_gr <= radius_g[:, None] + 1e-9).any(axis=0).mean()
    got = ruler.precision_recall(features[None])
    assert got[0][0] == pytest.approx(precision) and got[1][0] == pytest.approx(recall)


def test_metrics_are_the_same_ruler_at_every_call():
    fam = VAE(**FAST)
    result = run(fam, g=3, r=3)
    truth = fam.metrics(fam.truth()[None])
    again = fam.metrics(result.final_params)
    for name in fam.metric_names:  # the loop's batch of the whole history, then alone
        np.testing.assert_array_equal(result.metrics[name][:, 0], truth[name][0])
        np.testing.assert_array_equal(again[name], result.metrics[name][:, -1])
    np.testing.assert_array_equal(fam.metrics(result.final_params)["frechet"], again["frechet"])
    assert np.isnan(truth["latent_spread"][0]) and np.isnan(truth["nelbo"][0])


# -- the loop --------------------------------------------------------------------------------

VARIANTS = {"default": {}, "warm": {"warm_start": True}, "scaled": {"sampling_scale": 0.5}}


@pytest.mark.parametrize("policy", list(POLICY_SETTINGS))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_policy_runs(policy, variant):
    fam = VAE(**FAST, **VARIANTS[variant])
    result = run(fam, policy, n=40, g=3, r=2)
    assert result.final_params.shape == (2, *fam.param_shape)
    for name, values in result.metrics.items():
        assert values.shape == (2, 4), name
        assert np.isfinite(values[:, 1:]).all(), name
    assert np.isnan(result.metrics["nelbo"][:, 0]).all()


@pytest.mark.parametrize("policy", ["mix", "accumulate", "augment"])
def test_weighted_runs(policy):
    result = run(VAE(**FAST, real_weight=0.8), policy, n=40, g=2, r=2)
    assert np.isfinite(result.metrics["frechet"]).all()


def test_training_learns():
    """The generation-1 network's held-out negative ELBO beats an untrained one's."""
    def check(fam):
        r = 8
        result = run(fam, n=200, g=1, r=r, seed=11)
        untrained = fam.with_params(fam.layout.initial(np.random.default_rng(12), r))
        gain = fam.metrics(untrained)["nelbo"] - result.metrics["nelbo"][:, 1]
        return t_value(gain) > t_critical(r), gain

    passed, gain = check(VAE(**LEARN))
    assert passed and gain.mean() > 5, gain  # 64 log 2 ≈ 44 nats untrained, about 27 trained


def test_planted_untrained_fit_fails(monkeypatch):
    monkeypatch.setattr(vae_module.stacked, "train", lambda initial, loss, **_: initial)
    fam = VAE(**LEARN)
    result = run(fam, n=200, g=1, r=8, seed=11)
    untrained = fam.with_params(fam.layout.initial(np.random.default_rng(12), 8))
    gain = fam.metrics(untrained)["nelbo"] - result.metrics["nelbo"][:, 1]
    assert not t_value(gain) > t_critical(8)


def _drift(policy):
    """The t value of each metric's per-replicate change from generation 1 to 2."""
    result = run(VAE(**LEARN), policy, n=200, g=2, r=16, seed=5)
    return {m: t_value(result.metrics[m][:, 2] - result.metrics[m][:, 1])
            for m in STATIONARY_METRICS}


def test_fresh_real_data_keeps_the_metrics_stationary_while_replace_moves_them():
    """With every training set fresh real data, model 2 has model 1's law exactly (fresh
    weights, fresh data): its metrics may differ by noise only. Under replace they move
    (Fréchet distance and held-out loss up, pixel variance down)."""
    critical = t_critical(16)
    stationary = _drift(mc.Mix(real=1.0))
    assert all(abs(t) < critical for t in stationary.values()), stationary
    moved = _drift(mc.Replace())  # the same check fails where the loop eats its own output
    assert all(abs(t) >= critical for t in moved.values()), moved


def test_reproducible_and_independent_of_workers():
    config = mc.RunConfig(VAE(**FAST), n_samples=40, n_generations=2, n_replicates=16,
                          seed=3)
    a, b = mc.simulate(config, workers=1), mc.simulate(config, workers=2)
    for name in config.model.metric_names:
        np.testing.assert_array_equal(a.trajectories(name), b.trajectories(name))


class Recorder:
    """A generator that records what it draws (the stacked fit's draws, in order)."""

    def __init__(self, seed):
        self.rng, self.draws = np.random.default_rng(seed), []

    def __getattr__(self, name):
        method = getattr(self.rng, name)

        def draw(*args, **kwargs):
            out = method(*args, **kwargs)
            self.draws.append(np.asarray(out))
            return out

        return draw


class Replayer:
    """Serves row ``row`` of each recorded draw, in order: what one replicate saw alone."""

    def __init__(self, draws, row):
        self.draws, self.row = iter(draws), row

    def __getattr__(self, name):
        return lambda *args, **kwargs: next(self.draws)[self.row:self.row + 1].copy()


def _alone_against_stacked(shift=0):
    fam = VAE(hidden=16, latent=3, epochs=3, batch_size=16)
    rows = 3
    data = fam.sample(truth_rows(fam, rows), 48, np.random.default_rng(0), stats=False)
    recorder = Recorder(1)
    together, _ = fam.fit(data, rng=recorder, previous=truth_rows(fam, rows))
    out = []
    for r in range(rows):
        alone, _ = fam.fit(Samples(data.values[r:r + 1]),
                           rng=Replayer(recorder.draws, (r + shift) % rows),
                           previous=truth_rows(fam, 1))
        out.append(alone[0])
    return together, np.array(out)


def test_stacked_training_is_each_network_alone():
    together, alone = _alone_against_stacked()
    np.testing.assert_allclose(alone, together, rtol=1e-4, atol=1e-6)


def test_planted_replicate_mixup_is_detected():
    """Replaying a neighbour's initial weights, batch orders and noise does not match."""
    together, alone = _alone_against_stacked(shift=1)
    assert not np.allclose(alone, together, rtol=1e-4, atol=1e-6)


def _weighted_fit(real_weight):
    fam = VAE(**FAST, real_weight=real_weight)
    rng = np.random.default_rng(2)
    real = mark(fam.sample(truth_rows(fam, 2), 30, rng, stats=False), real=True)
    synthetic = mark(Samples(np.zeros((2, 10, 64))), real=False)
    data = Samples.concat([real, synthetic])
    return fam.fit(data, rng=np.random.default_rng(3), previous=truth_rows(fam, 2))[0]


def test_real_weight_at_the_real_share_is_the_unweighted_fit():
    """w = n_r / n gives every image weight 1/n, the unweighted loss (gaussian's semantics:
    the real images together weigh w, the synthetic 1 − w)."""
    plain = _weighted_fit(None)
    np.testing.assert_allclose(_weighted_fit(30 / 40), plain, rtol=1e-4, atol=1e-6)
    assert not np.allclose(_weighted_fit(10 / 40), plain, rtol=1e-4, atol=1e-6)


# -- sampling, pictures, degenerate data ----------------------------------------------------

def test_samples_and_pictures():
    fam = VAE(**FAST)
    rng = np.random.default_rng(0)
    real = fam.sample(truth_rows(fam, 2), 20, rng, stats=False).values
    assert real.shape == (2, 20, 64)
    np.testing.assert_array_equal(real * 16, np.round(real * 16))  # grey levels of real digits
    model = fam.with_params(fam.layout.initial(rng, 2))
    images = fam.sample(model, 20, rng, stats=False)
    assert images.values.shape == (2, 20, 64)
    assert ((images.values >= 0) & (images.values <= 1)).all()
    assert fam.pictures(images).shape == (16, 8, 8)
    assert fam.sample(model, 0, rng, stats=False).values.shape == (2, 0, 64)
    # λ → 0 decodes z ≈ 0 for every image: no spread left
    narrow = VAE(**FAST, sampling_scale=1e-3).sample(model, 50, rng, stats=False).values
    assert narrow.var(axis=1).max() < 1e-6 < images.values.var(axis=1).max()


def test_degenerate_training_sets_are_recorded_not_crashes():
    fam = VAE(**FAST)
    for values in (np.zeros((2, 30, 64)), np.ones((2, 30, 64))):
        params, _ = fam.fit(Samples(values), rng=np.random.default_rng(0),
                            previous=truth_rows(fam, 2))
        metrics = fam.metrics(params)
        assert all(np.isfinite(v).all() for v in metrics.values())


# -- curation --------------------------------------------------------------------------------

def _selection_z(reward_of=None):
    """z of the mean confidence of best-of-4 kept images against uncurated draws of the same
    networks (given the networks, the kept and the drawn images are independent draws: the
    standard error comes from their variance)."""
    fam = VAE(**LEARN)
    reward = fam.reward("confidence")
    rng = np.random.default_rng(0)
    params, _ = fam.fit(fam.sample(truth_rows(fam, 8), 200, rng, stats=False), rng=rng,
                        previous=truth_rows(fam, 8))
    select = reward if reward_of is None else reward_of(reward)
    kept = reward.score(get_curator("best-of", k=4).curate(fam, params, params, 300, rng,
                                                            select).units)
    plain = reward.score(get_curator("none").curate(fam, params, params, 300, rng,
                                                    select).units)
    se = np.sqrt(kept.var(ddof=1) / kept.size + plain.var(ddof=1) / plain.size)
    return (kept.mean() - plain.mean()) / se


def test_best_of_confidence_keeps_more_confident_images():
    z = _selection_z()
    assert z > critical_z(ALPHA, N_SUBCHECKS), z


def test_planted_reward_blind_selection_fails():
    def blind(reward):
        return Reward(reward.spec, lambda units: np.zeros(units.values.shape[:2]),
                      reward.expected, reward.words)

    assert not _selection_z(blind) > critical_z(ALPHA, N_SUBCHECKS)


def test_best_of_towards_a_digit_raises_the_models_reward():
    """Curating towards digit 0 raises E_model log p(0 | x) of the next model (paired by
    replicate: model 1 is the same in both runs)."""
    fam = VAE(**LEARN)
    reward = fam.reward("class:0")
    plain = run(fam, n=200, g=2, r=16, seed=5, reward=reward)
    curated = run(fam, n=200, g=2, r=16, seed=5, reward=reward,
                  curation=get_curator("best-of", k=4))
    np.testing.assert_array_equal(plain.metrics["reward"][:, :2],
                                  curated.metrics["reward"][:, :2])
    gain = curated.metrics["reward"][:, 2] - plain.metrics["reward"][:, 2]
    assert t_value(gain) > t_critical(16), gain
    assert "accept_rate" in curated.metrics


def test_rewards():
    fam = VAE(**FAST)
    assert fam.reward("class: 3").spec == "class:3"
    truth = fam.reward("confidence").expected(fam.truth()[None])
    _, log_probs = digits.ruler().features(digits.digits().heldout)
    np.testing.assert_allclose(truth[0], log_probs.max(axis=-1).mean())
    for bad in ("class:10", "class:x", "truth", "class:-1"):
        with pytest.raises(ConfigError, match="reward"):
            fam.reward(bad)
    assert fam.default_reward == "confidence" and set(fam.curators) == {"none", "best-of"}


# -- settings and the command line ------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("hidden", 0), ("latent", 0), ("latent", 1000), ("hidden", 2.5), ("epochs", 0),
    ("batch_size", 0), ("learning_rate", 0.0), ("learning_rate", float("nan")),
    ("device", "tpu"), ("warm_start", "yes"), ("sampling_scale", 0.0), ("real_weight", 2.0)])
def test_bad_input(field, value):
    with pytest.raises(ConfigError, match=field):
        VAE(**{field: value})


def test_stream_key_leaves_out_the_device_and_describe():
    a, b = VAE(device="cpu"), VAE(device="auto")
    assert a.stream_settings() == b.stream_settings()
    assert "device" not in a.stream_settings()
    assert "sampling_scale" not in a.stream_settings()  # neutral at its default
    assert VAE(warm_start=True).describe().endswith("warm-started")
    assert "sd × 0.5" in VAE(sampling_scale=0.5).describe()


def cli(*args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "modelcollapse", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("flags", "message"), [
    (["--latent", "0"], "--latent must be an integer between 1 and 256"),
    (["--epochs", "-1"], "--epochs must be"),
    (["--device", "tpu"], "--device must be one of"),
    (["--curate", "best-of", "--reward", "class:12"], "--reward must be class:c"),
])
def test_bad_options_are_one_line_exit_2(tmp_path, flags, message):
    done = cli("run", "vae", *flags, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_run_folder_figures_and_report_with_nan_at_generation_zero(tmp_path):
    """``latent_spread`` and ``nelbo`` are NaN for the truth: the summary, the figures and the
    report take it."""
    config = mc.RunConfig(VAE(hidden=8, latent=2, epochs=1, batch_size=32), n_samples=40,
                          n_generations=2, n_replicates=2, seed=1)
    result = mc.run(config, out=tmp_path / "vae", report=True)
    files = {p.name for p in result.path.iterdir()}
    assert {"metrics.png", "samples.png", "pictures.parquet", "report.html"} <= files
    loaded = mc.load(result.path)
    assert np.isnan(loaded.trajectories("nelbo")[:, 0]).all()
    assert np.isfinite(loaded.trajectories("nelbo")[:, 1:]).all()
    assert loaded.pictures()[0].shape == (16, 8, 8)
