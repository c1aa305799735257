"""The HTML report: contents, numbers, escaping, sweeps, the command line.

These tests read the page as text and its figures as data; ``test_report_browser.py`` opens the
same pages in headless Chromium.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.cli import main
from modelcollapse.report import mixture as report_mixture
from modelcollapse.report import run as report_run
from modelcollapse.views.run import absorbed_fractions

pytest.importorskip("plotly")

INJECTION = '</script><script>alert("title")</script><b>bold</b> & co'


# -- reading a page back -------------------------------------------------------------------------


def figures_of(html: str) -> dict:
    """The page's figures, from its JSON block."""
    match = re.search(r'<script type="application/json" id="mc-figures">(.*?)</script>', html,
                      re.S)
    assert match, "no figure data in the page"
    return json.loads(match.group(1))


def decode(spec) -> np.ndarray:
    """A Plotly typed-array spec (or plain list) as a numpy array."""
    if isinstance(spec, list):
        return np.asarray(spec, dtype=float)
    dtype = {"f8": "<f8", "f4": "<f4", "i4": "<i4"}[spec["dtype"]]
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)
    if "shape" in spec:
        array = array.reshape([int(n) for n in spec["shape"].split(",")])
    return array


def trace(figure: dict, name: str) -> dict:
    found = [t for t in figure["data"] if t.get("name", "").startswith(name)]
    assert found, f"no trace {name!r}; traces: {[t.get('name') for t in figure['data']]}"
    return found[0]


def validate(figures: dict) -> None:
    """Every figure passes Plotly's own schema (unknown or mistyped properties raise)."""
    import plotly.graph_objects as go

    for name, fig in figures.items():
        try:
            go.Figure(fig)
        except Exception as err:  # pragma: no cover - the message is the point
            raise AssertionError(f"figure {name} is not valid Plotly: {err}") from None


# -- runs ----------------------------------------------------------------------------------------

