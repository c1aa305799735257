"""What a result needs to be reproduced: software versions, platform, command line, times."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

#: Distributions whose versions are recorded in every manifest.
RECORDED = ("modelcollapse", "numpy", "scipy", "numba", "pandas", "pyarrow", "matplotlib",
            "scikit-learn", "torch")


def versions() -> dict[str, str]:
    """Installed versions of the packages that can change a result (absent ones omitted)."""
    out = {"python": platform.python_version()}
    for name in RECORDED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment(argv: list[str] | None = None) -> dict[str, Any]:
    """Versions, platform and command line for a manifest (and PyTorch's threads and devices
    when a neural family has loaded it: its CPU sums depend on the thread count)."""
    out: dict[str, Any] = {
        "versions": versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "argv": list(sys.argv if argv is None else argv),
    }
    torch = sys.modules.get("torch")  # never imported here: only described if a run used it
    if torch is not None:
        out["torch"] = {"threads": int(torch.get_num_threads()),
                        "deterministic": bool(torch.are_deterministic_algorithms_enabled()),
                        "cuda_devices": int(torch.cuda.device_count())}
    return out


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")
