"""Curation of the n-gram family (issue 14): whole sequences are the units.

Statistical checks use the suite's critical value (harness.Z_CRIT: α = 1e-3, Bonferroni), or for
the distribution check a chi-square p-value against the same per-check level
(:data:`P_CRIT`, the two-sided tail beyond Z_CRIT); the distribution check is shown to fail on
two planted bugs.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from harness import SEED, Z_CRIT
from modelcollapse.families.discrete import rarest_tokens
from modelcollapse.families.ngram.model import starts_of
from modelcollapse.families.ngram.scoring import token_probs
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Samples, Sequences

SRC = Path(__file__).resolve().parents[1] / "src"

#: The per-check significance level of Z_CRIT (α = 1e-3 over the suite's sub-checks).
P_CRIT = float(2 * stats.norm.sf(Z_CRIT))

#: A small synthetic truth where every transition is possible (the truth reward stays finite).
DENSE = {"vocab": 20, "length": 10, "density": 1.0}


def fitted(family: mc.NGram, n_tokens: int, n_rows: int, seed: int = SEED) -> np.ndarray:
    """Parameters of models fitted to ``n_tokens`` of the truth, ``[n_rows, P]``."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(family.truth()[None], n_rows, axis=0)
    params, _ = family.fit(family.sample(truth, n_tokens, rng, stats=False), rng=rng,
                           previous=truth)
    return params


def all_sequences(vocab: int, length: int, n_rows: int) -> Sequences:
    """Every one of the ``V^L`` sequences, in lexicographic order, on each of ``n_rows`` rows."""
    tokens = np.array(list(itertools.product(range(vocab), repeat=length)), dtype=np.int32)
    flat = np.repeat(tokens.reshape(1, -1), n_rows, axis=0)
    return Sequences(flat, starts_of(np.full(vocab**length, length), n_rows))


# -- units ------------------------------------------------------------------------------------


def test_units_are_whole_sequences_and_training_form_cuts_the_last():
    fam = mc.NGram(vocab=10, length=7)
    params = fitted(fam, 700, 2)
    assert fam.curation_units(70) == 10 and fam.curation_units(75) == 11
    units = fam.draw_units(params, 5, np.random.default_rng(1))
    same = fam.sample(params, 35, np.random.default_rng(1), stats=False)
    np.testing.assert_array_equal(units.tokens, same.tokens)  # drawn exactly as sample draws
    np.testing.assert_array_equal(units.starts, same.starts)
    index = np.array([[4, 0], [2, 2]])
    taken = fam.take_units(units, index)
    np.testing.assert_array_equal(taken.tokens[0], np.r_[units.tokens[0, 28:35],
                                                         units.tokens[0, :7]])
    np.testing.assert_array_equal(taken.tokens[1], np.tile(units.tokens[1, 14:21], 2))
    assert taken.starts.sum(axis=1).tolist() == [2, 2]
    train = fam.training_form(units, 30, stats=False)
    assert train.size == 30 and train.starts.sum(axis=1).tolist() == [5, 5]  # 4 whole + a prefix
    np.testing.assert_array_equal(train.tokens, units.tokens[:, :30])


# -- likelihoods: the generator's law, short contexts included ---------------------------------

TINY = {"vocab": 3, "order": 3, "length": 3, "density": 1.0, "temperature": 0.7, "top_k": 2}


def frequency_check(family: mc.NGram, log_likelihood) -> float:
    """Chi-square p-value of the frequencies of ``draw_units`` sequences against
    ``exp(log_likelihood)``, over all ``V^L`` sequences (cells with expected count < 5 pooled).
    A sequence given probability 0 that is drawn fails at once (p = 0)."""
    params = fitted(family, 300, 1)
    k = 60_000
    units = family.draw_units(params, k, np.random.default_rng(SEED + 1))
    code = units.tokens[0].reshape(k, family.length) @ (family.vocab ** np.arange(
        family.length)[::-1])
    observed = np.bincount(code, minlength=family.vocab**family.length)
    everything = all_sequences(family.vocab, family.length, 1)
    probs = np.exp(log_likelihood(params, everything)[0])
    if (observed[probs == 0] > 0).any():
        return 0.0
    expected = k * probs
    big = expected >= 5
    obs = np.r_[observed[big], observed[~big].sum()]
    exp = np.r_[expected[big], expected[~big].sum()]
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue)


