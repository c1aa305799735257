"""Memory is estimated before a run starts, and a run that would not fit is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc

import pytest

import modelcollapse as mc
from modelcollapse.errors import OutOfMemoryEstimate
from modelcollapse.runner.memory import check_memory, estimate_memory, memory_limit


@pytest.mark.parametrize("config", [
    mc.RunConfig("gmm", policy="accumulate", n_samples=2000, n_generations=100, n_replicates=16,
                 seed=1),
    mc.RunConfig("gaussian", policy="accumulate-subsample", n_samples=4000, n_generations=150,
                 n_replicates=8, seed=1),
    mc.RunConfig("coin", n_replicates=10_000, n_generations=200, seed=1),
], ids=["gmm-accumulate", "gaussian-accumulate-subsample", "coin"])
def test_estimate_bounds_the_measured_peak(config):
    mc.simulate(mc.RunConfig(**{**config.__dict__, "n_generations": 2}), workers=2)  # compile
    tracemalloc.start()
    mc.simulate(config, workers=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimate = estimate_memory(config, workers=2, in_memory=True)
    assert peak <= estimate <= 3 * peak


def test_memory_grows_with_accumulated_samples_not_replicates():
    small = mc.RunConfig("gmm", policy="accumulate", n_samples=10_000, n_generations=100,
                         n_replicates=10)
    many = mc.RunConfig(**{**small.__dict__, "n_replicates": 10_000})
    longer = mc.RunConfig(**{**small.__dict__, "n_generations": 1000})
    assert estimate_memory(many, workers=2) < 2 * estimate_memory(small, workers=2) + 2**30
    assert estimate_memory(longer, workers=2) > 5 * estimate_memory(small, workers=2)


def test_refused_up_front_with_the_estimate_and_what_to_change():
    config = mc.RunConfig("gmm", policy="accumulate", n_samples=100_000, n_generations=2000,
                          n_replicates=10)
    with pytest.raises(OutOfMemoryEstimate) as err:
        check_memory(config, workers=2, available=8 * 2**30)
    text = str(err.value)
    assert text.startswith("memory would be about") and "only 8.0 GiB is available" in text
    assert "accumulate keeps every sample, 100000 × 2001 per replicate" in text


def test_memory_cap_from_the_environment(monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_MEMORY", "1.5G")
    assert memory_limit() == int(1.5 * 2**30)
    monkeypatch.setenv("MODELCOLLAPSE_MEMORY", "lots")
    for typo in ("lots", "0", "-2G", "nan", "inf", "512"):  # 512 bytes: a forgotten unit
        monkeypatch.setenv("MODELCOLLAPSE_MEMORY", typo)
        with pytest.raises(OutOfMemoryEstimate, match="must be a size of at least 1K"):
            memory_limit()


def test_refusal_names_the_replicates_when_they_drive_the_estimate():
    config = mc.RunConfig("coin", n_replicates=10**9, n_generations=60, seed=1)
    with pytest.raises(OutOfMemoryEstimate, match="fewer --replicates"):
        check_memory(config, workers=2, available=2**30)


def test_refusal_under_a_small_cap_names_the_cap_in_readable_units(monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_MEMORY", "1K")
    with pytest.raises(OutOfMemoryEstimate) as err:
        check_memory(mc.RunConfig("coin", seed=1), workers=2)
    text = str(err.value)
    assert "MODELCOLLAPSE_MEMORY allows 1.0 KiB" in text and "0.0 GiB" not in text
    assert " MiB but " in text, text


def test_command_line_refuses_with_one_line_and_no_folder(tmp_path):
    env = {**os.environ, "MODELCOLLAPSE_MEMORY": "50M", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "gmm", "--policy",
                           "accumulate", "--samples", "20000", "--generations", "500"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "memory would be about" in lines[0], done.stderr
    assert not (tmp_path / "runs").exists()
