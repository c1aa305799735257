"""The charlm family: its stacked transformer, decoding, text metrics, statistics and errors.

Statistical checks compare means over independent replicates with z·SE tolerances; with a few
replicates the standard error is estimated from them, so the critical value is Student's t with
R − 1 degrees of freedom at the suite's α = 1e-3, Bonferroni over the checks of a test. Each
check is also run on a copy of the family with a planted bug, where it must fail.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.checks import ALPHA
from modelcollapse.cli import main
from modelcollapse.families.neural import charlm, transformer
from modelcollapse.families.neural.charlm import CharLM, pack
from modelcollapse.families.neural.transformer import Architecture, pick
from modelcollapse.families.ngram import corpora
from modelcollapse.families.ngram.model import decode
from modelcollapse.loop import simulate_block
from modelcollapse.training_sets import Sequences
from neural_support import require_torch

torch = require_torch()

SRC = Path(__file__).resolve().parents[1] / "src"

#: The tiny network of these tests.
TINY = {"embedding": 16, "layers": 1, "heads": 2, "context": 16, "length": 16, "epochs": 4,
        "batch_size": 16, "learning_rate": 1e-2, "stack": 2}
N_TOKENS = 2000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    """The first 40 000 characters of the demo corpus: 4 000 held out (250 chunks of 16)."""
    path = tmp_path_factory.mktemp("charlm") / "corpus.txt"
    path.write_text(corpora.demo_text()[:40_000], encoding="utf-8")
    return str(path)


def tiny(corpus: str, **settings) -> CharLM:
    return CharLM(corpus=corpus, **{**TINY, **settings})


def t_critical(n_replicates: int, n_checks: int) -> float:
    """Two-sided Student-t critical value at family-wise α over ``n_checks`` checks."""
    return float(stats.t.isf(ALPHA / (2 * n_checks), df=n_replicates - 1))


def z_of(differences: np.ndarray) -> float:
    """Mean over replicates in units of its standard error (±inf without noise)."""
    differences = np.asarray(differences, dtype=float)
    se = differences.std(ddof=1) / np.sqrt(differences.size)
    mean = differences.mean()
    if se == 0:
        return 0.0 if mean == 0 else float(np.copysign(np.inf, mean))
    return float(mean / se)


def networks(arch: Architecture, rows: int, seed: int = 0):
    """Fresh stacked parameters ``[rows, P]`` as a float32 tensor and its views."""
    theta = torch.tensor(arch.layout.initial(np.random.default_rng(seed), rows),
                         dtype=torch.float32)
    return theta, arch.layout.views(theta)


# -- the stacked transformer -------------------------------------------------------------------

ARCH = Architecture(vocab=11, context=12, embedding=8, layers=2, heads=2)


def reference_logits(views, r: int, tokens, arch: Architecture):
    """Replicate ``r``'s logits by PyTorch's own layers, one network alone: an oracle written
    independently of transformer.py (``F.linear``, ``F.layer_norm``, and
    ``scaled_dot_product_attention`` with its own causal mask)."""
    f = torch.nn.functional
    p = {name: value[r] for name, value in views.items()}

    def dense(x, name):
        return f.linear(x, p[f"{name}.w"].T, p[f"{name}.b"])

    def norm(x, name):
        return f.layer_norm(x, (arch.embedding,), p[f"{name}.g"], p[f"{name}.b"])

    batch, length = tokens.shape
    x = p["embed.token"][tokens] + p["embed.position"][:length]
    for layer in range(arch.layers):
        name = f"block{layer}"
        q, k, v = dense(norm(x, f"{name}.ln1"), f"{name}.qkv").split(arch.embedding, dim=-1)
        heads = [t.reshape(batch, length, arch.heads, arch.head_width).transpose(1, 2)
                 for t in (q, k, v)]
        y = f.scaled_dot_product_attention(*heads, is_causal=True)
        x = x + dense(y.transpose(1, 2).reshape(batch, length, arch.embedding), f"{name}.out")
        x = x + dense(f.gelu(dense(norm(x, f"{name}.ln2"), f"{name}.fc")), f"{name}.proj")
    return dense(norm(x, "final.ln"), "head")


def test_stacked_networks_equal_each_network_alone():
    rows = 3
    theta, views = networks(ARCH, rows)
    tokens = torch.as_tensor(np.random.default_rng(1).integers(0, ARCH.vocab + 1,
                                                               size=(rows, 4, ARCH.context)))
    stacked = transformer.forward(views, tokens, ARCH)
    assert stacked.shape == (rows, 4, ARCH.context, ARCH.vocab)
    for r in range(rows):
        alone = transformer.forward(ARCH.layout.views(theta[r:r + 1]), tokens[r:r + 1], ARCH)
        torch.testing.assert_close(stacked[r], alone[0], rtol=1e-5, atol=1e-5)
        oracle = reference_logits(views, r, tokens[r], ARCH)
        torch.testing.assert_close(stacked[r], oracle, rtol=1e-4, atol=1e-5)


def test_stacked_gradients_are_each_replicates_own():
    """The block's loss is the sum of the replicates': replicate r's gradient is its own."""
    rows = 3
    theta, _ = networks(ARCH, rows, seed=2)
    targets = torch.as_tensor(np.random.default_rng(3).integers(0, ARCH.vocab,
                                                                size=(rows, 5, 10)))

    def gradient(leaf, x):
        leaf = leaf.clone().requires_grad_(True)
        loss = -transformer.token_log_probs(ARCH.layout.views(leaf), x, ARCH).mean(dim=(1, 2))
        loss.sum().backward()
        return leaf.grad

    together = gradient(theta, targets)
    for r in range(rows):
        torch.testing.assert_close(together[r], gradient(theta[r:r + 1], targets[r:r + 1])[0],
                                   rtol=1e-4, atol=1e-6)


