"""The scatter picture per generation: points kept by the loop, written, read back, drawn.

The families with points in the plane (kde, regression, mvgaussian, d-D gmm) implement
``Family.points``; here a small test-only family, a 2-D isotropic normal refitted by its mean and
pooled variance, stands in for them (registered only inside the tests that need a RunConfig), and
the 1-D Gaussian with ``points`` patched to ``(x, x²)`` exercises curation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.families import FAMILIES, Family, Gaussian
from modelcollapse.loop import (
    MAX_PICTURED,
    PICTURED_POINTS,
    pictured_generations,
    simulate_block,
)
from modelcollapse.results.tables import point_sets, points_table
from modelcollapse.training_sets import Samples
from modelcollapse.views.scatter import scatter_view

POLICIES = {"replace": {}, "accumulate": {}, "accumulate-subsample": {},
            "mix": {"real": 0.25, "synthetic": 0.5}, "augment": {"synthetic": 0.5}}


@dataclass(frozen=True)
class Plane(Family):
    """A 2-D isotropic normal ``N(0, σ² I)`` refitted by its mean and pooled MLE variance."""

    name: ClassVar[str] = "plane-test"
    default_run: ClassVar[Mapping[str, int]] = {"n_samples": 40, "n_generations": 12,
                                                "n_replicates": 4}
    key_metrics: ClassVar[tuple[str, ...]] = ("var",)

    std: float = 1.0

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (3,)

    def truth(self) -> np.ndarray:
        return np.array([0.0, 0.0, self.std**2])

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("mean_x", "mean_y", "var")

    @property
    def sample_width(self) -> int:
        return 2

    def sample(self, params, n, rng, *, stats):
        z = rng.standard_normal((params.shape[0], n, 2))
        return Samples(params[:, None, :2] + np.sqrt(params[:, 2])[:, None, None] * z)

    def fit(self, data, *, rng, previous):
        x = data.values
        mean = x.mean(axis=1)
        var = ((x - mean[:, None, :]) ** 2).mean(axis=(1, 2))
        return np.concatenate([mean, var[:, None]], axis=1), {}

    def metrics(self, params, info=None):
        return {"mean_x": params[..., 0], "mean_y": params[..., 1], "var": params[..., 2]}

    def points(self, data):
        return data.values[0] if isinstance(data, Samples) else None

    def describe(self) -> str:
        return f"2-D isotropic normal N(0, {self.std:g}² I) (test family)"


@dataclass(frozen=True)
class PlaneWithoutPoints(Plane):
    """The same family, keeping no points: its streams must be the same."""

    name: ClassVar[str] = "plane-test-blind"

    def points(self, data):
        return None


@pytest.fixture
def plane() -> Iterator[type[Plane]]:
    """``plane-test`` registered for the test only (RunConfig, manifests and load find it)."""
    FAMILIES._entries[Plane.name] = Plane
    try:
        yield Plane
    finally:
        FAMILIES._entries.pop(Plane.name, None)


def _block(family: Family, policy: str = "replace", **kw) -> mc.loop.BlockResult:
    settings = {"n_samples": 30, "n_generations": 12, "n_replicates": 3,
                "rng": np.random.default_rng(7), **kw}
    return simulate_block(family, mc.get_policy(policy, **POLICIES[policy]), **settings)


# -- which generations --------------------------------------------------------------------------


def test_pictured_generations_depend_on_G_alone_and_are_few():
    assert pictured_generations(0) == ()
    assert pictured_generations(1) == (0,)
    assert pictured_generations(12) == (0, 1, 2, 5, 10, 11)
    assert pictured_generations(100) == (0, 1, 2, 5, 10, 20, 50, 99)
    assert pictured_generations(2000) == (0, 1, 10, 100, 1000, 1999)
    for g in [*range(1, 300), 999, 1000, 1001, 10**5, 10**6, 10**7, 10**8, 10**9]:
        chosen = pictured_generations(g)
        assert 1 <= len(chosen) <= MAX_PICTURED, g
        assert chosen[0] == 0 and chosen[-1] == g - 1, g
        assert list(chosen) == sorted(set(chosen)), g
        assert chosen == pictured_generations(g)


# -- the loop keeps them without touching the streams ------------------------------------------


@pytest.mark.parametrize("policy", list(POLICIES))
def test_points_are_kept_at_the_pictured_generations_under_every_policy(policy):
    result = _block(Plane(), policy)
    assert sorted(result.points) == list(pictured_generations(12))
    assert result.points[0].shape == (30, 2)  # the truth's first training set
    for points in result.points.values():  # then model t's first sample (part of a set)
        assert points.shape[1] == 2 and 1 <= points.shape[0] <= 30
        assert points.dtype == float and np.isfinite(points).all()
    blind = _block(PlaneWithoutPoints(), policy)
    assert blind.points == {}
    for name, values in result.metrics.items():  # reading points draws no random numbers
        np.testing.assert_array_equal(values, blind.metrics[name], err_msg=f"{policy} {name}")
    np.testing.assert_array_equal(result.final_params, blind.final_params)


def test_the_points_are_those_the_next_model_is_fitted_to_under_replace():
    """Generation t's points are model t's first sample, the training set of model t + 1: its
    mean is model t + 1's fitted mean (replicate 0)."""
    result = _block(Plane(), n_samples=40)
    for t, points in result.points.items():
        np.testing.assert_allclose(points.mean(axis=0),
                                   [result.metrics["mean_x"][0, t + 1],
                                    result.metrics["mean_y"][0, t + 1]], rtol=1e-12, atol=1e-12)