def test_every_sequence_law_sums_to_one():
    """Over all V^L sequences, exp of each log-likelihood sums to 1: each is a law on sequences."""
    fam = mc.NGram(**TINY)
    params = fitted(fam, 300, 2)
    everything = all_sequences(3, 3, 2)
    for loglik in (fam.unit_log_likelihood(params, everything),
                   fam.proposal_log_likelihood(params, everything),
                   fam.truth_log_likelihood(everything)):
        np.testing.assert_allclose(np.exp(loglik).sum(axis=1), 1.0, rtol=1e-12)
    # decoding (top-2 of 3) removes sequences: they have probability 0 under the proposal
    assert np.isneginf(fam.proposal_log_likelihood(params, everything)).any()


def test_drawn_sequence_frequencies_match_the_proposal_likelihood():
    """Order 3, L = 3: every token but the last is drawn after a BOS-padded context."""
    fam = mc.NGram(**TINY)
    p = frequency_check(fam, fam.proposal_log_likelihood)
    assert p > P_CRIT, p


def test_planted_bug_undecoded_proposal_is_caught():
    """The model's own (undecoded) likelihood is not the law the candidates were drawn from."""
    fam = mc.NGram(**TINY)
    p = frequency_check(fam, fam.unit_log_likelihood)
    assert p < P_CRIT, p


def test_planted_bug_unpadded_short_contexts_is_caught():
    """Scoring the first n − 1 tokens after contexts padded with token 0 instead of BOS (the
    generator's start) is caught too."""
    fam = mc.NGram(**TINY)
    pad = fam.order - 1

    def zero_padded(params, units):
        rows, m = units.tokens.shape
        count, length = m // fam.length, fam.length
        tokens = units.tokens.reshape(rows, count, length)
        longer = np.concatenate([np.zeros((rows, count, pad), dtype=np.int32), tokens], axis=2)
        text = Sequences(longer.reshape(rows, -1), starts_of(np.full(count, length + pad), rows))
        with np.errstate(divide="ignore"):
            logp = np.log(token_probs(fam._generator_probs(params), text, order=fam.order))
        return logp.reshape(rows, count, length + pad)[:, :, pad:].sum(axis=-1)

    p = frequency_check(fam, zero_padded)
    assert p < P_CRIT, p


# -- rewards ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "spec"), [
    ({**DENSE, "temperature": 0.8, "top_p": 0.9}, "truth"),
    ({**DENSE, "temperature": 0.8, "top_p": 0.9}, "self"),
    ({"vocab": 8, "order": 3, "length": 6, "density": 1.0, "top_k": 5}, "truth"),
    ({"vocab": 8, "order": 3, "length": 6, "top_k": 5}, "self"),
])
def test_expected_reward_equals_the_monte_carlo_mean_of_scores(settings, spec):
    """``expected`` (exact propagation of the context law) = mean score of drawn sequences."""
    fam = mc.NGram(**settings)
    reward = fam.reward(spec)
    params = fitted(fam, 400, 2)
    exact = reward.expected(params)
    scores = reward.score(fam.draw_units(params, 40_000, np.random.default_rng(SEED + 2)))
    se = scores.std(axis=1, ddof=1) / np.sqrt(scores.shape[1])
    assert (np.abs(scores.mean(axis=1) - exact) < Z_CRIT * se).all(), (exact, scores.mean(1), se)
    # generation 0: the truth's own, −(entropy rate) per token, exactly
    np.testing.assert_allclose(reward.expected(fam.truth()[None]), -fam.language().entropy_rate,
                               rtol=1e-12)


def test_corpus_self_reward_of_the_truth_is_the_mean_over_its_chunks():
    fam = mc.NGram(corpus="demo", order=2, length=8)
    reward = fam.reward("self")
    truth = fam.truth()[None]
    scores = reward.score(fam.draw_units(truth, 50_000, np.random.default_rng(SEED)))
    se = scores.std(ddof=1) / np.sqrt(scores.size)
    assert abs(scores.mean() - reward.expected(truth)[0]) < Z_CRIT * se


def test_truth_reward_of_a_sparse_truth_is_minus_infinity_for_a_smoothed_model():
    """Documented: a smoothed model can generate a transition the truth forbids."""
    fam = mc.NGram(vocab=20, length=10, density=0.3)
    assert np.isneginf(fam.reward("truth").expected(fitted(fam, 300, 2))).all()
    assert np.isfinite(fam.reward("truth").expected(fam.truth()[None])).all()


