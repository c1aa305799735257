"""One summary row per sweep cell: exact statistics of hand-made replicates, theory's columns
against an independent oracle, the Parquet round trip, and simulated cells against theory.

The statistical checks follow tests/test_statistical.py: each runs on the real code, where it must
pass, and with a planted bug (the usual ways of mishandling censored event times), where it must
fail. The comparison of simulated and exact mean event times is of ``E[T | T ≤ G]``: the checks
at ``G = 8`` for the coin, where most rollouts are still drifting, are what pin that down.
"""

from __future__ import annotations

import math
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import modelcollapse as mc
from harness import SEED
from modelcollapse import theory
from modelcollapse.checks import ALPHA, Check, critical_z
from modelcollapse.events import EVENTS
from modelcollapse.results.tables import replicate_columns, replicate_frame
from modelcollapse.sweeps import summary as sweep_summary
from modelcollapse.sweeps.summary import (
    cell_summary,
    censored_quantile,
    event_stats,
    exact_event_stats,
    metric_quantiles,
    summary_frame,
)

nan = math.nan


def coin_config(n_generations: int = 6, **kwargs) -> mc.RunConfig:
    return mc.RunConfig("coin", n_samples=10, n_generations=n_generations, n_replicates=5,
                        seed=1, **kwargs)


def hand_coin() -> dict[str, np.ndarray]:
    """Five rollouts: absorbed at t = 2 (at 1), 5 (at 0), 1 (at 1); two still drifting."""
    return {"replicate": np.arange(5, dtype=np.int32),
            "absorption_time": np.array([2.0, nan, 5.0, 1.0, nan]),
            "absorbed_at": np.array([1.0, nan, 0.0, 1.0, nan]),
            "final_p": np.array([1.0, 0.5, 0.0, 1.0, 0.3])}


def assert_clean(row: dict) -> None:
    """Every value a number or None: no NaN, no infinity."""
    for name, value in row.items():
        assert value is None or (isinstance(value, (int, float)) and math.isfinite(value)), \
            f"{name} = {value!r}"


# -- exact statistics of hand-made replicates -----------------------------------------------------


def test_hand_made_coin_cell():
    row = cell_summary(coin_config(), hand_coin())
    assert row["replicates"] == 5
    times = np.array([2.0, 5.0, 1.0])
    assert row["absorbed_by_end"] == pytest.approx(3 / 5)
    assert row["absorbed_by_end_se"] == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    assert row["absorption_time_mean"] == pytest.approx(8 / 3)
    assert row["absorption_time_se"] == pytest.approx(times.std(ddof=1) / math.sqrt(3))
    # Sorted, censored last: 1, 2, 5, >G, >G. Ranks ceil(qR): 1, 3, 5.
    assert row["absorption_time_q05"] == 1
    assert row["absorption_time_median"] == 5
    assert row["absorption_time_q95"] is None
    assert row["absorbed_at_1_by_end"] == pytest.approx(2 / 5)
    # Final p sorted 0, .3, .5, 1, 1: linear interpolation at positions .2, 2, 3.8.
    assert row["final_p_q05"] == pytest.approx(0.06)
    assert row["final_p_median"] == pytest.approx(0.5)
    assert row["final_p_q95"] == pytest.approx(1.0)
    p = hand_coin()["final_p"]
    assert row["final_p_mean"] == pytest.approx(p.mean())
    assert row["final_p_se"] == pytest.approx(p.std(ddof=1) / math.sqrt(5))
    assert row["final_p_exact"] == pytest.approx(0.5)  # E p_t = p0 under replace
    assert_clean(row)


def test_dataframe_from_parquet_gives_the_same_row(tmp_path):
    """Event times read back from Parquet are nullable Int64: same numbers as numpy columns."""
    columns = hand_coin()
    frame = replicate_frame(columns)
    assert str(frame["absorption_time"].dtype) == "Int64"
    frame.to_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    config = coin_config()
    assert cell_summary(config, back) == cell_summary(config, frame) == \
        cell_summary(config, columns)


def test_every_column_is_documented():
    row = cell_summary(coin_config(), hand_coin())
    doc = sweep_summary.__doc__
    for name in row:
        generic = (name.replace("final_p_", "final_<m>_").replace("absorption_", "<e>_")
                   .replace("absorbed_by", "<v>_by").replace("exact_absorption", "exact_<e>"))
        assert f"``{generic}``" in doc or f"``_{generic.rsplit('_', 1)[-1]}``" in doc, name


@pytest.mark.parametrize("q, expected", [(0.05, 1), (0.2, 1), (0.21, 2), (0.4, 2), (0.5, 5),
                                         (0.6, 5), (0.61, None), (0.95, None)])
