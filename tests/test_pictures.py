"""Pictures of generated samples: images kept by the loop, written, read back, drawn, reported.

The ``vae`` family implements ``Family.pictures``; these tests exercise the plumbing without it
(and without PyTorch): the 1-D Gaussian's ``pictures`` is patched to turn the first replicate's
first samples ``x_i`` of a raw training set into 2 × 3 images whose top-left pixel is
``σ(x_i) = 1 / (1 + e^(−x_i))`` (and the others that value times a fixed ramp), so every image
can be traced back to the sample it was made from.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.families import Gaussian
from modelcollapse.loop import PICTURED_IMAGES, pictured_generations, simulate_block
from modelcollapse.results.tables import picture_sets, pictures_table
from modelcollapse.training_sets import Samples

#: The ramp that fills an image from its top-left pixel (1 there, falling to 1/6).
RAMP = 1.0 - np.arange(6.0).reshape(2, 3) / 6.0


def sample_pictures(self, data):
    """The first (at most 16) samples of replicate 0 as 2 × 3 images; ``None`` for moments."""
    if not isinstance(data, Samples):
        return None
    x = data.values[0, :PICTURED_IMAGES]
    return (1.0 / (1.0 + np.exp(-x)))[:, None, None] * RAMP


def sample_values(images: np.ndarray) -> np.ndarray:
    """The samples ``x_i`` the images were made from (the logit of the top-left pixel)."""
    p = images[:, 0, 0].astype(float)
    return np.log(p / (1.0 - p))


@pytest.fixture
def pictured(monkeypatch):
    monkeypatch.setattr(Gaussian, "pictures", sample_pictures)


def _config(**kw) -> mc.RunConfig:
    settings = {"family": Gaussian(shortcut=False), "n_samples": 8, "n_generations": 12,
                "n_replicates": 3, "seed": 5, **kw}
    return mc.RunConfig(**settings)


def _block(family=None, policy="replace", **kw) -> mc.loop.BlockResult:
    settings = {"n_samples": 8, "n_generations": 12, "n_replicates": 3,
                "rng": np.random.default_rng(7), **kw}
    return simulate_block(family or Gaussian(shortcut=False), mc.get_policy(policy),
                          **settings)


# -- the loop keeps them ------------------------------------------------------------------------


def misfits(pictures: dict[int, np.ndarray], mean: np.ndarray) -> list[int]:
    """The pictured generations t whose images' values do not average to ``mean[t + 1]``."""
    return [t for t, images in pictures.items()
            if abs(sample_values(images).mean() - mean[t + 1]) > 1e-5]


def test_pictures_are_the_samples_each_next_model_is_fitted_to(pictured):
    """Kept at exactly the pictured generations; generation t's are the first sample drawn from
    model t (the truth's at t = 0), the training set of model t + 1 under replace: with N = 8
    images, all of it, so their values' mean is model t + 1's fitted mean (replicate 0)."""
    result = _block()
    assert sorted(result.pictures) == list(pictured_generations(12))
    for images in result.pictures.values():
        assert images.shape == (8, 2, 3) and images.dtype == np.float32
        assert images.flags.owndata
        np.testing.assert_allclose(images, images[:, :1, :1] * RAMP, rtol=1e-6)
    assert misfits(result.pictures, result.metrics["mean"][0]) == []


def test_the_check_fails_on_planted_bugs(pictured, monkeypatch):
    """The check above has teeth. Pictures of model t's training set instead of its sample
    (under replace, model t − 1's sample, whose mean is model t's: the same as checking against
    the wrong generation), and pictures of replicate 1 instead of 0, are caught."""
    result = _block()
    mean = result.metrics["mean"][0]
    model_t = np.concatenate([[np.nan], mean[:-1]])  # model_t[t + 1] = model t's mean
    assert misfits(result.pictures, model_t) == list(result.pictures)
    monkeypatch.setattr(Gaussian, "pictures", lambda self, data: sample_pictures(
        self, Samples(data.values[1:])) if isinstance(data, Samples) else None)
    other = _block()
    assert misfits(other.pictures, other.metrics["mean"][0]) == list(other.pictures)


@pytest.mark.parametrize("policy", ["replace", "mix", "accumulate", "accumulate-subsample"])
def test_reading_pictures_draws_no_random_numbers(monkeypatch, policy):
    plain = _block(policy=policy)
    assert plain.pictures == {}
    monkeypatch.setattr(Gaussian, "pictures", sample_pictures)
    kept = _block(policy=policy)
    assert sorted(kept.pictures) == list(pictured_generations(12))
    for name, values in plain.metrics.items():
        np.testing.assert_array_equal(kept.metrics[name], values, err_msg=f"{policy} {name}")
    np.testing.assert_array_equal(kept.final_params, plain.final_params)