def test_at_most_500_points_are_kept_and_they_are_copies():
    result = _block(Plane(), n_samples=1200, n_generations=3, n_replicates=1)
    assert sorted(result.points) == [0, 1, 2]
    assert all(p.shape == (PICTURED_POINTS, 2) for p in result.points.values())
    assert all(p.flags.owndata for p in result.points.values())


def test_points_of_the_wrong_shape_are_a_clear_error():
    @dataclass(frozen=True)
    class Wrong(Plane):
        name: ClassVar[str] = "plane-test-wrong"

        def points(self, data):
            return data.values[0, :, 0]

    with pytest.raises(ValueError, match=r"must return \[n, 2\] points"):
        _block(Wrong())


def test_curated_runs_keep_points_without_changing_their_streams(monkeypatch):
    """The 1-D Gaussian's raw samples as (x, x²) pairs, under best-of curation."""
    config = mc.RunConfig(Gaussian(shortcut=False), policy="replace", curation="best-of",
                          reward="truth", n_samples=25, n_generations=6, n_replicates=3, seed=3)
    plain = mc.simulate(config, workers=1)
    monkeypatch.setattr(Gaussian, "points", lambda self, data: np.stack(
        [data.values[0], data.values[0] ** 2], axis=1) if isinstance(data, Samples) else None)
    pictured = mc.simulate(config, workers=1)
    assert sorted(pictured.point_sets()) == list(pictured_generations(6))
    for t, xy in pictured.point_sets().items():
        np.testing.assert_array_equal(xy[:, 1], xy[:, 0] ** 2, err_msg=str(t))
    assert plain.point_sets() == {}
    for name in config.metric_names:
        np.testing.assert_array_equal(pictured.trajectories(name), plain.trajectories(name))


def test_only_the_first_block_keeps_points_and_trimming_keeps_them(plane):
    """Replicate 0 lives in block 0, whose points survive when a last block is trimmed."""
    from modelcollapse.runner.blocks import iter_blocks

    @dataclass(frozen=True)
    class Blocked(Plane):
        name: ClassVar[str] = "plane-test"

        def block_size(self, policy, n_samples):
            return 2

    config = mc.RunConfig(Blocked(), n_samples=20, n_generations=4, n_replicates=3, seed=5)
    blocks = list(iter_blocks(config, workers=1))
    assert [b.n_replicates for b in blocks] == [2, 1]
    assert sorted(blocks[0].result.points) == [0, 1, 2, 3]
    assert sorted(blocks[1].result.points) == [0, 1, 2, 3]  # trimmed, its replicate 0 kept


