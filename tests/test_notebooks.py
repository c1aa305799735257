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


CHECKS: dict[str, Callable[[str], None]] = {
    "gmm-collapse.ipynb": check_gmm,
    "coin-collapse.ipynb": check_coin,
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