def test_verifier_belief_is_per_token_relative_to_the_best_continuation():
    fam = mc.NGram(vocab=6, order=2, length=4)
    probs = fam.language().probs
    greedy = [int(np.argmax(probs[-1]))]
    for _ in range(3):
        greedy.append(int(np.argmax(probs[greedy[-1]])))
    units = Sequences(np.array([greedy], dtype=np.int32), starts_of(np.array([4]), 1))
    assert fam.belief_log_relative(units, 0.0)[0, 0] == 0.0
    drawn = fam.draw_units(fam.truth()[None], 500, np.random.default_rng(0))
    belief = fam.belief_log_relative(drawn, 0.0)
    assert (belief <= 0).all() and (belief < 0).any()
    # order 1, L = 1: categorical's log(q_x / max q)
    uni, cat = mc.NGram(order=1, vocab=10, length=1), mc.Categorical(vocab=10)
    tokens = np.arange(10, dtype=np.int32)[None]
    ours = uni.belief_log_relative(Sequences(tokens, np.ones((1, 10), dtype=bool)), 0.0)
    np.testing.assert_allclose(ours, cat.belief_log_relative(Samples(tokens), 0.0))


# -- curators in the loop ---------------------------------------------------------------------

CURATORS = {
    "best-of": ({"k": 3}, "self"),
    "verifier": ({"strictness": 2.0, "false_accept": 0.05}, None),
    "top": ({"keep": 0.5}, None),
    "bottom": ({"keep": 0.5}, None),
    "reweight": ({"keep": 0.5, "power": 1.0}, None),
}


@pytest.mark.parametrize("truth", ["synthetic", "demo"])
@pytest.mark.parametrize("name", list(CURATORS))
def test_every_curator_runs(name, truth):
    fam = (mc.NGram(vocab=30, length=10) if truth == "synthetic"
           else mc.NGram(corpus="demo", order=2, length=20))
    settings, reward = CURATORS[name]
    curator = mc.get_curator(name, **settings)
    if name not in fam.available_curators:
        with pytest.raises(mc.ConfigError, match="not available") as err:
            mc.RunConfig(fam, curation=curator)
        assert "\n" not in str(err.value) and "none, best-of, top, bottom" in str(err.value)
        return
    # 505 tokens: whole sequences and a cut one; mix also draws ⌊0.5 N⌋ model tokens
    for policy in (mc.Replace(), mc.Mix(real=0.2, synthetic=0.5)):
        result = simulate_block(fam, policy, n_samples=505, n_generations=3, n_replicates=3,
                                rng=np.random.default_rng(SEED), curation=curator,
                                reward=None if reward is None else fam.reward(reward))
        for metric, values in result.metrics.items():
            assert np.isfinite(values).all(), (metric, values)
        accept = result.metrics["accept_rate"][:, 2:]
        assert ((accept > 0) & (accept <= 1)).all()
        assert set(result.excerpts) == {0, 1, 2}
        if truth == "synthetic":  # each excerpt is one whole sequence of L pseudo-words
            assert all(len(text.split()) == 10 for text in result.excerpts[2])


def config(curation, reward=None, **family):
    return mc.RunConfig(mc.NGram(**{**DENSE, **family}), n_samples=300, n_generations=4,
                        n_replicates=4, seed=SEED, curation=curation, reward=reward)


@pytest.mark.parametrize("curator", [mc.BestOf(k=1), mc.Top(keep=1.0), mc.Bottom(keep=1.0)])
def test_identity_curators_are_the_uncurated_run_bit_for_bit(curator):
    curated = mc.simulate(config(curator, reward="self"))
    plain = mc.simulate(config("none", reward="self"))
    assert curated.metrics.equals(plain.metrics)


def test_best_of_one_draws_exactly_the_uncurated_text():
    """Inside the curator too: K = 1 keeps ``draw_units`` as it is, which is ``sample``'s text."""
    fam = mc.NGram(**DENSE)
    params = fitted(fam, 300, 3)
    kept = mc.BestOf(k=1).curate(fam, params, params, fam.curation_units(100),
                                 np.random.default_rng(5), fam.reward("truth"))
    plain = fam.sample(params, 100, np.random.default_rng(5), stats=False)
    np.testing.assert_array_equal(fam.training_form(kept.units, 100, stats=False).tokens,
                                  plain.tokens)