# -- written, recorded, read back ---------------------------------------------------------------


def test_the_points_table_round_trips():
    points = {0: np.arange(6.0).reshape(3, 2), 5: np.array([[np.inf, 1.0]]), 9: np.empty((0, 2))}
    table = points_table(points)
    assert table.column_names == ["replicate", "generation", "x", "y"]
    assert table["generation"].to_pylist() == [0, 0, 0, 5]
    back = point_sets(table)
    assert sorted(back) == [0, 5]
    np.testing.assert_array_equal(back[0], points[0])
    np.testing.assert_array_equal(back[5], points[5])
    assert point_sets(points_table({})) == {}


def test_a_run_folder_holds_points_parquet_and_load_reads_it(plane, tmp_path):
    config = mc.RunConfig("plane-test", n_samples=40, n_generations=12, n_replicates=3, seed=11)
    result = mc.run(config, out=tmp_path / "run", plots=True)
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["files"]["points"] == "points.parquet"
    assert "scatter.png" in manifest["files"]["figures"]
    assert (result.path / "scatter.png").stat().st_size > 10_000
    loaded = mc.load(result.path)
    table = loaded.points
    assert list(table.columns) == ["replicate", "generation", "x", "y"]
    assert set(table["replicate"]) == {0}
    assert sorted(set(table["generation"])) == list(pictured_generations(12))
    assert len(table) == 40 * len(pictured_generations(12))
    memory = mc.simulate(config, workers=1)
    for t, xy in memory.point_sets().items():  # the same numbers in memory and on disk
        np.testing.assert_array_equal(loaded.point_sets()[t], xy)


def test_a_family_without_points_writes_none(tmp_path):
    config = mc.RunConfig("gaussian", n_samples=20, n_generations=5, n_replicates=2, seed=1)
    result = mc.run(config, out=tmp_path / "run", plots=False)
    assert "points" not in result.manifest["files"]
    assert not (result.path / "points.parquet").exists()
    assert mc.load(result.path).points.empty
    assert mc.load(result.path).point_sets() == {}


# -- the picture and the report -----------------------------------------------------------------


def test_scatter_view_shares_limits_and_survives_degenerate_points():
    view = scatter_view({3: np.array([[1.0, 2.0], [np.nan, 0.0]]),
                         0: np.array([[-1.0, -2.0], [1.0, 2.0]])})
    assert view is not None
    assert view.generations == [0, 3]  # the truth's first
    assert view.dropped == 1
    assert view.x_range[0] < -1.0 and view.x_range[1] > 1.0
    assert "0 (the truth)" in view.title("kde") and "kde" in view.title("kde")
    collapsed = scatter_view({0: np.full((5, 2), 3.0), 1: np.full((5, 2), 3.0)})
    assert collapsed is not None and collapsed.x_range[0] < 3.0 < collapsed.x_range[1]
    nothing = scatter_view({0: np.full((2, 2), np.nan)})
    assert nothing is not None and nothing.x_range == (-1.0, 1.0)
    assert scatter_view({}) is None


def test_scatter_figure_has_a_panel_per_generation_with_shared_limits(plane):
    pytest.importorskip("matplotlib")
    from modelcollapse.plots.scatter import scatter_figure

    result = mc.simulate(mc.RunConfig("plane-test", n_samples=60, n_generations=30,
                                      n_replicates=2, seed=2), workers=1)
    fig = scatter_figure(result)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(pictured_generations(30))
    assert shown[0].get_title(loc="left").startswith("t = 0 · truth")
    assert len({ax.get_xlim() for ax in shown}) == 1 and len({ax.get_ylim() for ax in shown}) == 1
    assert all(len(ax.collections) == 1 for ax in shown)
    title = fig.texts[0].get_text()
    assert "plane-test" in title and "0 (the truth)" in title and "29" in title
    with pytest.raises(ValueError, match="no points"):
        scatter_figure(mc.simulate(mc.RunConfig("coin", n_generations=3, n_replicates=2,
                                                seed=1), workers=1))


