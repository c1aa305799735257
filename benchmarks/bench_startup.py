"""Start-up: what ``import modelcollapse`` costs, and short commands as whole processes.

Three measurements, interleaved in rounds so that each sees the same machine:

* ``python -X importtime -c "import modelcollapse"``: the total and the ten most expensive
  modules (cumulative µs, median over the rounds);
* whole-command wall times (median) of ``modelcollapse --help``, ``modelcollapse run coin
  --no-plots`` (the classic coin: 100 rollouts × 60 generations, its summary with the exact chain)
  and a small GMM run ``run gmm --samples 1000 --generations 10 --replicates 2 --no-plots`` with a
  warm cache (the numba kernels compiled and cached by the warm-up round);
* the bare interpreter (``python -c pass``) and ``python -c "import numpy"``, the floor every
  command stands on.

    python benchmarks/bench_startup.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from collections import defaultdict

from common import command, interleaved, save, table

GMM_RUN = ["run", "gmm", "--samples", "1000", "--generations", "10", "--replicates", "2",
           "--no-plots", "--seed", "1"]


def python(code: str):
    """A callable running ``python -c code``."""
    def once() -> None:
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)

    return once


def help_command() -> None:
    subprocess.run([sys.executable, "-m", "modelcollapse", "--help"], check=True,
                   stdout=subprocess.DEVNULL)


def import_times() -> dict[str, int]:
    """Cumulative import time (µs) of every module of ``import modelcollapse``, one process."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import modelcollapse"],
                          capture_output=True, text=True, check=True)
    out = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            out[match.group(4)] = int(match.group(2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    tasks = {
        "python -c pass": python("pass"),
        "python -c 'import numpy'": python("import numpy"),
        "python -c 'import modelcollapse'": python("import modelcollapse"),
        "modelcollapse --help": help_command,
        "modelcollapse run coin --no-plots": command(["run", "coin", "--no-plots", "--seed",
                                                      "1"]),
        "modelcollapse " + " ".join(GMM_RUN[:-2]) + " (warm cache)": command(GMM_RUN),
    }
    times = interleaved(tasks, args.repeats)
    rows = [{"command": name, "median seconds": seconds} for name, seconds in times.items()]
    print(table(rows, ["command", "median seconds"]))
    samples: dict[str, list[int]] = defaultdict(list)
    for _ in range(args.repeats):
        for module, micros in import_times().items():
            samples[module].append(micros)
    cumulative = {m: statistics.median(v) for m, v in samples.items()}
    top = sorted(cumulative.items(), key=lambda kv: -kv[1])[:11]
    modules = [{"module": m, "cumulative ms": us / 1000} for m, us in top]
    print(table(modules, ["module", "cumulative ms"]))
    path = save("startup", {"repeats": args.repeats, "commands": rows,
                            "import_modelcollapse_ms": modules})
    print(f"written {path}")


if __name__ == "__main__":
    main()
