"""The unigram coin (k = 10): a per-rollout Python loop against modelcollapse, side by side.

The reference tosses k coins per rollout per generation in a Python loop, as notebooks do; it runs
a few thousand rollout-generations and is reported per rollout-generation. modelcollapse is timed as
whole commands for 10⁴ and 10⁶ rollouts × 1000 generations (every rollout's every generation is
written to metrics.parquet: 10⁹ rows for the larger run), and, to separate the simulation from the
writing, as the library's simulation alone for 10⁶ × 1000 (in process, blocks discarded).

    python benchmarks/bench_coin.py [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference import coin_loop


def simulate_only() -> None:
    """The library's simulation of 10⁶ rollouts × 1000 generations, blocks discarded."""
    import modelcollapse as mc
    from modelcollapse.runner.blocks import iter_blocks

    config = mc.RunConfig("coin", n_replicates=1_000_000, n_generations=1000, seed=1)
    for _ in iter_blocks(config):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ref_rollouts, ref_generations = 200, 200
    sizes = (10_000, 1_000_000)
    tasks = {"reference": lambda: coin_loop(ref_rollouts, ref_generations, 10, 0.5, 1)}
    for rollouts in sizes:
        tasks[str(rollouts)] = command(["run", "coin", "--replicates", str(rollouts),
                                        "--generations", "1000", "--no-plots", "--seed", "1"])
    tasks["simulation only"] = simulate_only
    times = interleaved(tasks, args.repeats)
    per = times["reference"] / (ref_rollouts * ref_generations)
    rows = [{"what": "per-rollout Python loop (reference)", "seconds": times["reference"],
             "per rollout-generation (ns)": per * 1e9, "ratio": 1.0}]
    for rollouts in sizes:
        seconds = times[str(rollouts)]
        cost = seconds / (rollouts * 1000)
        rows.append({"what": f"modelcollapse {rollouts:,} rollouts × 1000", "seconds": seconds,
                     "per rollout-generation (ns)": cost * 1e9, "ratio": per / cost,
                     "reference would take (s)": per * rollouts * 1000})
    seconds = times["simulation only"]
    cost = seconds / (1_000_000 * 1000)
    rows.append({"what": "simulation only, 1,000,000 × 1000 (library, nothing written)",
                 "seconds": seconds, "per rollout-generation (ns)": cost * 1e9,
                 "ratio": per / cost})
    print(table(rows, ["what", "seconds", "per rollout-generation (ns)", "ratio",
                       "reference would take (s)"]))
    print(f"written {save('coin', {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
