"""The explorer page (``modelcollapse explore``): the file, the command, and the page in Chromium.

What is tested
--------------
* **The file.** One self-contained HTML page: the report's Content-Security-Policy, Plotly and
  the four scripts inlined, no ``src=``/``href=`` to anything outside, written atomically where
  ``--out`` says (default ``explorer.html`` here); a folder, a missing folder or a missing
  Plotly is a one-line error with exit status 2 and nothing written.
* **The page** (headless Chromium): every family's tab draws both charts with no console error
  and no request leaving the machine; the controls respond (more tosses per generation → fewer
  coins stuck; a policy's controls appear with it); hostile text typed into a field stays text
  (no dialog, no element made from it) and the charts keep the last valid setting; the
  address's fragment brings a setting back; the classic presets load their sizes.
* **Speed**, measured, not asserted: the time from a control's change to the charts redrawn for
  the coin with 1000 rollouts × 200 generations and the Gaussian with 200 replicates × 200
  generations at N = 100 (printed, and written to ``explorer-timings.json`` beside the
  screenshots when ``$MODELCOLLAPSE_SCREENSHOT_DIR`` is set, for ``docs/make.py explorer``).

The simulators and the theory have their own tests (``test_explorer_sim.py``,
``test_explorer_theory.py``).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from pathlib import Path

import pytest

import modelcollapse as mc
from browser import SCREENSHOT_DIR_ENV, open_page, require_chromium, screenshot_path
from explorer_page import explorer_page
from modelcollapse import cli
from modelcollapse.report import explorer
from modelcollapse.report.page import CSP

pytest.importorskip("plotly")

HOSTILE = '<img src=x onerror=alert(1)>'


# -- the file and the command ------------------------------------------------------------------


def test_the_page_is_one_self_contained_file(tmp_path):
    path = mc.write_explorer(tmp_path / "page.html")
    text = path.read_text("utf-8")
    assert f'content="{CSP}"' in text
    assert text.count("<script") == 2 + len(explorer.SCRIPTS)  # settings, Plotly, our four
    for name in explorer.SCRIPTS:
        assert explorer._explorer_asset(name)[:200].replace("</script", "<\\/script") in text
    # nothing is loaded from anywhere: no src or href attribute at all in our markup
    markup = re.sub(r"<script>.*?</script>", "", text, flags=re.S)
    assert " src=" not in markup and " href=" not in markup
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it


def test_explore_writes_the_page_where_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["explore"]) == 0
    assert (tmp_path / explorer.FILE_NAME).stat().st_size > 1_000_000
    assert "explorer.html" in capsys.readouterr().out
    assert cli.main(["explore", "--out", "other.html"]) == 0
    assert (tmp_path / "other.html").is_file()


@pytest.mark.parametrize(("out", "words"), [(".", "it is a folder"),
                                            ("missing/page.html", "existing folder")])
def test_a_bad_out_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, out, words):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["explore", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err and words in err
    assert list(tmp_path.iterdir()) == []


def test_without_plotly_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly.offline", None)  # import fails
    assert cli.main(["explore", "--out", str(tmp_path / "page.html")]) == 2
    assert "modelcollapse[report]" in capsys.readouterr().err
    assert not (tmp_path / "page.html").exists()


def test_the_command_is_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "explore" in capsys.readouterr().out


# -- the page in Chromium ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> None:
    require_chromium()


WAIT_UPDATE = """(before) => Number(document.getElementById("mcx-app").dataset.updates || 0)
                             > before"""


def updates(page) -> int:
    return int(page.evaluate('() => Number(document.getElementById("mcx-app").dataset.updates '
                             '|| 0)'))


def after(page, action) -> None:
    """Do ``action()`` and wait until the page has redrawn once more."""
    before = updates(page)
    action()
    page.wait_for_function(WAIT_UPDATE, arg=before, timeout=60_000)


def type_into(page, control: str, text: str, *, box: str = "") -> None:
    """Replace what the ``control``'s text field holds by ``text`` (as a user types it)."""
    selector = f"#mcx-{control}{box}"
    page.fill(selector, text)


CHART_DATA = """(id) => document.getElementById(id).data.map(t => ({name: t.name,
                 n: (t.y || []).length, last: (t.y || [])[(t.y || []).length - 1]}))"""


