"""The browser harness (tests/browser.py) catches what it must.

Each test writes a tiny page that follows the report page's contract (``div.mc-chart`` charts
marked ``data-rendered``, ``<body data-report-ready="true">`` when done), with a fake chart drawn
as inline SVG in Plotly's structure instead of Plotly itself. A clean page passes; pages with a
planted fault (a console error, an uncaught exception, requests leaving the machine, an
``alert()``, a chart never drawn, a chart drawn empty, a page never ready) must each fail with a
message that names the fault.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from browser import (
    CHROMIUM_ENV,
    REQUIRE_ENV,
    find_chromium,
    open_page,
    require_chromium,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Draws a fake chart into a div.mc-chart the way Plotly leaves it: svg.main-svg > g.trace > path
# (or, for kind "heatmap", svg.main-svg > g.heatmaplayer > image), then marks it rendered.
# Kind "empty" draws the svg and an empty trace: rendered, but nothing to see.
DRAW = """
const SVG = "http://www.w3.org/2000/svg";
function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
function draw(id, kind) {
  const div = document.getElementById(id);
  const svg = el("svg", {class: "main-svg", width: 400, height: 240});
  if (kind === "heatmap") {
    const layer = el("g", {class: "heatmaplayer"}, svg);
    el("image", {x: 20, y: 20, width: 360, height: 200, preserveAspectRatio: "none",
                 href: "data:image/svg+xml," + encodeURIComponent(
                   '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2">' +
                   '<rect width="1" height="1" fill="navy"/><rect x="1" y="1" width="1" ' +
                   'height="1" fill="gold"/></svg>')}, layer);
  } else {
    const trace = el("g", {class: "trace scatter"}, svg);
    const d = kind === "empty" ? "" : "M20 220 L120 60 L220 140 L380 30";
    el("path", {d, fill: "none", stroke: "steelblue", "stroke-width": 3}, trace);
  }
  div.appendChild(svg);
  div.dataset.rendered = "true";
}
function ready() { document.body.dataset.reportReady = "true"; }
"""


def write_page(tmp_path: Path, body: str, *, script: str = "", head: str = "",
               name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harness test</title>
<style>body {{ font-family: sans-serif; }} .mc-chart {{ width: 400px; height: 240px; }}</style>
{head}</head>
<body>
<h1>Fake report: ÄΩ ≤ 1e-3</h1>
{body}
<script>{DRAW}
{script}
</script>
</body></html>
""", encoding="utf-8")
    return path


TWO_CHARTS = """
<div class="mc-chart" id="drift" data-title="Drift per generation"></div>
<div class="mc-chart" id="heat" data-title="Collapse heatmap"></div>
"""


def clean_page(tmp_path: Path) -> Path:
    return write_page(tmp_path, TWO_CHARTS,
                      script='draw("drift", "line"); draw("heat", "heatmap"); ready();')


def test_clean_page_passes_and_is_screenshotted(tmp_path):
    shot = tmp_path / "shots" / "clean.png"
    report = open_page(clean_page(tmp_path), screenshot=shot)
    report.assert_clean()
    report.assert_all_charts_drawn(ids=["drift", "heat"])
    assert report.ready and report.title == "Harness test"
    assert "Fake report: ÄΩ ≤ 1e-3" in report.text
    drift = report.chart("drift")
    assert (drift.title, drift.rendered, drift.error, drift.svgs) == (
        "Drift per generation", True, None, 1)
    assert drift.drawn == 1 and 300 < drift.width <= 400 and 150 < drift.height <= 240
    assert report.chart("heat").drawn == 1
    assert report.screenshot == shot
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 2000
    # 1280 px wide, as tall as the page (full-page screenshot): read from the PNG's IHDR.
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height >= 900
    # The browser lives in its own thread: asyncio in this one still works.
    asyncio.run(asyncio.sleep(0))


def test_console_error_fails_assert_clean(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS, script="""
        draw("drift", "line"); draw("heat", "heatmap");
        console.warn("only a warning");
        console.error("planted console error");
        ready();""")
    report = open_page(page)
    report.assert_all_charts_drawn()
    assert len(report.console_warnings) == 1 and "only a warning" in report.console_warnings[0]
    with pytest.raises(AssertionError, match="console error: planted console error"):
        report.assert_clean()


def test_uncaught_exceptions_fail_assert_clean(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS, script="""
        draw("drift", "line"); draw("heat", "heatmap"); ready();
        setTimeout(() => { throw new TypeError("planted uncaught error"); }, 0);
        Promise.reject(new RangeError("planted rejection"));""")
    report = open_page(page)
    report.assert_all_charts_drawn()
    assert any("planted uncaught error" in e for e in report.page_errors), report.page_errors
    assert any("planted rejection" in e for e in report.page_errors), report.page_errors
    with pytest.raises(AssertionError, match=r"uncaught exception: .*planted uncaught error"):
        report.assert_clean()