def test_the_mask_is_causal():
    _, views = networks(ARCH, 2)
    rng = np.random.default_rng(4)
    tokens = torch.as_tensor(rng.integers(0, ARCH.vocab, size=(2, 3, ARCH.context)))
    changed = tokens.clone()
    j = 7
    changed[..., j] = (changed[..., j] + 1) % ARCH.vocab
    before, after = (transformer.forward(views, t, ARCH) for t in (tokens, changed))
    torch.testing.assert_close(before[..., :j, :], after[..., :j, :], rtol=0, atol=0)
    assert (before[..., j:, :] != after[..., j:, :]).any(dim=-1).all()  # later ones do see it


def test_cached_generation_follows_the_full_forward_pass():
    """Each token the cached generator picks is the one the whole-prefix pass implies."""
    rows, count, length = 2, 5, ARCH.context
    _, views = networks(ARCH, rows, seed=5)
    uniforms = np.random.default_rng(6).random((rows, count, length))
    law = lambda p: decode(p, temperature=0.8, top_p=0.95)  # noqa: E731
    drawn = transformer.generate(views, uniforms, ARCH, decode=law, device="cpu")
    inputs = torch.cat([torch.full((rows, count, 1), ARCH.bos),
                        torch.as_tensor(drawn[..., :-1], dtype=torch.int64)], dim=-1)
    with torch.no_grad():
        probs = torch.softmax(transformer.forward(views, inputs, ARCH), dim=-1).double().numpy()
    np.testing.assert_array_equal(pick(law(probs), uniforms), drawn)


def test_pick_is_the_inverse_cdf_and_never_a_zero_token():
    probs = np.array([[0.5, 0.0, 0.5, 0.0]])
    u = np.array([[0.0, 0.4999, 0.5, 0.9999999]])
    np.testing.assert_array_equal(pick(np.repeat(probs, 4, axis=0), u[0]), [0, 0, 2, 2])


