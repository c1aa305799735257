"""Fingerprints of what a fixed set of commands computes, to show a refactoring changed nothing.

Usage::

    python tools/behaviour_snapshot.py take before.json      # on the old code
    python tools/behaviour_snapshot.py take after.json       # on the new code
    python tools/behaviour_snapshot.py compare before.json after.json

``take`` runs every command of :data:`COMMANDS` (through the installed ``modelcollapse``
command, in a temporary folder, one worker so that nothing depends on scheduling) and records,
for every table a command wrote (``metrics.parquet``, ``replicates.parquet``, ``samples.parquet``,
a sweep's unit tables and ``summary.parquet``, a study's CSV tables) and for the numbers of
every manifest, the SHA-256 of each column's values in a canonical row order. Times, paths,
versions and the command line are left out: they differ from one run to the next by design.

``compare`` lists every fingerprint that differs and exits 1 if one does. Identical
fingerprints mean the tables are identical value for value (bit for bit, NaN included).

The commands cover every family, every policy at least once, both shortcuts, both GMM
initialisations and backends, a sweep, ``verify --quick`` and ``collapse-speed`` of every target;
each is small, so ``take`` needs a few minutes (more on a machine's first GMM compile).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

#: name → arguments of ``modelcollapse`` (an ``--out`` folder is added).
COMMANDS: dict[str, list[str]] = {
    "coin-replace": ["run", "coin", "--replicates", "300", "--seed", "1"],
    "coin-mix": ["run", "coin", "--policy", "mix", "--real", "0.2", "--synthetic", "0.5",
                 "--samples", "20", "--seed", "2"],
    "coin-accumulate-raw": ["run", "coin", "--policy", "accumulate", "--no-shortcut",
                            "--samples", "12", "--generations", "30", "--seed", "3"],
    "coin-subsample": ["run", "coin", "--policy", "accumulate-subsample", "--real", "0.1",
                       "--samples", "20", "--generations", "30", "--seed", "3"],
    "categorical-subsample": ["run", "categorical", "--vocab", "50", "--samples", "200",
                              "--generations", "50", "--replicates", "40",
                              "--policy", "accumulate-subsample", "--real", "0.1", "--seed", "4"],
    "categorical-mix-raw": ["run", "categorical", "--vocab", "30", "--policy", "mix", "--real",
                            "0.1", "--no-shortcut", "--generations", "60", "--replicates", "30",
                            "--seed", "5"],
    "categorical-probs": ["run", "categorical", "--probs", "0.5,0.3,0.2", "--samples", "10",
                          "--generations", "40", "--replicates", "50", "--seed", "5"],
    "gaussian-unbiased": ["run", "gaussian", "--samples", "50", "--generations", "100",
                          "--replicates", "50", "--estimator", "unbiased", "--seed", "6"],
    "gaussian-mix-carry": ["run", "gaussian", "--policy", "mix", "--real", "0.1",
                           "--synthetic", "0.8", "--generations", "100", "--replicates", "40",
                           "--seed", "7"],
    "gaussian-accumulate-raw": ["run", "gaussian", "--policy", "accumulate", "--no-shortcut",
                                "--generations", "50", "--replicates", "30", "--seed", "8"],
    "gmm-replace": ["run", "gmm", "--samples", "500", "--generations", "30", "--replicates", "4",
                    "--seed", "9"],
    "gmm-mix-kmeans": ["run", "gmm", "--samples", "300", "--generations", "20", "--replicates",
                       "3", "--policy", "mix", "--real", "0.1", "--synthetic", "0.8", "--init",
                       "kmeans", "--seed", "10"],
    "gmm-three-subsample": ["run", "gmm", "--means", "-4,0,4", "--samples", "300",
                            "--generations", "20", "--replicates", "3",
                            "--policy", "accumulate-subsample", "--seed", "11"],
    "gmm-plain-em": ["run", "gmm", "--samples", "300", "--generations", "15", "--replicates",
                     "2", "--no-accelerate", "--seed", "12"],
    "gmm-sklearn": ["run", "gmm", "--backend", "sklearn", "--samples", "300", "--generations",
                    "10", "--replicates", "2", "--seed", "12"],
    "ngram-top-p": ["run", "ngram", "--generations", "10", "--replicates", "4", "--top-p", "0.9",
                    "--seed", "13"],
    "ngram-demo-words": ["run", "ngram", "--corpus", "demo", "--tokens", "words", "--max-vocab",
                         "200", "--generations", "5", "--replicates", "2", "--policy", "mix",
                         "--real", "0.1", "--smoothing", "add-k", "--seed", "14"],
    "ngram-order3": ["run", "ngram", "--order", "3", "--vocab", "20", "--policy", "accumulate",
                     "--generations", "5", "--replicates", "2", "--smoothing", "mle",
                     "--temperature", "0.8", "--top-k", "5", "--seed", "15"],
    "sweep": ["sweep", "{sweep}", "--workers", "1", "--no-plots"],
    "verify-quick": ["verify", "--quick", "--no-plots"],
    "speed-coin": ["collapse-speed", "coin", "--ks", "1,2,10", "--replicates", "500",
                   "--seed", "16", "--no-plots"],
    "speed-gaussian": ["collapse-speed", "gaussian", "--replicates", "100", "--generations",
                       "200", "--seed", "17", "--no-plots"],
    "speed-ngram": ["collapse-speed", "ngram", "--top-ps", "1,0.9", "--real-fractions", "0,0.1",
                    "--replicates", "8", "--generations", "5", "--samples", "2000",
                    "--seed", "18", "--no-plots"],
}

SWEEP = """\
[experiment]
family = "gaussian"
samples = 40
generations = 60
replicates = 50
policy = "mix"
seed = 19

