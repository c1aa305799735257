"""The package's layers, as declared for import-linter in pyproject.toml, and proof they bite.

``lint-imports`` checks every import of the package, including imports inside functions and
under ``TYPE_CHECKING``, against four contracts: the layers (core → runtime → presentation →
CLI, imports downward only, every top-level module placed in a layer), no plotting library below
the presentation, no tables or files in the core, and no import cycles within any package. The
first test runs it on the package as installed; the others plant a typical violation in a copy
of the source and check that the contract meant to catch it fails there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import modelcollapse

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(modelcollapse.__file__).resolve().parent


def lint_imports(config: Path, *, pythonpath: Path | None = None,
                 contract: str | None = None) -> subprocess.CompletedProcess:
    """Run ``lint-imports`` on ``config`` (one contract, by id, or all) in a fresh interpreter."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    code = "import sys; from importlinter.cli import lint_imports_command; " \
           "sys.exit(lint_imports_command())"
    only = ["--contract", contract] if contract else []
    return subprocess.run([sys.executable, "-c", code, str(config), "--no-cache", *only],
                          capture_output=True, text=True, env=env, cwd=config.parent, check=False)


def test_the_contracts_hold():
    done = lint_imports(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_top_level_module_is_in_a_layer():
    """The layers contract is exhaustive: a new module must be placed in a layer (or CI fails)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    assert layers.get("exhaustive") is True
    listed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    present = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    present |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert present == listed


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """A copy of the package and the contracts, to plant violations in."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(PACKAGE, root / "src" / "modelcollapse",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


#: (what is planted, file, code appended to it, the id of the contract that must break)
PLANTS = [
    ("the core imports the runtime inside a function", "families/coin.py",
     "\n\ndef _planted():\n    from ..runner import blocks\n\n    return blocks\n", "layers"),
    ("the runtime draws", "sweeps/driver.py",
     "\n\ndef _planted():\n    import matplotlib\n\n    return matplotlib\n",
     "no-drawing-below-presentation"),
    ("a view imports a plotting library under TYPE_CHECKING", "views/run.py",
     "\n\nif TYPE_CHECKING:\n    from plotly.graph_objects import Figure\n",
     "no-drawing-below-presentation"),
    ("the core reads tables", "theory/assembly.py",
     "\n\ndef _planted():\n    import pandas\n\n    return pandas\n", "core-is-computation"),
    ("two figure modules import each other", "plots/canvas.py",
     "\n\ndef _planted():\n    from . import metrics\n\n    return metrics\n", "acyclic"),
    ("a new top-level module no layer lists", "planted_module.py",
     '"""A module placed in no layer."""\n', "layers"),
]


@pytest.mark.parametrize(("what", "file", "code", "contract"), PLANTS,
                         ids=[p[0] for p in PLANTS])
def test_a_planted_violation_breaks_its_contract(copy, what, file, code, contract):
    target = copy / "src" / "modelcollapse" / file
    original = target.read_text() if target.exists() else None
    config = copy / "pyproject.toml"
    clean = lint_imports(config, pythonpath=copy / "src", contract=contract)
    assert clean.returncode == 0, f"the unplanted copy breaks {contract}\n{clean.stdout[-2000:]}"
    try:
        target.write_text((original or "") + code)
        planted = lint_imports(config, pythonpath=copy / "src", contract=contract)
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_text(original)
    assert planted.returncode != 0, f"{what}: contract {contract} still kept\n{planted.stdout}"
