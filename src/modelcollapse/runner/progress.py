"""A progress bar with rate and ETA, shown only for work that takes more than a moment.

Where no bar can be drawn (a CI log, a notebook's captured output, a pipe), ``plain`` prints a
line instead every :data:`LINE_SECONDS` while the work runs, so that a log never looks hung.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .blocks import ProgressCallback

#: Seconds between two progress lines where no bar is drawn (``plain``).
LINE_SECONDS = 10.0
#: The ``progress`` value that asks a driver for lines instead of a bar.
LINES = "lines"


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool = True,
                 unit: str = "gen", initial: int = 0, scale: bool = True,
                 plain: bool = False,
                 every: float = LINE_SECONDS) -> Iterator[ProgressCallback]:
    """Yield a thread-safe callback that advances a bar of ``total`` units.

    The bar goes to standard error and appears only after half a second, so quick runs stay quiet.
    ``initial`` units are already done (a resumed sweep); the rate and ETA count only new ones.
    ``scale`` writes large counts as 1.2M (generations), not for a few hundred work units.
    With ``plain``, no bar: a line every ``every`` seconds instead (:func:`progress_lines`).
    """
    if not enabled:
        yield lambda n: None
        return
    if plain:
        with progress_lines(total, description, unit=unit, initial=initial,
                            every=every) as advance:
            yield advance
        return
    from tqdm import tqdm

    lock = threading.Lock()
    with tqdm(total=total, desc=description, unit=unit, unit_scale=scale, delay=0.5,
              initial=initial, file=sys.stderr, dynamic_ncols=True, smoothing=0.1) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance


@contextmanager
def progress_lines(total: int, description: str, *, unit: str = "gen", initial: int = 0,
                   every: float = LINE_SECONDS) -> Iterator[ProgressCallback]:
    """Yield a thread-safe callback that counts units done, and print a line to standard error
    every ``every`` seconds until the work ends: how much is done, how long it has taken and,
    from the rate so far, about how long is left.

    Quiet for work shorter than ``every``; the lines come from a watcher thread, so a block that
    takes longer than ``every`` to finish still shows the run alive.
    """
    lock = threading.Lock()
    done = [initial]
    finished = threading.Event()
    started = time.perf_counter()

    def watch() -> None:
        while not finished.wait(every):
            with lock:
                count = done[0]
            elapsed = time.perf_counter() - started
            new = count - initial
            left = (f", about {(total - count) * elapsed / new:.0f} s left" if new > 0
                    else "")
            share = 100.0 * count / total if total else 100.0
            print(f"{description}: {count:,} of {total:,} {unit} ({share:.0f}%), "
                  f"{elapsed:.0f} s so far{left}", file=sys.stderr, flush=True)

    watcher = threading.Thread(target=watch, name="progress-lines", daemon=True)
    watcher.start()

    def advance(n: int) -> None:
        with lock:
            done[0] += n

    try:
        yield advance
    finally:
        finished.set()
        watcher.join()