@pytest.mark.parametrize(("curator", "sign"), [(mc.Top(keep=0.5), 1), (mc.Bottom(keep=0.5), -1)])
def test_top_raises_and_bottom_lowers_the_self_likelihood_of_kept_sequences(curator, sign):
    fam = mc.NGram(vocab=30, length=10)
    params = fitted(fam, 500, 2)
    n_units = 200
    kept = curator.curate(fam, params, params, n_units, np.random.default_rng(3), None)
    candidates = fam.draw_units(params, 2 * n_units, np.random.default_rng(3))  # the same draws
    per_token = fam.unit_log_likelihood(params, candidates) / fam.length
    kept_per_token = fam.unit_log_likelihood(params, kept.units) / fam.length
    # Exactly the better (worse) half of the candidates, so its mean is above (below) theirs.
    for row in range(2):
        ranked = np.sort(per_token[row])
        half = ranked[n_units:] if sign > 0 else ranked[:n_units]
        np.testing.assert_array_equal(np.sort(kept_per_token[row]), half)
    assert (sign * (kept_per_token.mean(axis=1) - per_token.mean(axis=1)) > 0).all()
    np.testing.assert_array_equal(kept.candidates, [2 * n_units] * 2)


def test_best_of_by_truth_reward_raises_the_models_truth_reward():
    """Best-of-4 by the truth reward vs no curation: E_model r_truth, averaged per replicate over
    the curated generations t = 2..G, is higher (two-sample z over 30 replicates, beyond
    Z_CRIT)."""
    runs = {}
    for name, curator in (("curated", mc.BestOf(k=4)), ("plain", mc.NoCuration())):
        cfg = mc.RunConfig(mc.NGram(**DENSE), n_samples=400, n_generations=5, n_replicates=30,
                           seed=SEED, curation=curator, reward="truth")
        runs[name] = mc.simulate(cfg).trajectories("reward")
    a, b = runs["curated"][:, 2:].mean(axis=1), runs["plain"][:, 2:].mean(axis=1)
    z = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert z > Z_CRIT, z
    np.testing.assert_array_equal(runs["curated"][:, 0], runs["plain"][:, 0])  # the truth's


# -- metrics ----------------------------------------------------------------------------------


def test_rare_mass_by_hand():
    fam = mc.NGram(vocab=40, length=10)
    params = fitted(fam, 400, 3)
    mass = fam.language().freq.sum(axis=0)
    rare = rarest_tokens(mass, 0.1)
    present = params[:, 1:].reshape(3, -1, 40).sum(axis=1) > 0
    expected = (present[:, rare] * mass[rare]).sum(axis=1) / mass[rare].sum()
    np.testing.assert_allclose(fam.metrics(params)["rare_mass"], expected)
    assert fam.metrics(fam.truth()[None])["rare_mass"][0] == 1.0
    assert mc.NGram(corpus="demo").metrics(mc.NGram(corpus="demo").truth()[None])[
        "rare_mass"][0] == 1.0
    assert "rare_mass" in fam.metric_names and "rare_mass" in fam.key_metrics


def test_curated_run_writes_sample_texts(tmp_path):
    cfg = mc.RunConfig(mc.NGram(vocab=30, length=8), n_samples=200, n_generations=4,
                       n_replicates=3, seed=3, curation=mc.Top(keep=0.5))
    samples = mc.load(mc.run(cfg, out=tmp_path / "run", plots=False).path).samples
    assert sorted(samples.generation.unique()) == [0, 1, 2, 3]
    assert samples.text.str.split().map(len).eq(8).all()


# -- errors -----------------------------------------------------------------------------------


def test_corpus_refuses_the_truth_reward_and_needs_one_for_best_of():
    fam = mc.NGram(corpus="demo")
    with pytest.raises(mc.ConfigError, match="truth needs a truth whose law is known: a "
                                             "synthetic language, not a corpus"):
        mc.RunConfig(fam, reward="truth")
    with pytest.raises(mc.ConfigError, match="reward is needed by best-of"):
        mc.RunConfig(fam, curation="best-of")
    with pytest.raises(mc.ConfigError, match=r"must be truth .* or self"):
        mc.RunConfig(mc.NGram(), reward="rank")


@pytest.mark.parametrize("args", [["--curate", "verifier"], ["--curate", "reweight"],
                                  ["--reward", "truth"]])
def test_corpus_cli_errors_are_one_line(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "ngram", "--corpus",
                           "demo", *args, "--out", str(tmp_path / "run")], capture_output=True,
                          text=True, env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert args[0] in proc.stderr and "Traceback" not in proc.stderr
