"""PyTorch for the neural families: imported on first use, with the run's device and threads.

PyTorch is an optional dependency (the ``neural`` extra). Nothing in the package imports it at
start-up: the neural families register themselves without it, and the first call that trains,
samples or measures a network imports it through :func:`torch_module`, which turns a missing
installation into a one-line :class:`~modelcollapse.errors.ConfigError` naming the extra.

Reproducibility. Every random number a neural run uses is drawn from the block's numpy
generator (initial weights, minibatch orders, the VAE's reparametrisation noise, the uniforms
that pick generated tokens) and only then moved to the device, so the streams are the package's
and do not depend on the device. On the CPU, :func:`configure` fixes PyTorch's intra-op threads
(:data:`THREADS`, recorded in the manifest) and asks for deterministic algorithms: the same
configuration and seed give the same numbers, bit for bit, whatever the number of workers. On a
GPU the numbers are the same law but not the same bits (its kernels sum in another order).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from types import ModuleType

from ...errors import ConfigError

#: How to install what the neural families need.
NEURAL_EXTRA = ("pip install 'modelcollapse[neural]' (for the CPU-only build: "
                "pip install torch --index-url https://download.pytorch.org/whl/cpu first)")
#: ``--device`` choices.
DEVICES = ("auto", "cpu", "cuda")
#: PyTorch's intra-op threads per replicate block. Blocks already run on one worker thread each
#: (:mod:`modelcollapse.runner.blocks`), so one thread per block keeps every core busy, and a
#: fixed count keeps the CPU's sums in one order (the same numbers on every machine).
THREADS = 1

_configured = threading.Lock()
#: Whether this thread has configured PyTorch (its OpenMP thread count is per thread), so that
#: the layers, which ask for PyTorch at every call, pay for the check once per thread.
_this_thread = threading.local()


@lru_cache(maxsize=1)
def _import_torch() -> ModuleType | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def available() -> bool:
    """Whether PyTorch can be imported."""
    return _import_torch() is not None


def torch_module(family: str = "neural") -> ModuleType:
    """PyTorch, configured for reproducible runs (:func:`configure`).

    Raises
    ------
    ConfigError
        When PyTorch is not installed, naming the extra that installs it.
    """
    torch = _import_torch()
    if torch is None:
        raise ConfigError("family", f"{family} needs PyTorch, which is not installed; install "
                                    f"it with {NEURAL_EXTRA}")
    if not getattr(_this_thread, "configured", False):
        configure(torch)
        _this_thread.configured = True
    return torch


def configure(torch: ModuleType) -> None:
    """Fix the CPU's intra-op threads and ask for deterministic algorithms (idempotent)."""
    with _configured:
        if torch.get_num_threads() != THREADS:
            torch.set_num_threads(THREADS)
        if not torch.are_deterministic_algorithms_enabled():
            # cuBLAS is deterministic only with a fixed workspace; set before CUDA starts.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(spec: str, family: str = "neural") -> str:
    """``"cpu"`` or ``"cuda"`` for ``--device`` ``spec`` (``auto``: CUDA when present).

    Resolved where a block runs, so that a sweep's Dask worker with a GPU uses it.

    Raises
    ------
    ConfigError
        For ``cuda`` on a machine where PyTorch finds no CUDA device.
    """
    torch = torch_module(family)
    has_cuda = bool(torch.cuda.is_available())
    if spec == "auto":
        return "cuda" if has_cuda else "cpu"
    if spec == "cuda" and not has_cuda:
        raise ConfigError("device", "is cuda, but PyTorch finds no CUDA device on this machine "
                                    "(use cpu or auto)")
    return spec


def torch_version() -> str | None:
    """The installed PyTorch's version, or ``None``."""
    torch = _import_torch()
    return None if torch is None else str(torch.__version__)