def test_outside_requests_are_blocked_and_fail_assert_clean(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS + """
        <img id="remote" src="http://example.invalid/x.png" alt="remote">
        <link rel="stylesheet" href="https://cdn.example.com/style.css">
        """, head='<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>', script="""
        draw("drift", "line"); draw("heat", "heatmap");
        window.outcome = {};
        const socket = new WebSocket("wss://example.com/socket");
        socket.onclose = () => { window.outcome.socket = "closed"; };
        fetch("https://example.com/beacon?run=1")
          .then((r) => { window.outcome.fetch = "loaded " + r.status; },
                (e) => { window.outcome.fetch = "rejected"; })
          .finally(ready);""")
    report = open_page(page, inspect=lambda p: p.evaluate(
        """() => ({...window.outcome, plotly: typeof Plotly,
                   img: document.getElementById("remote").naturalWidth})"""))
    urls = {"http://example.invalid/x.png", "https://example.com/beacon?run=1",
            "https://cdn.plot.ly/plotly-2.35.2.min.js", "https://cdn.example.com/style.css"}
    assert urls <= set(report.outside_requests), report.outside_requests
    assert set(report.blocked_requests) >= urls | {"wss://example.com/socket"}
    assert set(report.outside_requests) <= set(report.blocked_requests)
    # Blocked, not merely recorded: each failed as aborted by the harness, and the page saw it.
    # (Chromium says net::ERR_BLOCKED_BY_CLIENT.Inspector: blocked through the DevTools protocol.)
    failures = {url: report.request_failures.get(url, "") for url in urls}
    assert all(f.startswith("net::ERR_BLOCKED_BY_CLIENT") for f in failures.values()), failures
    assert report.inspected == {"fetch": "rejected", "socket": "closed", "plotly": "undefined",
                                "img": 0}
    with pytest.raises(AssertionError) as failure:
        report.assert_clean()
    for url in urls:
        assert f"outside request (blocked): {url}" in str(failure.value)
    assert "NOT blocked" not in str(failure.value)


def test_alert_is_caught_as_a_dialog(tmp_path):
    # What injected script would do: it must show up even though the page otherwise works.
    page = write_page(tmp_path, TWO_CHARTS + '<p>run "<b>x</b>"</p>',
                      script='draw("drift", "line"); draw("heat", "heatmap"); alert(1); ready();')
    report = open_page(page)
    report.assert_all_charts_drawn()
    assert report.dialogs == ["alert: 1"]
    with pytest.raises(AssertionError, match=r"dialog \(script ran\): alert: 1"):
        report.assert_clean()


def test_chart_never_rendered_fails_naming_it(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS + """
        <div class="mc-chart" id="broken" data-title="Broken chart"></div>""", script="""
        draw("drift", "line");
        const broken = document.getElementById("broken");
        broken.dataset.error = "planted: Plotly.newPlot threw";
        console.error("chart broken failed: planted: Plotly.newPlot threw");
        ready();""")
    report = open_page(page)
    assert [c.id for c in report.charts if c.problems()] == ["heat", "broken"]
    with pytest.raises(AssertionError) as failure:
        report.assert_all_charts_drawn()
    message = str(failure.value)
    assert "chart #heat ('Collapse heatmap'): never marked data-rendered" in message
    assert ("chart #broken ('Broken chart'): drawing failed: planted: Plotly.newPlot threw"
            in message)
    assert "#drift" not in message
    with pytest.raises(AssertionError, match=r"missing charts: \['gone'\]"):
        report.assert_all_charts_drawn(ids=["drift", "heat", "broken", "gone"])


def test_chart_rendered_but_empty_fails(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS + """
        <div class="mc-chart" id="blank" data-title="No svg at all"></div>""", script="""
        draw("drift", "line"); draw("heat", "empty");
        document.getElementById("blank").dataset.rendered = "true";
        ready();""")
    report = open_page(page)
    report.assert_clean()
    heat = report.chart("heat")
    assert (heat.rendered, heat.svgs, heat.candidates, heat.drawn) == (True, 1, 1, 0)
    with pytest.raises(AssertionError) as failure:
        report.assert_all_charts_drawn()
    message = str(failure.value)
    assert ("chart #heat ('Collapse heatmap'): nothing drawn: none of its 1 trace/heatmap "
            "elements has a non-zero bounding box") in message
    assert "chart #blank ('No svg at all'): no svg.main-svg inside" in message
    assert "#drift" not in message


def test_page_without_charts_fails(tmp_path):
    report = open_page(write_page(tmp_path, "<p>nothing here</p>", script="ready();"))
    report.assert_clean()
    with pytest.raises(AssertionError, match=r"no div\.mc-chart at all"):
        report.assert_all_charts_drawn()


def test_page_never_ready_fails_listing_charts_and_errors(tmp_path):
    page = write_page(tmp_path, TWO_CHARTS, script="""
        draw("drift", "line");
        console.error("planted: heat never finished");""")
    shot = tmp_path / "never.png"
    with pytest.raises(pytest.fail.Exception) as failure:
        open_page(page, screenshot=shot, timeout=1)
    message = str(failure.value)
    assert 'did not set body[data-report-ready="true"] within 1 s' in message
    assert "chart #heat ('Collapse heatmap'): never marked data-rendered" in message
    assert "#drift" not in message
    assert "console error: planted: heat never finished" in message
    assert f"screenshot: {shot}" in message and shot.read_bytes().startswith(PNG_SIGNATURE)
    report = open_page(page, timeout=1, require_ready=False)
    assert not report.ready and report.chart("drift").drawn == 1


# --------------------------------------------------------------------------------------------
# Finding Chromium; skip without it, unless required


def test_find_chromium_honours_the_environment(tmp_path, monkeypatch):
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing"))
    assert find_chromium() is None


def test_missing_chromium_skips_or_fails_when_required(tmp_path, monkeypatch):
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing"))
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV} is set"):
        require_chromium()
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        open_page(clean_page(tmp_path))


def test_missing_playwright_skips_or_fails_when_required(monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import now raises
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="pip install"):
        require_chromium()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="Playwright"):
        require_chromium()
