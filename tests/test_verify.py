"""``modelcollapse verify`` end to end, its failure on a planted bug, bad usage, and the checks."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse import api, checks, cli, theory
from modelcollapse.checks import Check, critical_z, mean_check, proportion_check, with_bonferroni
from modelcollapse.studies import verify
from modelcollapse.studies.verify import cases as verify_cases
from modelcollapse.studies.verify import catalogue
from modelcollapse.studies.verify import driver as verify_driver

SUMMARY = re.compile(r"^(\d+) of (\d+) checks passed \(critical \|z\| = (\d+\.\d\d), "
                     r"α = 1e-3 Bonferroni over (\d+)\)$")


def run_cli(*args: str) -> tuple[int, str]:
    """``modelcollapse ARGS`` in this process: exit status and standard output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(list(args))
    return status, out.getvalue()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One run of the quick set for the whole module (it is the slow part)."""
    folder = tmp_path_factory.mktemp("verify") / "quick"
    status, output = run_cli("verify", "--quick", "--out", str(folder))
    return status, output, folder


# -- the quick set, end to end ----------------------------------------------------------------


def test_quick_set_passes_and_prints_the_table(quick):
    status, output, _ = quick
    assert status == 0, output
    lines = output.strip().splitlines()
    header = next(line for line in lines if line.startswith("case "))
    for column in ("check", "exact", "simulated ± SE", "z", "result"):
        assert column in header
    assert "FAIL" not in output and output.count(" PASS") >= 40
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    passed, total, critical, over = match.groups()
    assert passed == total == over
    assert float(critical) == pytest.approx(critical_z(1e-3, int(total)), abs=0.005)


def test_quick_set_writes_checks_summary_and_figures(quick):
    _, output, folder = quick
    assert f"results: {folder}" in output
    assert not list(folder.parent.glob(".*partial*"))
    summary = json.loads((folder / "verify.json").read_text())
    assert summary["kind"] == "verify" and summary["set"] == "quick"
    assert summary["passed"] and summary["n_passed"] == summary["n_checks"]
    assert summary["seed"] == verify.DEFAULT_SEED
    assert summary["critical_z"] == pytest.approx(critical_z(1e-3, summary["n_checks"]))
    assert summary["argv"][:3] == ["modelcollapse", "verify", "--quick"]
    with (folder / "checks.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == summary["n_checks"]
    assert set(rows[0]) == {"case", "check", "exact", "simulated", "se", "z", "critical",
                            "passed"}
    assert all(row["passed"] == "True" for row in rows)
    figures = summary["files"]["figures"]
    assert "qq.png" in figures and "trajectories-gaussian.png" in figures
    for name in figures:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_set_covers_every_family_and_has_its_own_bonferroni_count(quick):
    _, _, folder = quick
    summary = json.loads((folder / "verify.json").read_text())
    assert {c["family"] for c in summary["cases"]} == {"coin", "categorical", "gaussian", "gmm",
                                                       "regression", "mvgaussian", "kde"}
    full = verify.select_cases(quick=False)
    assert len(verify.select_cases(quick=True)) < len(full)
    assert summary["left_out"] == [c.name for c in full
                                   if c.name not in {d["name"] for d in summary["cases"]}]


# -- planted bugs make it fail ----------------------------------------------------------------


@pytest.fixture
def coin_only(monkeypatch):
    """Only the coin-under-replace case runs (it takes a fraction of a second).

    The registry is read where it is defined (``cases.select_cases``) and by the driver, so
    both names are replaced (the package's own ``CASES`` is only a re-export).
    """
    only = [c for c in verify.CASES if c.name == "coin-replace"]
    for module in (verify, verify_cases, verify_driver):
        monkeypatch.setattr(module, "CASES", only)


def _smoothed_fit(self, data, *, rng, previous):
    """Bug: add-half smoothing, p̂ = (heads + ½)/(k + 1), where the MLE was asked for."""
    return (data.values[:, 1] + 0.5) / (data.size + 1), {}


def test_a_planted_family_bug_exits_1(coin_only, monkeypatch, tmp_path):
    monkeypatch.setattr(mc.Coin, "fit", _smoothed_fit)
    status, output = run_cli("verify", "--quick", "--no-plots", "--out", str(tmp_path / "v"))
    assert status == 1
    assert "FAIL" in output
    summary = json.loads((tmp_path / "v" / "verify.json").read_text())
    assert not summary["passed"] and summary["n_passed"] < summary["n_checks"]


def test_an_off_by_one_generation_in_theory_exits_1(coin_only, monkeypatch, tmp_path):
    exact = theory.coin_heterozygosity
    monkeypatch.setattr(catalogue.theory, "coin_heterozygosity",
                        lambda p0, k, t: exact(p0, k, np.asarray(t) + 1))
    status, output = run_cli("verify", "--quick", "--no-plots", "--out", str(tmp_path / "v"))
    assert status == 1
    failing = [line for line in output.splitlines() if line.endswith("FAIL")]
    assert failing and all("(1 − p_" in line for line in failing)


def test_failed_cases_are_marked_in_the_figures(coin_only, monkeypatch, tmp_path):
    exact = theory.coin_heterozygosity
    monkeypatch.setattr(catalogue.theory, "coin_heterozygosity",
                        lambda p0, k, t: exact(p0, k, np.asarray(t) + 1))
    report = api.verify(quick=True, out=tmp_path / "v")
    assert report.exit_status == verify.EXIT_FAILED
    assert {"qq.png", "trajectories-coin.png"} <= set(report.figures)


# -- bad usage --------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--seed", "abc"], ["--quick", "--bogus"], ["--quick=1"]])
def test_bad_flags_exit_2_with_one_line(args, capsys):
    try:  # argparse's own errors exit; the option checks after parsing return the status
        code = cli.main(["verify", *args])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_negative_seed_exits_2_naming_the_flag(capsys, tmp_path):
    assert cli.main(["verify", "--quick", "--seed", "-1", "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelcollapse verify: error: --seed must be an integer ≥ 0")
    assert not (tmp_path / "v").exists()


def test_a_folder_holding_files_is_refused_before_any_work(capsys, tmp_path, monkeypatch):
    (tmp_path / "keep.txt").write_text("mine")
    monkeypatch.setattr(verify, "run_cases", lambda *a, **k: pytest.fail("must not run"))
    assert cli.main(["verify", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--out must be a new or empty folder" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


# -- the set itself ---------------------------------------------------------------------------


def test_cases_are_named_uniquely_and_cover_design_section_6():
    names = [c.name for c in verify.CASES]
    assert names and len(names) == len(set(names))
    assert {c.family for c in verify.CASES} == {"coin", "categorical", "gaussian", "gmm",
                                                "regression", "mvgaussian", "kde"}
    assert all(c.quick_replicates is None or c.quick_replicates <= c.n_replicates
               for c in verify.CASES)


def test_case_seeds_are_keyed_by_name_and_reproducible():
    a = verify.case_seed(7, "coin-mix")
    assert a == verify.case_seed(7, "coin-mix") and a >= 0
    assert a != verify.case_seed(7, "coin-accumulate") and a != verify.case_seed(8, "coin-mix")
    first = catalogue.coin_accumulate(2000, a).checks
    again = catalogue.coin_accumulate(2000, a).checks
    assert first == again


def test_cli_default_seed_is_the_library_default():
    assert cli.VERIFY_SEED == verify.DEFAULT_SEED


def test_running_cases_does_not_import_matplotlib():
    code = ("import sys; from modelcollapse.studies import verify as v; "
            "v.run_cases([c for c in v.CASES if c.name == 'coin-mix'], quick=True, seed=1); "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# -- checks.py --------------------------------------------------------------------------------


def test_critical_z_two_sided_bonferroni():
    assert critical_z(1e-3, 1) == pytest.approx(3.2905, abs=1e-4)
    assert critical_z(0.05, 1) == pytest.approx(1.95996, abs=1e-5)
    assert critical_z(1e-3, 10) == pytest.approx(critical_z(1e-4, 1))  # α/m per check
    assert critical_z(1e-3, 20) > critical_z(1e-3, 19)
    for bad in [(0.0, 1), (1.0, 1), (1e-3, 0), (1e-3, 2.5)]:
        with pytest.raises(ValueError):
            critical_z(*bad)


def test_check_z_and_verdict():
    check = Check("x", simulated=1.3, exact=1.0, se=0.1)
    assert check.z == pytest.approx(3.0)
    assert check.critical == pytest.approx(critical_z(1e-3, 1))
    assert check.passed and not check.passes(2.9)
    assert not Check("x", 1.4, 1.0, 0.1).passed
    assert Check("x", 1.0, 1.0, 0.0).z == 0.0
    assert Check("x", 1.1, 1.0, 0.0).z == math.inf and not Check("x", 1.1, 1.0, 0.0).passed
    assert not Check("x", math.nan, 1.0, 0.1).passed
    assert "z = +3.00" in str(check)


def test_mean_check_standard_error():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    check = mean_check("m", values, 2.0)
    assert check.simulated == 2.5
    assert check.se == pytest.approx(values.std(ddof=1) / 2)
    assert mean_check("m", values, 2.0, variance=4.0).se == pytest.approx(1.0)
    diverged = mean_check("m", np.array([1.0, np.inf]), 1.0)
    assert "non-finite" in diverged.name and not diverged.passed


def test_proportion_check_uses_the_exact_p():
    check = proportion_check("p", np.array([True, False, False, False]), 0.5)
    assert check.simulated == 0.25 and check.se == pytest.approx(0.25)
    assert check.z == pytest.approx(-1.0)


def test_with_bonferroni_gives_every_check_the_sets_critical_value():
    checked = with_bonferroni([Check(str(i), 0.0, 0.0, 1.0) for i in range(5)])
    assert {c.critical for c in checked} == {critical_z(checks.ALPHA, 5)}