def test_pack_lays_out_sequences_of_any_length():
    data = Sequences(np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]),
                     np.array([[1, 0, 0, 1, 0], [1, 0, 0, 0, 0]], dtype=bool))
    tokens, mask = pack(data, length=4)
    # row 1's sequence of 5 is longer than 4: cut into 4 + 1, each read from BOS
    np.testing.assert_array_equal(tokens, [[[1, 2, 3, 0], [4, 5, 0, 0]],
                                           [[6, 7, 8, 9], [10, 0, 0, 0]]])
    np.testing.assert_array_equal(mask.sum(axis=-1), [[3, 2], [4, 1]])


# -- the family: decoding, text metrics ------------------------------------------------------------


def test_top_k_one_generates_the_greedy_text_whatever_the_uniforms(corpus):
    fam = tiny(corpus, top_k=1)
    params = fam.with_params(fam.layout.initial(np.random.default_rng(0), 2))
    a = fam.sample(params, 48, np.random.default_rng(1), stats=False)
    b = fam.sample(params, 48, np.random.default_rng(2), stats=False)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert a.starts.sum(axis=1).tolist() == [3, 3]  # three sequences of L = 16
    # greedy: every token is the network's most probable continuation of its prefix
    seqs = a.tokens.reshape(2, 3, 16).astype(np.int64)
    arch = fam.architecture
    inputs = np.concatenate([np.full((2, 3, 1), arch.bos), seqs[..., :-1]], axis=-1)
    views = fam.layout.views(torch.tensor(params[:, 1:], dtype=torch.float32))
    with torch.no_grad():
        logits = transformer.forward(views, torch.as_tensor(inputs), arch).numpy()
    np.testing.assert_array_equal(logits.argmax(axis=-1), seqs)
    # the decoded law is a point mass: the greedy sequences have proposal probability 1
    np.testing.assert_allclose(fam.proposal_log_likelihood(params, a), 0.0, atol=1e-12)


@dataclass(frozen=True)
class IgnoresTemperature(CharLM):
    """Planted bug: generated text ignores the decoding temperature."""

    def _decode(self):
        return lambda probs: decode(probs, top_k=self.top_k, top_p=self.top_p)


def first_token_checks(fam: CharLM) -> list[tuple[str, float, float]]:
    """Generated first tokens against the decoded law at BOS: (name, z, critical) per token
    of the law's support, frequencies ~ Binomial(S, q_v)."""
    count = 4000
    params = fam.with_params(fam.layout.initial(np.random.default_rng(7), 1))
    drawn = fam.sample(params, count, np.random.default_rng(8), stats=False)
    firsts = np.asarray(drawn.tokens)[drawn.starts]
    views = fam.layout.views(torch.tensor(params[:, 1:], dtype=torch.float32))
    arch = fam.architecture
    with torch.no_grad():
        start = transformer.forward(views, torch.full((1, 1, 1), arch.bos), arch)[0, 0, 0]
    exact = decode(torch.softmax(start, -1).double().numpy(), temperature=0.5, top_k=8)
    support = np.flatnonzero(exact)
    observed = np.bincount(firsts, minlength=arch.vocab) / firsts.size
    critical = float(stats.norm.isf(ALPHA / (2 * support.size)))
    out = []
    for v in support:
        se = np.sqrt(exact[v] * (1 - exact[v]) / firsts.size)
        out.append((f"token {v}", (observed[v] - exact[v]) / se, critical))
    assert observed[np.setdiff1d(np.arange(arch.vocab), support)].sum() == 0  # never outside
    return out


def test_generated_tokens_follow_the_decoded_law(corpus):
    """Temperature 0.5 then top-k 8, the n-gram family's decode, token by token."""
    # L = 1: every token is a first token, drawn from the law at BOS
    settings = {"length": 1, "temperature": 0.5, "top_k": 8}
    for name, z, critical in first_token_checks(tiny(corpus, **settings)):
        assert abs(z) < critical, (name, z)
    buggy = IgnoresTemperature(corpus=corpus, **{**TINY, **settings})
    assert any(abs(z) >= critical for _, z, critical in first_token_checks(buggy))


