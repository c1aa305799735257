"""Curation from the command line, end to end: flags, TOML files, bad input, sweeps, reports.

What users see of curation (``--curate``, ``--curate-k``, ``--curate-keep``, the
``--verifier-*`` flags, ``--reweight-power`` and ``--reward``): every curator on every family that
takes it writes a complete folder whose manifest records the curation and the reward and whose
metrics table has ``reward`` and ``accept_rate``; a TOML file with the same keys is the same run;
every bad combination is one line naming the option and what it takes, exit status 2, nothing
written; sweeps take the curation options as grid keys; reports label the new metrics;
``--help`` lists them; the worker count never changes the numbers.

The kept laws, identities and stream keys are tested in ``test_curation.py`` and
``test_ngram_curation.py``; here the command runs in this process (:func:`run`, as in
``test_loop_settings_cli.py``) with tiny sizes, plus one run through ``python -m modelcollapse``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelcollapse as mc
from modelcollapse import cli
from modelcollapse.curation import CURATORS, MAX_K
from modelcollapse.options import COMMON, all_options

#: Tiny sizes per family (sequences of 5 tokens for the n-gram: 20 curated units of 100 tokens).
FAMILY_FLAGS = {
    "coin": ["--samples", "10"],
    "categorical": ["--vocab", "8", "--samples", "30"],
    "gaussian": ["--samples", "30"],
    "gmm": ["--samples", "40"],
    "ngram": ["--vocab", "20", "--length", "5", "--samples", "100"],
    "mvgaussian": ["--dim", "3", "--samples", "30"],
    "regression": ["--dim", "3", "--samples", "30"],
    "kde": ["--samples", "30"],
    "vae": ["--hidden", "8", "--latent", "2", "--epochs", "1", "--samples", "30"],
    "charlm": ["--embedding", "8", "--layers", "1", "--heads", "2", "--context", "5",
               "--length", "5", "--epochs", "1", "--samples", "100"],
}
#: Curation units per replicate (``S``) for each family's tiny sizes.
UNITS = {"coin": 10, "categorical": 30, "gaussian": 30, "gmm": 40, "ngram": 20, "mvgaussian": 30,
         "regression": 30, "kde": 30, "vae": 30, "charlm": 20}
#: Each curator's flags (none of them an identity) and the settings its manifest must record.
CURATOR_FLAGS = {
    "none": ([], {}),
    "best-of": (["--curate-k", "3"], {"k": 3}),
    "verifier": (["--verifier-strictness", "2", "--verifier-false-accept", "0.05"],
                 {"strictness": 2.0, "false_accept": 0.05}),
    "top": (["--curate-keep", "0.4"], {"keep": 0.4}),
    "bottom": (["--curate-keep", "0.4"], {"keep": 0.4}),
    "reweight": (["--curate-keep", "0.4", "--reweight-power", "0.8"],
                 {"keep": 0.4, "power": 0.8}),
}
#: Keeps a run small should a bad input be accepted by mistake (the default gmm run is long).
SMALL = ("--generations", "2", "--replicates", "2", "--no-plots", "--out", "out")


def run(*args: str, cwd: Path) -> tuple[int, str, str]:
    """``modelcollapse ARGS`` in this process, in folder ``cwd``: status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(args))
        except SystemExit as exit_:  # argparse's own errors
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, out.getvalue(), err.getvalue()


def metrics_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A tidy metrics table in a fixed order, metric names as plain strings."""
    frame = frame[["replicate", "metric", "generation", "value"]].copy()
    frame["metric"] = frame["metric"].astype(str)
    return frame.sort_values(["replicate", "metric", "generation"], ignore_index=True)


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def figures_of(html: str) -> dict:
    """A report's figures, from its JSON block."""
    match = re.search(r'<script type="application/json" id="mc-figures">(.*?)</script>', html,
                      re.S)
    assert match, "no figure data in the page"
    return json.loads(match.group(1))


def decode(spec) -> np.ndarray:
    """A Plotly typed-array spec (or a plain list) as an array."""
    if isinstance(spec, list):
        return np.asarray(spec, dtype=float)
    dtype = {"f8": "<f8", "f4": "<f4", "i4": "<i4", "i2": "<i2", "i1": "<i1"}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)


# -- one run through the real entry point ---------------------------------------------------------


