"""The multivariate Gaussian: the loops a user would write against modelcollapse, side by side.

References (:mod:`reference_mvgaussian`): numpy's ``multivariate_normal`` + ``mean``/``cov``,
and scikit-learn's ``GaussianMixture(n_components=1, covariance_type='full')``, one replicate
at a time. modelcollapse under ``replace`` uses the exact Wishart shortcut (Bartlett; a
generation costs O(d³) per replicate instead of O(N d²)); ``--no-shortcut`` times its sample
path too. All timed per replicate-generation, modelcollapse as whole commands.

    python benchmarks/bench_mvgaussian.py [--repeats 3] [--tiny]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference_mvgaussian import mvgaussian_loop, sklearn_mvgaussian_loop

SIZES = ((100, 2, 1000, 1000), (1000, 10, 1000, 200), (10_000, 2, 1000, 100))  # N, d, R, G
TINY = ((50, 2, 20, 10),)
REF_REPLICATES, REF_GENERATIONS = 10, 20  # the references' own (smaller) runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="one tiny size (a smoke test)")
    args = parser.parse_args()
    rows = []
    ref_r, ref_g = (2, 3) if args.tiny else (REF_REPLICATES, REF_GENERATIONS)
    for n, d, replicates, generations in TINY if args.tiny else SIZES:
        run = ["run", "mvgaussian", "--dim", str(d), "--samples", str(n), "--replicates",
               str(replicates), "--generations", str(generations), "--no-plots", "--seed", "1"]
        times = interleaved({
            "numpy": lambda n=n, d=d: mvgaussian_loop(ref_r, ref_g, n, d, 1),
            "sklearn": lambda n=n, d=d: sklearn_mvgaussian_loop(ref_r, ref_g, n, d, 1),
            "modelcollapse": command(run),
            "modelcollapse samples": command([*run, "--no-shortcut"]),
        }, args.repeats)
        per = {name: seconds / (ref_r * ref_g) for name, seconds in times.items()
               if name in ("numpy", "sklearn")}
        for name in ("modelcollapse", "modelcollapse samples"):
            per[name] = times[name] / (replicates * generations)
        rows.append({"N": n, "d": d,
                     "replicates × generations": f"{replicates:,} × {generations:,}",
                     "numpy per rep-gen (µs)": per["numpy"] * 1e6,
                     "sklearn per rep-gen (µs)": per["sklearn"] * 1e6,
                     "modelcollapse per rep-gen (µs)": per["modelcollapse"] * 1e6,
                     "sample path per rep-gen (µs)": per["modelcollapse samples"] * 1e6,
                     "modelcollapse seconds": times["modelcollapse"],
                     "ratio vs sklearn": per["sklearn"] / per["modelcollapse"],
                     "ratio vs numpy": per["numpy"] / per["modelcollapse"]})
    print(table(rows, list(rows[0])))
    name = "mvgaussian-tiny" if args.tiny else "mvgaussian"
    print(f"written {save(name, {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
