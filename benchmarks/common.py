"""Helpers shared by the benchmark scripts: timing, machine description, results files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    """The machine and software a measurement came from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    import numpy

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {"cpu": cpu, "cores": cores, "python": platform.python_version(),
            "numpy": numpy.__version__, "numba": numba.__version__,
            "platform": platform.platform(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def median_time(function: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    """Median wall time of ``function()`` over ``repeats`` calls (and all the times)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def command(args: Sequence[str]) -> Callable[[], None]:
    """A callable running ``modelcollapse <args> --out <fresh folder>``, the whole command."""

    def once() -> None:
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, "-m", "modelcollapse", *args, "--out",
                            str(Path(folder) / "run")], check=True, stdout=subprocess.DEVNULL)

    return once


def command_time(args: Sequence[str], repeats: int) -> tuple[float, list[float]]:
    """Median wall time of the whole command ``modelcollapse <args>`` (after one warm-up)."""
    once = command(args)
    once()  # warm the numba cache and the file system: the first run compiles
    return median_time(once, repeats)


def interleaved(tasks: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each task, measured in rounds that run every task once.

    Interleaving puts the reference and the contender under the same machine conditions (a
    shared or throttled host drifts over minutes), so their ratio is measured side by side.
    Every task runs once more first, untimed, as a warm-up.
    """
    for task in tasks.values():
        task()
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeats):
        for name, task in tasks.items():
            start = time.perf_counter()
            task()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def save(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the machine description."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2) + "\n")
    return path


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table of ``rows`` (dicts) with the given columns."""
    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    cells = [[show(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
