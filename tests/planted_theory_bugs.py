"""Plant known bugs in modelcollapse.theory, one at a time, and show the tests catch each.

Run from anywhere: ``python tests/planted_theory_bugs.py``. Each line names a bug and the tests of
``tests/test_theory.py``, ``test_prediction.py``, ``test_collapse_speed.py``,
``test_binomial.py`` and ``test_loop_settings.py`` that failed on it; the script exits 1 if any
bug went unnoticed. The bugs are planted in a private copy of ``src/`` and ``tests/`` (put first
on ``PYTHONPATH``), so the working tree is never modified and other sessions are unaffected.
(The simulator's own planted bugs live in ``tests/test_statistical.py`` and run on every test run.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THEORY = Path("src") / "modelcollapse" / "theory"
TESTS = [str(Path("tests") / name)
         for name in ("test_theory.py", "test_prediction.py", "test_collapse_speed.py",
                      "test_binomial.py", "test_loop_settings.py", "test_curation_theory.py")]

#: (bug, the correct code, the planted code)
BUGS = [
    ("coin chain: carried tosses drawn with replacement",
     "hypergeometric_pmf(np.arange(c + 1), k, heads, c)",
     "binomial_pmf(np.arange(c + 1), c, heads / k)"),
    ("moments: carried count without the finite-population factor",
     "zc2 = (c * (n - c) / (n - 1) * (a - b) + c * c * b) if n > 1 else c * c * b",
     "zc2 = c * (a - b) + c * c * b"),
    ("accumulate: variance divided by last generation's pool size",
     "            mean_var[t] = var0 if known_var else ss / div(new)\n"
     "            offset2[t] = pooled_var / new + (",
     "            mean_var[t] = var0 if known_var else ss / div(size)\n"
     "            offset2[t] = pooled_var / new + ("),
    ("E sd: Gamma ratio inverted",
     "+ special.gammaln(n_samples / 2) \\\n        - special.gammaln((n_samples - 1) / 2)",
     "- special.gammaln(n_samples / 2) \\\n        + special.gammaln((n_samples - 1) / 2)"),
    ("E KL: E 1/χ²_ν taken as 1/(ν − 1)",
     "e = _divisor(n_samples, estimator) / (n_samples - 3)",
     "e = _divisor(n_samples, estimator) / (n_samples - 2)"),
    ("support under accumulate: one fresh batch too many",
     "draws = n + parts.real * np.arange(g)",
     "draws = n + parts.real * np.arange(1, g + 1)"),
    ("stationary law: solved with P instead of its transpose",
     "system = np.vstack([matrix.T - np.eye(k + 1), np.ones(k + 1)])",
     "system = np.vstack([matrix - np.eye(k + 1), np.ones(k + 1)])"),
    ("heterozygosity: decays from generation 0 one step early",
     "(1 - 1 / k) ** np.asarray(t, dtype=float)",
     "(1 - 1 / k) ** (np.asarray(t, dtype=float) + 1)"),
    ("absorption time: the first fit not counted",
     "mean = float(1.0 + first @ m)", "mean = float(first @ m)"),
    ("support after one fit: N − 1 draws",
     "np.sum(-np.expm1(n_samples * np.log1p(-q)))",
     "np.sum(-np.expm1((n_samples - 1) * np.log1p(-q)))"),
    ("E log var: χ² scaled by 1/D instead of 2/D",
     "special.digamma((n_samples - 1) / 2) + np.log(2 / d)",
     "special.digamma((n_samples - 1) / 2) + np.log(1 / d)"),
    ("mix stationary variance: a and 1 − a swapped",
     "return float(a * (n * (2 - a) - 1) / (a * n * (2 - a) + 1 - a) * var0)",
     "return float((1 - a) * (n * (1 + a) - 1) / ((1 - a) * n * (1 + a) + a) * var0)"),
    ("accumulate product: 1/(N i) for 1/(N i²)",
     "np.cumprod(1 - 1 / (n_samples * i**2))", "np.cumprod(1 - 1 / (n_samples * i))"),
    ("gaussian collapse time: the estimators' divisors swapped",
     'divisor = n_samples if estimator == "mle" else n_samples - 1',
     'divisor = n_samples - 1 if estimator == "mle" else n_samples'),
    ("diffusion survival: one of the two boundaries forgotten",
     "for p in (p0, 1.0 - p0):", "for p in (p0,):"),
    ("binomial: a Stirling-series coefficient wrong (1/1200 for 1/1260)",
     "_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188",
     "_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1200, 1 / 1680, 1 / 1188"),
    ("binomial: the deviance series one term short",
     "        step = term / (2 * j + 1)", "        step = term / (2 * j + 3)"),
    ("hypergeometric: the ratio's denominator drawn from the good items only",
     "/ binomial_pmf(drawn, total, p))", "/ binomial_pmf(drawn, total - 1, p))"),
    ("hitting law: one generation late",
     "        cdf[t] = law[0] + law[k]\n        law = law @ matrix",
     "        law = law @ matrix\n        cdf[t] = law[0] + law[k]"),
    # the loops of the literature: sampling bias, a fixed real set, weighted fits
    ("augment: the real set's mean taken as fresh each generation",
     "real_spread = 0.0 if fixed else (var0 / m if m else 0.0)",
     "real_spread = var0 / m if m else 0.0"),
    ("two parts: the model sampled without its scale",
     "        v = scale2 * mean_var[t - 1]\n        model_spread",
     "        v = mean_var[t - 1]\n        model_spread"),
    ("weighted variance: the between-part term forgotten",
     "var_mle = w_r * real_within + w_s * model_within + w_r * w_s * gap",
     "var_mle = w_r * real_within + w_s * model_within"),
    ("augment: E (mean − μ₀)² without the real set's own spread",
     "offset2[t] = centred + (var0 / n if fixed else 0.0)", "offset2[t] = centred"),
    ("golden ratio: the wrong quadratic",
     "return float((-b + np.sqrt(b * b + 4 * a * b)) / (2 * a))",
     "return float((-b + np.sqrt(b * b + 2 * b * (a + b))) / (a + b))"),
    ("stationary Var mean: (1 − w) for (1 − w)²",
     "/ n_synthetic) / (1 - (1 - w) ** 2)", "/ n_synthetic) / (1 - (1 - w))"),
    ("tempered heads: the logit multiplied by τ",
     "logit = (np.log(safe) - np.log1p(-safe)) / temperature",
     "logit = (np.log(safe) - np.log1p(-safe)) * temperature"),
    ("proportion moments, augment: the real set's cross term taken as fresh",
     'pair = cross if parts.kind == "augment" else q0 * a', "pair = q0 * a"),
    ("mix with carry-over: the sampling scale forgotten",
     "v, d, ss_prev = scale2 * mean_var[t - 1], offset2[t - 1], ss",
     "v, d, ss_prev = mean_var[t - 1], offset2[t - 1], ss"),
    ("fixation at a temperature: generation 1's all-heads mass forgotten",
     "return float(first[k] + first[1:k] @ b)", "return float(first[1:k] @ b)"),
    ("large-N heat map: the fresh share of the truth forgotten",
     "q = a * q0 + (1 - a) * tempered / tempered.sum()", "q = tempered / tempered.sum()"),
    ("best-of: the chosen candidate's own reward left out of the total",
     "odds = (k - j[inner]) / j[inner] * np.exp(np.float64(r0 - r1))",
     "odds = (k - j[inner]) / (j[inner] - 1 + 1e-300) * np.exp(np.float64(r0 - r1))"),
    ("verifier: acceptance without the false-accept floor",
     "    a = false_accept + (1.0 - false_accept) * relative\n    return float(a[0]), float(a[1])",
     "    a = (1.0 - false_accept) * relative\n    return float(a[0]), float(a[1])"),
    ("top filter: one candidate too few",
     "return min(math.ceil(n_units / keep - 1e-9), MAX_K * n_units)",
     "return min(math.ceil(n_units / keep - 1e-9) - 1, MAX_K * n_units)"),
    ("categorical best-of: M(λ) raised to K instead of K − 1",
     "power = big_m ** (k - 1)", "power = big_m ** k"),
    ("gaussian verifier: kept precision without the verifier's term",
     "precision = 1.0 / v + strictness / var0", "precision = 1.0 / v"),
    ("verified precision: E 1/χ²_ν taken as 1/(ν − 1)",
     "factor = d / (n_samples - 3)", "factor = d / (n_samples - 2)"),
]


def failing_tests(copy: Path, sources: dict[str, str]) -> list[str]:
    """Names of the tests that fail in ``copy`` with these theory modules (file name → text)."""
    for name, source in sources.items():
        (copy / THEORY / name).write_text(source)
    env = {**os.environ, "PYTHONPATH": str(copy / "src"),
           "NUMBA_CACHE_DIR": str(copy / "numba-cache")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                         capture_output=True, text=True, cwd=copy, env=env)
    return sorted({line.split("::")[1].split("[")[0].split(" ")[0]
                   for line in run.stdout.splitlines() if line.startswith("FAILED")})


def main() -> int:
    original = {path.name: path.read_text() for path in sorted((ROOT / THEORY).glob("*.py"))}
    missed = 0
    with tempfile.TemporaryDirectory(prefix="planted-theory-") as folder:
        copy = Path(folder)
        for part in ("src", "tests"):
            shutil.copytree(ROOT / part, copy / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
        if failing_tests(copy, original):
            print("the unmodified copy already fails its tests: fix those first")
            return 1
        for bug, correct, planted in BUGS:
            homes = [name for name, text in original.items() if text.count(correct) == 1]
            if len(homes) != 1 or sum(text.count(correct) for text in original.values()) != 1:
                print(f"stale: {bug}: the correct code is not once in modelcollapse/theory/")
                missed += 1
                continue
            home = homes[0]
            failed = failing_tests(copy, {**original,
                                          home: original[home].replace(correct, planted)})
            missed += not failed
            print(f"{'caught' if failed else 'MISSED'}: {bug}: "
                  f"{', '.join(failed) or 'no test failed'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
