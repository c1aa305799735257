"""GMM, the classic workload: the scikit-learn loop against modelcollapse, side by side.

N = 10 000, K = 2, means ±2, std 1, replace. The reference refits scikit-learn's
GaussianMixture(n_components=2) every generation (default tolerance 1e-3, k-means init) and samples
with numpy; it runs fewer generations, so everything is reported per generation. modelcollapse is
timed as whole commands (`modelcollapse run ... --no-plots`, start-up included), for 1 replicate and
for the classic 10 replicates on all cores, 2000 generations each. A breakdown of where the time
goes inside one generation follows.

    python benchmarks/bench_gmm.py [--repeats 3] [--reference-generations 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import command, interleaved, median_time, save, table
from reference import sklearn_gmm_loop

N, G = 10_000, 2000


def breakdown(n_generations: int = 500) -> dict[str, float]:
    """Microseconds per generation of one replicate: sampling, EM passes, metrics, the rest."""
    import modelcollapse as mc
    from modelcollapse.families.gmm import em
    from modelcollapse.families.gmm.sampling import sample_block
    from modelcollapse.loop import simulate_block

    family = mc.GMM(init="warm")
    simulate_block(family, mc.Replace(), n_samples=N, n_generations=3, n_replicates=1,
                   rng=np.random.default_rng(0))
    start = time.perf_counter()
    result = simulate_block(family, mc.Replace(), n_samples=N, n_generations=n_generations,
                            n_replicates=1, rng=np.random.default_rng(1))
    whole = (time.perf_counter() - start) / n_generations
    rng = np.random.default_rng(2)
    params = np.broadcast_to(family.truth(), (1, 3, 2)).copy()
    sample = fit = 0.0
    history = np.empty((n_generations + 1, 1, 3, 2))
    history[0] = params
    for t in range(n_generations):
        a = time.perf_counter()
        data = family.sample(params, N, rng, stats=False)
        b = time.perf_counter()
        params, _ = family.fit(data, rng=rng, previous=params)
        c = time.perf_counter()
        sample += b - a
        fit += c - b
        history[t + 1] = params
    start = time.perf_counter()
    family.metrics(history)
    metrics = (time.perf_counter() - start) / (n_generations + 1)
    passes = float(result.metrics["em_iterations"][0, 1:].mean())
    # One Newton pass of the E-step (vectorised two-component kernel) in isolation.
    x = data.values[0]
    w, mu, var = params[0, 0].copy(), params[0, 1].copy(), params[0, 2].copy()
    out = [np.empty(2) for _ in range(3)]
    sums = np.empty(11)
    em._step2_newton(x, w, mu, var, *out, 1e-6, sums)
    per_pass, _ = median_time(lambda: em._step2_newton(x, w, mu, var, *out, 1e-6, sums), 2000)
    # The generator's own floor: N standard normals drawn in a compiled loop.
    sd = np.sqrt(params[:, 2])
    buffer = np.empty((1, N))
    sample_block(rng, params[:, 0], params[:, 1], sd, N, buffer)
    draw, _ = median_time(lambda: sample_block(rng, params[:, 0], params[:, 1], sd, N, buffer),
                          300)
    sample_us, fit_us, metrics_us = sample / n_generations * 1e6, fit / n_generations * 1e6, \
        metrics * 1e6
    return {"generation_us": whole * 1e6, "sample_us": sample_us, "fit_us": fit_us,
            "metrics_us": metrics_us, "rest_us": whole * 1e6 - sample_us - fit_us - metrics_us,
            "em_passes_per_fit": passes, "e_step_pass_us": per_pass * 1e6,
            "e_step_ns_per_point": per_pass / N * 1e9,
            "sample_kernel_ns_per_point": draw / N * 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-generations", type=int, default=60)
    args = parser.parse_args()

    times = interleaved({
        "reference": lambda: sklearn_gmm_loop(args.reference_generations, N, 1),
        "start-up": command(["run", "gmm", "--replicates", "1", "--generations", "1",
                             "--no-plots", "--seed", "1"]),
        "one": command(["run", "gmm", "--replicates", "1", "--no-plots", "--seed", "1"]),
        "ten": command(["run", "--no-plots", "--seed", "1"]),
        "long": command(["run", "gmm", "--replicates", "1", "--generations", "20000",
                         "--no-plots", "--seed", "1"]),
    }, args.repeats)
    reference, start_up, one, ten, long_one = (times[k] for k in ("reference", "start-up", "one",
                                                                   "ten", "long"))
    ref_gen = reference / args.reference_generations
    rows = [
        {"what": "scikit-learn loop (reference)", "seconds": reference,
         "per replicate-generation (ms)": ref_gen * 1e3, "ratio": 1.0},
        {"what": "modelcollapse start-up (1 generation)", "seconds": start_up},
        {"what": "modelcollapse 1 replicate × 2000", "seconds": one,
         "per replicate-generation (ms)": one / G * 1e3, "ratio": ref_gen / (one / G)},
        {"what": "modelcollapse 1 replicate × 20000", "seconds": long_one,
         "per replicate-generation (ms)": long_one / 20_000 * 1e3,
         "ratio": ref_gen / (long_one / 20_000)},
        {"what": "modelcollapse 10 replicates × 2000 (all cores)", "seconds": ten,
         "per replicate-generation (ms)": ten / (10 * G) * 1e3,
         "ratio": ref_gen / (ten / (10 * G))},
    ]
    parts = breakdown()
    print(table(rows, ["what", "seconds", "per replicate-generation (ms)", "ratio"]))
    print("\nInside one generation (1 replicate, warm start, in-process):")
    for key, value in parts.items():
        print(f"  {key:28s} {value:8.2f}")
    path = save("gmm", {"reference_generations": args.reference_generations,
                        "repeats": args.repeats, "rows": rows, "breakdown": parts})
    print(f"written {path}")


if __name__ == "__main__":
    main()