RUNS = {
    "coin": mc.RunConfig("coin", n_replicates=300, seed=11),
    "gmm": mc.RunConfig("gmm", n_samples=200, n_generations=60, n_replicates=12, seed=12),
    "gaussian": mc.RunConfig("gaussian", n_samples=20, n_generations=80, n_replicates=200,
                             seed=13),
    "categorical": mc.RunConfig("categorical", n_samples=50, n_generations=60,
                                n_replicates=50, seed=14),
    "ngram": mc.RunConfig(mc.NGram(), n_samples=2000, n_generations=8, n_replicates=4, seed=15),
}
#: Chart ids each family's page must have (besides one per metric).
EXPECTED = {
    "coin": {"coin-paths", "coin-absorbed", "coin-law"},
    "gmm": {"density-heatmap", "density-lines", "event-collapse"},
    "gaussian": {"density-heatmap", "density-lines", "event-collapse"},
    "categorical": {"event-fixation"},
    "ngram": {"event-collapse"},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {name: mc.run(config, out=root / name, plots=False).path
            for name, config in RUNS.items()}


@pytest.mark.parametrize("family", list(RUNS))
def test_a_run_report_has_every_chart_and_valid_figures(runs, family):
    path = mc.write_report(runs[family])
    assert path == runs[family] / "report.html"
    html = path.read_text()
    figures = figures_of(html)
    metrics = {f"metric-{m}" for m in RUNS[family].model.metric_names}
    assert metrics | EXPECTED[family] <= set(figures)
    for chart_id in figures:  # every figure has its place in the page, and vice versa
        assert f'class="mc-chart" id="{chart_id}"' in html
    assert html.count('class="mc-chart"') == len(figures)
    validate(figures)
    # Self-contained: Plotly is inlined, nothing is loaded from anywhere.
    assert "Content-Security-Policy" in html and "connect-src 'none'" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    for word in ("family", "policy", "N per generation", "generations", "replicates", "seed",
                 "modelcollapse"):
        assert f"<dt>{word}</dt>" in html
    assert f"<dd>{RUNS[family].seed}</dd>" in html


def test_bands_and_median_are_the_replicates_quantiles(runs):
    result = mc.load(runs["gaussian"])
    figure = figures_of(mc.write_report(runs["gaussian"]).read_text())["metric-var"]
    var = result.trajectories("var")
    t = decode(trace(figure, "median")["x"])
    np.testing.assert_allclose(decode(trace(figure, "median")["y"]),
                               np.median(var, axis=0)[t.astype(int)], rtol=1e-12)
    np.testing.assert_allclose(decode(trace(figure, "5–95%")["y"]),
                               np.percentile(var, 95, axis=0)[t.astype(int)], rtol=1e-12)
    # The replicates drawn on demand are the first ones, hidden until asked for.
    first = trace(figure, "replicates")
    assert first["visible"] == "legendonly"
    np.testing.assert_allclose(decode(first["y"]), var[0].astype(np.float32), rtol=1e-6)


def test_the_bands_check_catches_a_planted_bug(runs, monkeypatch):
    """The comparison above fails when the report's quantiles are off (90th instead of 95th)."""
    real = report_run.quantile_bands
    monkeypatch.setattr(report_run, "quantile_bands",
                        lambda values, percents: real(values, [min(p, 90.0) for p in percents]))
    result = mc.load(runs["gaussian"])
    figure = figures_of(mc.write_report(runs["gaussian"]).read_text())["metric-var"]
    t = decode(trace(figure, "median")["x"]).astype(int)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(decode(trace(figure, "5–95%")["y"]),
                                   np.percentile(result.trajectories("var"), 95, axis=0)[t],
                                   rtol=1e-12)


def test_theory_overlays_are_predicts_curves(runs):
    config = mc.load(runs["coin"]).config
    figures = figures_of(mc.write_report(runs["coin"]).read_text())
    exact = mc.predict(config)
    overlay = trace(figures["metric-p"], "exact E p_t")
    np.testing.assert_allclose(decode(overlay["y"]), exact.for_metric("p")[0].values)
    absorbed = trace(figures["coin-absorbed"], exact.absorbed.label)
    np.testing.assert_allclose(decode(absorbed["y"]), exact.absorbed.values)


def test_the_absorption_curve_counts_every_rollout(runs):
    result = mc.load(runs["coin"])
    figure = figures_of(mc.write_report(runs["coin"]).read_text())["coin-absorbed"]
    expected = absorbed_fractions(result.replicates, result.config.n_generations)
    np.testing.assert_allclose(decode(trace(figure, "absorbed at 0 or 1")["y"]),
                               expected["absorbed"])
    np.testing.assert_allclose(decode(trace(figure, "fixed at 1")["y"]), expected["at 1"])


def test_the_coin_law_rows_are_distributions(runs):
    figure = figures_of(mc.write_report(runs["coin"]).read_text())["coin-law"]
    z = decode(figure["data"][0]["z"])
    np.testing.assert_allclose(z.sum(axis=1), 1.0, rtol=1e-6)
    assert z[0, 5] == pytest.approx(1.0)  # generation 0: every rollout at p0 = 0.5 = 5/10


def test_the_density_heatmap_holds_the_probability(runs):
    """Generation 0 is the truth: its bins hold (nearly) all the mass; later rows at most 1."""
    figure = figures_of(mc.write_report(runs["gmm"]).read_text())["density-heatmap"]
    heat = figure["data"][0]
    x, z = decode(heat["x"]), decode(heat["z"]).astype(float)
    step = x[1] - x[0]
    mass = np.nansum(z, axis=1) * step
    assert mass[0] == pytest.approx(1.0, abs=1e-3)
    assert np.all(mass <= 1.0 + 1e-4)
    assert len(figure["layout"]["updatemenus"][0]["buttons"]) == report_mixture.DENSITY_REPLICATES


def test_bin_density_keeps_a_needle_and_matches_the_density():
    centres = np.linspace(-5, 5, 201)
    needle = report_mixture.bin_density(centres, np.array([[1.0]]), np.array([[0.0]]),
                                    np.array([[1e-6]]))
    assert needle[0].sum() * (centres[1] - centres[0]) == pytest.approx(1.0)
    broad = report_mixture.bin_density(centres, np.array([[1.0]]), np.array([[0.0]]),
                                   np.array([[1.0]]))
    np.testing.assert_allclose(broad[0], np.exp(-centres**2 / 2) / np.sqrt(2 * np.pi),
                               atol=2e-4)


def test_user_text_is_escaped(runs, tmp_path):
    folder = tmp_path / "<img src=x onerror=alert(1)> run"
    mc.run(mc.RunConfig("coin", n_replicates=20, seed=3), out=folder, plots=False)
    html = mc.write_report(folder, title=INJECTION).read_text()
    assert INJECTION not in html
    assert "<img src=x" not in html
    assert html.count("</script>") == 3  # the figure data, Plotly and the page's own script
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;title&quot;)" in html
    assert "&lt;img src=x onerror=alert(1)&gt; run" in html
    block = re.search(r'id="mc-figures">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and ">" not in block


def test_sample_texts_are_escaped(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(["<script>alert(1)</script>", "the", "cat", "sat", "on", "a",
                                "mat", "&amp;", "<b>"] * 300))
    config = mc.RunConfig(mc.NGram(corpus=str(corpus), tokens="words", order=1), n_samples=500,
                          n_generations=3, n_replicates=2, seed=4)
    result = mc.run(config, out=tmp_path / "run", plots=False)
    html = mc.write_report(result.path).read_text()
    assert "<h2>Sample texts</h2>" in html
    risky = [t for t in result.samples["text"] if "<" in t]
    assert risky, "the corpus should put markup into the sample texts"
    shown = [t for t in risky if escape(t) in html]
    assert shown and not [t for t in shown if t in html]


def test_the_report_imports_neither_matplotlib_nor_writes_partial_files(runs):
    code = ("import sys, modelcollapse as mc; mc.write_report(sys.argv[1]); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(runs["gmm"])], check=True,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "False"
    assert not [p for p in runs["gmm"].iterdir() if p.name.startswith(".")]


# -- sweeps --------------------------------------------------------------------------------------


def sweep_spec(grid: dict, **experiment) -> dict:
    base = {"family": "gaussian", "samples": 20, "generations": 40, "replicates": 40,
            "policy": "mix", "seed": 5}
    fixed = {k: v for k, v in {**base, **experiment}.items() if k not in grid}
    return {"experiment": fixed, "grid": grid}


def test_a_one_axis_sweep_report(tmp_path):
    spec = {"experiment": {"family": "coin", "generations": 80, "replicates": 200, "seed": 6},
            "grid": {"samples": [1, 2, 5, 10]}}
    result = mc.sweep(spec, out=tmp_path / "k", workers=1, plots=False)
    html = mc.write_report(result.path).read_text()
    figures = figures_of(html)
    validate(figures)
    assert {"speed-time", "speed-fraction", "speed-curves", "cells-p"} <= set(figures)
    summary = result.summary
    mean = decode(trace(figures["speed-time"], "mean absorption time")["y"])
    np.testing.assert_allclose(mean, summary["absorption_time_mean"].to_numpy(dtype=float))
    exact = decode(trace(figures["speed-time"], "exact E[T | T ≤ G]")["y"])
    np.testing.assert_allclose(exact, summary["exact_absorption_time_mean"].to_numpy(float))
    assert 'class="data sortable"' in html and "<h2>Table of cells</h2>" in html


def test_a_two_axis_sweep_marks_invalid_cells(tmp_path):
    grid = {"real": [0.0, 0.5], "synthetic": [0.5, 1.0]}
    result = mc.sweep(sweep_spec(grid), out=tmp_path / "mix", workers=1, plots=False)
    html = mc.write_report(result.path).read_text()
    figures = figures_of(html)
    validate(figures)
    heat = figures["speed-fraction"]["data"][0]
    texts = [cell for row in heat["text"] for cell in row]
    assert texts.count("invalid") == 1  # real 0.5 + synthetic 1.0 > 1
    hovers = [cell for row in heat["customdata"] for cell in row]
    assert any("must be at most 1" in h for h in hovers)
    assert "why it was skipped" in html


def test_three_axes_get_a_menu_over_the_third(tmp_path):
    grid = {"real": [0.0, 0.2], "synthetic": [0.5, 0.8], "samples": [10, 20]}
    result = mc.sweep(sweep_spec(grid, generations=20, replicates=20), out=tmp_path / "three",
                      workers=1, plots=False)
    figures = figures_of(mc.write_report(result.path).read_text())
    validate(figures)
    for chart in ("speed-time", "speed-fraction"):
        assert len(figures[chart]["data"]) == 2
        assert len(figures[chart]["layout"]["updatemenus"][0]["buttons"]) == 2


def test_an_unfinished_sweep_shows_its_progress(tmp_path):
    result = mc.sweep(sweep_spec({"real": [0.0, 0.1]}), out=tmp_path / "part", workers=1,
                      plots=False)
    folder = result.path
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "summary.parquet").unlink()
    next(iter(sorted((folder / "metrics").glob("*.parquet")))).unlink()
    html = mc.write_report(folder).read_text()
    assert "<h2>Progress</h2>" in html and "finished units" in html
    assert "This sweep is interrupted" in html


# -- command line --------------------------------------------------------------------------------


def test_report_command(runs, tmp_path, capsys):
    out = tmp_path / "elsewhere.html"
    assert main(["report", str(runs["coin"]), "--title", "Coin for class", "--out",
                 str(out)]) == 0
    assert "<title>Coin for class</title>" in out.read_text()
    assert f"report: {out}" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["missing", "empty", "runs/.gmm.partial-123", "speed",
                                    "garbled"])
