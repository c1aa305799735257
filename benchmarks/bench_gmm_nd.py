"""GMM in 2-D (Shumailov's blobs, full covariances): the scikit-learn loop against modelcollapse.

N = 10 000, K = 2, means (∓2, 0), unit covariances, replace. The reference refits scikit-learn's
GaussianMixture(2, covariance_type="full") every generation (default tolerance 1e-3, k-means
init) and samples with numpy (:mod:`reference_gmm_nd`); it runs fewer generations, so everything
is reported per generation. modelcollapse is timed as whole commands
(`modelcollapse run gmm --dim 2 ... --no-plots`, start-up included) at the same tolerance and
init as the reference (``--backend numba --tol 1e-3 --init kmeans``) and at its own defaults
(warm start, tolerance 1e-10: to convergence).

    python benchmarks/bench_gmm_nd.py [--repeats 3] [--reference-generations 30]
                                      [--generations 500] [--samples 10000]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference_gmm_nd import sklearn_gmm_nd_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-generations", type=int, default=30)
    parser.add_argument("--generations", type=int, default=500)
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    n, g = args.samples, args.generations

    def run(generations: int) -> list[str]:
        return ["run", "gmm", "--dim", "2", "--samples", str(n), "--generations",
                str(generations), "--replicates", "1", "--no-plots", "--seed", "1"]

    times = interleaved({
        "reference": lambda: sklearn_gmm_nd_loop(args.reference_generations, n, 1),
        "start-up": command(run(1)),
        "same": command([*run(g), "--tol", "1e-3", "--init", "kmeans"]),
        "default": command(run(g)),
    }, args.repeats)
    ref_gen = times["reference"] / args.reference_generations
    rows = [{"what": "scikit-learn loop (reference)", "seconds": times["reference"],
             "per replicate-generation (ms)": ref_gen * 1e3, "ratio": 1.0},
            {"what": "modelcollapse start-up (1 generation)", "seconds": times["start-up"]}]
    for key, what in (("same", f"modelcollapse, tol 1e-3, kmeans init, 1 × {g}"),
                      ("default", f"modelcollapse defaults (warm, tol 1e-10), 1 × {g}")):
        per = (times[key] - times["start-up"]) / g
        rows.append({"what": what, "seconds": times[key],
                     "per replicate-generation (ms)": per * 1e3, "ratio": ref_gen / per})
    print(table(rows, ["what", "seconds", "per replicate-generation (ms)", "ratio"]))
    path = save("gmm_nd", {"reference_generations": args.reference_generations,
                           "generations": g, "samples": n, "repeats": args.repeats,
                           "rows": rows})
    print(f"written {path}")


if __name__ == "__main__":
    main()