def test_coin_best_of_from_the_command_line_writes_a_complete_folder(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-m", "modelcollapse", "run", "coin", "--curate", "best-of",
         "--curate-k", "4", "--reward", "0,1", "--samples", "10", "--generations", "5",
         "--replicates", "6", "--seed", "3", "--no-plots", "--out", "r"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stdout.splitlines()[0]
    assert "curate best-of (k = 4), reward: 0 for tails, 1 for heads" in first, first
    rows = {line.split()[0] for line in done.stdout.splitlines()[3:] if line.strip()}
    assert {"p", "reward", "accept_rate"} <= rows  # the printed summary has the new metrics
    manifest = manifest_of(tmp_path / "r")
    assert manifest["status"] == "complete"
    assert manifest["config"]["curation"] == {"name": "best-of", "k": 4}
    assert manifest["config"]["reward"] == "0,1"
    assert manifest["metrics"] == ["p", "reward", "accept_rate"]
    assert manifest["argv"][:4] == ["modelcollapse", "run", "coin", "--curate"]
    result = mc.load(tmp_path / "r")
    assert set(result.metrics["metric"].astype(str)) == {"p", "reward", "accept_rate"}
    accept = result.trajectories("accept_rate")
    assert accept.shape == (6, 6)
    np.testing.assert_array_equal(accept[:, :2], 1.0)  # the truth, then fresh data: uncurated
    np.testing.assert_array_equal(accept[:, 2:], 0.25)  # 1/K
    # With r = (0, 1) the model's mean reward is its probability of heads, exactly.
    np.testing.assert_array_equal(result.trajectories("reward"), result.trajectories("p"))
    assert result.config.reward == "0,1" and result.config.curator == mc.BestOf(k=4)


# -- every curator on every family ----------------------------------------------------------------

CASES = [pytest.param(family, curator, id=f"{family}-{curator}")
         for family in mc.FAMILIES.names() for curator in CURATORS.names()]


def test_the_cases_cover_every_family_and_curator():
    assert len(mc.FAMILIES.names()) >= 5 and len(CURATORS.names()) >= 6, "empty registries"
    assert set(FAMILY_FLAGS) == set(mc.FAMILIES.names())
    assert set(CURATOR_FLAGS) == set(CURATORS.names())


@pytest.mark.parametrize(("family", "curator"), CASES)
def test_every_curator_runs_from_the_command_line(tmp_path, family, curator):
    flags, recorded = CURATOR_FLAGS[curator]
    given = {"coin": "0,1", "charlm": "self"}  # no default reward: one must be given
    reward = ["--reward", given[family]] if family in given and curator == "best-of" else []
    status, out, err = run("run", family, *FAMILY_FLAGS[family], "--curate", curator, *flags,
                           *reward, "--generations", "3", "--replicates", "3", "--seed", "1",
                           "--no-plots", "--out", "out", cwd=tmp_path)
    if curator not in mc.get_family(family).available_curators:
        assert status == 2 and "is not available for family" in err
        return
    assert status == 0, err
    folder = tmp_path / "out"
    manifest = manifest_of(folder)
    config = mc.load(folder).config
    assert manifest["status"] == "complete"
    # the manifest records the curation and the reward, and round-trips
    if curator == "none":
        assert "curation" not in manifest["config"] and "reward" not in manifest["config"]
    else:
        assert manifest["config"]["curation"]["name"] == curator
        assert recorded.items() <= manifest["config"]["curation"].items()
    if curator == "best-of":  # the family's default reward, written down, or the coin's given
        expected = given.get(family, mc.get_family(family).default_reward)
        assert expected is not None and manifest["config"]["reward"] == expected
    assert mc.RunConfig.from_dict(manifest["config"]) == config
    # the description says it, first line of the summary
    description = config.describe()
    assert out.splitlines()[0].endswith(description)
    assert (f"curate {curator}" in description) == (curator != "none"), description
    # the metrics table: the family's, then reward (a reward is set), then accept_rate
    metrics = metrics_table(mc.load(folder).metrics)
    names = list(dict.fromkeys(metrics["metric"]))
    assert set(names) == set(config.metric_names) == set(manifest["metrics"])
    assert ("reward" in names) == (curator == "best-of")
    assert ("accept_rate" in names) == (curator != "none")
    if family in ("categorical", "ngram"):
        assert "rare_mass" in names
    # A network's own metrics are NaN at generation 0 by definition (the truth is data).
    at_truth = (metrics["metric"].isin(getattr(config.model, "model_only_metrics", ()))
                & (metrics["generation"] == 0))
    assert metrics["value"][at_truth].isna().all()
    finite = np.isfinite(metrics["value"]) | at_truth
    if family == "ngram" and curator == "best-of":
        # documented: the truth reward (best-of's default) of a smoothed model of a sparse truth
        # is -inf; it is the only value that may be infinite
        assert (metrics["metric"][~finite] == "reward").all()
        assert (metrics["value"][~finite] == -np.inf).all()
    else:
        assert finite.all()
    if curator == "none":
        return
    accept = mc.load(folder).trajectories("accept_rate")
    np.testing.assert_array_equal(accept[:, :2], 1.0)
    later = accept[:, 2:]
    if curator == "best-of":
        np.testing.assert_allclose(later, 1 / 3, rtol=1e-12)
    elif curator == "verifier":
        assert ((later > 0) & (later <= 1)).all()
    else:  # S kept of ⌈S/q⌉
        s = UNITS[family]
        np.testing.assert_allclose(later, s / math.ceil(s / 0.4), rtol=1e-12)


def test_a_reward_without_a_curator_adds_only_the_metric_reward(tmp_path):
    args = ("--samples", "10", "--generations", "4", "--replicates", "5", "--seed", "2",
            "--no-plots")
    assert run("run", "coin", *args, "--out", "plain", cwd=tmp_path)[0] == 0
    status, out, err = run("run", "coin", *args, "--reward", "1,0", "--out", "rewarded",
                           cwd=tmp_path)
    assert status == 0, err
    plain, rewarded = mc.load(tmp_path / "plain"), mc.load(tmp_path / "rewarded")
    assert manifest_of(tmp_path / "rewarded")["metrics"] == ["p", "reward"]
    np.testing.assert_array_equal(plain.trajectories("p"), rewarded.trajectories("p"))
    np.testing.assert_allclose(rewarded.trajectories("reward"), 1 - rewarded.trajectories("p"),
                               atol=1e-15)
    assert "curate" not in out.splitlines()[0] and "reward: 1 for tails" in out.splitlines()[0]


# -- TOML files ---------------------------------------------------------------------------------

#: (flags, the same settings as TOML lines) for three curators on three families.
TOML_CASES = {
    "coin-best-of": (["coin", "--samples", "10", "--curate", "best-of", "--curate-k", "5",
                      "--reward", "0,1"],
                     'family = "coin"\nsamples = 10\ncurate = "best-of"\ncurate-k = 5\n'
                     'reward = "0,1"\n'),
    "gaussian-verifier": (["gaussian", "--samples", "30", "--curate", "verifier",
                           "--verifier-strictness", "1.5", "--verifier-shift", "0.5",
                           "--verifier-false-accept", "0.1", "--reward", "target:1"],
                          'family = "gaussian"\nsamples = 30\ncurate = "verifier"\n'
                          "verifier_strictness = 1.5\nverifier-shift = 0.5\n"
                          'verifier_false_accept = 0.1\nreward = "target:1"\n'),
    "categorical-reweight": (["categorical", "--vocab", "8", "--samples", "30", "--curate",
                              "reweight", "--curate-keep", "0.3", "--reweight-power", "0.7",
                              "--reward", "rank"],
                             'family = "categorical"\nvocab = 8\nsamples = 30\n'
                             'curate = "reweight"\ncurate_keep = 0.3\nreweight-power = 0.7\n'
                             'reward = "rank"\n'),
}
SIZES = ("--generations", "4", "--replicates", "5", "--seed", "7", "--no-plots")


@pytest.mark.parametrize("name", list(TOML_CASES))
def test_a_config_file_with_the_same_keys_is_the_same_run(tmp_path, name):
    flags, text = TOML_CASES[name]
    (tmp_path / "exp.toml").write_text(text)
    status, _, err = run("run", *flags, *SIZES, "--out", "flags", cwd=tmp_path)
    assert status == 0, err
    status, _, err = run("run", "--config", "exp.toml", *SIZES, "--out", "file", cwd=tmp_path)
    assert status == 0, err
    by_flags, by_file = mc.load(tmp_path / "flags"), mc.load(tmp_path / "file")
    assert by_file.config == by_flags.config and not by_file.config.curator.is_identity
    assert manifest_of(tmp_path / "file")["config"] == manifest_of(tmp_path / "flags")["config"]
    pd.testing.assert_frame_equal(metrics_table(by_file.metrics), metrics_table(by_flags.metrics))


def test_flags_override_the_curation_in_the_file(tmp_path):
    (tmp_path / "exp.toml").write_text('family = "coin"\nsamples = 10\ncurate = "best-of"\n'
                                       'curate-k = 5\nreward = "0,1"\n')
    status, _, err = run("run", "--config", "exp.toml", "--curate-k", "2", "--reward", "1,0",
                         *SIZES, "--out", "a", cwd=tmp_path)
    assert status == 0, err
    config = mc.load(tmp_path / "a").config
    assert config.curator == mc.BestOf(k=2) and config.reward == "1,0"
    # a curator named by flag that the file's setting does not apply to is refused, naming the file
    status, _, err = run("run", "--config", "exp.toml", "--curate", "top", *SIZES, "--out", "b",
                         cwd=tmp_path)
    assert status == 2
    assert err.strip() == ("modelcollapse run: error: curate-k (in exp.toml) does not apply to "
                           "--curate top (it takes --curate-keep)")
    assert not (tmp_path / "b").exists()


def test_the_manifest_round_trips_through_a_config_file(tmp_path):
    """flags → manifest → a TOML file written from the manifest's keys → the same numbers."""
    status, _, err = run("run", *TOML_CASES["gaussian-verifier"][0], *SIZES, "--out", "first",
                         cwd=tmp_path)
    assert status == 0, err
    recorded = manifest_of(tmp_path / "first")["config"]
    config = mc.RunConfig.from_dict(recorded)
    assert config.to_dict() == recorded
    assert mc.RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    by_field = {o.field: o.name for o in all_options().values() if o.target == "curation"}
    curation = dict(recorded["curation"])
    lines = [f'family = "{recorded["family"]["name"]}"', f"samples = {recorded['n_samples']}",
             f'curate = "{curation.pop("name")}"', f'reward = "{recorded["reward"]}"']
    lines += [f"{by_field[key]} = {value!r}" for key, value in curation.items()]
    (tmp_path / "again.toml").write_text("\n".join(lines) + "\n")
    status, _, err = run("run", "--config", "again.toml", *SIZES, "--out", "again", cwd=tmp_path)
    assert status == 0, err
    again = mc.load(tmp_path / "again")
    assert again.config == config
    pd.testing.assert_frame_equal(metrics_table(again.metrics),
                                  metrics_table(mc.load(tmp_path / "first").metrics))


# -- bad input --------------------------------------------------------------------------------

ALL_CURATORS = ", ".join(CURATORS.names())
#: (arguments, the option named first, the whole message after it).
BAD_INPUTS = [
    (["coin", "--curate", "magic"], "--curate", f"must be one of {ALL_CURATORS} (got magic)"),
    (["gaussian", "--curate", ""], "--curate", f"must be one of {ALL_CURATORS} (got '')"),
    (["coin", "--curate-k", "3"], "--curate-k", "needs --curate best-of"),
    (["gaussian", "--curate", "none", "--curate-k", "3"], "--curate-k", "needs --curate best-of"),
    (["gaussian", "--curate-keep", "0.5"], "--curate-keep",
     "needs --curate top, bottom or reweight"),
    (["gaussian", "--verifier-shift", "0.5"], "--verifier-shift", "needs --curate verifier"),
    (["gaussian", "--reweight-power", "0.5"], "--reweight-power", "needs --curate reweight"),
    (["coin", "--curate", "best-of", "--curate-keep", "0.5", "--reward", "0,1"],
     "--curate-keep", "does not apply to --curate best-of (it takes --curate-k)"),
    (["coin", "--curate", "top", "--curate-k", "3"], "--curate-k",
     "does not apply to --curate top (it takes --curate-keep)"),
    (["gaussian", "--curate", "verifier", "--curate-keep", "0.5"], "--curate-keep",
     "does not apply to --curate verifier (it takes --verifier-strictness, --verifier-shift or "
     "--verifier-false-accept)"),
    (["gaussian", "--curate", "best-of", "--reweight-power", "2"], "--reweight-power",
     "does not apply to --curate best-of (it takes --curate-k)"),
    (["coin", "--curate", "best-of", "--curate-k", "1001", "--reward", "0,1"], "--curate-k",
     f"must be an integer between 1 and {MAX_K} (got 1001)"),
    (["coin", "--curate", "best-of", "--curate-k", "2.5", "--reward", "0,1"], "--curate-k",
     "must be an integer (got 2.5)"),
    (["coin", "--curate", "top", "--curate-keep", "0"], "--curate-keep",
     "must be a fraction between 0.001 and 1 (the share kept) (got 0.0)"),
    (["coin", "--curate", "bottom", "--curate-keep", "1.5"], "--curate-keep",
     "must be a fraction between 0.001 and 1 (the share kept) (got 1.5)"),
    (["coin", "--curate", "reweight", "--curate-keep", "0.0001"], "--curate-keep",
     "must be a fraction between 0.001 and 1 (the share kept) (got 0.0001)"),
    (["coin", "--curate", "verifier", "--verifier-strictness", "-1"], "--verifier-strictness",
     "must be a number between 0 and 1e6 (got -1.0)"),
    (["gaussian", "--curate", "verifier", "--verifier-strictness", "nan"],
     "--verifier-strictness", "must be a number between 0 and 1e6 (got nan)"),
    (["coin", "--curate", "verifier", "--verifier-false-accept", "2"], "--verifier-false-accept",
     "must be a probability between 0 and 1 (got 2.0)"),
    (["coin", "--curate", "reweight", "--reweight-power", "-1"], "--reweight-power",
     "must be a number between 0 and 1000 (got -1.0)"),
    # best-of needs a reward where the family has no default
    (["coin", "--curate", "best-of"], "--reward",
     "is needed by best-of curation for family coin: r0,r1 (the rewards of tails and heads)"),
    (["coin", "--curate", "best-of", "--curate-k", "4"], "--reward",
     "is needed by best-of curation for family coin"),
    # rewards the family does not take
    (["coin", "--reward", "0,1,2"], "--reward",
     "must be 2 numbers r0,r1 (the rewards of tails and heads); 3 given"),
    (["coin", "--reward", "a,b"], "--reward",
     "must be 2 numbers r0,r1 (the rewards of tails and heads) (got a,b)"),
    (["coin", "--reward", "0,inf"], "--reward", "must be finite numbers within ±1e+06 (got 0,inf)"),
    (["categorical", "--vocab", "4", "--reward", "1,2,3"], "--reward",
     "must be 4 comma-separated numbers (one per token), rank or truth; 3 given"),
    (["categorical", "--vocab", "4", "--reward", "1,2,x"], "--reward",
     "must be 4 comma-separated numbers (one per token), rank or truth (got 1,2,x)"),
    (["gaussian", "--reward", "bogus"], "--reward",
     "must be truth (the truth's log density) or target:c (-(x - c)^2 / 2) for family gaussian "
     "(got bogus)"),
    (["gaussian", "--curate", "best-of", "--reward", "0,1"], "--reward",
     "must be truth (the truth's log density) or target:c (-(x - c)^2 / 2) for family gaussian "
     "(got 0,1)"),
    (["gaussian", "--reward", "target:x"], "--reward", "must be target:c with c a number "
     "(got target:x)"),
    (["gmm", "--reward", "rank"], "--reward",
     "must be truth (the truth's log density) or target:c (-(x - c)^2 / 2) for family gmm "
     "(got rank)"),
    (["ngram", "--reward", "rank"], "--reward",
     "must be truth (the synthetic truth's log-probability per token of a sequence) or self "
     "(the model's own) for family ngram (got rank)"),
    # a verifier's shift is for continuous families
    (["coin", "--curate", "verifier", "--verifier-shift", "0.5"], "--verifier-shift",
     "applies to continuous families, not coin (a discrete verifier's belief is the truth; a "
     "false-accept rate makes it noisy) (got 0.5)"),
    (["categorical", "--curate", "verifier", "--verifier-shift", "0.5"], "--verifier-shift",
     "applies to continuous families, not categorical"),
    (["ngram", "--curate", "verifier", "--verifier-shift", "0.5"], "--verifier-shift",
     "applies to continuous families, not ngram"),
    # a corpus: its law is unknown
    (["ngram", "--corpus", "demo", "--reward", "truth"], "--reward",
     "truth needs a truth whose law is known: a synthetic language, not a corpus"),
    (["ngram", "--corpus", "demo", "--curate", "best-of"], "--reward",
     "is needed by best-of curation for family ngram: self (the model's own log-probability "
     "per token of a sequence; truth needs a synthetic language)"),
    (["ngram", "--corpus", "demo", "--curate", "reweight"], "--curate",
     "reweight is not available for family ngram (it takes: none, best-of, top, bottom)"),
]


@pytest.mark.parametrize(("argv", "flag", "message"), BAD_INPUTS,
                         ids=[" ".join(a) or "blank" for a, _, _ in BAD_INPUTS])
def test_bad_input_is_one_line_naming_the_option_exit_2_and_nothing_written(tmp_path, argv,
                                                                             flag, message):
    status, out, err = run("run", *argv, *SMALL, cwd=tmp_path)
    assert status == 2, out + err
    assert "Traceback" not in err and not out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    if message.startswith("must be") or "(got" in message or message.startswith("needs"):
        assert lines[0] == f"modelcollapse run: error: {flag} {message}"
    else:
        assert lines[0].startswith(f"modelcollapse run: error: {flag} {message}"), lines[0]
    assert list(tmp_path.iterdir()) == []  # no out/, no runs/, no partial folder


def test_curate_k_zero_names_both_bounds(tmp_path):
    status, _, err = run("run", "coin", "--curate", "best-of", "--curate-k", "0", "--reward",
                         "0,1", *SMALL, cwd=tmp_path)
    assert status == 2 and list(tmp_path.iterdir()) == []
    assert err.strip() == ("modelcollapse run: error: --curate-k must be an integer between 1 "
                           f"and {MAX_K} (got 0)")


BAD_FILES = {
    "no-curator.toml": ('family = "coin"\ncurate_k = 3\n',
                        "curate-k (in no-curator.toml) needs --curate best-of"),
    "strict.toml": ('family = "gaussian"\ncurate = "verifier"\nverifier-strictness = -2\n',
                    "verifier-strictness (in strict.toml) must be a number between 0 and 1e6 "
                    "(got -2.0)"),
    "unknown.toml": ('family = "coin"\ncurate = "best-off"\nreward = "0,1"\n',
                     f"curate (in unknown.toml) must be one of {ALL_CURATORS} (got best-off)"),
    "keep.toml": ('family = "coin"\ncurate = "top"\ncurate-keep = 1.5\n',
                  "curate-keep (in keep.toml) must be a fraction between 0.001 and 1 (the share "
                  "kept) (got 1.5)"),
    "reward.toml": ('family = "categorical"\nvocab = 4\nreward = "1,2"\n',
                    "reward (in reward.toml) must be 4 comma-separated numbers (one per token), "
                    "rank or truth; 2 given"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_curation_key_in_a_config_file_names_the_key_and_the_file(tmp_path, name):
    text, message = BAD_FILES[name]
    (tmp_path / name).write_text(text)
    status, out, err = run("run", "--config", name, *SMALL, cwd=tmp_path)
    assert status == 2 and not out and "Traceback" not in err
    assert err.strip() == f"modelcollapse run: error: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_reward_list_in_a_config_file_is_accepted_or_explained(tmp_path):
    (tmp_path / "list.toml").write_text('family = "coin"\ncurate = "best-of"\nreward = [0, 1]\n')
    status, _, err = run("run", "--config", "list.toml", *SMALL, cwd=tmp_path)
    assert status == 0 or "r0,r1" in err, err


def test_a_run_too_large_for_memory_because_of_k_is_refused_before_any_work(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_MEMORY", "2G")
    args = ("gaussian", "--samples", "2000", "--curate", "best-of", "--generations", "2",
            "--replicates", "10", "--no-plots", "--no-progress")
    status, _, err = run("run", *args, "--curate-k", "1", "--out", "fits", cwd=tmp_path)
    assert status == 0, err  # the same run without curation fits
    status, out, err = run("run", *args, "--curate-k", "1000", "--out", "big", cwd=tmp_path)
    assert status == 2 and not out and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "memory would be about" in err
    assert not (tmp_path / "big").exists() and not list(tmp_path.glob(".big*"))


def test_the_memory_refusal_names_curate_k(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_MEMORY", "2G")
    status, _, err = run("run", "gaussian", "--samples", "2000", "--curate", "best-of",
                         "--curate-k", "1000", "--generations", "2", "--replicates", "10",
                         "--no-plots", "--no-progress", "--out", "big", cwd=tmp_path)
    assert status == 2 and "--curate-k" in err, err


# -- sweeps -----------------------------------------------------------------------------------

SWEEP = """
    [experiment]
    family = "coin"
    samples = 10
    generations = 5
    replicates = 20
    seed = 13

    [grid]
    curate = ["none", "best-of"]
    curate-k = [2, 4]
    reward = ["0,1", "1,0"]
    """


def test_a_sweep_over_curator_k_and_reward(tmp_path):
    (tmp_path / "cur.toml").write_text(textwrap.dedent(SWEEP))
    status, out, err = run("sweep", "cur.toml", "--workers", "1", "--no-plots", "--no-progress",
                           "--out", "sw", cwd=tmp_path)
    assert status == 0, err
    result = mc.load(tmp_path / "sw")
    assert isinstance(result, mc.SweepResult) and result.complete
    # curate-k does not apply to none: those 4 combinations are skipped, saying why
    assert len(result.manifest["cells"]) == 4 and len(result.skipped) == 4
    for skipped in result.skipped:
        assert skipped["values"]["curate"] == "none"
        assert "curate-k" in skipped["reason"] and "best-of" in skipped["reason"]
    assert "4 cells of sweep cur:" in out
    summary = result.summary.set_index(["curate_k", "reward"])
    for column in ("final_reward_mean", "final_accept_rate_mean", "final_accept_rate_median"):
        assert column in summary.columns
    for k in (2, 4):
        for reward in ("0,1", "1,0"):
            row = summary.loc[(k, reward)]
            assert row["curate"] == "best-of"
            assert row["final_accept_rate_mean"] == pytest.approx(1 / k, rel=1e-12)
            p = row["final_p_mean"]
            expected = p if reward == "0,1" else 1 - p
            assert row["final_reward_mean"] == pytest.approx(expected, abs=1e-12)
        # best-of by heads drives p up, by tails down: the cells differ, in the right direction
        assert summary.loc[(k, "0,1"), "final_p_mean"] > summary.loc[(k, "1,0"), "final_p_mean"]
    assert (summary.loc[(4, "0,1"), "final_p_mean"] != summary.loc[(2, "0,1"), "final_p_mean"])
    # every cell is the run with the same flags, bit for bit
    for cell in result.manifest["cells"]:
        values = cell["values"]
        folder = f"run-{cell['index']}"
        status, _, err = run("run", "coin", "--samples", "10", "--generations", "5",
                             "--replicates", "20", "--seed", "13", "--curate", values["curate"],
                             "--curate-k", str(values["curate-k"]), "--reward",
                             values["reward"], "--no-plots", "--out", folder, cwd=tmp_path)
        assert status == 0, err
        single = mc.load(tmp_path / folder)
        assert single.config == result.config(cell["id"])
        pd.testing.assert_frame_equal(metrics_table(result.metrics_of(cell["id"])),
                                      metrics_table(single.metrics), check_dtype=False)


def test_a_sweep_with_an_unknown_curator_in_its_grid_is_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "bad.toml").write_text('[experiment]\nfamily = "coin"\nreward = "0,1"\n'
                                       '[grid]\ncurate = ["best-of", "magic"]\n')
    status, _, err = run("sweep", "bad.toml", "--no-plots", "--out", "sw", cwd=tmp_path)
    assert status == 2 and "Traceback" not in err
    assert err.strip() == (f"modelcollapse sweep: error: curate (in [grid] of bad.toml) must be "
                           f"one of {ALL_CURATORS} (got magic)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# -- theory beside a curated run --------------------------------------------------------------

#: Curated runs whose uncurated theory would be far off: (flags, metric).
THEORY_CASES = {
    "coin-best-of": (["coin", "--curate", "best-of", "--curate-k", "4", "--reward", "0,1",
                      "--samples", "10"], "p"),
    "gaussian-verifier": (["gaussian", "--curate", "verifier", "--verifier-strictness", "2",
                           "--samples", "30"], "var"),
}


def _uncurated_exact(config: mc.RunConfig, metric: str) -> float:
    plain = mc.RunConfig(config.model, policy=config.data_policy, n_samples=config.n_samples,
                         n_generations=config.n_generations, n_replicates=config.n_replicates,
                         seed=config.seed)
    return float(mc.predict(plain).for_metric(metric)[0].values[-1])


@pytest.mark.parametrize("name", list(THEORY_CASES))
def test_a_curated_runs_summary_never_shows_the_uncurated_exact_value(tmp_path, name):
    """Theory beside a curated run is curated theory or none: never the uncurated curve (which
    the summary printed as 'exact mean' before theory knew curation)."""
    flags, metric = THEORY_CASES[name]
    status, out, err = run("run", *flags, "--generations", "5", "--replicates", "20", "--seed",
                           "1", "--no-plots", "--out", "out", cwd=tmp_path)
    assert status == 0, err
    config = mc.load(tmp_path / "out").config
    uncurated = _uncurated_exact(config, metric)
    final = manifest_of(tmp_path / "out")["summary"]["final"][metric]
    # what curation does to the simulated runs: far from the uncurated expectation
    assert abs(final["mean"] - uncurated) > 0.3 * abs(uncurated), (final, uncurated)
    assert final["exact"] is None or abs(final["exact"] - uncurated) > 0.1 * abs(uncurated)
    row = next(line for line in out.splitlines() if line.split()[:1] == [metric])
    assert f"{uncurated:.4g}" not in row.split()[5:6], row


def test_a_curated_sweeps_summary_never_shows_the_uncurated_exact_value(tmp_path):
    spec = {"experiment": {"family": "coin", "samples": 10, "generations": 5, "replicates": 20,
                           "seed": 1, "reward": "0,1", "curate": "best-of"},
            "grid": {"curate-k": [2, 4]}}
    summary = mc.sweep(spec, out=tmp_path / "sw", workers=1, plots=False).summary
    assert (summary["final_p_mean"] > 0.6).all()
    exact = summary["final_p_exact"]  # the uncurated E p_t is p0 = 0.5
    assert (exact.isna() | ((exact - 0.5).abs() > 0.05)).all(), exact.tolist()


# -- reports ----------------------------------------------------------------------------------


def test_the_report_of_a_curated_run_draws_and_labels_the_new_metrics(tmp_path):
    pytest.importorskip("plotly")
    import plotly.graph_objects as go

    status, out, err = run("run", "categorical", "--vocab", "8", "--samples", "30", "--curate",
                           "best-of", "--curate-k", "3", "--reward", "rank", "--generations", "4",
                           "--replicates", "5", "--seed", "4", "--no-plots", "--report",
                           "--out", "out", cwd=tmp_path)
    assert status == 0, err
    assert f"report: {Path('out') / 'report.html'}" in out
    html = (tmp_path / "out" / "report.html").read_text()
    figures = figures_of(html)
    for metric, caption, axis in (
            ("reward", "Mean reward of the model, E r(x)", "reward (reward units)"),
            ("accept_rate", "Share of candidates the curator kept", "kept / drawn (fraction)"),
            ("rare_mass", "The truth&#x27;s rarest 10% of mass still possible",
             "surviving share (fraction)")):
        chart = f"metric-{metric}"
        assert chart in figures and f'class="mc-chart" id="{chart}"' in html
        assert f"<figcaption>{caption}</figcaption>" in html
        assert figures[chart]["layout"]["yaxis"]["title"]["text"] == axis
        go.Figure(figures[chart])  # valid Plotly
    median = [t for t in figures["metric-accept_rate"]["data"] if t.get("name") == "median"]
    assert len(median) == 1
    np.testing.assert_allclose(decode(median[0]["y"]), [1, 1, 1 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    assert "accept_rate" in html and "reward" in html  # the printed summary's rows


def test_the_report_command_on_a_curated_run(tmp_path):
    pytest.importorskip("plotly")
    status, _, err = run("run", "gaussian", "--samples", "30", "--curate", "verifier",
                         "--verifier-shift", "0.5", "--generations", "3", "--replicates", "4",
                         "--seed", "5", "--no-plots", "--out", "out", cwd=tmp_path)
    assert status == 0, err
    assert not (tmp_path / "out" / "report.html").exists()
    status, _, err = run("report", "out", "--out", "page.html", cwd=tmp_path)
    assert status == 0, err
    figures = figures_of((tmp_path / "page.html").read_text())
    assert {"metric-accept_rate", "metric-var"} <= set(figures)
    assert "metric-reward" not in figures  # no reward was set


def test_the_report_says_the_run_was_curated(tmp_path):
    pytest.importorskip("plotly")
    status, _, err = run("run", "gaussian", "--samples", "30", "--curate", "verifier",
                         "--verifier-strictness", "2", "--generations", "3", "--replicates", "4",
                         "--seed", "5", "--no-plots", "--report", "--out", "out", cwd=tmp_path)
    assert status == 0, err
    html = (tmp_path / "out" / "report.html").read_text()
    facts = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S).group(1)
    without_command = re.sub(r"<dt>command</dt><dd>.*?</dd>", "", facts, flags=re.S)
    ledes = " ".join(re.findall(r'<p class="lede">(.*?)</p>', html, re.S))
    assert "verifier" in without_command or "verifier" in ledes


# -- help ---------------------------------------------------------------------------------------


def test_help_lists_the_curation_group_and_each_flag(tmp_path):
    status, out, _ = run("run", "--help", cwd=tmp_path)
    assert status == 0
    start = out.index("curation of synthetic samples:\n")
    group = out[start:out.index("\n\n", start)]
    curation = [o for o in COMMON if o.target == "curation"]
    assert len(curation) >= 7
    for option in curation:
        assert f"--{option.name} " in group, option.name
    assert "{" + ",".join(CURATORS.names()) + "}" in group
    experiment = out[out.index("experiment:\n"):out.index("data policy:\n")]
    assert "--reward NAME" in experiment and "coin r0,r1" in experiment


# -- reproducibility: the worker count never changes the numbers --------------------------------

REPRO = {
    "categorical-reweight": ["categorical", "--vocab", "30", "--samples", "50", "--replicates",
                             "300", "--generations", "4", "--curate", "reweight",
                             "--curate-keep", "0.3", "--reweight-power", "0.7"],
    "gmm-verifier": ["gmm", "--samples", "40", "--replicates", "130", "--generations", "3",
                     "--curate", "verifier", "--verifier-shift", "0.5",
                     "--verifier-strictness", "2"],
}


@pytest.mark.parametrize("name", list(REPRO))
def test_the_same_seed_gives_the_same_table_with_one_or_two_workers(tmp_path, name):
    tables = {}
    for label, workers, seed in (("one", "1", "9"), ("two", "2", "9"), ("other", "2", "10")):
        status, _, err = run("run", *REPRO[name], "--seed", seed, "--workers", workers,
                             "--no-plots", "--no-progress", "--out", label, cwd=tmp_path)
        assert status == 0, err
        tables[label] = metrics_table(mc.load(tmp_path / label).metrics)
    config = mc.load(tmp_path / "one").config
    assert config.block_size < config.n_replicates  # several blocks, so workers can differ
    assert "accept_rate" in set(tables["one"]["metric"])
    pd.testing.assert_frame_equal(tables["one"], tables["two"])
    assert not tables["one"]["value"].equals(tables["other"]["value"])  # the seed matters
