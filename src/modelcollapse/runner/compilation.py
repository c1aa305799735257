"""Whether a family's numba kernels still need compiling on this machine.

numba compiles a kernel on its first call and caches the machine code next to the source; the
GMM's kernels take 20 s to two minutes to compile the first time after installation (measured:
about 20 s on a quiet 16-core machine, 50 s in a fresh environment on 2 cores, 88 s on a loaded
one), then load in a fraction of a second. The command line uses this to say so instead of
showing a stalled bar: :func:`modelcollapse.runner.driver.compile_ahead` compiles before the run
starts and says every :data:`HEARTBEAT_SECONDS` that it still does, so that a CI log or a
notebook, where no progress bar is drawn, never looks stalled.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

#: The words every command uses to announce a first compile (one phrase, so they cannot drift).
COMPILE_NOTICE = ("compiling the numerical kernels for this machine (first run only: 20 s to two "
                  "minutes, depending on the machine and its load; cached afterwards)")
#: Seconds between two "still compiling" lines (as between two progress lines in a log).
HEARTBEAT_SECONDS = 10.0


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

