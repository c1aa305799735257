"""Start-up pays only for what a command uses: which heavy modules an import and a command load.

Each check runs in a fresh interpreter (a module once imported stays imported) and lists the
heavy packages in ``sys.modules`` afterwards. ``import modelcollapse`` and ``modelcollapse --help``
describe experiments and must load none of them; ``modelcollapse run coin --no-plots`` writes
Parquet (pyarrow) and nothing else heavy: its summary's exact theory is numpy only
(:mod:`modelcollapse.theory.binomial`), and the mixture's theory, closed forms, needs no scipy
either. Times are benchmarked (``benchmarks/bench_startup.py``),
never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Packages that cost a tenth of a second or more to import on a small machine.
HEAVY = ("matplotlib", "plotly", "pyarrow", "pandas", "scipy", "numba", "tqdm", "distributed",
         "sklearn", "torch")


def loaded_after(code: str) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after running ``code``."""
    heavy = set(HEAVY)
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_loads_nothing_heavy():
    assert loaded_after("import modelcollapse as mc; mc.RunConfig('coin'); mc.GMM()") == []


def test_help_loads_nothing_heavy():
    code = ("import contextlib, io\nfrom modelcollapse.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "    try:\n        main(['run', '--help'])\n    except SystemExit:\n        pass")
    assert loaded_after(code) == []


def test_the_version_is_written_once_and_read_without_metadata():
    """``version.py`` is the one source: the installed metadata agrees with it, and an import
    does not read that metadata (``importlib.metadata`` pulls in ``email``, ~50 ms)."""
    from importlib import metadata

    from modelcollapse.version import __version__

    assert metadata.version("modelcollapse") == __version__
    probe = ("import modelcollapse, sys\n"
             "print(sorted({'importlib.metadata', 'email'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_a_coin_run_loads_only_parquet(tmp_path: Path):
    code = ("import contextlib, io\nfrom modelcollapse.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['run', 'coin', '--no-plots', '--seed', '1', '--out', "
            f"{str(tmp_path / 'coin')!r}]) == 0")
    assert loaded_after(code) == ["pyarrow"]
    assert (tmp_path / "coin" / "metrics.parquet").is_file()


def test_theory_for_a_coin_or_a_mixture_needs_no_scipy():
    """The summaries of coin and GMM runs use closed forms and chains in numpy only."""
    code = ("import modelcollapse as mc\n"
            "mc.predict(mc.RunConfig('coin'))\nmc.predict(mc.RunConfig('coin', policy='mix'))\n"
            "mc.predict(mc.RunConfig('gmm'))\n"
            "mc.predict(mc.RunConfig('gmm', policy=mc.Mix(real=0.1)))")
    assert loaded_after(code) == []


@pytest.mark.parametrize(("code", "expected"), [
    ("import modelcollapse as mc\nmc.predict(mc.RunConfig('gaussian'))", "scipy"),
    ("import modelcollapse as mc\nmc.GMM().metrics(mc.GMM().truth()[None])", "numba"),
    ("from modelcollapse import plots", "matplotlib"),
])
def test_the_probe_sees_what_a_command_does_load(code, expected):
    """The check is not blind: code that needs a heavy package is seen loading it."""
    assert expected in loaded_after(code)