def test_report_of_something_else_is_a_one_line_error(tmp_path, capsys, target):
    folder = tmp_path / target
    if target != "missing":
        folder.mkdir(parents=True)
    if target == "speed":
        (folder / "manifest.json").write_text('{"kind": "collapse-speed"}')
    if target == "garbled":
        (folder / "manifest.json").write_text("[1, 2")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DIR" in err and "Traceback" not in err
    if "partial" in target:
        assert "interrupted run" in err


def test_a_damaged_run_or_a_bad_out_is_a_one_line_error(runs, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in runs["coin"].iterdir():
        if f.name not in ("metrics.parquet", "report.html"):
            (damaged / f.name).write_bytes(f.read_bytes())
    assert main(["report", str(damaged)]) == 2
    assert "could not be read: FileNotFoundError" in capsys.readouterr().err
    assert main(["report", str(runs["coin"]), "--out", str(tmp_path / "no" / "x.html")]) == 2
    assert "--out must be a file in an existing folder" in capsys.readouterr().err
    assert not (damaged / "report.html").exists()


def test_run_and_sweep_take_report(tmp_path, capsys):
    assert main(["run", "coin", "--replicates", "30", "--seed", "1", "--no-plots", "--out",
                 str(tmp_path / "run"), "--report"]) == 0
    assert (tmp_path / "run" / "report.html").is_file()
    spec = tmp_path / "k.toml"
    spec.write_text('[experiment]\nfamily = "coin"\nreplicates = 50\nseed = 2\n'
                    "[grid]\nsamples = [2, 4]\n")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "sweep"), "--workers", "1",
                 "--no-plots", "--report"]) == 0
    assert (tmp_path / "sweep" / "report.html").is_file()
    assert "report: " in capsys.readouterr().out


def test_without_plotly_report_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "plotly" else real(name, *a))
    assert main(["run", "coin", "--out", str(tmp_path / "run"), "--report"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'modelcollapse[report]'" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
