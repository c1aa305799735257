"""A progress bar with rate and ETA, shown only for work that takes more than a moment."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .blocks import ProgressCallback


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool = True,
                 unit: str = "gen", initial: int = 0,
                 scale: bool = True) -> Iterator[ProgressCallback]:
    """Yield a thread-safe callback that advances a bar of ``total`` units.

    The bar goes to standard error and appears only after half a second, so quick runs stay quiet.
    ``initial`` units are already done (a resumed sweep); the rate and ETA count only new ones.
    ``scale`` writes large counts as 1.2M (generations), not for a few hundred work units.
    """
    if not enabled:
        yield lambda n: None
        return
    from tqdm import tqdm

    lock = threading.Lock()
    with tqdm(total=total, desc=description, unit=unit, unit_scale=scale, delay=0.5,
              initial=initial, file=sys.stderr, dynamic_ncols=True, smoothing=0.1) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance
