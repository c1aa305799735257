"""The first GMM run on a machine compiles its kernels, says so, and never looks stalled.

numba caches compiled code on disk; with ``NUMBA_CACHE_DIR`` pointed at an empty folder a fresh
interpreter sees the cache cold, as after installation. The command then announces the compile,
compiles ahead of the run (:func:`modelcollapse.runner.driver.compile_ahead`) and prints a
"still compiling" line every 15 s on any output, a CI log or a notebook included, where no
progress bar is drawn.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import modelcollapse as mc
from modelcollapse.runner import driver
from modelcollapse.runner.compilation import COMPILE_NOTICE


def test_compile_ahead_runs_the_config_shrunk_and_ticks_while_it_works(monkeypatch):
    seen = []

    def slow_simulate(config, *, workers):
        seen.append(config)
        time.sleep(0.35)

    monkeypatch.setattr(driver, "simulate", slow_simulate)
    ticks: list[float] = []
    config = mc.RunConfig("gmm", policy="accumulate", n_samples=500, n_generations=40,
                          n_replicates=9, seed=3)
    seconds = driver.compile_ahead(config, tick=ticks.append, every=0.1)
    (small,) = seen
    assert (small.n_replicates, small.n_generations) == (2, 2)
    assert (small.model, small.data_policy, small.n_samples, small.seed) == \
        (config.model, config.data_policy, config.n_samples, config.seed)
    assert 2 <= len(ticks) <= 4 and ticks == sorted(ticks)
    assert seconds >= ticks[-1]


def test_a_tick_is_never_called_after_compile_ahead_returns(monkeypatch):
    monkeypatch.setattr(driver, "simulate", lambda config, *, workers: None)
    ticks: list[float] = []
    driver.compile_ahead(mc.RunConfig("coin", seed=1), tick=ticks.append, every=0.05)
    time.sleep(0.15)
    assert ticks == []


def _cold_env(tmp_path) -> dict[str, str]:
    return {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"), "MPLBACKEND": "Agg"}


def test_an_empty_numba_cache_is_seen_as_cold(tmp_path):
    code = ("import modelcollapse as mc; from modelcollapse import api; "
            "print(len(api.cold_kernels(mc.RunConfig('gmm').model)), "
            "len(api.cold_kernels(mc.RunConfig('coin').model)))")
    done = subprocess.run([sys.executable, "-c", code], env=_cold_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    gmm, coin = map(int, done.stdout.split())
    assert gmm > 0 and coin == 0


@pytest.mark.slow
def test_a_cold_first_run_announces_compiles_ahead_and_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "gmm", "--samples",
                           "200", "--generations", "3", "--replicates", "2", "--seed", "1",
                           "--no-plots", "--out", str(tmp_path / "run")],
                          env=_cold_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = lines.index(COMPILE_NOTICE)
    assert lines[at + 1 + sum("still compiling" in line for line in lines)].startswith(
        "  compiled in ")
    assert (tmp_path / "numba-cache").is_dir() and any((tmp_path / "numba-cache").rglob("*.nbi"))