def test_text_metrics_are_the_ngram_familys_on_the_same_text(corpus):
    fam = tiny(corpus)
    ngram = mc.NGram(corpus=corpus, order=2, length=fam.length)
    runs = {name: simulate_block(family, mc.Replace(), n_samples=N_TOKENS, n_generations=1,
                                 n_replicates=2, rng=np.random.default_rng(9))
            for name, family in (("charlm", fam), ("ngram", ngram))}
    for name in charlm.TEXT_METRICS:  # generation 0: the training text; 1: the same chunks
        np.testing.assert_allclose(runs["charlm"].metrics[name], runs["ngram"].metrics[name],
                                   rtol=1e-12, err_msg=name)
    # and by hand, from the text itself (replicate 0 of training set 1)
    data = fam.sample(np.broadcast_to(fam.truth(), (2, *fam.param_shape)), N_TOKENS,
                      np.random.default_rng(9), stats=False)
    values = fam.text_metrics(data)
    tokens = np.asarray(data.tokens[0])
    types, counts = np.unique(tokens, return_counts=True)
    share = counts / counts.sum()
    assert values["support"][0] == types.size
    np.testing.assert_allclose(values["entropy"][0], -(share * np.log(share)).sum())
    follows = ~np.asarray(data.starts[0])[1:]
    assert values["types_2"][0] == len(set(zip(tokens[:-1][follows], tokens[1:][follows],
                                                strict=True)))
    tail = np.flatnonzero(fam.language().tail)
    np.testing.assert_allclose(values["tail_share"][0], np.isin(tokens, tail).mean())


def test_generation_zero_is_the_truth_and_perplexity_is_undefined_there(corpus):
    fam = tiny(corpus)
    truth = fam.metrics(fam.truth()[None])
    own = mc.NGram(corpus=corpus, order=2, length=fam.length).metrics(
        mc.NGram(corpus=corpus, order=2, length=fam.length).truth()[None])
    assert np.isnan(truth["perplexity"][0])
    for name in charlm.TEXT_METRICS:
        assert truth[name][0] == own[name][0], name
    assert truth["rare_mass"][0] == 1.0
    # a network's text metrics come from its fit's info; without it they are unknown
    fitted = fam.metrics(fam.with_params(fam.layout.initial(np.random.default_rng(0), 1)))
    assert np.isfinite(fitted["perplexity"]).all() and np.isnan(fitted["support"]).all()


# -- statistics: it learns; real data keeps it stationary; its own text moves it ---------------


@dataclass(frozen=True)
class NeverLearns(CharLM):
    """Planted bug: the fit returns its starting weights."""

    def fit(self, data, *, rng, previous):
        _, info = super().fit(data, rng=rng, previous=previous)
        return self.with_params(self.initial_weights(np.random.default_rng(0), previous)), info


def learning_z(fam: CharLM) -> float:
    """Untrained minus generation-1 held-out perplexity, per replicate, in SE units."""
    rows = 6
    result = simulate_block(fam, mc.Replace(), n_samples=N_TOKENS, n_generations=1,
                            n_replicates=rows, rng=np.random.default_rng(10))
    fresh = fam.with_params(fam.layout.initial(np.random.default_rng(11), rows))
    untrained = fam.metrics(fresh)["perplexity"]
    assert np.all(untrained > 0.6 * fam.n_tokens)  # about uniform over V
    return z_of(untrained - result.metrics["perplexity"][:, 1])


def test_training_learns(corpus):
    critical = t_critical(6, 2)
    assert learning_z(tiny(corpus)) > critical
    assert not learning_z(NeverLearns(corpus=corpus, **TINY)) > critical


@dataclass(frozen=True)
class LeaksWeights(CharLM):
    """Planted bug: every generation silently continues from the previous network."""

    def initial_weights(self, rng, previous):
        fresh = super().initial_weights(rng, previous)
        return fresh if self.is_truth(previous).any() else np.array(previous[:, 1:])