def test_censored_quantile_is_the_inverse_of_the_empirical_cdf(q, expected):
    # F_R: 1/5 at t = 1, 2/5 at 2, 3/5 at 5; two replicates later than G.
    assert censored_quantile(np.array([1.0, 2.0, 5.0]), 5, q) == expected


def test_censored_quantile_is_not_fooled_by_rounding():
    # 0.05 × 100 and 0.95 × 100 must give ranks 5 and 95 exactly.
    times = np.arange(1.0, 101.0)
    assert censored_quantile(times, 100, 0.05) == 5
    assert censored_quantile(times, 100, 0.95) == 95
    assert censored_quantile(times, 100, 0.5) == 50


def test_metric_quantiles_match_numpy_and_keep_infinities_ordered():
    values = np.random.default_rng(3).normal(size=37)
    np.testing.assert_allclose(metric_quantiles(values), np.quantile(values, [0.05, 0.5, 0.95]))
    # kl of a point mass is infinite: quantiles among infinite values are inf, never NaN.
    q = metric_quantiles(np.array([0.0, 1.0, np.inf, np.inf]))
    assert q[0] == pytest.approx(0.15) and q[1] == math.inf and q[2] == math.inf
    assert metric_quantiles(np.array([])) == [None, None, None]


def test_exact_event_stats_from_a_hand_cdf():
    row = exact_event_stats("collapse", np.array([0.0, 0.2, 0.5, 0.7]))
    assert row["exact_collapsed_by_end"] == pytest.approx(0.7)
    # pmf .2, .3, .2 at t = 1, 2, 3: (0.2 + 0.6 + 0.6) / 0.7 = 2.
    assert row["exact_collapse_time_mean"] == pytest.approx(2.0)
    assert row["exact_collapse_time_median"] == 2
    short = exact_event_stats("collapse", np.array([0.0, 0.1, 0.3]))
    assert short["exact_collapse_time_mean"] == pytest.approx((0.1 + 2 * 0.2) / 0.3)
    assert short["exact_collapse_time_median"] is None
    never = exact_event_stats("collapse", np.zeros(4))
    assert never == {"exact_collapsed_by_end": 0.0, "exact_collapse_time_mean": None,
                     "exact_collapse_time_median": None}
    assert exact_event_stats("fixation", None) == dict.fromkeys(
        ["exact_fixed_by_end", "exact_fixation_time_mean", "exact_fixation_time_median"])


@pytest.mark.parametrize("n_generations", [3, 8, 200])
def test_exact_coin_columns_against_the_sparse_survival_oracle(n_generations):
    """prediction.absorbed (dense hitting chain) against theory.coin_absorption_time's cdf
    (sparse survival products): two algorithms, one law."""
    row = cell_summary(coin_config(n_generations), hand_coin())
    cdf = theory.coin_absorption_time(0.5, 10, horizon=n_generations).cdf
    t = np.arange(n_generations + 1)
    pmf = np.diff(cdf, prepend=0.0)
    assert row["exact_absorbed_by_end"] == pytest.approx(cdf[-1], rel=1e-9)
    assert row["exact_absorption_time_mean"] == pytest.approx(t @ pmf / cdf[-1], rel=1e-9)
    median = int(np.argmax(cdf >= 0.5)) if cdf[-1] >= 0.5 else None
    assert row["exact_absorption_time_median"] == median
    if n_generations == 200:  # P(T > 200) ≈ 1.5 e^{−20}: the conditional mean is E T
        assert row["exact_absorption_time_mean"] == pytest.approx(
            theory.coin_absorption_time(0.5, 10).mean, rel=1e-6)


# -- degenerate data ---------------------------------------------------------------------------


def test_everything_absorbed_at_the_first_generation():
    columns = hand_coin()
    columns["absorption_time"] = np.ones(5)
    columns["absorbed_at"] = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    row = cell_summary(coin_config(), columns)
    assert row["absorbed_by_end"] == 1.0 and row["absorbed_by_end_se"] == 0.0
    assert row["absorption_time_mean"] == 1.0 and row["absorption_time_se"] == 0.0
    assert row["absorption_time_q05"] == row["absorption_time_median"] == \
        row["absorption_time_q95"] == 1
    assert_clean(row)


def test_no_event_at_all():
    row = event_stats("collapse", np.full(7, nan))
    assert row["collapsed_by_end"] == 0.0 and row["collapsed_by_end_se"] == 0.0
    for name in ("time_mean", "time_se", "time_q05", "time_median", "time_q95"):
        assert row[f"collapse_{name}"] is None
    assert_clean(row)


