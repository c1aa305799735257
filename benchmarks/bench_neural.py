"""The neural families: stacked replicate blocks against the per-replicate PyTorch loop.

(a) Training throughput of one generation. The reference (:mod:`reference_neural`) trains the
``R`` replicates of a block one after another, each an ``nn.Module`` with ``torch.optim.Adam``, at
PyTorch's default threads (what a user gets). modelcollapse trains the same block as one stacked
model (the family's :meth:`fit`, at its default block size, sizes and training settings) on the
same training sets of the family's own real data: one block on one thread (a block's own
speed), and two blocks on two threads at once (what a run does on a 2-core machine: its blocks
run on worker threads, PyTorch one thread each). Both count the same work, ``R × n × epochs``
images (VAE: ``n`` images per replicate) or tokens (charlm: ``n`` tokens in whole sequences of
``L``), in the same Adam steps of the same batches; images/s and tokens/s, medians of
interleaved rounds.

(b) Whole commands: ``modelcollapse run vae|charlm --no-plots`` at the family's default run, and
at two blocks when the default run is one block. They also start up, generate, measure and write
every generation; their rate counts the training work only (a lower bound), and their ratio is
against the reference's rate.

    python benchmarks/bench_neural.py [--repeats 3] [--quick] [--device cpu|cuda]

``--device cuda`` is the same benchmark on a GPU (the reference then runs there too, and writes
``results/neural_cuda.json``); it exits with status 2 when PyTorch finds no CUDA device.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
from common import command, interleaved, save, table

try:
    import torch
except ImportError:
    sys.exit("bench_neural.py needs PyTorch: pip install 'modelcollapse[neural]'")

import reference_neural as reference

from modelcollapse.config import RunConfig
from modelcollapse.families import FAMILIES
from modelcollapse.families.neural.backend import torch_module
from modelcollapse.policies import get_policy

#: PyTorch's own thread count, read before modelcollapse configures it (one per block).
USER_THREADS = torch.get_num_threads()
#: Blocks trained at once, as a run on a 2-core machine does (its worker threads are its cores);
#: fixed, so that the benchmark is the same on every machine.
RUN_THREADS = 2


def truth_rows(family: Any, rows: int) -> np.ndarray:
    return np.repeat(family.truth()[None], rows, axis=0)


def real_training_set(family: Any, rows: int, n: int, seed: int) -> Any:
    """``rows`` replicates' training sets of ``n`` items of the family's own real data."""
    return family.sample(truth_rows(family, rows), n, np.random.default_rng(seed), stats=False)


def stacked(family: Any, datasets: list[Any], rows: int) -> None:
    """The family's fit of every block in ``datasets``, on as many threads (a run's way)."""
    previous = truth_rows(family, rows)

    def fit(pair: tuple[int, Any]) -> None:
        seed, data = pair
        family.fit(data, rng=np.random.default_rng(seed), previous=previous)

    if len(datasets) == 1:
        fit((0, datasets[0]))
        return
    with ThreadPoolExecutor(len(datasets)) as pool:
        list(pool.map(fit, enumerate(datasets)))


def as_user(train: Any) -> Any:
    """``train`` run as a user's script runs: PyTorch's default threads, no deterministic mode
    (modelcollapse's next call configures its own again)."""
    def run() -> Any:
        torch.set_num_threads(USER_THREADS)
        torch.use_deterministic_algorithms(False)
        return train()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_neural.py: --device cuda, but PyTorch finds no CUDA device here",
              file=sys.stderr)
        sys.exit(2)
    torch_module()  # modelcollapse's settings first (cuBLAS's workspace before CUDA starts)
    rows: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    for name in ("vae", "charlm"):
        training, whole = bench_family(name, args)
        rows += training
        commands += whole
    columns = ["family", "what", "replicates", "items/s", "ratio"]
    print(table(rows, columns))
    print()
    print(table(commands, ["family", "command", "seconds", "per generation (s)", "items/s",
                           "ratio"]))
    if not args.quick:
        path = save("neural" if args.device == "cpu" else f"neural_{args.device}",
                    {"repeats": args.repeats, "device": args.device,
                     "torch": torch.__version__, "user_threads": USER_THREADS,
                     "run_threads": RUN_THREADS, "rows": rows, "commands": commands})
        print(f"written {path}")