def test_every_family_draws_its_charts_cleanly(chromium, tmp_path):
    def visit(page):
        seen = {}
        for family in ("coin", "gaussian", "categorical", "gmm"):
            if family != "coin":
                after(page, lambda f=family: page.click(f'#mcx-tabs button[data-family="{f}"]'))
            seen[family] = {"metric": page.evaluate(CHART_DATA, "mcx-metric"),
                            "collapse": page.evaluate(CHART_DATA, "mcx-collapse"),
                            "status": page.inner_text("#mcx-status"),
                            "story": page.inner_text("#mcx-story")}
        return seen

    report = open_page(explorer_page(), inspect=visit,
                       screenshot=screenshot_path(tmp_path, "explorer-start.png"))
    report.assert_clean()
    for family, seen in report.inspected.items():
        names = [t["name"] for t in seen["metric"]]
        assert "simulated median" in names, (family, names)
        assert any(name.startswith("exact") for name in names), (family, names)
        assert all(t["n"] > 1 for t in seen["metric"]), family
        assert seen["collapse"][0]["name"].startswith("simulated"), family
        assert "ms" in seen["status"] and "error" not in seen["status"].lower(), family
        assert len(seen["story"]) > 200, family


def test_the_controls_respond(chromium):
    def play(page):
        absorbed = {}
        for k in ("10", "1000"):
            after(page, lambda k=k: type_into(page, "n", k, box="-value"))
            absorbed[k] = page.evaluate(CHART_DATA, "mcx-collapse")[0]["last"]
        hidden = page.is_hidden('[data-control="real"]')
        after(page, lambda: page.select_option("#mcx-policy", "mix"))
        shown = page.is_visible('[data-control="real"]')
        after(page, lambda: type_into(page, "real", "0.5", box="-value"))
        with_real = page.evaluate(CHART_DATA, "mcx-collapse")[0]["last"]
        return {"absorbed": absorbed, "hidden before": hidden, "shown after": shown,
                "with real": with_real, "hash": page.evaluate("() => location.hash")}

    report = open_page(explorer_page(), inspect=play)
    report.assert_clean()
    seen = report.inspected
    # k = 10 over 60 generations: almost every coin is stuck; k = 1000: almost none
    assert seen["absorbed"]["10"] > 0.9 and seen["absorbed"]["1000"] < 0.1
    assert seen["hidden before"] and seen["shown after"]
    assert seen["with real"] < seen["absorbed"]["10"]
    assert "policy=mix" in seen["hash"] and "real=0.5" in seen["hash"]


def test_hostile_input_stays_text(chromium):
    def attack(page):
        before = updates(page)
        type_into(page, "seed", HOSTILE)
        page.click('#mcx-tabs button[data-family="gmm"]')
        page.wait_for_function(WAIT_UPDATE, arg=before, timeout=60_000)
        type_into(page, "means", HOSTILE + ", 2")
        page.wait_for_timeout(300)
        return {"messages": page.eval_on_selector_all(
                    ".control .message", "nodes => nodes.map(n => n.textContent)"),
                "images": page.evaluate("() => document.querySelectorAll('img').length"),
                "status": page.inner_text("#mcx-status")}

    report = open_page(explorer_page(), inspect=attack)
    report.assert_clean()  # a dialog would mean the text ran as script
    messages = [m for m in report.inspected["messages"] if m]
    assert any(HOSTILE in m and m.startswith("component means") for m in messages), messages
    assert report.inspected["images"] == 0
    assert "error" not in report.inspected["status"].lower()


def test_the_fragment_brings_a_setting_back(chromium, tmp_path):
    page_path = explorer_page()
    url_page = tmp_path / "linked.html"
    url_page.write_text(page_path.read_text("utf-8"), encoding="utf-8")

    def read(page):
        page.evaluate("() => { location.hash = 'family=gaussian&n=37&policy=accumulate"
                      "&estimator=unbiased&metric=mean&seed=7'; "
                      "setTimeout(() => location.reload(), 50); }")
        page.wait_for_timeout(500)
        page.wait_for_load_state()
        page.wait_for_function("() => document.body && document.body.dataset.reportReady === "
                               "'true' && document.getElementById('mcx-app').dataset.updates",
                               timeout=60_000)
        return {"n": page.input_value("#mcx-n-value"), "policy": page.input_value("#mcx-policy"),
                "estimator": page.input_value("#mcx-estimator"),
                "metric": page.input_value("#mcx-metric-select"),
                "seed": page.input_value("#mcx-seed"),
                "tab": page.get_attribute('#mcx-tabs button[data-family="gaussian"]',
                                          "aria-selected")}

    report = open_page(url_page, inspect=read)
    report.assert_clean()
    assert report.inspected == {"n": "37", "policy": "accumulate", "estimator": "unbiased",
                                "metric": "mean", "seed": "7", "tab": "true"}


