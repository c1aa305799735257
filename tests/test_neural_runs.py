"""The neural families in the package around them: installation, manifests, theory, memory.

The families' own behaviour (training learns, the rulers are fixed, policies move or keep the
metrics) is tested in test_vae.py and test_charlm.py; here is what a user meets around them:
PyTorch imported only when a network trains, a one-line error without it, the manifest that
records what the CPU's numbers depend on, ``predict`` saying that no theory covers them, the
device kept out of the random streams and the memory estimate that counts the networks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modelcollapse as mc
from modelcollapse.runner.memory import estimate_memory
from neural_support import require_torch

torch = require_torch()

TINY_VAE = ("--hidden", "16", "--latent", "2", "--epochs", "1", "--samples", "64",
            "--generations", "2", "--replicates", "2")


def cli(*args: str, cwd: Path, block_torch: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    code = "import sys\n"
    if block_torch:  # as on a machine without PyTorch: `import torch` raises ImportError
        code += ("class NoTorch:\n"
                 "    def find_spec(self, name, path=None, target=None):\n"
                 "        if name.split('.')[0] == 'torch':\n"
                 "            raise ImportError('No module named torch')\n"
                 "sys.meta_path.insert(0, NoTorch())\n")
    code += "from modelcollapse.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_importing_the_package_never_imports_pytorch():
    done = subprocess.run([sys.executable, "-c", "import sys, modelcollapse as mc\n"
                           "mc.RunConfig('vae'); mc.RunConfig('charlm')\n"
                           "print('torch' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("family", ["vae", "charlm"])
def test_without_pytorch_a_neural_run_is_one_line_naming_the_extra(tmp_path, family):
    done = cli("run", family, "--no-plots", cwd=tmp_path, block_torch=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "needs PyTorch" in lines[0] and "modelcollapse[neural]" in lines[0]
    assert "seed" not in done.stdout  # refused before the run starts: no seed drawn, no folder
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_missing_gpu_is_a_one_line_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    done = cli("run", "vae", *TINY_VAE, "--device", "cuda", "--no-plots", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "no CUDA device" in done.stderr


def test_a_neural_run_records_pytorch_threads_and_version(tmp_path):
    out = tmp_path / "vae"
    done = cli("run", "vae", *TINY_VAE, "--seed", "3", "--report", "--out", str(out),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["torch"] == {"threads": 1, "deterministic": True,
                                 "cuda_devices": torch.cuda.device_count()}
    assert manifest["versions"]["torch"] == torch.__version__.split("+")[0] or \
        manifest["versions"]["torch"].startswith(torch.__version__.split("+")[0])
    assert "samples.png" in manifest["files"]["figures"]
    assert (out / "samples.png").exists() and (out / "pictures.parquet").exists()
    # The report says that no theory is drawn, and why.
    assert "no exact theory covers it" in (out / "report.html").read_text()
    # A statistical family's manifest does not describe PyTorch (it never loaded it).
    coin = tmp_path / "coin"
    assert cli("run", "coin", "--generations", "3", "--replicates", "4", "--no-plots",
               "--out", str(coin), cwd=tmp_path).returncode == 0
    assert "torch" not in json.loads((coin / "manifest.json").read_text())


@pytest.mark.parametrize("family", ["vae", "charlm"])
def test_predict_says_no_exact_theory_covers_a_network(family):
    prediction = mc.predict(mc.RunConfig(family))
    assert not prediction.curves
    assert any("no exact theory covers it" in note for note in prediction.notes)


def test_the_device_is_not_part_of_the_random_streams():
    on_cpu = mc.RunConfig(mc.get_family("vae", device="cpu"))
    anywhere = mc.RunConfig(mc.get_family("vae", device="auto"))
    assert on_cpu.stream_key == anywhere.stream_key
    other = mc.RunConfig(mc.get_family("vae", hidden=32))
    assert other.stream_key != on_cpu.stream_key


def test_the_memory_estimate_counts_the_networks(monkeypatch):
    config = mc.RunConfig(mc.get_family("vae", hidden=512), n_replicates=8)
    family, block = config.model, config.block_size
    stored = config.data_policy.stored_samples(config.n_samples, config.n_generations)
    fit = family.fit_bytes(stored, block)
    # At least the parameters, gradients and Adam's moments of a block's networks, in float32.
    assert fit >= 4 * 4 * block * family.layout.size
    counted = estimate_memory(config, workers=1)
    monkeypatch.setattr(type(family), "fit_bytes", lambda self, n, b: 0)
    assert counted - estimate_memory(config, workers=1) == fit  # one block in flight


def test_a_config_file_is_the_same_neural_run_as_its_flags(tmp_path):
    (tmp_path / "vae.toml").write_text(
        'family = "vae"\nhidden = 16\nlatent = 2\nepochs = 1\nsamples = 64\ngenerations = 2\n'
        'replicates = 2\nseed = 5\npolicy = "mix"\nreal = 0.5\nwarm-start = true\n'
        'device = "cpu"\n')
    by_file = tmp_path / "file"
    done = cli("run", "--config", "vae.toml", "--no-plots", "--out", str(by_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    by_flags = tmp_path / "flags"
    done = cli("run", "vae", *TINY_VAE, "--seed", "5", "--policy", "mix", "--real", "0.5",
               "--warm-start", "--device", "cpu", "--no-plots", "--out", str(by_flags),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = mc.load(by_file), mc.load(by_flags)
    assert first.config == second.config and first.config.model.warm_start
    for name in first.config.metric_names:
        np.testing.assert_array_equal(first.trajectories(name), second.trajectories(name))