@dataclass(frozen=True)
class SamplesTheTruth(CharLM):
    """Planted bug: a network's samples are real text (the model's own output is lost)."""

    def sample(self, params, n, rng, *, stats):
        truth = np.broadcast_to(self.truth(), np.shape(params))
        return super().sample(truth, n, rng, stats=stats)


STATIONARY = ("support", "entropy", "perplexity")
MOVING = ("support", "entropy")
ROWS, GENERATIONS = 6, 3


def drift(fam: CharLM, policy: mc.Policy) -> dict[str, float]:
    """z of the mean change from generation 1 to the last, per metric."""
    result = simulate_block(fam, policy, n_samples=N_TOKENS, n_generations=GENERATIONS,
                            n_replicates=ROWS, rng=np.random.default_rng(12))
    return {name: z_of(values[:, -1] - values[:, 1]) for name, values in result.metrics.items()}


def test_real_data_keeps_the_metrics_stationary_while_replace_moves_them(corpus):
    """Under mix with real fraction 1 every training set is fresh real text and every network
    fresh: generation 3 is distributed as generation 1. Under replace with top-k 2, each
    generation trains on text that keeps two characters per context: support and entropy
    fall."""
    critical = t_critical(ROWS, len(STATIONARY) + len(MOVING))
    real = mc.Mix(real=1.0, synthetic=0.0)
    z = drift(tiny(corpus), real)
    assert all(abs(z[name]) < critical for name in STATIONARY), z
    narrow = {**TINY, "top_k": 2}
    z = drift(tiny(corpus, top_k=2), mc.Replace())
    assert all(z[name] < -critical for name in MOVING), z
    # the checks fail on planted bugs
    z = drift(LeaksWeights(corpus=corpus, **TINY), real)
    assert any(abs(z[name]) >= critical for name in STATIONARY), z
    z = drift(SamplesTheTruth(corpus=corpus, **narrow), mc.Replace())
    assert not all(z[name] < -critical for name in MOVING), z


# -- reproducibility ---------------------------------------------------------------------------


def test_same_seed_same_numbers_whatever_the_workers(corpus):
    config = mc.RunConfig(tiny(corpus, epochs=2), n_samples=320, n_generations=2,
                          n_replicates=4, seed=5)
    a = mc.simulate(config, workers=1)
    b = mc.simulate(config, workers=2)
    c = mc.simulate(config, workers=1)
    assert config.block_size == 2  # two blocks: the two workers each take one
    for name in config.metric_names:
        np.testing.assert_array_equal(a.trajectories(name), b.trajectories(name))
        np.testing.assert_array_equal(a.trajectories(name), c.trajectories(name))
    other = mc.simulate(dataclasses.replace(config, seed=6), workers=1)
    assert not np.array_equal(a.trajectories("perplexity"), other.trajectories("perplexity"))


def test_the_device_is_not_part_of_the_stream(corpus):
    assert (mc.RunConfig(tiny(corpus, device="cpu"), seed=1).stream_key
            == mc.RunConfig(tiny(corpus, device="auto"), seed=1).stream_key)


# -- every policy, curation ----------------------------------------------------------------------

POLICIES = {"replace": {}, "mix": {"real": 0.2, "synthetic": 0.5},
            "accumulate": {"real": 0.1}, "accumulate-subsample": {"real": 0.1},
            "augment": {"synthetic": 0.5}}


@pytest.mark.parametrize("policy", mc.POLICIES.names())
def test_every_policy_runs(corpus, policy):
    fam = tiny(corpus, epochs=1)
    result = simulate_block(fam, mc.get_policy(policy, **POLICIES[policy]), n_samples=200,
                            n_generations=3, n_replicates=2, rng=np.random.default_rng(0))
    for name, values in result.metrics.items():
        finite = values[:, 1:] if name == "perplexity" else values
        assert np.isfinite(finite).all(), name
    assert set(result.excerpts) == {0, 1, 2}


