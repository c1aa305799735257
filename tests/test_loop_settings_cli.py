"""The loop settings of the literature from the command line, end to end.

Sampling bias (``--temperature`` on coin and categorical, ``--sampling-scale`` on gaussian and
gmm), the ``augment`` policy (``--policy augment --synthetic λ``) and weighted fits
(``--real-weight``, and the gaussian's ``--fit mean``): bad input, TOML files, sweeps and their
reproducibility, manifests, the printed description and the report's theory overlays.

The command runs in this process (:func:`run`), with small sizes, so the file stays fast.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelcollapse as mc
from modelcollapse import cli, theory
from modelcollapse.families import gaussian as gaussian_family
from modelcollapse.policies import Augment

#: Keeps a run small should a bad input be accepted by mistake (the default gmm run is long).
SMALL = ("--samples", "20", "--generations", "2", "--replicates", "2", "--no-plots")


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


# -- bad input ------------------------------------------------------------------------------

BAD_INPUTS = [
    (["coin", "--temperature", "0"], "--temperature", "must be a number between 0.001 and 1000"),
    (["coin", "--temperature", "-1"], "--temperature", "(got -1"),
    (["coin", "--temperature", "nan"], "--temperature", "(got nan)"),
    (["categorical", "--temperature", "0"], "--temperature", "between 0.001 and 1000"),
    (["gaussian", "--sampling-scale", "0"], "--sampling-scale", "between 0.001 and 1000"),
    (["gmm", "--sampling-scale", "-2"], "--sampling-scale", "between 0.001 and 1000"),
    (["coin", "--policy", "mix", "--real", "0.5", "--real-weight", "1.5"], "--real-weight",
     "must be a number between 0 and 1 (got 1.5)"),
    (["gaussian", "--policy", "mix", "--real", "0.5", "--real-weight", "-0.1"], "--real-weight",
     "must be a number between 0 and 1 (got -0.1)"),
    (["coin", "--real-weight", "0.5"], "--real-weight",
     "needs real data in every training set"),
    (["gaussian", "--real-weight", "0.5", "--policy", "mix", "--real", "0"], "--real-weight",
     "needs real data in every training set"),
    (["ngram", "--real-weight", "0.5"], "--real-weight", "does not apply to family ngram"),
    (["coin", "--sampling-scale", "0.9"], "--sampling-scale", "does not apply to family coin"),
    (["gaussian", "--temperature", "0.8"], "--temperature", "does not apply to family gaussian"),
    (["gaussian", "--policy", "augment", "--synthetic", "-1"], "--synthetic", "(got -1"),
    (["gaussian", "--policy", "augment", "--real", "0.2"], "--real",
     "does not apply to policy augment"),
    (["gaussian", "--fit", "mean", "--estimator", "unbiased"], "--estimator",
     "only the mean is fitted"),
    (["gaussian", "--fit", "variance"], "--fit", "must be one of mean-var, mean"),
    (["gaussian", "--policy", "augment", "--real-weight", "0.5", "--estimator", "unbiased"],
     "--estimator", "must be mle"),
    (["gmm", "--policy", "augment", "--real-weight", "0.5", "--init", "kmeans"], "--init",
     "must be warm"),
    (["gmm", "--policy", "augment", "--real-weight", "0.5", "--backend", "sklearn"],
     "--backend", "must be numba"),
]


@pytest.mark.parametrize(("argv", "flag", "message"), BAD_INPUTS,
                         ids=[" ".join(a) for a, _, _ in BAD_INPUTS])
def test_bad_input_is_one_line_naming_the_option_exit_2_and_nothing_written(tmp_path, argv,
                                                                             flag, message):
    status, out, err = run("run", *argv, *SMALL, "--out", "out", cwd=tmp_path)
    assert status == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"modelcollapse run: error: {flag} "), lines[0]
    assert message in lines[0]
    assert "Traceback" not in err and not out
    assert list(tmp_path.iterdir()) == []  # no out/, no runs/, no partial folder


def test_a_bad_value_in_a_config_file_names_the_key_and_the_file(tmp_path):
    (tmp_path / "bad.toml").write_text('family = "coin"\npolicy = "mix"\nreal = 0.5\n'
                                       "real_weight = 2\n")
    status, _, err = run("run", "--config", "bad.toml", *SMALL, "--out", "out", cwd=tmp_path)
    assert status == 2
    assert err.strip() == ("modelcollapse run: error: real-weight (in bad.toml) must be a "
                           "number between 0 and 1 (got 2.0)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# -- TOML files -----------------------------------------------------------------------------


def _run_config(tmp_path: Path, text: str, *flags: str) -> tuple[mc.RunConfig, str]:
    (tmp_path / "exp.toml").write_text(textwrap.dedent(text))
    status, out, err = run("run", "--config", "exp.toml", "--samples", "20", "--generations",
                           "3", "--replicates", "4", "--seed", "1", "--no-plots", *flags,
                           "--out", "out", cwd=tmp_path)
    assert status == 0, err
    return mc.load(tmp_path / "out").config, out


@pytest.mark.parametrize("key", ["real-weight", "real_weight"])
def test_coin_temperature_and_real_weight_from_a_file(tmp_path, key):
    config, _ = _run_config(tmp_path, f"""
        family = "coin"
        p0 = 0.3
        temperature = 0.8
        policy = "mix"
        real = 0.5
        {key} = 0.618
        """)
    assert config.model.temperature == 0.8 and config.model.real_weight == 0.618
    assert config.data_policy.name == "mix" and config.data_policy.real == 0.5


@pytest.mark.parametrize(("scale", "weight"), [("sampling-scale", "real-weight"),
                                               ("sampling_scale", "real_weight")])
def test_gaussian_settings_and_augment_from_a_file(tmp_path, scale, weight):
    config, _ = _run_config(tmp_path, f"""
        family = "gaussian"
        {scale} = 0.9
        {weight} = 0.3
        fit = "mean"
        policy = "augment"
        synthetic = 2
        """)
    model = config.model
    assert (model.sampling_scale, model.real_weight, model.refit) == (0.9, 0.3, "mean")
    assert config.data_policy.name == "augment" and config.data_policy.synthetic == 2.0


def test_categorical_and_gmm_settings_from_a_file(tmp_path):
    config, _ = _run_config(tmp_path, """
        family = "categorical"
        vocab = 8
        temperature = 1.25
        real_weight = 0.4
        policy = "accumulate"
        """)
    assert config.model.temperature == 1.25 and config.model.real_weight == 0.4
    (tmp_path / "out").rename(tmp_path / "first")
    config, _ = _run_config(tmp_path, """
        family = "gmm"
        sampling-scale = 1.1
        """, "--samples", "40")
    assert config.model.sampling_scale == 1.1 and config.n_samples == 40


def test_flags_override_the_file(tmp_path):
    config, _ = _run_config(tmp_path, """
        family = "coin"
        temperature = 0.8
        real-weight = 0.3
        policy = "augment"
        synthetic = 2
        """, "--temperature", "1.25", "--real-weight", "0.618", "--synthetic", "0.5")
    assert config.model.temperature == 1.25 and config.model.real_weight == 0.618
    assert config.data_policy.name == "augment" and config.data_policy.synthetic == 0.5
    (tmp_path / "out").rename(tmp_path / "first")
    config, _ = _run_config(tmp_path, """
        family = "gaussian"
        sampling_scale = 0.9
        fit = "mean"
        policy = "augment"
        """, "--sampling-scale", "1.1", "--fit", "mean-var", "--policy", "mix", "--real", "0.5")
    assert config.model.sampling_scale == 1.1 and config.model.refit == "mean-var"
    assert config.data_policy.name == "mix" and config.data_policy.real == 0.5


# -- sweeps: the reproducibility guarantee --------------------------------------------------

SWEEPS = {
    "coin-temperature": """
        [experiment]
        family = "coin"
        p0 = 0.3
        samples = 10
        generations = 15
        replicates = 40
        seed = 5

        [grid]
        temperature = [0.8, 1.25]
        """,
    "gaussian-scale-weight": """
        [experiment]
        family = "gaussian"
        samples = 20
        generations = 8
        replicates = 30
        policy = "mix"
        real = 0.5
        seed = 6

        [grid]
        sampling-scale = [0.9, 1.1]
        real-weight = [0.3, 0.618]
        """,
    "gaussian-policy": """
        [experiment]
        family = "gaussian"
        samples = 20
        generations = 8
        replicates = 30
        seed = 7

        [grid]
        policy = ["mix", "augment"]
        synthetic = [0.5, 2.0]
        """,
}

#: Cells each sweep runs, and combinations it skips (mix with synthetic 2 > 1).
SWEEP_CELLS = {"coin-temperature": (2, 0), "gaussian-scale-weight": (4, 0),
               "gaussian-policy": (3, 1)}


def _flags(settings: dict[str, Any]) -> list[str]:
    """Command-line flags for option values (the family as the positional argument)."""
    flags = [str(settings["family"])]
    for key, value in settings.items():
        if key != "family":
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


@pytest.mark.parametrize("name", list(SWEEPS))
def test_a_sweeps_cells_are_the_runs_with_the_same_settings(tmp_path, name):
    (tmp_path / "sweep.toml").write_text(textwrap.dedent(SWEEPS[name]))
    status, out, err = run("sweep", "sweep.toml", "--workers", "1", "--no-plots",
                           "--no-progress", "--out", "sw", cwd=tmp_path)
    assert status == 0, err
    result = mc.load(tmp_path / "sw")
    assert isinstance(result, mc.SweepResult) and result.complete
    cells, skipped = SWEEP_CELLS[name]
    assert len(result.manifest["cells"]) == cells and len(result.skipped) == skipped
    assert f"{cells} cells of sweep sweep:" in out
    if skipped:  # mix takes fractions: synthetic = 2 is refused there, accepted by augment
        assert result.skipped[0]["values"] == {"policy": "mix", "synthetic": 2.0}
        assert result.skipped[0]["reason"].startswith("synthetic must be a number between 0")
    experiment = tomllib.loads(textwrap.dedent(SWEEPS[name]))["experiment"]
    for cell in result.manifest["cells"]:
        settings = {**experiment, **cell["values"]}
        folder = f"run-{cell['index']}"
        status, _, err = run("run", *_flags(settings), "--no-plots", "--out", folder,
                             cwd=tmp_path)
        assert status == 0, err
        single = mc.load(tmp_path / folder)
        assert single.config == result.config(cell["id"])
        pd.testing.assert_frame_equal(metrics_table(result.metrics_of(cell["id"])),
                                      metrics_table(single.metrics), check_dtype=False)


# -- manifests, descriptions, the printed summary -------------------------------------------

SETTINGS = {
    "coin-temperature": (["coin", "--p0", "0.3", "--temperature", "0.8"],
                         ["sampled at temperature 0.8"]),
    "coin-weighted": (["coin", "--real-weight", "0.618", "--policy", "mix", "--real", "0.5"],
                      ["real data weighted 0.618"]),
    "categorical": (["categorical", "--vocab", "8", "--temperature", "1.25", "--real-weight",
                     "0.4", "--policy", "augment", "--synthetic", "0.5"],
                    ["sampled at temperature 1.25", "real data weighted 0.4", "augment",
                     "λ = 0.5"]),
    "gaussian": (["gaussian", "--sampling-scale", "0.9", "--real-weight", "0.618", "--fit",
                  "mean", "--policy", "augment", "--synthetic", "2"],
                 ["sd × 0.9", "real data weighted 0.618", "mean-only fit", "augment", "λ = 2"]),
    "gmm": (["gmm", "--sampling-scale", "1.1", "--real-weight", "0.5", "--policy", "mix",
             "--real", "0.3"], ["sd × 1.1", "real data weighted 0.5"]),
}

#: Each run's new settings as its manifest must record them.
RECORDED = {
    "coin-temperature": ({"temperature": 0.8}, {"name": "replace"}),
    "coin-weighted": ({"real_weight": 0.618}, {"name": "mix", "real": 0.5}),
    "categorical": ({"temperature": 1.25, "real_weight": 0.4},
                    {"name": "augment", "synthetic": 0.5}),
    "gaussian": ({"sampling_scale": 0.9, "real_weight": 0.618, "refit": "mean"},
                 {"name": "augment", "synthetic": 2.0}),
    "gmm": ({"sampling_scale": 1.1, "real_weight": 0.5}, {"name": "mix", "real": 0.3}),
}


#: The new family options at their defaults, where each switches its feature off.
NEUTRAL = {"temperature": 1.0, "sampling_scale": 1.0, "real_weight": None, "refit": "mean-var"}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_manifest_records_the_settings_and_round_trips(tmp_path, name):
    argv, words = SETTINGS[name]
    samples = "40" if name == "gmm" else "20"
    status, out, err = run("run", *argv, "--samples", samples, "--generations", "3",
                           "--replicates", "4", "--seed", "2", "--no-plots", "--out", "out",
                           cwd=tmp_path)
    assert status == 0, err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    family, policy = RECORDED[name]
    assert family.items() <= manifest["config"]["family"].items()
    assert policy.items() <= manifest["config"]["policy"].items()
    for key, default in NEUTRAL.items():  # a new option at its default: absent or the default
        if key not in family:
            assert manifest["config"]["family"].get(key, default) == default
    config = mc.RunConfig.from_dict(manifest["config"])
    for key, value in family.items():
        assert getattr(config.model, key) == value
    assert config == mc.load(tmp_path / "out").config
    assert config.to_dict() == manifest["config"]
    assert mc.RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    description = config.describe()
    for word in words:
        assert word in description, description
    assert out.splitlines()[0].endswith(description)  # the summary's first line says it
    if name == "coin-temperature":  # a setting left at its default says nothing
        assert "weighted" not in description


def test_settings_left_at_their_defaults_are_not_described():
    for family in ("coin", "categorical", "gaussian", "gmm"):
        description = mc.RunConfig(family).describe()
        for word in ("temperature", "weighted", "sd ×", "mean-only"):
            assert word not in description, description


# -- the report's theory overlays -----------------------------------------------------------

REPORTS = {
    "coin-temperature": ["coin", "--p0", "0.3", "--temperature", "0.8", "--samples", "10"],
    "coin-weighted": ["coin", "--p0", "0.3", "--real-weight", "0.618", "--policy", "mix",
                      "--real", "0.5", "--samples", "10"],
    "categorical-temperature": ["categorical", "--vocab", "8", "--temperature", "1.25",
                                "--samples", "50"],
    "categorical-weighted": ["categorical", "--vocab", "8", "--real-weight", "0.4",
                             "--policy", "augment", "--synthetic", "0.5", "--samples", "50"],
    "gaussian-scale": ["gaussian", "--sampling-scale", "0.9", "--policy", "mix", "--real",
                       "0.2", "--samples", "20"],
    "gaussian-augment": ["gaussian", "--policy", "augment", "--synthetic", "2", "--samples",
                         "20"],
    "gaussian-weighted-mean": ["gaussian", "--fit", "mean", "--real-weight", "0.618",
                               "--policy", "mix", "--real", "0.5", "--samples", "20"],
    "gmm-weighted": ["gmm", "--real-weight", "0.5", "--policy", "mix", "--real", "0.3",
                     "--samples", "40"],
    "gmm-scale": ["gmm", "--sampling-scale", "0.9", "--samples", "40"],
}


def _figures(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="mc-figures">(.*?)</script>', html,
                      re.S)
    assert match, "no figure data in the page"
    return json.loads(match.group(1))


def _decode(spec: Any) -> np.ndarray:
    """A Plotly typed-array spec (or a plain list) as an array."""
    if isinstance(spec, list):
        return np.asarray(spec, dtype=float)
    dtype = {"f8": "<f8", "f4": "<f4", "i4": "<i4", "i2": "<i2", "i1": "<i1"}[spec["dtype"]]
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)
    if "shape" in spec:
        array = array.reshape([int(n) for n in spec["shape"].split(",")])
    return array


def _traces(figure: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [t for t in figure["data"] if t.get("name") == name]


@pytest.mark.parametrize("name", list(REPORTS))
def test_the_report_draws_predicts_curves(tmp_path, name):
    pytest.importorskip("plotly")
    status, out, err = run("run", *REPORTS[name], "--generations", "6", "--replicates", "6",
                           "--seed", "3", "--no-plots", "--report", "--out", "out",
                           cwd=tmp_path)
    assert status == 0, err
    assert f"report: {Path('out') / 'report.html'}" in out
    figures = _figures((tmp_path / "out" / "report.html").read_text())
    config = mc.load(tmp_path / "out").config
    exact = mc.predict(config)
    if name == "gmm-scale":  # theory knows nothing here, and the page says nothing exact
        assert not exact.curves and exact.notes
        assert not any(t.get("name", "").startswith("exact") for f in figures.values()
                       for t in f["data"])
        return
    assert exact.curves, exact.notes
    for metric, curves in exact.curves.items():
        figure = figures[f"metric-{metric}"]
        for curve in curves:
            found = _traces(figure, curve.label)
            assert found, (metric, curve.label, [t.get("name") for t in figure["data"]])
            t = _decode(found[0]["x"]).astype(int)
            np.testing.assert_allclose(_decode(found[0]["y"]), curve.values[t], rtol=1e-6)
    if exact.absorbed is not None:
        found = _traces(figures["coin-absorbed"], exact.absorbed.label)
        assert found
        t = _decode(found[0]["x"]).astype(int)
        np.testing.assert_allclose(_decode(found[0]["y"]), exact.absorbed.values[t], rtol=1e-6)


# -- verify's cases for these settings fail on planted bugs ---------------------------------


def _inverted_temperature(self, params):
    """Bug: the coin sampled at 1/τ instead of τ."""
    from modelcollapse.families.discrete import tempered

    p = np.asarray(params, dtype=float)
    return tempered(np.stack([1.0 - p, p], axis=-1), 1.0 / self.temperature)[..., 1]


def _fresh_real_set(self, state, *, draw_model, draw_truth, n_samples, rng):
    """Bug: augment draws a fresh real set every generation instead of keeping the first."""
    from modelcollapse.training_sets import concat

    return concat([draw_truth(n_samples), draw_model(self.n_synthetic(n_samples))]), state


def _swapped_sample_weights(is_real, real_weight):
    """Bug: each real sample gets the synthetic part's weight and vice versa."""
    from modelcollapse.training_sets import sample_weights

    return sample_weights(is_real, 1.0 - real_weight)


