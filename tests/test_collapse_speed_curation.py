"""``collapse-speed curation``: curation strength × fresh real data, its table, figure and command.

The study's small mode (``quick=True``) runs every family in seconds; the statistical checks use
tolerances z·SE with z from α = 1e-3, Bonferroni-corrected over the comparisons of a test.
"""

from __future__ import annotations

import csv
import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats

import modelcollapse as mc
from modelcollapse.cli import main
from modelcollapse.runner.blocks import simulate_arrays
from modelcollapse.studies import collapse_speed as cs
from modelcollapse.studies.collapse_speed import curation as study

SEED = 11
#: Cells per family with the default settings: K = 1, 2, 4, 16, verifier s = 1, 2, top q = 0.5,
#: each with and without real data.
STRENGTHS = [("none", 1.0), ("best-of", 2.0), ("best-of", 4.0), ("best-of", 16.0),
             ("verifier", 1.0), ("verifier", 2.0), ("top", 0.5)]


def z_crit(comparisons: int) -> float:
    """Two-sided z for α = 1e-3, Bonferroni-corrected."""
    return float(stats.norm.isf(1e-3 / (2 * comparisons)))


@pytest.fixture(scope="module")
def quick() -> cs.CurationSpeed:
    return cs.curation_speed(quick=True, seed=SEED)


def test_the_small_study_has_every_cell_and_column(quick):
    assert [f.name for f in quick.families] == list(study.FAMILIES)
    rows = quick.table()
    assert len(rows) == len(study.FAMILIES) * len(STRENGTHS) * 2
    expected = {"family", "curation", "setting", "label", "real", "policy", "n_samples",
                "n_generations", "n_replicates", "reward_metric", "diversity_metric",
                "tail_metric", "reward_0", "reward_G", "reward_G_se", "diversity_G",
                "diversity_G_se", "tail_G", "tail_G_se", "accept_rate_G", "accept_rate_G_se",
                "reward_gain_G", "diversity_half_t", "tail_half_t"}
    assert all(set(row) == expected for row in rows)
    for family in study.FAMILIES:
        cells = {(r["curation"], r["setting"], r["real"]) for r in rows if r["family"] == family}
        assert cells == {(k, s, a) for k, s in STRENGTHS for a in (0.0, 0.1)}
    policies = {r["real"]: r["policy"] for r in rows}
    assert policies[0.0] == "replace" and policies[0.1].startswith("mix")
    curves = quick.curves()
    sizes = {f.name: f.n_generations + 1 for f in quick.families}
    assert len(curves) == sum(len(STRENGTHS) * 2 * n for n in sizes.values())
    assert quick.settings()["curate_ks"] == [1, 2, 4, 16]


def test_standard_errors_are_finite_and_positive_before_collapse(quick):
    for family in quick.families:
        for cell in family.cells:
            for measure in study.MEASURES:
                assert np.all(np.isfinite(cell.mean[measure])), (family.name, cell.label)
                assert np.all(np.isfinite(cell.se[measure]) & (cell.se[measure] >= 0))
            # Generation 2 is the first curated one: every model still differs between
            # replicates there (the coin's and the categorical's truth fixes generation 0).
            for measure in ("reward", "diversity"):
                assert cell.se[measure][2] > 0, (family.name, cell.label, measure)
            # Generation 0 is the truth in every replicate.
            assert cell.se["reward"][0] == pytest.approx(0, abs=1e-12)
            assert cell.mean["diversity"][0] == pytest.approx(1)
            accept = cell.mean["accept_rate"]
            assert np.all((accept > 0) & (accept <= 1))
            if cell.strength.kind in ("best-of", "top"):  # exactly 1/K and q
                share = 1 / cell.strength.setting if cell.strength.kind == "best-of" \
                    else cell.strength.setting
                np.testing.assert_allclose(accept[2:], share, rtol=1e-12)


def test_k_equal_1_is_the_uncurated_run_exactly(quick):
    for family in quick.families:
        setup = study.family_setup(family.name)
        config = mc.RunConfig(family=setup.family, reward=setup.reward,
                              n_samples=family.n_samples, n_generations=family.n_generations,
                              n_replicates=family.n_replicates, seed=SEED)
        plain = simulate_arrays(config).metrics
        truth = config.truth_metrics()
        cell = quick.cell(family.name, "none", 1.0, 0.0)
        values = study._measures(setup, plain, truth)
        for measure in ("reward", "diversity", "tail"):
            np.testing.assert_array_equal(cell.mean[measure], values[measure].mean(axis=0))