@pytest.mark.parametrize(("curate", "settings"), [("best-of", {"k": 3}), ("top", {"keep": 0.5}),
                                                  ("bottom", {"keep": 0.5})])
def test_curators_with_the_self_reward(corpus, curate, settings):
    fam = tiny(corpus, epochs=1)
    config = mc.RunConfig(fam, n_samples=160, n_generations=3, n_replicates=2, seed=1,
                          curation=mc.get_curator(curate, **settings), reward="self")
    result = mc.simulate(config)
    reward = result.trajectories("reward")
    assert np.isnan(reward[:, 0]).all() and np.isfinite(reward[:, 1:]).all()
    assert (reward[:, 1:] < 0).all()  # a log-probability per token
    assert np.isfinite(result.trajectories("accept_rate")).all()


def test_top_keeps_the_most_likely_sequences(corpus):
    fam = tiny(corpus)
    params = fam.with_params(fam.layout.initial(np.random.default_rng(0), 2))
    units = fam.draw_units(params, 8, np.random.default_rng(1))
    loglik = fam.unit_log_likelihood(params, units)
    # the likelihood is the network's: the sum of its per-token log-probabilities
    seqs = torch.as_tensor(np.asarray(units.tokens, dtype=np.int64).reshape(2, 8, 16))
    views = fam.layout.views(torch.tensor(params[:, 1:], dtype=torch.float32))
    with torch.no_grad():
        own = transformer.token_log_probs(views, seqs, fam.architecture).sum(-1).double()
    np.testing.assert_allclose(loglik, own.numpy(), rtol=1e-6)
    kept = mc.get_curator("top", keep=0.5).curate(fam, params, params, 4,
                                                  np.random.default_rng(1), None)
    best = np.sort(np.argsort(-loglik, axis=1)[:, :4], axis=1)
    np.testing.assert_array_equal(kept.units.tokens, fam.take_units(units, best).tokens)


def test_curators_that_need_the_truths_law_are_refused(corpus):
    fam = tiny(corpus)
    for name in ("verifier", "reweight"):
        with pytest.raises(mc.ConfigError, match="not available for family charlm"):
            mc.RunConfig(fam, curation=name)
    with pytest.raises(mc.ConfigError, match="truth needs a truth whose law is known"):
        fam.reward("truth")


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "field", "words"), [
    ({"layers": 0}, "layers", "must be an integer"),
    ({"length": 65}, "length", "must be at most context"),
    ({"heads": 3}, "heads", "must divide embedding"),
    ({"epochs": 0}, "epochs", "must be an integer"),
    ({"learning_rate": -1.0}, "learning_rate", "must be"),
    ({"top_p": 0.0}, "top_p", "must be"),
    ({"device": "tpu"}, "device", "must be one of"),
])
def test_bad_settings_are_config_errors(settings, field, words):
    with pytest.raises(mc.ConfigError, match=words) as err:
        CharLM(**settings)
    assert err.value.field == field


@pytest.mark.parametrize(("flags", "named"), [
    (["--layers", "0"], "--layers"),
    (["--length", "100"], "--length"),
    (["--heads", "3"], "--heads"),
    (["--samples", "10", "--length", "16", "--context", "16"], "--length"),
])
def test_bad_options_are_one_line_exit_2(tmp_path, capsys, flags, named):
    status = main(["run", "charlm", *flags, "--out", str(tmp_path / "run"), "--no-plots"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.strip().count("\n") == 0 and named in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_bad_option_from_the_command_line_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "charlm", "--heads",
                           "5", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": ""}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "--heads" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_run_writes_sample_texts(corpus, tmp_path):
    config = mc.RunConfig(tiny(corpus, epochs=1), n_samples=64, n_generations=2,
                          n_replicates=2, seed=3)
    result = mc.run(config, out=tmp_path / "run", plots=False)
    samples = mc.load(result.path).samples
    assert sorted(samples.generation.unique()) == [0, 1]
    assert samples.text.str.len().eq(16).all()
