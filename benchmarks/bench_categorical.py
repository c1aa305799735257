"""Categorical tokens: a per-replicate Python loop against modelcollapse at a few sizes.

modelcollapse keeps training sets as multinomial counts (exact); the reference samples every
token with ``rng.choice`` and counts them. Both per replicate-generation, modelcollapse as whole
commands.

    python benchmarks/bench_categorical.py [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference import categorical_loop

from modelcollapse.families.categorical import zipf_probabilities

SIZES = ((100, 1000, 1000, 500), (1000, 10_000, 1000, 200))  # V, N, R, G
REF_REPLICATES, REF_GENERATIONS = 10, 50  # the reference's own (smaller) run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for vocab, n, replicates, generations in SIZES:
        probs = zipf_probabilities(vocab, 1.0)
        times = interleaved({
            "reference": lambda n=n, p=probs: categorical_loop(REF_REPLICATES, REF_GENERATIONS,
                                                               n, p, 1),
            "modelcollapse": command(["run", "categorical", "--vocab", str(vocab), "--samples",
                                      str(n), "--replicates", str(replicates), "--generations",
                                      str(generations), "--no-plots", "--seed", "1"]),
        }, args.repeats)
        per_ref = times["reference"] / (REF_REPLICATES * REF_GENERATIONS)
        seconds = times["modelcollapse"]
        per = seconds / (replicates * generations)
        rows.append({"V": vocab, "N": n,
                     "replicates × generations": f"{replicates:,} × {generations:,}",
                     "reference per rep-gen (µs)": per_ref * 1e6,
                     "modelcollapse per rep-gen (µs)": per * 1e6,
                     "modelcollapse seconds": seconds, "ratio": per_ref / per})
    print(table(rows, list(rows[0])))
    print(f"written {save('categorical', {'repeats': args.repeats, 'rows': rows})}")


if __name__ == "__main__":
    main()