def test_single_replicate():
    columns = {name: values[:1] for name, values in hand_coin().items()}
    row = cell_summary(coin_config(), columns)
    assert row["replicates"] == 1
    assert row["absorption_time_mean"] == 2.0 and row["absorption_time_se"] is None
    assert row["final_p_se"] is None and row["final_p_mean"] == 1.0
    assert row["absorption_time_median"] == 2
    assert_clean(row)


def test_no_replicates():
    columns = {name: values[:0] for name, values in hand_coin().items()}
    row = cell_summary(coin_config(), columns)
    assert row["replicates"] == 0
    assert row["absorbed_by_end"] is None and row["absorption_time_median"] is None
    assert row["absorbed_at_1_by_end"] is None and row["final_p_mean"] is None
    assert_clean(row)


def test_failing_theory_warns_and_leaves_exact_columns_empty(monkeypatch):
    def broken(config):
        raise RuntimeError("chain too large")

    monkeypatch.setattr("modelcollapse.theory.prediction.predict", broken)
    with pytest.warns(RuntimeWarning, match="chain too large"):
        row = cell_summary(coin_config(), hand_coin())
    assert row["final_p_exact"] is None and row["exact_absorbed_by_end"] is None
    assert row["absorption_time_mean"] == pytest.approx(8 / 3)