#: The options a quick run shrinks (per family), and the extra flags of its commands.
QUICK = {
    "vae": {"hidden": 32, "epochs": 2},
    "charlm": {"embedding": 16, "layers": 1, "heads": 2, "context": 16, "length": 16,
               "epochs": 1},
}


def bench_family(name: str, args: argparse.Namespace) -> tuple[list[dict[str, Any]],
                                                               list[dict[str, Any]]]:
    """The training rows and the whole commands of one family."""
    settings = {"device": args.device, **(QUICK[name] if args.quick else {})}
    family = FAMILIES.get(name)(**settings)
    defaults = RunConfig(family)
    n = 200 if args.quick else defaults.n_samples
    block = family.block_size(get_policy("replace"), n)
    if name == "vae":
        unit = "images"
        data = [real_training_set(family, block, n, seed) for seed in (1, 2)]
        items = np.asarray(data[0].values)
        ref = partial(reference.train_vaes, items, hidden=family.hidden, latent=family.latent,
                      epochs=family.epochs, batch_size=family.batch_size,
                      learning_rate=family.learning_rate, device=args.device)
    else:
        # Whole sequences of L on both sides (n a multiple of L): the same batches of the same
        # shape, so the same Adam steps over the same tokens.
        unit, length = "tokens", family.length
        n = length * (n // length)
        data = [real_training_set(family, block, n, seed) for seed in (1, 2)]
        items = np.asarray(data[0].tokens).reshape(block, n // length, length)
        ref = partial(reference.train_transformers, items, vocab=family.n_tokens,
                      context=family.context, embedding=family.embedding, layers=family.layers,
                      heads=family.heads, epochs=family.epochs, batch_size=family.batch_size,
                      learning_rate=family.learning_rate, device=args.device)
    work = block * n * family.epochs  # items one block's training processes
    parallel = f"{RUN_THREADS} blocks, {RUN_THREADS} threads"
    times = interleaved({
        "reference": as_user(ref),
        "one block, 1 thread": partial(stacked, family, data[:1], block),
        parallel: partial(stacked, family, data, block),
    }, args.repeats)
    base = work / times["reference"]
    training = [{
        "family": name, "what": f"per-replicate nn.Module loop ({USER_THREADS} PyTorch threads)",
        "replicates": block, "items/s": base, "unit": unit, "seconds": times["reference"],
        "ratio": 1.0}]
    for what, blocks in (("one block, 1 thread", 1), (parallel, RUN_THREADS)):
        rate = blocks * work / times[what]
        training.append({"family": name, "what": f"modelcollapse stacked, {what}",
                         "replicates": blocks * block, "items/s": rate, "unit": unit,
                         "seconds": times[what], "ratio": rate / base})
    # Whole commands: the default run, and (if that is a single block) a run of as many
    # blocks as a run has threads.
    sizes = [defaults.n_replicates]
    if defaults.n_replicates < RUN_THREADS * block:
        sizes.append(RUN_THREADS * block)
    samples = 200 if args.quick else defaults.n_samples
    generations = 2 if args.quick else defaults.n_generations
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
    whole = []
    for replicates in sizes:
        argv = ["run", name, *flags, "--samples", str(samples), "--generations",
                str(generations), "--replicates", str(replicates), "--seed", "1",
                "--no-plots"]
        seconds = _time_command(argv)
        done = replicates * generations * samples * family.epochs
        whole.append({"family": name, "command": "modelcollapse " + " ".join(argv),
                      "default": replicates == defaults.n_replicates,
                      "replicates": replicates, "generations": generations,
                      "seconds": seconds, "per generation (s)": seconds / generations,
                      "items/s": done / seconds, "unit": unit, "ratio": (done / seconds) / base})
    return training, whole


def _time_command(argv: list[str]) -> float:
    """Wall time of one whole command (long enough that one run is its measurement)."""
    once = command(argv)
    start = time.perf_counter()
    once()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
