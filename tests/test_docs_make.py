"""docs/make.py: the README's generated numbers and docs/'s figures cannot drift apart from it.

Static checks (nothing runs): every ``<!--mc:KEY-->`` span and ``<!--mc-block:KEY-->`` block of
README.md names a key some product declares, every declared key is in README.md, the markers are
well formed, and every PNG in docs/ belongs to exactly one product. Then the cheap products (exact
theory, the benchmark tables read from benchmarks/results/*.json, the test suite's own counts, the
classic coin run) are run for real and must give exactly what README.md shows; a few slower ones
are marked ``slow`` (timings, which depend on the machine, are left out there).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _load_make():
    spec = importlib.util.spec_from_file_location("docs_make", ROOT / "docs" / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


make = _load_make()


def _readme() -> str:
    return README.read_text(encoding="utf-8")


# -- static: keys, figures, markers ------------------------------------------------------------


def test_there_are_products_keys_and_figures():
    assert len(make.PRODUCTS) >= 10
    assert len(make.declared_keys()) >= 50
    assert make.declared_figures()


def test_the_readme_markers_are_well_formed():
    assert make.markup_problems(_readme()) == []


def test_every_span_names_a_declared_key():
    unknown = sorted(set(make.spans(_readme())) - set(make.declared_keys()))
    assert not unknown, f"README.md spans that no product of docs/make.py declares: {unknown}"


def test_every_declared_key_is_in_the_readme():
    missing = sorted(set(make.declared_keys()) - set(make.spans(_readme())))
    assert not missing, f"keys docs/make.py declares that README.md never shows: {missing}"


def test_a_key_shows_the_same_value_wherever_it_appears():
    differing = {k: v for k, v in make.spans(_readme()).items() if len(set(v)) > 1}
    assert not differing


def test_every_png_in_docs_belongs_to_exactly_one_product():
    owners = make.declared_figures()
    pngs = sorted(p.name for p in (ROOT / "docs").glob("*.png"))
    assert {name: owners.get(name, []) for name in pngs if len(owners.get(name, [])) != 1} == {}
    assert sorted(owners) == pngs, "a product declares a figure that docs/ does not hold"


def test_every_figure_is_shown_in_the_readme():
    text = _readme()
    assert [f for f in make.declared_figures() if f"docs/{f}" not in text] == []


# -- the marker checker and the rewriting, on planted texts -------------------------------------

GOOD = """Before <!--mc:a.x-->1<!--/mc--> and <!--mc:a.y-->two words<!--/mc-->.

<!--mc-block:a.table-->

| k | v |
|---|---|
| 1 | 2 |

<!--/mc-block-->

<!--mc-block:a.code-->
```
$ old output
```
<!--/mc-block-->
"""


def test_the_checker_accepts_good_markers():
    assert make.markup_problems(GOOD) == []
    assert make.spans(GOOD) == {"a.x": ["1"], "a.y": ["two words"],
                                "a.table": ["| k | v |\n|---|---|\n| 1 | 2 |"],
                                "a.code": ["```\n$ old output\n```"]}


@pytest.mark.parametrize("bad", [
    "an unclosed <!--mc:a.x-->1 span",
    "a stray close 1<!--/mc--> here",
    "nested <!--mc:a.x--><!--mc:a.y-->1<!--/mc--><!--/mc-->",
    "```\nin a fenced block <!--mc:a.x-->1<!--/mc-->\n```",
    "<!--mc-block:a.b-->\n| 1 |\nno closing marker",
    "<!--mc-block:a.b-->\n<!--mc:a.x-->1<!--/mc-->\n<!--/mc-block-->",
    "a span across lines <!--mc:a.x-->1\n2<!--/mc-->",
    "a typo <!-- mc:a.x-->1<!--/mc-->",
], ids=["unclosed", "stray-close", "nested", "in-fence", "unclosed-block", "span-in-block",
        "two-lines", "typo"])
def test_the_checker_catches_broken_markers(bad):
    assert make.markup_problems(bad)
    with pytest.raises(make.MarkupError):
        make.rewrite(bad, {"a.x": "9"})


def test_rewrite_sets_values_and_keeps_everything_else():
    new, changes = make.rewrite(GOOD, {"a.x": "7", "a.table": "| k |\n|---|", "a.code":
                                       "```\n$ new output\n```"})
    assert "<!--mc:a.x-->7<!--/mc-->" in new and "<!--mc:a.y-->two words<!--/mc-->" in new
    assert "<!--mc-block:a.table-->\n\n| k |\n|---|\n\n<!--/mc-block-->" in new
    assert "<!--mc-block:a.code-->\n```\n$ new output\n```\n<!--/mc-block-->" in new
    assert [c[0] for c in changes] == ["a.table", "a.code", "a.x"]
    assert make.rewrite(new, {"a.x": "7"})[1] == []


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.4, "1 s"), (7.2, "7 s"), (23, "25 s"), (88, "1.5 min"), (113, "2 min"), (270, "4.5 min"),
    (900, "15 min")])
def test_durations_are_rounded_as_the_readme_quotes_them(seconds, shown):
    assert make.duration(seconds) == shown


# -- real products against the README ----------------------------------------------------------


def _matches_readme(name: str, folder: Path, *, skip: tuple[str, ...] = ()) -> None:
    values, figures, _ = make.run_product(make.PRODUCTS[name], folder, say=lambda line: None)
    shown = make.spans(_readme())
    differ = {key: (shown[key], value) for key, value in values.items()
              if not key.endswith(skip) and set(shown.get(key, [])) != {value}}
    assert not differ, f"README.md (left) differs from `python docs/make.py {name}` (right): " \
                       f"{differ}; rerun it"
    assert set(figures) == set(make.PRODUCTS[name].figures)
    for figure in figures.values():
        assert figure.is_file() and figure.stat().st_size > 10_000


def test_the_exact_theory_in_the_readme_is_what_theory_computes(tmp_path):
    _matches_readme("theory", tmp_path)


def test_the_performance_tables_are_benchmarks_results_json(tmp_path):
    _matches_readme("benchmarks", tmp_path)


def test_check_mode_writes_nothing_and_agrees(tmp_path, capsys):
    before = _readme()
    assert make.main(["theory", "--check", "--scratch", str(tmp_path)]) == 0
    assert _readme() == before
    assert "README.md matches" in capsys.readouterr().out


def test_the_suite_s_counts_are_the_readme_s(tmp_path):
    _matches_readme("suite", tmp_path)


def test_the_classic_coin_run_gives_the_readme_s_numbers(tmp_path):
    _matches_readme("coin-paths", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sweep-coin-k", "collapse-speed-coin",
                                  "collapse-speed-gaussian", "gmm-variance", "literature"])
def test_a_study_gives_the_readme_s_numbers(name, tmp_path):
    _matches_readme(name, tmp_path, skip=(".time",))