@pytest.mark.parametrize("family, sizes", [
    ("gaussian", dict(n_samples=5, n_generations=12)),
    ("gmm", dict(n_samples=60, n_generations=3)),
    ("categorical", dict(n_samples=20, n_generations=30)),
])
def test_other_families_give_clean_rows(family, sizes):
    config = mc.RunConfig(family, n_replicates=6, seed=2, **sizes)
    result = mc.simulate(config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = cell_summary(config, result.replicates)
    event, verb = {"gaussian": ("collapse", "collapsed"), "gmm": ("collapse", "collapsed"),
                   "categorical": ("fixation", "fixed")}[family]
    assert f"{verb}_by_end" in row and f"exact_{event}_time_mean" in row
    assert "absorbed_at_1_by_end" not in row
    for metric in config.model.key_metrics:
        assert f"final_{metric}_median" in row
    if family == "gmm":
        assert "final_std_1_q95" in row and row["exact_collapsed_by_end"] is None
    if family == "categorical":
        assert row["exact_fixed_by_end"] is None
        assert row["final_gini_simpson_exact"] is not None
    if family == "gaussian":
        assert row["exact_collapsed_by_end"] is not None
    assert_clean(row)


# -- the table of all cells ----------------------------------------------------------------------


def test_summary_frame_dtypes_and_parquet_round_trip(tmp_path):
    coin = dict(cell_summary(coin_config(), hand_coin()), cell=0, policy="replace", samples=10,
                real=0.0)
    none = {name: values[:0] for name, values in hand_coin().items()}
    empty = dict(cell_summary(coin_config(), none), cell=1, policy="mix", samples=20, real=0.25)
    frame = summary_frame([coin, empty])
    assert str(frame["replicates"].dtype) == "Int64"
    assert str(frame["absorption_time_q95"].dtype) == "Int64"  # all missing, still Int64
    assert str(frame["exact_absorption_time_median"].dtype) == "Int64"
    assert str(frame["absorption_time_mean"].dtype) == "Float64"
    assert str(frame["cell"].dtype) == "Int64" and str(frame["real"].dtype) == "Float64"
    assert str(frame["policy"].dtype) == "string"
    assert frame["absorption_time_mean"].isna().tolist() == [False, True]

    frame.to_parquet(tmp_path / "summary.parquet")
    table = pq.read_table(tmp_path / "summary.parquet")
    assert table.column("absorption_time_mean").null_count == 1  # null, not NaN
    assert table.column("absorption_time_q95").null_count == 2
    back = pd.read_parquet(tmp_path / "summary.parquet")
    pd.testing.assert_frame_equal(back, frame)


def test_summary_frame_unions_columns_and_types_grid_values():
    rows = [{"cell": 0, "collapsed_by_end": 0.5, "means": [-2.0, 2.0], "flag": True,
             "mixed": 1},
            {"cell": 1, "fixed_by_end": 0.25, "means": np.array([-3.0, 3.0]),
             "flag": None, "mixed": "a", "x": float("nan")}]
    frame = summary_frame(rows)
    assert list(frame.columns) == ["cell", "collapsed_by_end", "means", "flag", "mixed",
                                   "fixed_by_end", "x"]
    assert frame["collapsed_by_end"].isna().tolist() == [False, True]
    assert str(frame["flag"].dtype) == "boolean" and str(frame["mixed"].dtype) == "string"
    assert str(frame["x"].dtype) == "Float64" and frame["x"].isna().all()
    assert frame["means"][1] == [-3.0, 3.0]
    assert summary_frame([]).empty


# -- simulated cells against theory ---------------------------------------------------------------

#: Sub-checks in ``theory_checks`` (Bonferroni over all of them).
N_CHECKS = 7
Z = critical_z(ALPHA, N_CHECKS)
REPLICATES = 4000


@cache
def cell(family: str, n_samples: int, n_generations: int) -> tuple[mc.RunConfig, dict]:
    """A simulated cell's config and replicate columns (seeded; shared by the real and the
    planted-bug runs)."""
    config = mc.RunConfig(family, n_samples=n_samples, n_generations=n_generations,
                          n_replicates=REPLICATES, seed=SEED)
    result = mc.simulate(config)
    return config, replicate_columns(config, {m: result.trajectories(m)
                                              for m in result.metric_names})


def theory_checks(summarise=cell_summary) -> list[Check]:
    """Simulated fraction and conditional mean event time against exact, per cell.

    Coin k = 10 over 200 generations (all but about 1e-8 absorbed) and over 8 (57% still drifting);
    Gaussian N = 20 under replace over 6 generations (about half collapsed). ``summarise`` is
    the function under test (:func:`cell_summary`, or a copy with a planted bug).
    """
    checks = []
    for family, n, g, event in (("coin", 10, 200, "absorption"), ("coin", 10, 8, "absorption"),
                                ("gaussian", 20, 6, "collapse")):
        config, columns = cell(family, n, g)
        row = summarise(config, columns)
        name = f"{family} N={n} G={g}"
        checks.append(Check(f"{name} {event} time mean", row[f"{event}_time_mean"],
                            row[f"exact_{event}_time_mean"], row[f"{event}_time_se"], Z))
        # The score test's SE, from the exact p: the row's plug-in SE is 0 when every
        # replicate had the event (G = 200), which would fail on a 1e-8 difference.
        p = row[f"exact_{EVENTS[event].share_column}"]
        checks.append(Check(f"{name} {event} fraction", row[EVENTS[event].share_column], p,
                            math.sqrt(p * (1 - p) / REPLICATES), Z))
        if family == "coin" and g == 200:  # p0 = ½: half the absorbed rollouts end at 1
            p = row["exact_absorbed_by_end"] / 2
            checks.append(Check(f"{name} absorbed at 1", row["absorbed_at_1_by_end"], p,
                                math.sqrt(p * (1 - p) / REPLICATES), Z))
    return checks


def _event(row):
    return next(e for e in ("absorption", "collapse") if EVENTS[e].share_column in row)


def unconditional_exact_mean(config, columns):
    """Bug: theory's mean event time over all time, E T, beside the simulated E[T | T ≤ G]."""
    row = cell_summary(config, columns)
    facts = mc.predict(config).facts
    if "mean absorption time" in facts:
        row["exact_absorption_time_mean"] = facts["mean absorption time"]
    return row


def undivided_exact_mean(config, columns):
    """Bug: Σ_{t ≤ G} t P(T = t) = E[T; T ≤ G], not divided by P(T ≤ G)."""
    row = cell_summary(config, columns)
    event = _event(row)
    row[f"exact_{event}_time_mean"] *= row[f"exact_{EVENTS[event].share_column}"]
    return row


def censored_counted_as_horizon(config, columns):
    """Bug: a replicate without the event counted as having it at G (NaN filled with G)."""
    columns = dict(columns)
    for name in ("absorption_time", "collapse_time"):
        if name in columns:
            columns[name] = np.where(np.isnan(columns[name]), config.n_generations,
                                     columns[name])
    return cell_summary(config, columns)


PLANTED = {"unconditional exact mean": unconditional_exact_mean,
           "exact mean not divided by P(T <= G)": undivided_exact_mean,
           "censored counted as G": censored_counted_as_horizon}


def test_every_subcheck_is_counted():
    assert len(theory_checks()) == N_CHECKS


def test_simulated_cells_match_theory():
    checks = theory_checks()
    assert all(c.passed for c in checks), "\n".join(map(str, checks))


@pytest.mark.parametrize("bug", list(PLANTED))
def test_planted_bug_is_caught(bug):
    checks = theory_checks(PLANTED[bug])
    assert not all(c.passed for c in checks), "the planted bug went unnoticed:\n" + \
        "\n".join(map(str, checks))


def test_conditioning_matters_only_when_the_run_is_short():
    """The unconditional-mean bug is invisible at G = 200 (all but 1e-8 absorbed) and glaring at
    G = 8: the censored cell is what makes the comparison a test of the conditioning."""
    by_name = {c.name: c for c in theory_checks(unconditional_exact_mean)}
    assert by_name["coin N=10 G=200 absorption time mean"].passed
    assert not by_name["coin N=10 G=8 absorption time mean"].passed