def test_the_report_shows_the_scatter_section(plane, tmp_path):
    from modelcollapse.report.page import render
    from modelcollapse.report.run import run_page

    config = mc.RunConfig("plane-test", n_samples=40, n_generations=12, n_replicates=3, seed=4)
    folder = mc.run(config, out=tmp_path / "run", plots=False).path
    page = run_page(mc.load(folder), folder=folder)
    ids = [s.id for s in page.sections]
    assert "scatter" in ids and ids.index("scatter") < ids.index("metrics")
    chart = next(c for c in page.charts() if c.id == "scatter-points")
    data, layout = chart.figure["data"], chart.figure["layout"]
    assert len(data) == len(pictured_generations(12))
    assert [t["xaxis"] for t in data] == ["x", *(f"x{i}" for i in range(2, len(data) + 1))]
    assert layout["xaxis2"]["matches"] == "x" and layout["yaxis2"]["matches"] == "y"
    assert len({tuple(layout[k]["range"]) for k in layout if k.startswith("xaxis")}) == 1
    assert "points.parquet" in render(page, "")
    report = mc.write_report(folder)
    text = report.read_text()
    assert "Content-Security-Policy" in text and 'id="scatter-points"' in text
    files = next(s for s in page.sections if s.id == "files")
    assert any(row[0] == "points.parquet" for row in files.items[0].rows)


def test_families_without_points_get_no_scatter_section(tmp_path):
    from modelcollapse.report.run import run_page

    config = mc.RunConfig("coin", n_generations=4, n_replicates=2, seed=1)
    folder = mc.run(config, out=tmp_path / "run", plots=False).path
    assert "scatter" not in [s.id for s in run_page(mc.load(folder), folder=folder).sections]


def test_the_report_scatter_renders_in_a_browser(plane, tmp_path):
    pytest.importorskip("plotly")
    from browser import open_page, require_chromium, screenshot_path

    require_chromium()
    config = mc.RunConfig("plane-test", n_samples=80, n_generations=20, n_replicates=2, seed=9)
    folder = mc.run(config, out=tmp_path / "run", plots=False).path
    page = mc.write_report(folder)

    def count(live) -> dict:
        return {"traces": live.evaluate(
            "document.getElementById('scatter-points').data.length")}

    report = open_page(page, screenshot=screenshot_path(tmp_path, "report-scatter.png"),
                       inspect=count)
    report.assert_clean()
    report.assert_all_charts_drawn()
    assert report.inspected == {"traces": len(pictured_generations(20))}


def test_dataclass_replace_keeps_points():
    """BlockResult stays a plain frozen dataclass: points travel with replace()."""
    result = _block(Plane(), n_generations=2)
    again = dataclasses.replace(result, metrics={})
    assert again.points is result.points


def test_a_large_sample_is_pictured_evenly_not_by_its_first_points():
    """A mixture's sampler groups its draws by component: the first 500 of 1000 would all be
    component 0's. The kept points are spaced evenly through the sample instead."""
    from modelcollapse.loop import PICTURED_POINTS, spread_subset

    grouped = np.concatenate([np.full((600, 2), -2.0), np.full((400, 2), 2.0)])
    kept = spread_subset(grouped, PICTURED_POINTS)
    assert kept.shape == (PICTURED_POINTS, 2)
    assert abs((kept[:, 0] > 0).mean() - 0.4) < 0.01  # both blobs, in their proportions
    np.testing.assert_array_equal(spread_subset(grouped[:10], PICTURED_POINTS), grouped[:10])
