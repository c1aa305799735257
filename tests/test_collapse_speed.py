"""Collapse-speed comparisons: exact laws, small simulations against them, the command line."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse import statistics, theory
from modelcollapse.cli import main
from modelcollapse.studies import collapse_speed as cs
from modelcollapse.studies.collapse_speed import coin as coin_study


#: Two-sided z for α = 1e-3, Bonferroni-corrected over the comparisons of one test.
def z_crit(comparisons: int) -> float:
    return float(stats.norm.isf(1e-3 / (2 * comparisons)))


# -- exact laws ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("p0", "k"), [(0.5, 2), (0.5, 5), (0.5, 10), (0.3, 7), (0.9, 30)])
def test_exact_absorption_agrees_with_theory(p0, k):
    # Against the dense chain, propagated step by step (an independent computation of the law)
    # and the moments of that law summed directly.
    exact = coin_study.exact_absorption(p0, k)
    law = theory.coin_law(p0, k, exact.horizon)
    reference = np.concatenate([[0.0], law[:, 0] + law[:, k]])
    np.testing.assert_allclose(exact.cdf, reference, atol=1e-13)
    pmf = np.diff(reference)
    t = np.arange(1, exact.horizon + 1)
    # the table stops where P(T > t) ≤ 1e-6, so its truncated moments fall a little short
    assert exact.mean == pytest.approx(pmf @ t, rel=1e-4)
    assert exact.var == pytest.approx(pmf @ t**2 - (pmf @ t) ** 2, rel=1e-2)
    assert exact.survival[-1] <= coin_study.TAIL < exact.survival[-2]


def test_exact_absorption_known_values_and_edges():
    assert coin_study.exact_absorption(0.5, 10).mean == pytest.approx(12.5905, abs=5e-5)
    one = coin_study.exact_absorption(0.5, 1)  # a single toss is already 0 or 1
    assert (one.mean, one.var, one.horizon) == (1.0, 0.0, 1)
    assert coin_study.exact_absorption(0.0, 10).mean == 0.0
    # k = 2 from p0 = ½: absorbed each generation with probability ½, so T ~ Geometric(½).
    two = coin_study.exact_absorption(0.5, 2)
    assert (two.mean, two.var) == (pytest.approx(2.0), pytest.approx(2.0))
    np.testing.assert_allclose(two.survival, 0.5 ** np.arange(two.horizon + 1))


def test_diffusion_limit_is_close_to_the_chain_for_large_k():
    for p0 in (0.5, 0.2):
        exact = coin_study.exact_absorption(p0, 300)
        tau = np.arange(exact.horizon + 1) / 300
        # The diffusion limit misses the chain by O(1/k): about 0.004 at k = 300.
        assert np.max(np.abs(coin_study.diffusion_survival(p0, tau) - exact.survival)) < 0.01
    assert coin_study.diffusion_survival(0.5, np.array([0.0]))[0] == 1.0


def test_gaussian_collapse_law_has_the_expected_shape():
    law = theory.gaussian_collapse_time_cdf(100, 400)
    assert law[0] == 0.0 and np.all(np.diff(law) >= -1e-12) and law[-1] > 0.999
    # The first passage happens before E log var crosses log ½ (t = 35) in more than half the
    # replicates: the walk's fluctuations reach the barrier early.
    assert statistics.law_quantile(law, 0.5) < 35
    one = theory.gaussian_collapse_time_cdf(1, 5)  # one sample: the fitted variance is 0 at t = 1
    np.testing.assert_array_equal(one, [0, 1, 1, 1, 1, 1])


def test_gaussian_collapse_law_matches_simulation():
    n, g, r = 20, 150, 4000
    result = mc.simulate(mc.RunConfig(family=mc.Gaussian(), n_samples=n, n_generations=g,
                                      n_replicates=r, seed=11))
    times = result.replicates["collapse_time"].to_numpy(dtype=float, na_value=np.nan)
    law = theory.gaussian_collapse_time_cdf(n, g)
    distance = np.max(np.abs(statistics.empirical_cdf(times, g) - law))
    # Kolmogorov–Smirnov bound at α = 1e-3 (conservative for a discrete law).
    assert distance < 1.95 / math.sqrt(r), distance


def test_quantiles_treat_censored_as_later_than_everything():
    times = np.array([3.0, 1.0, np.nan, np.nan])
    assert statistics.censored_quantile(times, 0.25) == 1.0
    assert statistics.censored_quantile(times, 0.5) == 3.0
    assert math.isinf(statistics.censored_quantile(times, 0.75))
    assert statistics.law_quantile(np.array([0.0, 0.3, 0.6, 1.0]), 0.5) == 2.0
    assert math.isinf(statistics.law_quantile(np.array([0.0, 0.3]), 0.5))
    np.testing.assert_allclose(statistics.empirical_cdf(times, 4), [0, 0.25, 0.25, 0.5, 0.5])


# -- small simulations ----------------------------------------------------------------------------


def test_coin_speed_agrees_with_the_exact_chain():
    result = cs.coin_speed(ks=(1, 2, 5, 10), n_replicates=3000, seed=7)
    assert [row.k for row in result.rows] == [1, 2, 5, 10]
    bound = z_crit(3)
    for row in result.rows:
        assert row.censored == 0
        assert row.horizon == result.exact[row.k].horizon or row.k == 1
        assert abs(row.z) < bound, row
        assert row.diffusion == pytest.approx(theory.coin_absorption_time_diffusion(0.5, row.k))
    assert result.rows[0].mean == 1.0 and result.rows[0].z == 0.0
    assert result.rows[3].exact_mean == pytest.approx(12.5905, abs=5e-5)
    text = result.format()
    assert "exact (Markov)" in text and "12.59" in text and "13.86" in text


def test_coin_speed_is_reproducible():
    first = cs.coin_speed(ks=(3, 4), n_replicates=50, seed=5)
    again = cs.coin_speed(ks=(4, 3), n_replicates=50, seed=5)
    assert first.table() == again.table()


def test_variance_speed_gaussian_shows_theory_and_stationary_levels():
    n = 50
    result = cs.variance_speed("gaussian", real_fractions=(0.1, 0.0), n_samples=n,
                               n_generations=300, n_replicates=300, seed=3)
    replace, mixed = result.cells
    assert (replace.real, mixed.real) == (0.0, 0.1)
    assert isinstance(replace.policy, mc.Replace) and mixed.n_real == 5
    # Under replace: the exact collapse-time law, E log var's crossing, no stationary level.
    assert replace.stationary is None and replace.law is not None
    step = float(theory.gaussian_expected_log_var(1.0, n, 1))
    assert replace.log_crossing == math.floor(math.log(0.5) / step) + 1
    assert replace.collapsed > 0.95
    np.testing.assert_allclose(replace.exact_mean, ((n - 1) / n) ** np.arange(301))
    # With fresh data: the stationary level, equal to the recursion's limit, above ½.
    level = theory.gaussian_mix_stationary_var(1.0, n, 0.1)
    assert mixed.stationary == pytest.approx(level) and level > 0.5
    assert mixed.exact_mean[-1] == pytest.approx(level, rel=1e-9)
    assert mixed.law is None and mixed.log_crossing is None
    assert abs(mixed.mean[-1] - level) < z_crit(1) * mixed.se[-1]
    text = result.format()
    assert "no collapse in expectation" in text and f"{level:.3f}" in text
    assert "exact E log var crosses" in text
    rows = result.table()
    assert rows[1]["stationary_var"] == pytest.approx(level)
    assert rows[0]["exact_median"] == statistics.law_quantile(replace.law, 0.5)


def test_variance_speed_gmm_minimal():
    result = cs.variance_speed("gmm", real_fractions=(0.0, 0.5), n_samples=60, n_generations=3,
                               n_replicates=2, seed=1)
    assert result.var0 == pytest.approx(5.0)  # means ±2, unit variances, equal weights
    assert [c.quantiles.shape for c in result.cells] == [(5, 4), (5, 4)]
    assert result.cells[0].law is None and result.cells[0].log_crossing is None
    assert result.cells[1].stationary == pytest.approx(
        theory.gaussian_mix_stationary_var(1.0, 60, 0.5))


def test_settings_are_validated_with_named_fields():
    with pytest.raises(mc.ConfigError, match=r"^ks must be .* from 1 to 1000"):
        cs.coin_speed(ks=(0,))
    with pytest.raises(mc.ConfigError, match=r"^ks"):
        cs.coin_speed(ks=(2.5,))
    with pytest.raises(mc.ConfigError, match=r"^p0 must be a probability strictly"):
        cs.coin_speed(p0=1.0)
    with pytest.raises(mc.ConfigError, match=r"^real_fractions must be"):
        cs.variance_speed("gaussian", real_fractions=(0.1, 1.5))
    with pytest.raises(mc.ConfigError, match=r"^family must be gaussian or gmm"):
        cs.variance_speed("coin")
    with pytest.raises(mc.ConfigError, match=r"^collapse_fraction"):
        cs.variance_speed("gaussian", collapse_fraction=1.0)


# -- the command line -----------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_cli_coin_writes_table_figure_and_manifest(tmp_path):
    out = tmp_path / "coin"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "modelcollapse", "collapse-speed", "coin",
                           "--ks", "2,10", "--replicates", "300", "--seed", "4", "--out",
                           str(out)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "exact (Markov)" in done.stdout and f"results: {out}" in done.stdout
    assert {p.name for p in out.iterdir()} == {"collapse-speed.csv", "curves.csv",
                                               "collapse-speed.png", "manifest.json"}
    rows = _read_csv(out / "collapse-speed.csv")
    assert [int(r["k"]) for r in rows] == [2, 10]
    assert float(rows[1]["exact_mean"]) == pytest.approx(12.5905, abs=5e-5)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 4
    assert manifest["settings"]["ks"] == [2, 10] and len(manifest["runs"]) == 2
    assert manifest["argv"][:3] == ["modelcollapse", "collapse-speed", "coin"]
    assert (out / "collapse-speed.png").stat().st_size > 10_000


def test_cli_gaussian_in_process(tmp_path, capsys):
    out = tmp_path / "g"
    status = main(["collapse-speed", "gaussian", "--real-fractions", "0,0.5", "--samples", "30",
                   "--generations", "60", "--replicates", "40", "--seed", "2", "--out",
                   str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "no collapse in expectation" in printed and f"results: {out}" in printed
    assert (out / "collapse-speed.png").is_file()
    rows = _read_csv(out / "collapse-speed.csv")
    assert [float(r["real"]) for r in rows] == [0.0, 0.5]
    assert rows[0]["stationary_var"] == "" and float(rows[1]["stationary_var"]) > 0.5
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


@pytest.mark.parametrize(("args", "message"), [
    (["coin", "--ks", "0"], "--ks must be a comma-separated list of integers from 1 to 1000"),
    (["coin", "--ks", "2,x"], "--ks must be a comma-separated list of numbers"),
    (["coin", "--ks", "5000"], "--ks must be"),
    (["coin", "--p0", "1"], "--p0 must be a probability strictly between 0 and 1"),
    (["coin", "--samples", "10"], "--samples does not apply to collapse-speed coin"),
    (["coin", "--replicates", "1"], "--replicates must be an integer ≥ 2"),
    (["gaussian", "--real-fractions", "1.5"],
     "--real-fractions must be a comma-separated list of numbers from 0 to 1"),
    (["gaussian", "--real-fractions", "-0.1"], "--real-fractions must be"),
    (["gmm", "--ks", "3"], "--ks does not apply to collapse-speed gmm"),
    (["gaussian", "--collapse-fraction", "2"], "--collapse-fraction must be"),
    (["gaussian", "--generations", "0"], "--generations must be an integer ≥ 1"),
    # collapse-speed curation
    (["curation", "--curate-ks", "0"], "--curate-ks must be an integer ≥ 1"),
    (["curation", "--curate-ks", "2,x"], "--curate-ks must be a comma-separated list of numbers"),
    (["curation", "--families", "coin,foo"], "--families must list names among"),
    (["curation", "--curate-keeps", "1"], "--curate-keeps must be fractions in"),
    (["curation", "--verifier-strictnesses", "-1"], "--verifier-strictnesses must be numbers"),
    (["curation", "--real-fractions", "1"], "--real-fractions must be a list of numbers in"),
    (["curation", "--generations", "1"], "--generations must be an integer ≥ 2"),
    (["curation", "--ks", "3"], "--ks does not apply to collapse-speed curation"),
    (["curation", "--top-ps", "0.9"], "--top-ps does not apply to collapse-speed curation"),
    (["coin", "--curate-ks", "2"], "--curate-ks does not apply to collapse-speed coin"),
    (["gmm", "--quick"], "--quick does not apply to collapse-speed gmm"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status = main(["collapse-speed", *args, "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("modelcollapse collapse-speed: error: " + message), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_cli_refuses_unknown_target_and_a_used_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["collapse-speed", "categorical"])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err
    used = tmp_path / "used"
    used.mkdir()
    (used / "x.txt").write_text("keep")
    assert main(["collapse-speed", "coin", "--ks", "2", "--out", str(used)]) == 2
    assert "--out must be a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in used.iterdir()] == ["x.txt"]
