"""The Gaussian: a per-replicate Python loop against modelcollapse at a few sizes, side by side.

modelcollapse uses the exact chi-square shortcut under replace (a generation costs O(1) per
replicate instead of O(N)); both are timed per replicate-generation, modelcollapse as whole
commands.

    python benchmarks/bench_gaussian.py [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference import gaussian_loop

SIZES = ((100, 1000, 1000), (10_000, 1000, 1000), (10_000, 100_000, 100))  # N, R, G
REF_REPLICATES, REF_GENERATIONS = 20, 50  # the reference's own (smaller) run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n, replicates, generations in SIZES:
        times = interleaved({
            "reference": lambda n=n: gaussian_loop(REF_REPLICATES, REF_GENERATIONS, n, 1),
            "modelcollapse": command(["run", "gaussian", "--samples", str(n), "--replicates",
                                      str(replicates), "--generations", str(generations),
                                      "--no-plots", "--seed", "1"]),
        }, args.repeats)
        per_ref = times["reference"] / (REF_REPLICATES * REF_GENERATIONS)
        seconds = times["modelcollapse"]
        per = seconds / (replicates * generations)
        rows.append({"N": n, "replicates × generations": f"{replicates:,} × {generations:,}",
                     "reference per rep-gen (µs)": per_ref * 1e6,
                     "modelcollapse per rep-gen (µs)": per * 1e6,
                     "modelcollapse seconds": seconds, "ratio": per_ref / per})
    print(table(rows, list(rows[0])))
    print(f"written {save('gaussian', {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
