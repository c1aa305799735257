"""The example notebooks run top to bottom, and the numbers they print on purpose are sane.

Each notebook in ``examples/`` is executed with nbclient in a fresh ``python3`` kernel whose working
directory is a temporary folder, so nothing is written into the repository. A cell that raises
fails the test, and so does any output on standard error (a warning would end up in the committed
notebook). A few lines that the notebooks print for this purpose are then parsed and compared with
exact theory, with tolerances of 4 standard errors as printed by the notebook itself. Nothing here
depends on how long a notebook takes.

The stored notebooks are also checked without a kernel: they are meant to be committed with their
outputs, so those outputs must be in execution order and free of absolute paths.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: Seconds one cell may take. Generous: the first GMM run on a machine compiles numba kernels.
CELL_TIMEOUT = 300

#: Standard errors a simulated number may be from its exact value (the notebooks' seeds are fixed,
#: so this only guards against a real change in behaviour, not against bad luck).
Z = 4.0

NUMBER = r"([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def stdout_of(nb) -> str:
    """Everything the notebook's code cells printed to standard output, in order."""
    return "".join(out["text"] for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stdout")


def stderr_of(nb) -> list[str]:
    """Every standard-error output of the notebook's code cells."""
    return [out["text"] for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", [])
            if out.get("output_type") == "stream" and out.get("name") == "stderr"]


def find(pattern: str, text: str) -> tuple[float, ...]:
    """The numbers captured by ``pattern`` in ``text`` (which must match exactly once)."""
    matches = re.findall(pattern, text, flags=re.MULTILINE)
    assert len(matches) == 1, f"expected one line matching {pattern!r}, found {len(matches)}"
    groups = matches[0] if isinstance(matches[0], tuple) else (matches[0],)
    return tuple(float(g) for g in groups)


def check_gmm(text: str) -> None:
    """The classic loop's variance matches theory; some replicates narrow; fresh data helps."""
    # Variance table, last row: t, exact E var_t, simulated mean ± SE.
    exact, mean, se = find(rf"^\s*2000\s+{NUMBER}\s+{NUMBER} ± {NUMBER}", text)
    assert exact == pytest.approx(5 * (1 - 1 / 10_000) ** 2000, abs=1e-3)
    assert abs(mean - exact) <= Z * se
    narrowed, total, widened, total_again = find(
        r"^narrowed: (\d+) of (\d+) replicates; widened: (\d+) of (\d+)$", text)
    assert narrowed >= 1
    assert narrowed + widened == total == total_again
    collapsed = {label: (int(n), int(of)) for label, n, of in
                 re.findall(r"^collapsed by t = \d+, (.+): (\d+) of (\d+)$", text, re.MULTILINE)}
    assert set(collapsed) >= {"pure synthetic (replace)", "10% real"}
    assert collapsed["pure synthetic (replace)"][0] > collapsed["10% real"][0]


def check_coin(text: str) -> None:
    """Absorption times match the exact chain; the accumulate variance matches its closed form."""
    (exact,) = find(rf"^exact mean absorption time: {NUMBER} ", text)
    assert exact == pytest.approx(12.59, abs=0.005)
    mean, se = find(rf"^simulated mean absorption time \(k = 10, 100 rollouts\): {NUMBER} ± "
                    rf"{NUMBER}$", text)
    assert abs(mean - exact) <= Z * se
    mean, se, exact = find(rf"^simulated mean absorption time \(k = 10, 10000 rollouts\): "
                           rf"{NUMBER} ± {NUMBER}; exact {NUMBER};", text)
    assert abs(mean - exact) <= Z * se
    assert "first 100 rollouts identical to the classic run: True" in text
    var, var_se = find(rf"^  variance of p̂_200: {NUMBER} ± {NUMBER}$", text)
    closed, predicted = find(rf"^  exact Var p̂_200 \(closed form above\): {NUMBER}; "
                             rf"from mc.predict: {NUMBER};", text)
    assert closed == pytest.approx(predicted, abs=1e-6)
    assert abs(var - closed) <= Z * var_se


def check_loops(text: str) -> None:
    """Heat death, the fixed real set and golden-ratio weighting, each against theory.

    The categorical's entropy at a temperature has no exact result, only the large-N limit that
    ``mc.predict`` draws (and labels so); its bias at finite N is of order V/N (0.02 at N = 1000,
    2e-4 at N = 100 000), so it is checked against that limit with tolerances of that order.
    Everything else is exact and checked within Z standard errors.
    """
    truth, uniform = find(rf"^heat death: truth's entropy {NUMBER} nats; uniform log 20 = "
                          rf"{NUMBER}$", text)
    assert uniform == pytest.approx(math.log(20), abs=1e-4)
    rows = re.findall(rf"^heat death: τ = {NUMBER}, (replace|mix real [\d.]+): entropy at t = "
                      rf"\d+: {NUMBER} ± {NUMBER} \(N = 1000\), {NUMBER} ± {NUMBER} "
                      rf"\(N = 100000\); large-N limit {NUMBER}$", text, re.MULTILINE)
    entropy = {}
    for tau, policy, small, small_se, large, large_se, limit in rows:
        small, small_se, large, large_se, limit = map(
            float, (small, small_se, large, large_se, limit))
        assert abs(large - limit) <= 1e-3 + Z * large_se
        assert abs(small - limit) <= 0.05 + Z * small_se
        entropy[float(tau), policy] = small, limit
    assert len(entropy) == len(rows) == 6
    # Without fresh data: a point mass below τ = 1, uniform above (the two ends of heat death).
    assert entropy[0.7, "replace"][1] == 0.0 and entropy[0.7, "replace"][0] <= 1e-3
    assert entropy[1.4, "replace"][1] == pytest.approx(uniform, abs=1e-4)
    assert entropy[1.4, "replace"][0] > truth
    # Fresh data hold the loop between the degenerate end and the truth, the closer the more.
    for tau in (0.7, 1.4):
        for which in (0, 1):
            ends = [entropy[tau, p][which] for p in ("replace", "mix real 0.1", "mix real 0.2")]
            assert ends == sorted(ends, reverse=tau > 1)
            assert min(ends[1:]) > 0 and max(ends[1:]) < uniform
            assert (ends[2] < truth) if tau < 1 else (ends[2] > truth)
    held, total = find(r"^τ = 0.7 without fresh data: (\d+) of (\d+) replicates hold a single "
                       r"token", text)
    assert held == total

    # The coin at temperature τ: the exact tempered chain's mean absorption time.
    rows = re.findall(rf"^coin τ = {NUMBER}: mean absorption time simulated {NUMBER} ± {NUMBER} "
                      rf"\((\d+) rollouts, (\d+) absorbed by t = \d+\); exact {NUMBER};",
                      text, re.MULTILINE)
    assert len(rows) >= 5
    exact_by_tau = {}
    for tau, mean, se, rollouts, absorbed, exact in rows:
        assert absorbed == rollouts
        assert abs(float(mean) - float(exact)) <= Z * float(se)
        exact_by_tau[float(tau)] = float(exact)
    assert exact_by_tau[1.0] == pytest.approx(12.59, abs=0.005)
    ordered = [exact_by_tau[tau] for tau in sorted(exact_by_tau)]
    assert ordered == sorted(ordered) and len(set(ordered)) == len(ordered)

    # The fixed real set (augment) against fresh data (mix) and none (replace).
    rows = re.findall(rf"^(replace|mix real 0.5|augment λ = [\d.]+): E var_(\d+): simulated "
                      rf"{NUMBER} ± {NUMBER}, exact {NUMBER} \(stationary level {NUMBER}\)$",
                      text, re.MULTILINE)
    assert {row[0] for row in rows} >= {"replace", "mix real 0.5", "augment λ = 1"}
    for name, t, mean, se, exact, level in rows:
        mean, se, exact, level = map(float, (mean, se, exact, level))
        assert abs(mean - exact) <= Z * se
        if name == "replace":
            assert exact == pytest.approx((1 - 1 / 100) ** int(t), abs=1e-4) and level == 0
        else:
            assert exact == pytest.approx(level, abs=1e-4) and level > 0.98
    rows = re.findall(rf"^(mix real 0.5|augment λ = [\d.]+): E \(mean_\d+ − mean_1\)²: simulated "
                      rf"{NUMBER} ± {NUMBER}, exact {NUMBER}; corr\(mean_\d+, mean_1\): simulated "
                      rf"{NUMBER} ± {NUMBER}, exact {NUMBER}$", text, re.MULTILINE)
    assert {row[0] for row in rows} >= {"mix real 0.5", "augment λ = 1"}
    for name, drift, drift_se, drift_exact, corr, corr_se, corr_exact in rows:
        assert abs(float(drift) - float(drift_exact)) <= Z * float(drift_se)
        assert abs(float(corr) - float(corr_exact)) <= Z * float(corr_se)
        # augment: each mean stays with its own real set's; mix: it forgets training set 1
        assert float(corr_exact) > 0.8 if name.startswith("augment") else float(corr_exact) == 0
    rows = re.findall(rf"^sampling bias: augment λ = {NUMBER}, scale {NUMBER}: E var_\d+: "
                      rf"simulated {NUMBER} ± {NUMBER}, exact {NUMBER}$", text, re.MULTILINE)
    assert len(rows) >= 6
    by_scale: dict[float, list[tuple[float, float]]] = {}
    for lam, scale, mean, se, exact in rows:
        assert abs(float(mean) - float(exact)) <= Z * float(se)
        by_scale.setdefault(float(scale), []).append((float(lam), float(exact)))
    for scale, levels in by_scale.items():
        if scale < 1:  # a biased sampler: the more synthetic data, the lower the variance
            ordered = [level for _, level in sorted(levels)]
            assert ordered == sorted(ordered, reverse=True)

    # Weighted real data: the stationary variance of the mean against w; the optimum 1/φ.
    rows = re.findall(rf"^weight w = {NUMBER}: stationary Var mean × m/σ0²: simulated {NUMBER} ± "
                      rf"{NUMBER}, exact {NUMBER} \(t → ∞: {NUMBER}\)$", text, re.MULTILINE)
    assert len(rows) >= 8
    exact_by_w = {}
    for w, mean, se, exact, stationary in rows:
        assert abs(float(mean) - float(exact)) <= Z * float(se)
        assert float(exact) == pytest.approx(float(stationary), abs=1e-3)
        exact_by_w[float(w)] = float(stationary)
    assert exact_by_w[1.0] == pytest.approx(1.0, abs=1e-4)      # real data alone: σ0²/m
    assert exact_by_w[0.5] == pytest.approx(2 / 3, abs=1e-4)    # the pooled fit
    phi_inv = (math.sqrt(5) - 1) / 2
    best, best_mean, best_se, best_exact, printed, minimum, predicted, searched = find(
        rf"^optimal weight: simulated-best w = {NUMBER} \(simulated {NUMBER} ± {NUMBER}, exact "
        rf"there {NUMBER}\); exact 1/φ = {NUMBER} \(exact minimum {NUMBER}; mc.predict: "
        rf"{NUMBER}; a grid search of the closed form: {NUMBER}\)$", text)
    assert printed == pytest.approx(phi_inv, abs=1e-4)
    assert predicted == pytest.approx(phi_inv, abs=1e-4)
    assert searched == pytest.approx(phi_inv, abs=5e-3)
    assert minimum == pytest.approx(phi_inv, abs=1e-4)  # at the optimum, Var mean = (1/φ) σ0²/m
    assert min(exact_by_w.values()) >= minimum - 1e-4
    # the simulated-best weight is one the simulation cannot tell from the optimum
    assert best_exact - minimum <= Z * best_se
    assert best_mean == min(float(row[1]) for row in rows)
    assert exact_by_w[best] == pytest.approx(best_exact, abs=1e-3)


CHECKS: dict[str, Callable[[str], None]] = {
    "gmm-collapse.ipynb": check_gmm,
    "coin-collapse.ipynb": check_coin,
    "loops-of-the-literature.ipynb": check_loops,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_and_prints_sane_numbers(name, tmp_path):
    """Execute the notebook in a temporary folder; no error, no stderr, sane key numbers."""
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    assert stderr_of(nb) == []
    assert list(tmp_path.iterdir()) == [], "the notebook wrote files"
    CHECKS[name](stdout_of(nb))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_stored_notebook_is_commit_ready(name):
    """Stored with outputs in execution order, for the ``python3`` kernel, no absolute paths."""
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert any(out.get("output_type") == "display_data" for cell in code
               for out in cell.outputs), "no figures stored"
    text = "".join(str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
                   + str(out.get("traceback", "")) for cell in code for out in cell.outputs)
    for place in (EXAMPLES.parent, Path.home(), Path(tempfile.gettempdir())):
        assert str(place) not in text, f"an output shows an absolute path ({place})"
