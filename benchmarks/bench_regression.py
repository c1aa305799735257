"""Linear regression: scikit-learn's LinearRegression in a per-replicate loop against modelcollapse.

modelcollapse fits every replicate at once from batched normal equations and, under replace
with fresh inputs, draws each training set's ``(XᵀX, Xᵀy, yᵀy)`` exactly from the Wishart law
(O(d²) per replicate-generation instead of O(N d)); ``--no-shortcut`` times the raw-sample
path too. Both are timed per replicate-generation, modelcollapse as whole commands.

    python benchmarks/bench_regression.py [--repeats 3] [--tiny]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference_regression import sklearn_regression_loop

SIZES = ((100, 10, 1000, 100), (1000, 10, 1000, 100), (1000, 50, 1000, 20))  # N, d, R, G
TINY = ((50, 3, 20, 5),)
REF_REPLICATES, REF_GENERATIONS = 10, 20  # the reference's own (smaller) run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="one tiny size (a smoke test)")
    args = parser.parse_args()
    rows = []
    for n, d, replicates, generations in TINY if args.tiny else SIZES:
        run = ["run", "regression", "--dim", str(d), "--samples", str(n), "--replicates",
               str(replicates), "--generations", str(generations), "--no-plots", "--seed", "1"]
        times = interleaved({
            "reference": lambda n=n, d=d: sklearn_regression_loop(REF_REPLICATES,
                                                                  REF_GENERATIONS, n, d, 1),
            "modelcollapse": command(run),
            "modelcollapse raw": command([*run, "--no-shortcut"]),
        }, args.repeats)
        per_ref = times["reference"] / (REF_REPLICATES * REF_GENERATIONS)
        per = times["modelcollapse"] / (replicates * generations)
        per_raw = times["modelcollapse raw"] / (replicates * generations)
        rows.append({"N": n, "d": d,
                     "replicates × generations": f"{replicates:,} × {generations:,}",
                     "reference per rep-gen (µs)": per_ref * 1e6,
                     "modelcollapse per rep-gen (µs)": per * 1e6,
                     "raw per rep-gen (µs)": per_raw * 1e6,
                     "modelcollapse seconds": times["modelcollapse"],
                     "ratio": per_ref / per, "ratio raw": per_ref / per_raw})
    print(table(rows, list(rows[0])))
    if not args.tiny:
        print(f"written {save('regression', {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