def test_the_coins_reward_rises_with_k_and_real_data_sets_a_floor(quick):
    coin = quick.family("coin")
    g = coin.n_generations
    ks = (1.0, 2.0, 4.0, 16.0)
    bound = z_crit(len(ks) - 1 + 2)
    for real in (0.0, 0.1):
        cells = [quick.cell("coin", "none" if k == 1 else "best-of", k, real) for k in ks]
        for low, high in itertools.pairwise(cells):
            gap = high.mean["reward"][g] - low.mean["reward"][g]
            se = math.hypot(high.se["reward"][g], low.se["reward"][g])
            assert gap > bound * se, (real, low.label, high.label)
    # With 10% fresh tosses, best-of 16 keeps more diversity and less reward than without.
    none, fresh = (quick.cell("coin", "best-of", 16.0, a) for a in (0.0, 0.1))
    for measure, sign in (("diversity", 1), ("reward", -1)):
        gap = sign * (fresh.mean[measure][g] - none.mean[measure][g])
        assert gap > bound * math.hypot(fresh.se[measure][g], none.se[measure][g]), measure
    # The fair coin's oracle verifier believes heads and tails alike: it accepts every toss.
    verifier = quick.cell("coin", "verifier", 2.0, 0.0)
    np.testing.assert_array_equal(verifier.mean["accept_rate"], 1.0)


def test_the_study_is_reproducible_and_validates_its_settings():
    first = cs.curation_speed(["coin"], quick=True, seed=5, verifier_strictnesses=(),
                              curate_keeps=())
    again = cs.curation_speed("coin", quick=True, seed=5, curate_ks=(16, 2, 4, 1),
                              verifier_strictnesses=[], curate_keeps=[])
    assert first.table() == again.table()
    assert [c.strength.kind for c in first.cells] == ["none", "best-of", "best-of", "best-of"] * 2
    for kwargs, message in [
        ({"families": ["coin", "gaussian"]}, r"^families must list names among coin, "),
        ({"families": []}, r"^families must list names among"),
        ({"curate_ks": (0,)}, r"^curate_ks must be an integer ≥ 1"),
        ({"curate_ks": (5000,)}, r"^curate_ks must be integers between 1 and 1000"),
        ({"verifier_strictnesses": (0.0,)}, r"^verifier_strictnesses must be numbers in"),
        ({"curate_keeps": (1.0,)}, r"^curate_keeps must be fractions in"),
        ({"real_fractions": (0.0, 1.0)}, r"^real_fractions must be a list of numbers in"),
        ({"n_generations": 1}, r"^n_generations must be an integer ≥ 2"),
        ({"n_replicates": 1}, r"^n_replicates must be an integer ≥ 2"),
    ]:
        with pytest.raises(mc.ConfigError, match=message):
            cs.curation_speed(**{"families": "coin", "quick": True, **kwargs})


def test_the_figure_has_a_row_per_family(quick):
    pytest.importorskip("matplotlib")
    from modelcollapse.plots.collapse_speed import speed_figure

    figure = speed_figure(quick)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert len(titles) == 3 * len(study.FAMILIES)
    assert titles[0].startswith("Coin: mean reward") and titles[-1].startswith("n-gram:")


# -- the command line -----------------------------------------------------------------------------


def test_cli_curation_writes_table_figure_and_manifest(tmp_path, capsys):
    out = tmp_path / "curation"
    status = main(["collapse-speed", "curation", "--quick", "--families", "coin,categorical",
                   "--seed", "3", "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "best-of K = 16" in printed and f"results: {out}" in printed
    assert {p.name for p in out.iterdir()} == {"collapse-speed.csv", "curves.csv",
                                               "collapse-speed.png", "manifest.json"}
    with (out / "collapse-speed.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(STRENGTHS) * 2
    assert {r["family"] for r in rows} == {"coin", "categorical"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["target"] == "curation"
    assert manifest["seed"] == 3 and len(manifest["runs"]) == len(rows)
    assert manifest["settings"]["verifier_strictnesses"] == [1.0, 2.0]
    assert manifest["argv"][:3] == ["modelcollapse", "collapse-speed", "curation"]
    assert (out / "collapse-speed.png").stat().st_size > 10_000