PLANTED = [
    ("coin-temperature-mix", mc.Coin, "sampling_params", _inverted_temperature, "E p_"),
    # theory's answer at τ = 1 (p0) where the tempered chain was asked
    ("coin-temperature-replace-0.8", theory, "coin_fixation_probability_chain",
     lambda p0, k, temperature=1.0: p0, "P(fixed at 1)"),
    ("gaussian-augment-0.5", Augment, "next_training_set", _fresh_real_set, "m̄_real"),
    ("gaussian-weighted-mean-0.3", gaussian_family, "sample_weights", _swapped_sample_weights,
     "Var mean_"),
]


@pytest.mark.parametrize(("case", "target", "attribute", "bug", "check"), PLANTED,
                         ids=[p[0] for p in PLANTED])
def test_a_planted_bug_fails_its_verify_case(tmp_path, monkeypatch, case, target, attribute,
                                             bug, check):
    from modelcollapse.studies import verify
    from modelcollapse.studies.verify import cases, driver

    only = [c for c in verify.CASES if c.name == case]
    assert only, case
    for module in (verify, cases, driver):
        monkeypatch.setattr(module, "CASES", only)
    monkeypatch.setattr(target, attribute, bug)
    status, out, _ = run("verify", "--quick", "--no-plots", "--out", "v", cwd=tmp_path)
    assert status == 1, out
    failing = [line for line in out.splitlines() if line.endswith("FAIL")]
    assert failing and any(check in line for line in failing), out