def test_curated_runs_keep_pictures_without_changing_their_numbers(monkeypatch):
    config = _config(curation="best-of", reward="truth", n_generations=6)
    plain = mc.simulate(config, workers=1)
    monkeypatch.setattr(Gaussian, "pictures", sample_pictures)
    kept = mc.simulate(config, workers=1)
    assert plain.pictures() == {}
    assert sorted(kept.pictures()) == list(pictured_generations(6))
    for name in config.metric_names:
        np.testing.assert_array_equal(kept.trajectories(name), plain.trajectories(name))


def test_sufficient_statistics_have_no_pictures(pictured):
    assert _block(Gaussian(shortcut=True)).pictures == {}


def test_pictures_of_the_wrong_shape_or_range_are_a_clear_error(monkeypatch):
    def returning(images):
        monkeypatch.setattr(Gaussian, "pictures", lambda self, data: images)

    for bad in (np.zeros((4, 9)), np.zeros((4, 2, 3, 1)), np.zeros((PICTURED_IMAGES + 1, 2, 2)),
                np.zeros((3, 0, 2))):
        returning(bad)
        with pytest.raises(ValueError, match=r"gaussian\.pictures\(\) must return images "
                                             r"\[m, h, w\] with m ≤ 16, not an array of shape"):
            _block()
    returning(np.full((3, 2, 2), 16.0))  # grey levels 0..16, not scaled into [0, 1]
    with pytest.raises(ValueError, match=r"must return pixels in \[0, 1\], not values from 16"):
        _block()
    returning(np.full((3, 2, 2), np.nan))  # a model that blew up: an outcome, kept
    assert all(np.isnan(p).all() for p in _block().pictures.values())
    returning(np.zeros((0, 2, 2)))  # an empty sample: nothing to keep
    assert _block().pictures == {}


def test_trimming_the_last_block_keeps_its_pictures(pictured, monkeypatch):
    from modelcollapse.runner.blocks import iter_blocks

    monkeypatch.setattr(Gaussian, "block_size", lambda self, policy, n: 2)
    blocks = list(iter_blocks(_config(n_generations=4), workers=1))
    assert [b.n_replicates for b in blocks] == [2, 1]
    assert all(sorted(b.result.pictures) == [0, 1, 2, 3] for b in blocks)
    again = dataclasses.replace(blocks[0].result, metrics={})
    assert again.pictures is blocks[0].result.pictures


# -- written, recorded, read back ---------------------------------------------------------------


def test_the_pictures_table_round_trips():
    pictures = {5: np.arange(12, dtype=np.float32).reshape(2, 2, 3) / 12,
                0: np.array([[[np.nan, 1.0], [0.0, np.inf]]], dtype=np.float32),
                9: np.full((3, 4, 1), 0.5, dtype=np.float32)}
    table = pictures_table(pictures)
    assert table.column_names == ["replicate", "generation", "index", "height", "width",
                                  "pixels"]
    assert table["generation"].to_pylist() == [0, 5, 5, 9, 9, 9]
    assert table["index"].to_pylist() == [0, 0, 1, 0, 1, 2]
    assert table["pixels"].to_pylist()[1] == pytest.approx([0, 1 / 12, 2 / 12, 3 / 12, 4 / 12,
                                                              5 / 12])
    back = picture_sets(table[::-1])  # the row order does not matter
    assert sorted(back) == [0, 5, 9]
    for t, images in pictures.items():
        assert back[t].dtype == np.float32
        np.testing.assert_array_equal(back[t], images)
    assert picture_sets(pictures_table({})) == {}


def test_in_memory_and_on_disk_pictures_are_equal_and_recorded(pictured, tmp_path):
    config = _config()
    memory = mc.simulate(config, workers=1)
    result = mc.run(config, out=tmp_path / "run", plots=True)
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["files"]["pictures"] == "pictures.parquet"
    assert "samples.png" in manifest["files"]["figures"]
    assert (result.path / "samples.png").stat().st_size > 10_000
    loaded = mc.load(result.path).pictures()
    assert sorted(loaded) == sorted(memory.pictures()) == list(pictured_generations(12))
    for t, images in memory.pictures().items():
        np.testing.assert_array_equal(loaded[t], images, err_msg=str(t))


