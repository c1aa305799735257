"""Curation: best-of-K selection, a notebook's loop against modelcollapse, and what it costs.

The reference curates one replicate at a time, choosing each kept sample among its K
candidates with ``rng.choice`` (:func:`reference.gaussian_best_of_loop`); modelcollapse draws
all candidates of a block at once and picks by inversion of the cumulative weights
(:mod:`modelcollapse.curation`). Also measured side by side: each curator's whole command
against the same uncurated run, so the table says what curation adds to a run's time.

    python benchmarks/bench_curation.py [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import command, interleaved, save, table
from reference import gaussian_best_of_loop

N, K, REPLICATES, GENERATIONS = 1000, 4, 1000, 100
REF_REPLICATES, REF_GENERATIONS = 5, 20  # the reference's own (smaller) run
#: (label, family, the curation flags) compared with the same run uncurated.
OVERHEADS = (
    ("gaussian best-of K = 4", "gaussian", ["--curate", "best-of", "--curate-k", "4",
                                            "--reward", "target:1"]),
    ("gaussian verifier s = 1", "gaussian", ["--curate", "verifier"]),
    ("gaussian top q = 0.5", "gaussian", ["--curate", "top", "--curate-keep", "0.5"]),
    ("categorical best-of K = 4", "categorical", ["--curate", "best-of", "--curate-k", "4",
                                                  "--reward", "truth"]),
    ("coin best-of K = 4", "coin", ["--curate", "best-of", "--curate-k", "4", "--reward",
                                    "0,1"]),
)


def sizes() -> list[str]:
    return ["--samples", str(N), "--replicates", str(REPLICATES), "--generations",
            str(GENERATIONS), "--no-plots", "--seed", "1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times = interleaved({
        "reference": lambda: gaussian_best_of_loop(REF_REPLICATES, REF_GENERATIONS, N, K, 1.0, 1),
        "modelcollapse": command(["run", "gaussian", *sizes(), *OVERHEADS[0][2]]),
    }, args.repeats)
    # The reference's first generation is uncurated, as modelcollapse's: count the curated ones.
    per_ref = times["reference"] / (REF_REPLICATES * (REF_GENERATIONS - 1))
    per = times["modelcollapse"] / (REPLICATES * (GENERATIONS - 1))
    speed = [{"N": N, "K": K, "replicates × generations": f"{REPLICATES:,} × {GENERATIONS:,}",
              "reference per rep-gen (ms)": per_ref * 1e3,
              "modelcollapse per rep-gen (ms)": per * 1e3,
              "modelcollapse seconds": times["modelcollapse"], "ratio": per_ref / per}]
    print(table(speed, list(speed[0])))
    overheads = []
    for label, family, flags in OVERHEADS:
        pair = interleaved({"uncurated": command(["run", family, *sizes()]),
                            "curated": command(["run", family, *sizes(), *flags])},
                           args.repeats)
        overheads.append({"run": label, "uncurated seconds": pair["uncurated"],
                          "curated seconds": pair["curated"],
                          "curated / uncurated": pair["curated"] / pair["uncurated"]})
    print(table(overheads, list(overheads[0])))
    data = {"repeats": args.repeats, "speed": speed, "overheads": overheads}
    print(f"written {save('curation', data)}")


if __name__ == "__main__":
    main()
