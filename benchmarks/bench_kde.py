"""The KDE: scikit-learn's ``KernelDensity`` loop against modelcollapse at a few sizes.

The reference fits, scores 1000 held-out points and samples one replicate at a time
(:func:`reference_kde.sklearn_kde_loop`); modelcollapse runs whole commands, with every metric
(in 1-D ``nll``, ``w2`` and ``kl`` by quadrature, ``tail_mass``; in d-D ``nll`` on 1000 held-out
points). Both are timed per replicate-generation.

    python benchmarks/bench_kde.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference_kde import sklearn_kde_loop

SIZES = ((100, 1, 100, 100), (1000, 1, 100, 100), (100, 2, 100, 100))  # N, d, R, G
QUICK_SIZES = ((50, 1, 10, 5), (50, 2, 10, 5))
REF_REPLICATES, REF_GENERATIONS = 5, 20  # the reference's own (smaller) run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    args = parser.parse_args()
    rows = []
    ref_r, ref_g = (2, 3) if args.quick else (REF_REPLICATES, REF_GENERATIONS)
    for n, d, replicates, generations in QUICK_SIZES if args.quick else SIZES:
        times = interleaved({
            "reference": lambda n=n, d=d: sklearn_kde_loop(ref_r, ref_g, n, 1, dim=d,
                                                           bandwidth="scott"),
            "modelcollapse": command(["run", "kde", "--samples", str(n), "--dim", str(d),
                                      "--bandwidth", "sklearn-scott", "--replicates",
                                      str(replicates), "--generations", str(generations),
                                      "--no-plots", "--seed", "1"]),
        }, args.repeats)
        per_ref = times["reference"] / (ref_r * ref_g)
        seconds = times["modelcollapse"]
        per = seconds / (replicates * generations)
        rows.append({"N": n, "d": d,
                     "replicates × generations": f"{replicates:,} × {generations:,}",
                     "reference per rep-gen (µs)": per_ref * 1e6,
                     "modelcollapse per rep-gen (µs)": per * 1e6,
                     "modelcollapse seconds": seconds, "ratio": per_ref / per})
    print(table(rows, list(rows[0])))
    if not args.quick:
        print(f"written {save('kde', {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