[grid]
real = [0.0, 0.1]
synthetic = [0.5, 0.9, 1.0]
"""

#: Manifest keys whose values differ from run to run by design.
VOLATILE = {"started", "finished", "wall_seconds", "seconds", "argv", "versions", "platform",
            "machine", "sessions", "workers", "path", "files", "source", "stopped",
            "executor", "figures_error"}


def _digest(values: Any) -> str:
    array = np.asarray(values)
    if array.dtype == object:
        payload = json.dumps([None if v is None else str(v) for v in array.tolist()]).encode()
    else:
        payload = np.ascontiguousarray(array).tobytes()
    return hashlib.sha256(payload).hexdigest()[:16]


def table_fingerprint(path: Path) -> dict[str, Any]:
    """Row count and a digest per column, rows in a canonical order."""
    frame = pq.read_table(path).to_pandas()
    keys = [c for c in ("cell", "replicate", "metric", "generation") if c in frame.columns]
    frame = frame.sort_values(keys or list(frame.columns), kind="stable", ignore_index=True)
    out: dict[str, Any] = {"rows": len(frame)}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "fiub":
            out[name] = _digest(column.to_numpy())
        else:
            out[name] = _digest(column.astype(str).to_numpy(dtype=object))
    return out


def csv_fingerprint(path: Path) -> dict[str, Any]:
    """Row count and a digest per column of a CSV table (rows kept in file order)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, Any] = {"rows": len(rows)}
    for name in rows[0] if rows else []:
        out[name] = _digest(np.array([row[name] for row in rows], dtype=object))
    return out


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def folder_fingerprint(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = str(path.relative_to(folder))
        if path.suffix == ".parquet":
            out[name] = table_fingerprint(path)
        elif path.suffix == ".csv":
            out[name] = csv_fingerprint(path)
        elif path.suffix == ".json":
            out[name] = _digest(np.array([json.dumps(_stable(json.loads(path.read_text())),
                                                     sort_keys=True)], dtype=object))
    return out


def take(target: Path) -> int:
    snapshot: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "sweep.toml").write_text(SWEEP)
        for name, args in COMMANDS.items():
            out = root / name
            argv = ["modelcollapse", *[a.replace("{sweep}", str(root / "sweep.toml"))
                                       for a in args], "--out", str(out)]
            if args[0] == "run":
                argv += ["--workers", "1", "--no-plots"]
            done = subprocess.run(argv, capture_output=True, text=True, cwd=root, check=False)
            print(f"{name}: exit {done.returncode}", flush=True)
            entry = folder_fingerprint(out) if out.is_dir() else {}
            entry["exit"] = done.returncode
            snapshot[name] = entry
    target.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}: {sum(len(v) - 1 for v in snapshot.values())} fingerprints")
    return 0


def compare(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    differences = []
    for command in sorted(set(old) | set(new)):
        a, b = old.get(command, {}), new.get(command, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                differences.append(f"{command}: {key}: {a.get(key)} != {b.get(key)}")
    for line in differences:
        print(line)
    total = sum(len(v) for v in old.values())
    print(f"{len(differences)} differences among {total} fingerprints of {len(old)} commands")
    return 1 if differences else 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "take":
        return take(Path(argv[1]))
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print("\n\n".join(__doc__.split("\n\n")[1:3]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
