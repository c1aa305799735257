"""Sweeps: one process per cell (the usual shell loop) against `modelcollapse sweep` everywhere.

The reference is what people script today: one `modelcollapse run` command per cell, one after
another. Against it, the same cells as one `modelcollapse sweep` in this process (`--workers 1`), on
local processes (all cores) and on a local Dask cluster. All are whole commands, timed in
interleaved rounds (medians); every sweep's metrics are checked identical to the serial sweep's.

    python benchmarks/bench_sweep.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pandas as pd
from common import interleaved, save, table

#: (name, [experiment] lines, grid): many small cells (start-up bound) and fewer heavy ones.
SWEEPS = (
    ("coin, 20 values of k × 1000 rollouts × 200 generations",
     'family = "coin"\ngenerations = 200\nreplicates = 1000\nseed = 1',
     {"samples": list(range(5, 105, 5))}),
    ("gmm, 6 mixes × 20 replicates, N = 1000, 300 generations",
     'family = "gmm"\nsamples = 1000\ngenerations = 300\nreplicates = 20\npolicy = "mix"\n'
     "seed = 1",
     {"real": [0.0, 0.05, 0.1], "synthetic": [0.5, 0.9]}),
)


def sweep_file(folder: Path, experiment: str, grid: dict[str, list]) -> Path:
    lines = "\n".join(f"{key} = {values!r}" for key, values in grid.items())
    path = folder / "bench.toml"
    path.write_text(textwrap.dedent(f"[experiment]\n{experiment}\n\n[grid]\n{lines}\n"))
    return path


def run(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "modelcollapse", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    rows = []
    for name, experiment, grid in SWEEPS:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            file = sweep_file(folder, experiment, grid)
            settings = dict(line.split(" = ") for line in experiment.splitlines())
            flags = [f"--{k}={v.strip(chr(34))}" for k, v in settings.items() if k != "family"]
            family = settings["family"].strip('"')
            cells = [dict(zip(grid, values, strict=True))
                     for values in itertools.product(*grid.values())]
            counter = itertools.count()

            def per_cell(flags=flags, family=family, cells=cells, counter=counter,
                         folder=folder) -> None:
                for cell in cells:
                    run(["run", family, *flags, *(f"--{k}={v}" for k, v in cell.items()),
                         "--no-plots", "--out", str(folder / f"cell-{next(counter)}")])

            def sweep(*executor: str, file=file, counter=counter, folder=folder,
                      label: str) -> None:
                run(["sweep", str(file), *executor, "--no-plots", "--out",
                     str(folder / f"{label}-{next(counter)}")])

            tasks = {
                "one run per cell": per_cell,
                "sweep, 1 worker": lambda: sweep("--workers", "1", label="serial"),
                "sweep, processes": lambda: sweep(label="processes"),
                "sweep, dask-local 2": lambda: sweep("--dask-local", "2", label="dask"),
            }
            times = interleaved(tasks, options.repeats)
            reference = pd.read_parquet(next(folder.glob("serial-*")) / "metrics")
            key = ["cell", *(k.replace("-", "_") for k in grid), "replicate", "metric",
                   "generation"]
            reference = reference.sort_values(key, ignore_index=True)
            for label in ("processes", "dask"):
                other = pd.read_parquet(next(folder.glob(f"{label}-*")) / "metrics")
                pd.testing.assert_frame_equal(other.sort_values(key, ignore_index=True),
                                              reference)
        base = times["one run per cell"]
        for task, seconds in times.items():
            rows.append({"sweep": name, "how": task, "seconds": seconds,
                         "speed-up": base / seconds})
    print(table(rows, list(rows[0])))
    print("(every sweep's metrics identical to the serial sweep's)")
    print(f"written {save('sweep', {'repeats': options.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
