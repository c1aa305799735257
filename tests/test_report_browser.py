"""The report in a real browser: headless Chromium opens each page from disk.

Every chart must render (non-empty SVG), the console must stay free of errors, no request may
leave the machine, no injected script may run, and the interactive parts must work. Screenshots
go to ``$MODELCOLLAPSE_SCREENSHOT_DIR`` when it is set (else the test's tmp folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import modelcollapse as mc
from browser import open_page, require_chromium, screenshot_path

pytest.importorskip("plotly")

TITLE = '</script><script>alert("title")</script> & <b>not bold</b>'


@pytest.fixture(scope="module", autouse=True)
def chromium() -> None:
    require_chromium()


def _legend_toggle(page, chart_id: str, name: str) -> int:
    """Click the legend entry ``name`` of a chart; return how many of its traces are visible."""
    entry = page.locator(f"#{chart_id} .legend .traces").filter(has_text=name).first
    entry.locator(".legendtoggle").click()
    count = """([id, group]) => document.getElementById(id).data
                   .filter(t => t.legendgroup === group && t.visible === true).length"""
    # Plotly waits out its double-click delay before acting on a single click.
    page.wait_for_function(f"args => ({count})(args) > 0", arg=[chart_id, "replicates"],
                           timeout=5000)
    return page.evaluate(count, [chart_id, "replicates"])


def _pick_replicate(page, chart_id: str, label: str) -> list:
    """Choose ``label`` in a chart's dropdown; return each trace's visibility."""
    page.locator(f"#{chart_id} .updatemenu-header-group").click()
    page.locator(f"#{chart_id} .updatemenu-dropdown-button").filter(has_text=label).first.click()
    page.wait_for_timeout(300)
    return page.evaluate("id => document.getElementById(id).data.map(t => t.visible)", chart_id)


def test_a_gmm_run_report_renders_and_responds(tmp_path):
    config = mc.RunConfig("gmm", n_samples=300, n_generations=80, n_replicates=6, seed=21)
    folder = mc.run(config, out=tmp_path / "gmm", plots=False).path
    page = mc.write_report(folder)

    def interact(live) -> dict:
        shown = _legend_toggle(live, "metric-var", "replicates")
        visible = _pick_replicate(live, "density-heatmap", "replicate 2")
        return {"replicates shown": shown, "heatmap visible": visible}

    report = open_page(page, screenshot=screenshot_path(tmp_path, "report-gmm.png"),
                       inspect=interact)
    report.assert_clean()
    report.assert_all_charts_drawn()
    assert len(report.charts) >= 14
    assert report.inspected["replicates shown"] == 6  # all six replicates, on demand
    assert report.inspected["heatmap visible"] == [False, False, True, False, False]
    assert report.screenshot is not None and report.screenshot.stat().st_size > 50_000


def test_a_coin_report_keeps_hostile_text_as_text(tmp_path):
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    mc.run(mc.RunConfig("coin", n_replicates=50, seed=22), out=folder, plots=False)
    page = mc.write_report(folder, title=TITLE)
    report = open_page(page, screenshot=screenshot_path(tmp_path, "report-coin.png"),
                       inspect=lambda live: live.locator("h1").inner_text())
    report.assert_clean()  # a dialog here would mean the title's script ran
    report.assert_all_charts_drawn(["coin-paths", "coin-absorbed", "coin-law", "metric-p"])
    assert report.inspected == TITLE
    assert report.title == TITLE
    assert "<img src=x onerror=alert(1)>" in report.text  # the folder name, shown as text


def test_a_sweep_report_renders(tmp_path):
    spec = {"experiment": {"family": "gaussian", "samples": 20, "generations": 40,
                           "replicates": 40, "policy": "mix", "seed": 23},
            "grid": {"real": [0.0, 0.2], "synthetic": [0.5, 0.9, 1.0]}}
    result = mc.sweep(spec, out=tmp_path / "sweep", workers=1, plots=False)
    page = mc.write_report(result.path)

    def sort_by_first_column(live) -> list[str]:
        live.locator("table.sortable thead th").first.click()
        live.locator("table.sortable thead th").first.click()  # descending
        return live.eval_on_selector_all("table.sortable tbody tr td:first-child",
                                         "cells => cells.map(c => c.textContent)")

    report = open_page(page, screenshot=screenshot_path(tmp_path, "report-sweep.png"),
                       inspect=sort_by_first_column)
    report.assert_clean()
    report.assert_all_charts_drawn()
    assert {"speed-time", "speed-fraction", "speed-curves"} <= {c.id for c in report.charts}
    assert report.inspected[0] == "0.2" and report.inspected[-1] == "0"


def test_the_page_needs_nothing_but_the_file(tmp_path):
    """Moved away from its folder, the page still draws everything (only the links break)."""
    folder = mc.run(mc.RunConfig("coin", n_replicates=30, seed=24), out=tmp_path / "c",
                    plots=False).path
    alone = tmp_path / "elsewhere" / "page.html"
    alone.parent.mkdir()
    mc.write_report(folder, out=alone)
    report = open_page(Path(alone))
    report.assert_clean()
    report.assert_all_charts_drawn()
