"""Run every benchmark, one after another, and print their tables (results/*.json).

    pip install '.[test,neural]' && python benchmarks/run_all.py

Takes about 35 minutes on two cores (bench_neural.py needs PyTorch, the ``neural`` extra);
nothing else should run meanwhile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ("bench_gmm.py", "bench_coin.py", "bench_gaussian.py", "bench_categorical.py",
           "bench_ngram.py", "bench_curation.py", "bench_kde.py", "bench_regression.py",
           "bench_mvgaussian.py", "bench_gmm_nd.py", "bench_neural.py", "bench_sweep.py",
           "bench_startup.py")

if __name__ == "__main__":
    for script in SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=True)