def test_runs_without_pictures_are_unchanged(tmp_path):
    config = _config()
    result = mc.run(config, out=tmp_path / "run", plots=True)
    manifest = result.manifest
    assert set(manifest["files"]) == {"metrics", "replicates", "figures"}
    assert manifest["files"]["figures"] == ["metrics.png"]
    assert sorted(p.name for p in result.path.iterdir()) == [
        "manifest.json", "metrics.parquet", "metrics.png", "replicates.parquet"]
    assert mc.load(result.path).pictures() == {}
    assert mc.simulate(config, workers=1).pictures() == {}


# -- the figure and the report ------------------------------------------------------------------


def test_the_figure_has_a_row_per_pictured_generation(monkeypatch):
    pytest.importorskip("matplotlib")
    from modelcollapse.plots.pictures import pictures_figure

    def with_a_blown_pixel(self, data):
        images = sample_pictures(self, data)
        if images is not None:
            images[0, 0, 0] = np.nan
        return images

    monkeypatch.setattr(Gaussian, "pictures", with_a_blown_pixel)
    result = mc.simulate(_config(n_generations=30), workers=1)
    fig = pictures_figure(result)
    rows = [ax for ax in fig.axes if ax.get_visible()]
    generations = pictured_generations(30)
    assert len(rows) == len(generations)
    assert [ax.get_ylabel() for ax in rows] == [
        "real data (t = 0)", *(f"generation {t}" for t in generations[1:])]
    assert all(len(ax.images) == 1 and not ax.get_xticks().size and not ax.get_yticks().size
               for ax in rows)
    # 8 images of 3 pixels with a 1-pixel gap: 31 pixels across, 2 down.
    assert rows[0].images[0].get_array().shape == (2, 31)
    assert rows[0].images[0].get_cmap().name.startswith("gray")
    title, subtitle = fig.texts[0].get_text(), fig.texts[1].get_text()
    assert title.startswith("gaussian: samples at generations 0 (real data), 1, 2, 5")
    assert result.config.model.describe() in subtitle and "seed 5" in subtitle
    assert f"{len(generations)} pixels not finite, in red" in subtitle
    with pytest.raises(ValueError, match="kept no images"):
        monkeypatch.setattr(Gaussian, "pictures", lambda self, data: None)
        pictures_figure(mc.simulate(_config(n_generations=3), workers=1))


def test_the_report_shows_the_grid(pictured, tmp_path):
    from modelcollapse.report.page import render
    from modelcollapse.report.run import run_page

    folder = mc.run(_config(), out=tmp_path / "run", plots=False).path
    page = run_page(mc.load(folder), folder=folder)
    ids = [s.id for s in page.sections]
    assert "pictures" in ids and ids.index("pictures") < ids.index("metrics")
    chart = next(c for c in page.charts() if c.id == "pictures-grid")
    data, layout = chart.figure["data"], chart.figure["layout"]
    generations = pictured_generations(12)
    assert [t["type"] for t in data] == ["heatmap"] * len(generations)
    assert all(t["z"]["shape"] == "2, 31" and (t["zmin"], t["zmax"]) == (0.0, 1.0) for t in data)
    assert layout["yaxis"]["ticktext"][0] == "real data (t = 0)"
    assert layout["yaxis"]["scaleanchor"] == "x"
    text = render(page, "")
    assert "pictures.parquet" in text and 'id="pictures-grid"' in text
    files = next(s for s in page.sections if s.id == "files")
    assert any(row[0] == "pictures.parquet" for row in files.items[0].rows)
    report = mc.write_report(folder).read_text()
    assert "Content-Security-Policy" in report and 'id="pictures-grid"' in report


def test_runs_without_pictures_get_no_grid(tmp_path):
    from modelcollapse.report.run import run_page

    folder = mc.run(_config(n_generations=3), out=tmp_path / "run", plots=False).path
    assert "pictures" not in [s.id for s in run_page(mc.load(folder), folder=folder).sections]


def test_the_grid_renders_in_a_browser(pictured, tmp_path):
    pytest.importorskip("plotly")
    from browser import open_page, require_chromium, screenshot_path

    require_chromium()
    folder = mc.run(_config(), out=tmp_path / "run", plots=False).path
    page = mc.write_report(folder)
    report = open_page(page, screenshot=screenshot_path(tmp_path, "report-pictures.png"),
                       inspect=lambda live: live.evaluate(
                           "document.getElementById('pictures-grid').data.length"))
    report.assert_clean()
    report.assert_all_charts_drawn()
    assert report.inspected == len(pictured_generations(12))
