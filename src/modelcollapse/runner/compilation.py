"""Whether a family's numba kernels still need compiling on this machine.

numba compiles a kernel on its first call and caches the machine code next to the source; the
GMM's kernels take about 20 s to compile the first time after installation, then load in a
fraction of a second. The command line uses this to say so instead of showing a stalled bar.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any


def is_cached(kernel: Any) -> bool | None:
    """True if ``kernel`` (a numba dispatcher) has compiled code in its on-disk cache.

    Returns ``None`` when this cannot be told (numba's cache internals changed, caching off).
    A cache written for an older version of the source also counts as cached; numba then
    recompiles silently, which is rare and only after an upgrade.
    """
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:
        return None


def cold_kernels(kernels: Iterable[Any]) -> list[str]:
    """Names of the kernels whose compiled code is not cached yet."""
    return [getattr(k, "__name__", repr(k)) for k in kernels if is_cached(k) is False]
