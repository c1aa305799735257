"""The command line end to end, in a temporary folder, and its handling of bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import modelcollapse as mc


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "modelcollapse", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_coin_writes_a_complete_folder(tmp_path):
    out = tmp_path / "coin-run"
    done = cli("run", "coin", "--seed", "4", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "seed 4" in done.stdout and "absorbed at 0 or 1" in done.stdout
    assert f"results: {out}" in done.stdout
    files = {p.name for p in out.iterdir()}
    assert {"manifest.json", "metrics.parquet", "replicates.parquet"} <= files
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["seed"] == 4 and manifest["status"] == "complete"
    assert manifest["config"]["n_samples"] == 10 and manifest["config"]["n_replicates"] == 100
    assert manifest["argv"][:3] == ["modelcollapse", "run", "coin"]
    result = mc.load(out)
    assert set(result.metrics.columns) == {"replicate", "metric", "generation", "value"}
    assert len(result.metrics) == 100 * 61
    assert result.trajectories("p").shape == (100, 61)
    assert set(manifest["files"]["figures"]) <= files


def test_default_folder_and_drawn_seed_are_reported(tmp_path):
    done = cli("run", "gaussian", "--generations", "5", "--no-plots", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seed = int(re.search(r"seed (\d+) \(drawn", done.stdout).group(1))
    folder = Path(re.search(r"results: (\S+)", done.stdout).group(1))
    assert folder.parent.name == "runs" and folder.name.startswith("gaussian-")
    assert mc.load(tmp_path / folder).seed == seed


def test_config_file_with_flags_overriding(tmp_path):
    (tmp_path / "exp.toml").write_text(
        'family = "gaussian"\nsamples = 30\ngenerations = 4\nreplicates = 7\n'
        'policy = "mix"\nreal = 0.25\nestimator = "unbiased"\ncollapse_fraction = 0.3\n')
    out = tmp_path / "r"
    done = cli("run", "--config", "exp.toml", "--replicates", "5", "--seed", "1", "--no-plots",
               "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = mc.load(out).config
    assert config.n_samples == 30 and config.n_replicates == 5
    assert config.model.estimator == "unbiased" and config.data_policy.real == 0.25
    assert config.collapse_fraction == 0.3


def test_python_api_and_module_entry_point_agree(tmp_path):
    out = tmp_path / "cli"
    assert cli("run", "coin", "--seed", "8", "--no-plots", "--out", str(out),
               cwd=tmp_path).returncode == 0
    api = mc.run(mc.RunConfig("coin", seed=8), out=tmp_path / "api", plots=False)
    assert (mc.load(out).metrics == api.metrics).all().all()


def test_negative_numbers_are_values_not_flags(tmp_path):
    out = tmp_path / "g"
    done = cli("run", "gmm", "--means", "-3,1", "--stds", "0.5,1", "--samples", "200",
               "--generations", "2", "--replicates", "2", "--seed", "1", "--no-plots",
               "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mc.load(out).config.model.means == (-3.0, 1.0)


BAD_INPUTS = [
    (["run", "coin", "--samples", "0"], "--samples must be an integer ≥ 1 (got 0)"),
    (["run", "coin", "--samples", "ten"], "--samples must be an integer (got ten)"),
    (["run", "coin", "--p0", "1.5"], "--p0 must be a probability between 0 and 1"),
    (["run", "--p0", "0.3"], "--p0 does not apply to family gmm"),
    (["run", "dragon"], "family must be one of coin, categorical, gaussian, gmm"),
    (["run", "gaussian", "--policy", "mix", "--real", "0.7", "--synthetic", "0.5"],
     "--real + --synthetic must be at most 1 (got 0.7 + 0.5 = 1.2)"),
    (["run", "gaussian", "--policy", "mix", "--real", "-0.1"], "--real must be a number between"),
    (["run", "gaussian", "--policy", "mix", "--real", "nan"], "(got nan)"),
    (["run", "gaussian", "--real", "0.2"], "--real needs --policy mix"),
    (["run", "gaussian", "--policy", "sometimes"], "--policy must be one of replace, mix"),
    (["run", "gaussian", "--estimator", "mean"], "--estimator must be one of mle, unbiased"),
    (["run", "gaussian", "--std", "-1"], "--std must be a number > 0"),
    (["run", "gaussian", "--estimator", "unbiased", "--samples", "1"],
     "--samples must be ≥ 2 for the unbiased estimator"),
    (["run", "gmm", "--means", "-2,0,2", "--stds", "1,1"], "--stds must have 3 values"),
    (["run", "gmm", "--weights", "0.2,0.2"], "--weights must be ≥ 0 and sum to 1"),
    (["run", "gmm", "--components", "3"], "--means must be given for 3 components"),
    (["run", "gmm", "--tol", "0"], "--tol must be a number > 0"),
    (["run", "gmm", "--samples", "1"], "--samples must be ≥ the number of components (2)"),
    (["run", "categorical", "--vocab", "1"], "--vocab must be an integer ≥ 2"),
    (["run", "categorical", "--zipf", "-1"], "--zipf must be a number ≥ 0"),
    (["run", "coin", "--seed", "-3"], "--seed must be an integer ≥ 0"),
    (["run", "coin", "--workers", "0"], "--workers must be an integer ≥ 1"),
    (["run", "coin", "--sample", "3"], "unrecognized arguments"),
    (["run", "coin", "--config", "missing.toml"], "--config must name an existing TOML file"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS,
                         ids=[" ".join(a[1:]) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_no_folder(tmp_path, argv, message):
    done = cli(*argv, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_config_file_names_the_key_and_the_file(tmp_path):
    (tmp_path / "bad.toml").write_text('family = "coin"\nsample = 10\n')
    done = cli("run", "--config", "bad.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("modelcollapse run: error: sample (in bad.toml) is not a "
                                   "known setting (did you mean samples?)")
    (tmp_path / "bad2.toml").write_text('family = "coin"\nsamples = -4\n')
    done = cli("run", "--config", "bad2.toml", cwd=tmp_path)
    assert "samples (in bad2.toml) must be an integer ≥ 1 (got -4)" in done.stderr
    (tmp_path / "bad3.toml").write_text('family = "coin"\nsamples = [\n')
    assert "is not valid TOML" in cli("run", "--config", "bad3.toml", cwd=tmp_path).stderr


def test_refuses_to_write_into_a_folder_with_files(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    done = cli("run", "coin", "--out", "full", cwd=tmp_path)
    assert done.returncode == 2 and "--out must be a new or empty folder" in done.stderr
    assert {p.name for p in (tmp_path / "full").iterdir()} == {"keep.txt"}


def test_help_lists_families_policies_and_options(tmp_path):
    done = cli("run", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for word in ("coin", "categorical", "gaussian", "gmm", "accumulate-subsample", "--real",
                 "--synthetic", "--means", "--estimator", "--p0", "--vocab", "--zipf", "--tol",
                 "--backend", "--init", "--config", "--no-plots"):
        assert word in done.stdout


def test_categorical_probabilities_from_a_config_file(tmp_path):
    (tmp_path / "probs.toml").write_text(
        'family = "categorical"\nprobs = [0.5, 0.25, 0.125, 0.125]\nsamples = 50\n'
        'generations = 3\nreplicates = 2\n')
    out = tmp_path / "r"
    done = cli("run", "--config", "probs.toml", "--seed", "3", "--no-plots", "--out", str(out),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    family = mc.load(out).config.model
    assert family.probs == (0.5, 0.25, 0.125, 0.125) and family.vocab == 4


def test_terminated_run_leaves_no_folder(tmp_path):
    """SIGTERM mid-run: the partial folder is removed and no complete-looking folder appears."""
    import signal
    import time

    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [sys.executable, "-m", "modelcollapse", "run", "gaussian", "--samples", "2000",
         "--policy", "mix", "--real", "0.1", "--synthetic", "0.5", "--generations", "100000",
         "--replicates", "64", "--seed", "1", "--out", "long", "--no-plots"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not any(tmp_path.glob(".long.partial-*")):
        time.sleep(0.1)
    assert any(tmp_path.glob(".long.partial-*")), "the run should have started writing"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "long").exists()
    assert not any(tmp_path.glob(".long.partial-*"))