def test_the_presets_load_the_classic_setups(chromium):
    def load(page):
        after(page, lambda: page.click("button.preset >> nth=1"))
        gmm = {"n": page.input_value("#mcx-n-value"),
               "generations": page.input_value("#mcx-generations-value")}
        after(page, lambda: page.click("button.preset >> nth=0"))
        coin = {"n": page.input_value("#mcx-n-value"),
                "replicates": page.input_value("#mcx-replicates-value")}
        return {"gmm": gmm, "coin": coin}

    report = open_page(explorer_page(), inspect=load)
    report.assert_clean()
    assert report.inspected == {"gmm": {"n": "1000", "generations": "200"},
                                "coin": {"n": "10", "replicates": "100"}}


#: The live sizes the issue names: (tab, settings typed, what is changed to time a redraw).
TIMED = {
    "coin 1000 × 200": ("coin", {"replicates": "1000", "generations": "200"}, "n",
                        ["10", "20", "50", "100", "10"]),
    "gaussian 200 × 200, N = 100": ("gaussian", {"replicates": "200", "generations": "200",
                                                 "n": "100"}, "seed", ["1", "2", "3", "4", "5"]),
}


def test_how_fast_a_change_redraws(chromium, tmp_path):
    def measure(page):
        out = {}
        for name, (family, sizes, control, values) in TIMED.items():
            if family != "coin":
                after(page, lambda f=family: page.click(f'#mcx-tabs button[data-family="{f}"]'))
            for key, value in sizes.items():
                after(page, lambda k=key, v=value: type_into(page, k, v, box="-value"))
            times, computes = [], []
            for value in values:
                box = "" if control == "seed" else "-value"
                after(page, lambda v=value, c=control, b=box: type_into(page, c, v, box=b))
                app = page.evaluate("() => ({...document.getElementById('mcx-app').dataset})")
                times.append(float(app["lastUpdateMs"]))
                computes.append(float(app["lastComputeMs"]))
            out[name] = {"redraw_ms": times, "compute_ms": computes}
        return out

    report = open_page(explorer_page(), inspect=measure,
                       screenshot=screenshot_path(tmp_path, "explorer.png"))
    report.assert_clean()
    summary = {name: {"median_redraw_ms": statistics.median(v["redraw_ms"]),
                      "median_compute_ms": statistics.median(v["compute_ms"]),
                      **v} for name, v in report.inspected.items()}
    print("\nexplorer: control change → charts redrawn (ms, median of 5):")
    for name, v in summary.items():
        print(f"  {name}: {v['median_redraw_ms']:.0f} ms "
              f"(theory + simulation {v['median_compute_ms']:.0f} ms)")
    shots = os.environ.get(SCREENSHOT_DIR_ENV)
    if shots:
        Path(shots, "explorer-timings.json").write_text(json.dumps(summary, indent=2))
    assert all(len(v["redraw_ms"]) == 5 for v in summary.values())


def test_curation_controls_appear_and_their_metrics_are_drawn(chromium):
    def curate(page):
        after(page, lambda: page.click('#mcx-tabs button[data-family="gaussian"]'))
        hidden = page.is_hidden('[data-control="strictness"]')
        after(page, lambda: page.select_option("#mcx-curation", "verifier"))
        shown = {c: page.is_visible(f'[data-control="{c}"]')
                 for c in ("strictness", "shift", "false_accept", "reward", "k", "keep")}
        menu = page.eval_on_selector_all("#mcx-metric-select option",
                                         "options => options.map(o => o.value)")
        after(page, lambda: page.select_option("#mcx-metric-select", "accept_rate"))
        drawn = page.evaluate(CHART_DATA, "mcx-metric")
        after(page, lambda: page.click('#mcx-tabs button[data-family="coin"]'))
        after(page, lambda: page.select_option("#mcx-curation", "best-of"))
        coin_shift = page.is_visible('[data-control="shift"]')
        coin_k = page.is_visible('[data-control="k"]')
        return {"hidden": hidden, "shown": shown, "menu": menu, "drawn": drawn,
                "coin shift": coin_shift, "coin k": coin_k,
                "status": page.inner_text("#mcx-status")}

    report = open_page(explorer_page(), inspect=curate)
    report.assert_clean()
    seen = report.inspected
    assert seen["hidden"]
    assert seen["shown"] == {"strictness": True, "shift": True, "false_accept": True,
                             "reward": True, "k": False, "keep": False}
    assert seen["menu"][-2:] == ["reward", "accept_rate"]
    assert "simulated median" in [t["name"] for t in seen["drawn"]]
    assert not seen["coin shift"] and seen["coin k"]  # the coin's belief cannot be shifted
    assert "error" not in seen["status"].lower(), seen["status"]
