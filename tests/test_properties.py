"""Property-based bad input (issue 19): every generated ``run`` command and sweep file is either
refused cleanly or runs cleanly.

:data:`BAD_INPUTS` of ``tests/test_bad_input.py`` pins the cases someone thought of; here
``hypothesis`` generates the rest. Option lists for ``modelcollapse run`` mix valid values of
every family's options (small runs, so each accepted one takes a fraction of a second) with
hostile ones: negative, zero, huge (1e30, 1e308), NaN and infinities, ``1e3`` forms, empty,
non-numeric and non-ASCII text, lists of the wrong length, options of another family or of
another setting, typos, missing values, and the same options in a ``--config`` file with TOML's
own types (``nan``, tables, arrays, dates). Sweep files are valid and broken grids: values of
the wrong type, unknown keys and tables, keys that cannot vary, grids without a valid cell,
TOML that does not parse.

Each example runs in-process (:func:`modelcollapse.cli.main`, as the ``modelcollapse`` command
does) in a fresh working folder, and must keep the contract of :mod:`test_bad_input`:

* **refused**: exit status 2; exactly one line on standard error,
  ``modelcollapse <command>: error: ...``, naming an option, a field or the file and saying
  what is allowed; no exception escapes (no traceback); nothing on standard output; the working
  folder exactly as it was (no results folder, no hidden ``.partial`` one);
* **accepted**: exit status 0; nothing on standard error and no warning raised; one complete
  results folder and nothing else new; the metrics table has every replicate, generation and
  metric, with no NaN and no infinity except where the documentation says a metric is infinite
  (:func:`documented_infinity`).

The number of examples is kept small by default (the file runs in well under a minute);
``MODELCOLLAPSE_PROPERTY_EXAMPLES=N`` runs ``N`` option lists and ``N // 4`` sweep files
(``MODELCOLLAPSE_PROPERTY_SWEEPS`` sets those apart), and the ``slow`` tests run 1000 and 250.
The counts (tried, refused cleanly, accepted) are printed at the end of the module (``-s``) and
written as JSON to ``MODELCOLLAPSE_PROPERTY_REPORT`` when that is set, with one example of each
distinct refusal message.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import signal
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import modelcollapse as mc
from modelcollapse import cli
from modelcollapse.config import RunConfig
from modelcollapse.options import all_options

# -- how many, and the counts ------------------------------------------------------------------

_ENV_RUNS = os.environ.get("MODELCOLLAPSE_PROPERTY_EXAMPLES")
_ENV_SWEEPS = os.environ.get("MODELCOLLAPSE_PROPERTY_SWEEPS")
#: Examples of the default run (each file's whole property run stays well under a minute).
RUN_EXAMPLES = int(_ENV_RUNS) if _ENV_RUNS else 40
SWEEP_EXAMPLES = (int(_ENV_SWEEPS) if _ENV_SWEEPS
                  else max(1, int(_ENV_RUNS) // 4) if _ENV_RUNS else 12)
#: Examples of the ``slow`` variants.
SLOW_RUN_EXAMPLES, SLOW_SWEEP_EXAMPLES = 1000, 250

#: command → outcome → count, over every example this session ran.
COUNTS: dict[str, Counter[str]] = {"run": Counter(), "sweep": Counter()}
#: One example command of each distinct refusal message (numbers masked), for review.
MESSAGES: dict[str, str] = {}
#: The slowest examples: (seconds, command).
SLOWEST: list[tuple[float, str]] = []


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    lines = []
    for command, counts in COUNTS.items():
        if counts["tried"]:
            lines.append(f"{command}: tried {counts['tried']}, clean errors "
                         f"{counts['clean error']}, accepted {counts['accepted']}")
    if lines:
        print("\nproperty-based bad input: " + "; ".join(lines))
    target = os.environ.get("MODELCOLLAPSE_PROPERTY_REPORT")
    if target:
        Path(target).write_text(json.dumps(
            {"counts": {k: dict(v) for k, v in COUNTS.items()},
             "messages": dict(sorted(MESSAGES.items())),
             "slowest": sorted(SLOWEST, reverse=True)[:20]}, indent=1, ensure_ascii=False))


# -- values: valid ones in every written form, and hostile ones ----------------------------------

#: Text that no option takes as it stands, or takes only at the edge of its range.
HOSTILE_TEXT = [
    "", " ", "-1", "0", "-0", "1e30", "1e308", "-1e308", "1e999", "1e-400", "1e-310", "4.9e-324",
    "nan", "NaN", "-nan",
    "inf", "-inf", "Infinity", "abc", "1e3", "2.5", "1e-3", "0x10", "1_000", "+5", "½", "٣",
    "１２", "é", "\u200b1", "1 2", "1,2", "--", "None", "true", "1e", ".", "-.5", "9" * 40,
]
#: The same for the run sizes, without the valid values that would make a run long (1e3).
HOSTILE_SIZES = [t for t in HOSTILE_TEXT if t not in ("1e3", "1_000")]
#: Hostile comma lists (the floats options: means, stds, weights, probs).
HOSTILE_LISTS = ["1,2,3", "1,,2", ",", "1;2", "nan,1", "inf,-inf", "-2,2,", "1e400,0", "1",
                 "0.5,0.5,0", "-1,2", "0,0", "a,b", "1e308,1e308", "0.3,0.3,0.3"]

FAMILIES = ("coin", "categorical", "gaussian", "gmm", "ngram")
POLICIES = ("replace", "mix", "accumulate", "accumulate-subsample", "augment")
KNOWN = all_options()


def int_text(value: int) -> st.SearchStrategy[str]:
    """``value`` written as users may write it: ``12``, ``1.2e1``, ``1_2``, ``+12``."""
    forms = [str(value), f" {value}", f"+{value}"]
    if value >= 10 and value % 10 == 0:
        forms.append(f"{value // 10}e1")
    if value >= 100:
        forms.append(f"{str(value)[0]}_{str(value)[1:]}")
    return st.sampled_from(forms)


def float_text(value: float) -> st.SearchStrategy[str]:
    return st.sampled_from([repr(value), f"{value:g}", f"{value:e}", f"{value:.3g}"])


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats spread over the decades from ``low`` to ``high``, the bounds included."""
    a, b = math.log10(low), math.log10(high)
    return st.one_of(st.sampled_from([low, high, 1.0] if low <= 1 <= high else [low, high]),
                     st.floats(a, b).map(lambda e: float(f"{10**e:.4g}")))


@st.composite
def int_in(draw, low: int, high: int) -> str:
    return draw(int_text(draw(st.integers(low, high))))


@st.composite
def float_in(draw, low: float, high: float, *, edges: bool = True) -> str:
    pool = st.floats(low, high, allow_nan=False)
    value = draw(st.one_of(st.sampled_from([low, high]), pool) if edges else pool)
    return draw(float_text(value))


@st.composite
def weights_text(draw, k: int) -> str:
    raw = draw(st.lists(st.integers(0, 9), min_size=k, max_size=k).filter(any))
    return ",".join(repr(r / sum(raw)) for r in raw)


@st.composite
def floats_text(draw, values: st.SearchStrategy[float], k: int) -> str:
    return ",".join(repr(v) for v in draw(st.lists(values, min_size=k, max_size=k)))


# -- a run: a coherent, small experiment ----------------------------------------------------------


@dataclass
class Case:
    """One generated command: its argv, and the files to put in its working folder."""

    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    #: The family an accepted run must have simulated (``None``: not checked).
    family: str | None = None

    def show(self) -> str:
        return " ".join(repr(a) if not a or " " in a else a for a in self.argv)


@st.composite
def policy_options(draw, family: str) -> dict[str, str]:
    """``--policy`` and its fractions, consistent with each other."""
    policy = draw(st.sampled_from(POLICIES))
    out: dict[str, str] = {} if policy == "replace" and draw(st.booleans()) else {
        "policy": policy}
    if policy == "mix":
        real = draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]) | st.floats(0, 1))
        out["real"] = draw(float_text(real))
        if draw(st.booleans()):
            out["synthetic"] = draw(float_text(draw(st.floats(0, 1 - real))))
    elif policy in ("accumulate", "accumulate-subsample") and draw(st.booleans()):
        out["real"] = draw(float_in(0.0, 1.0))
    elif policy == "augment" and draw(st.booleans()):
        out["synthetic"] = draw(float_in(0.0, 3.0))
    return out


@st.composite
def family_options(draw, family: str, n_samples: int) -> dict[str, str]:
    """Valid settings of ``family`` (each present or not), as flag text."""
    out: dict[str, str] = {}

    def maybe(name: str, strategy: st.SearchStrategy[str]) -> None:
        if draw(st.booleans()):
            out[name] = draw(strategy)

    bias = log_uniform(1e-3, 1e3).flatmap(float_text)
    if family == "coin":
        maybe("p0", float_in(0.0, 1.0))
        maybe("temperature", bias)
    elif family == "categorical":
        if draw(st.booleans()):
            maybe("vocab", int_in(2, 60))
            maybe("zipf", float_in(0.0, 4.0))
        else:
            k = draw(st.integers(2, 8))
            out["probs"] = draw(weights_text(k))
            maybe("vocab", st.just(str(k)))
        maybe("temperature", bias)
    elif family == "gaussian":
        mean = draw(st.sampled_from([0.0, 1.0, -3.5, 1e50, -1e50]) | st.floats(-1e6, 1e6))
        low = max(1e-50, 1e-10 * abs(mean))
        std = draw(st.sampled_from([1.0, 1e50, low]) | log_uniform(low, 1e50))
        maybe("mean", float_text(mean))
        if std >= 1e-10 * abs(mean) or "mean" not in out:
            maybe("std", float_text(std))
        fit = draw(st.sampled_from(["mean-var", "mean", None]))
        if fit:
            out["fit"] = fit
        if fit != "mean":
            maybe("estimator", st.sampled_from(["mle", "unbiased"]))
        maybe("sampling-scale", log_uniform(1e-3, 1e3).flatmap(float_text))
    elif family == "gmm":
        k = draw(st.integers(1, 3))
        if k != 2 or draw(st.booleans()):
            out["means"] = draw(floats_text(st.floats(-10, 10).map(lambda x: round(x, 2)), k))
        if draw(st.booleans()):
            out["components"] = str(k)
        maybe("stds", floats_text(log_uniform(1e-3, 10.0), k))
        maybe("weights", weights_text(k))
        maybe("tol", log_uniform(1e-12, 1e-1).flatmap(float_text))
        maybe("max-iter", int_in(1, 300))
        backend = draw(st.sampled_from(["numba", "numba", "sklearn", None]))
        if backend:
            out["backend"] = backend
        maybe("init", st.sampled_from(["warm", "kmeans"]))
        maybe("var-floor", log_uniform(1e-300, 1e2).flatmap(float_text))
        maybe("sampling-scale", log_uniform(1e-3, 1e3).flatmap(float_text))
    elif family == "ngram":
        order = draw(st.integers(1, 3))
        out["order"] = str(order)
        if draw(st.integers(0, 4)) == 0:
            out["corpus"] = draw(st.sampled_from(["demo", "corpus.txt"]))
            maybe("tokens", st.sampled_from(["chars", "words"]))
            maybe("max-vocab", int_in(2, 300))
        else:
            maybe("vocab", int_in(2, 60 if order < 3 else 20))
            maybe("zipf", float_in(0.0, 3.0))
            maybe("density", float_in(0.01, 1.0))
            maybe("truth-seed", int_in(0, 10**6))
            maybe("heldout", int_in(1, 3000))
        maybe("length", int_in(1, min(n_samples, 60)))
        maybe("temperature", log_uniform(1e-3, 1e3).flatmap(float_text))
        maybe("top-k", int_in(0, 70))
        maybe("top-p", float_in(1e-3, 1.0))
        smoothing = draw(st.sampled_from(["mle", "add-k", "kn", None]))
        if smoothing:
            out["smoothing"] = smoothing
        if smoothing == "add-k":
            maybe("add-k", log_uniform(1e-3, 10.0).flatmap(float_text))
        if smoothing in ("kn", None):
            maybe("discount", float_in(0.01, 1.0))
    if family in ("coin", "categorical", "gaussian") and draw(st.booleans()):
        out[draw(st.sampled_from(["shortcut", "no-shortcut"]))] = ""
    if family == "gmm" and draw(st.integers(0, 3)) == 0:
        out["no-accelerate"] = ""
    return out


#: Samples, generations and replicates: small, so that every accepted run is fast (the GMM, the
#: slowest family, smallest).
SIZES = {"gmm": (150, 3, 2), "ngram": (200, 4, 3)}


@st.composite
def valid_run(draw) -> tuple[str, dict[str, str]]:
    """A family and options that make a valid small run (most of the time: a few settings
    interact, e.g. a real weight under a policy without real data, and are refused)."""
    family = draw(st.sampled_from(FAMILIES))
    most_samples, most_generations, most_replicates = SIZES.get(family, (200, 5, 4))
    low = 60 if family == "ngram" else 3 if family == "gmm" else 1
    n_samples = draw(st.integers(low, low + 3) | st.integers(low, most_samples))  # N = 1, 2
    options = {"samples": draw(int_text(n_samples)),
               "generations": draw(int_in(1, most_generations)),
               "replicates": draw(int_in(1, most_replicates))}
    if draw(st.booleans()):
        options["seed"] = draw(st.sampled_from(["0", "1", "1e3", "18446744073709551616",
                                                "9" * 80]) | int_in(0, 2**32))
    options.update(draw(policy_options(family)))
    options.update(draw(family_options(family, n_samples)))
    fractions = family not in ("coin", "categorical") and options.get("fit") != "mean"
    if fractions and draw(st.integers(0, 3)) == 0:
        options["collapse-fraction"] = draw(float_in(1e-3, 0.999))
    keeps_real = options.get("policy") in ("accumulate", "accumulate-subsample", "augment") or (
        options.get("policy") == "mix" and float(options.get("real", "0")) > 0)
    if (family != "ngram" and keeps_real and options.get("estimator") != "unbiased"
            and options.get("backend") != "sklearn" and options.get("init") != "kmeans"
            and draw(st.booleans())):
        options["real-weight"] = draw(float_in(0.0, 1.0))
    if draw(st.integers(0, 3)) == 0:
        options["workers"] = draw(int_in(1, 2))
    if draw(st.integers(0, 2)) == 0:
        options["out"] = draw(st.sampled_from(["res", "a/b/c", "résultats", "with space",
                                               "./out", "runs/mine"]))
    if draw(st.integers(0, 24)) != 0:  # figures cost a second or two: a few runs draw them
        options["no-plots"] = ""
    return family, options


def other_setting(draw, family: str) -> tuple[str, str]:
    """An option of another family, or one without effect here, with a plausible value."""
    name = draw(st.sampled_from([
        *sorted(n for n, o in KNOWN.items() if o.target == "family" and family not in o.families),
        "add-k", "discount", "tokens", "max-vocab", "collapse-fraction", "estimator",
        "real-weight", "synthetic", "real"]))
    value = {"tokens": "words", "estimator": "unbiased", "init": "kmeans", "backend": "sklearn",
             "smoothing": "mle", "fit": "mean", "corpus": "demo", "means": "-1,1",
             "stds": "1,1", "weights": "0.5,0.5", "probs": "0.5,0.5"}.get(name, "0.5")
    if KNOWN.get(name) is not None and KNOWN[name].kind == "int":
        value = "3"
    return name, value


@st.composite
def mutated(draw, family: str, options: dict[str, str]) -> tuple[str | None, dict[str, str],
                                                                 list[str]]:
    """The same run with hostile changes: (family argument, options, extra argv)."""
    options = dict(options)
    extra: list[str] = []
    family_arg: str | None = family
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 12))
        names = sorted(n for n, v in options.items() if v)
        if kind <= 2 and names:  # a valid option's value made hostile
            name = draw(st.sampled_from(names))
            is_list = KNOWN.get(name) is not None and KNOWN[name].kind == "floats"
            pool = HOSTILE_SIZES if name in ("samples", "generations", "replicates") else (
                HOSTILE_LISTS if is_list and draw(st.booleans()) else HOSTILE_TEXT)
            options[name] = draw(st.sampled_from(pool))
        elif kind == 3:  # any option at all, with a hostile value
            name = draw(st.sampled_from(sorted(KNOWN)))
            if KNOWN[name].kind != "bool":
                options[name] = draw(st.sampled_from(
                    HOSTILE_SIZES if name in ("samples", "generations", "replicates")
                    else HOSTILE_TEXT + HOSTILE_LISTS))
        elif kind == 4:  # an option of another family or of another setting
            name, value = other_setting(draw, family)
            options[name] = value
        elif kind == 5:  # a typo
            name = draw(st.sampled_from(sorted(options)))
            typo = draw(st.sampled_from([name[:-1], name + "s", name.replace("-", "_"),
                                         name.upper(), name[:3]]))
            if typo and typo not in KNOWN:
                options[typo] = options.pop(name)
        elif kind == 6:  # a flag without its value, last
            name = draw(st.sampled_from(sorted(n for n, o in KNOWN.items() if o.kind != "bool")))
            extra.append(f"--{name}")
        elif kind == 7:  # the family argument: unknown, unicode, another family
            family_arg = draw(st.sampled_from(["gauss", "GMM", "cöin", "", "ngram2", "1",
                                               "categorical ", *FAMILIES]))
        elif kind == 8:  # a stray positional or an unknown flag
            extra += draw(st.sampled_from([["extra"], ["--bogus"], ["--bogus=1"], ["-x"],
                                           ["--"], ["--no-samples"], ["--plots=yes"],
                                           ["--no-progress=1"], ["--report=no"], ["--config"],
                                           ["--config="], ["--no-plots=0"]]))
        elif kind == 9:  # a bad --config
            extra += ["--config", draw(st.sampled_from(["missing.toml", ".", "corpus.txt",
                                                        "latin1.toml", "broken.toml"]))]
        elif kind == 10 and names:  # sizes that are refused (just past their bounds too)
            size = draw(st.sampled_from(["samples", "generations", "replicates"]))
            options[size] = draw(st.sampled_from(["0", "-3", "1e30", "3.5", {
                "samples": "1000000000001", "generations": "10000001",
                "replicates": "1000000001"}[size]]))
        elif kind == 12:  # where the results go: a file, below a file, nowhere writable
            options["out"] = draw(st.sampled_from(["", " ", "afile", "afile/sub", "corpus.txt",
                                                   "/proc/modelcollapse-test", "full"]))
        elif kind == 11:  # the family's own settings out of range
            name = draw(st.sampled_from(sorted(n for n, o in KNOWN.items()
                                               if o.target == "family" and family in o.families
                                               and o.kind in ("float", "int"))))
            options[name] = draw(st.sampled_from(["-1", "0", "1.0000001", "1e-4", "2000",
                                                  "1e51", "1e-51", "4194305", "1001"]))
    return family_arg, options, extra


def toml_value(value: Any) -> str:
    """``value`` in TOML syntax (tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Raw):
        return value.text
    raise TypeError(value)


@dataclass(frozen=True)
class Raw:
    """TOML written as it stands (a date, a bare word)."""

    text: str


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


#: TOML values of the wrong type, or out of range, for any key.
HOSTILE_TOML: list[Any] = [float("nan"), float("inf"), -float("inf"), "abc", "", True, [],
                           [1, "a"], [[1]], {"a": 1}, Raw("1979-05-27"), 10**25, -1, 0, 1e308,
                           "1e3", 2.5, [0.5, 0.5, 0.5], "-2,2"]


def typed(name: str, text: str, draw) -> Any:
    """The flag text as a TOML file would more likely hold it (a number as a number)."""
    option = KNOWN.get(name)
    if option is None or not text or draw(st.integers(0, 5)) == 0:
        return text
    try:
        if option.kind == "int":
            return int(text.replace("_", "").strip()) if "e" not in text else float(text)
        if option.kind == "float":
            return float(text)
        if option.kind == "floats":
            return [float(v) for v in text.split(",")]
    except ValueError:
        return text
    return text


@st.composite
def run_cases(draw) -> Case:
    family, options = draw(valid_run())
    family_arg: str | None = family
    extra: list[str] = []
    if draw(st.integers(0, 1)) == 0:
        family_arg, options, extra = draw(mutated(family, options))
    if family_arg == "gmm" and draw(st.integers(0, 3)) == 0:
        family_arg = None  # `modelcollapse run` is the GMM
    files = dict(FIXED_FILES)
    argv = ["run"]
    config: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:  # some settings (the family too) from a --config file
        movable = [n for n, v in options.items() if v and n in KNOWN]
        for name in draw(st.lists(st.sampled_from(movable), unique=True)) if movable else []:
            key = name.replace("-", "_") if draw(st.integers(0, 3)) == 0 else name
            value = options.pop(name)
            config[key] = (draw(st.sampled_from(HOSTILE_TOML)) if draw(st.integers(0, 5)) == 0
                           else typed(name, value, draw))
        if family_arg and draw(st.booleans()):
            config["family"], family_arg = family_arg, None
        text = "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in config.items())
        files["run.toml"] = text.encode()
        argv += ["--config", "run.toml"]
    expected = family_arg if family_arg is not None else config.get("family", "gmm")
    if family_arg is not None:
        argv.insert(1, family_arg)
    for name, value in options.items():
        if not value and (name not in KNOWN or KNOWN[name].kind == "bool"):  # --shortcut
            argv.append(f"--{name}")
        elif draw(st.integers(0, 4)) == 0:
            argv.append(f"--{name}={value}")
        else:
            argv += [f"--{name}", value]
    argv += extra
    return Case(argv, files, expected if isinstance(expected, str) else None)


#: Files every working folder holds: a corpus, and --config files that cannot be read.
FIXED_FILES: dict[str, bytes] = {
    "corpus.txt": ("The quick brown fox jumps over the lazy dog. " * 40).encode(),
    "latin1.toml": b'family = "coin"\n# caf\xe9\n',
    "broken.toml": b'family = "coin\nsamples = \n',
    "afile": b"a file, not a folder\n",
    "full/keep": b"a folder that already holds files\n",
}


# -- sweep files ---------------------------------------------------------------------------------

#: Grid keys and the values they may list (as TOML values), per family (``None``: every family).
GRID_VALUES: dict[str, tuple[tuple[str, ...] | None, list[Any]]] = {
    "samples": (None, [5, 10, 20, 50, 3, 1, 60, 100]),
    "generations": (None, [1, 2, 3]),
    "replicates": (None, [1, 2]),
    "policy": (None, list(POLICIES)),
    "real": (None, [0.0, 0.1, 0.5, 1.0, 0.05]),
    "synthetic": (None, [0.0, 0.5, 0.9, 1.0, 2.0]),
    "collapse-fraction": (("gaussian", "gmm", "ngram"), [0.1, 0.5, 0.9]),
    "p0": (("coin",), [0.0, 0.1, 0.5, 1.0]),
    "temperature": (("coin", "categorical", "ngram"), [0.5, 1.0, 2.0, 1e-3, 1e3]),
    "vocab": (("categorical", "ngram"), [2, 5, 20]),
    "zipf": (("categorical", "ngram"), [0.0, 1.0, 2.5]),
    "probs": (("categorical",), [[0.5, 0.5], [0.2, 0.3, 0.5], "0.1,0.9"]),
    "mean": (("gaussian",), [0.0, -5.0, 1e50]),
    "std": (("gaussian",), [1.0, 0.01, 1e40]),
    "estimator": (("gaussian",), ["mle", "unbiased"]),
    "sampling-scale": (("gaussian", "gmm"), [0.5, 1.0, 1.5, 1e3]),
    "real-weight": (("coin", "categorical", "gaussian", "gmm"), [0.0, 0.5, 0.618, 1.0]),
    "fit": (("gaussian",), ["mean-var", "mean"]),
    "means": (("gmm",), [[-2.0, 2.0], [0.0], [-3.0, 0.0, 3.0], "-1,1"]),
    "stds": (("gmm",), [[1.0, 1.0], [0.5, 2.0]]),
    "init": (("gmm",), ["warm", "kmeans"]),
    "tol": (("gmm",), [1e-3, 1e-10]),
    "var-floor": (("gmm",), [1e-6, 1e-300]),
    "order": (("ngram",), [1, 2, 3]),
    "length": (("ngram",), [5, 20, 50]),
    "top-p": (("ngram",), [0.5, 0.9, 1.0]),
    "top-k": (("ngram",), [0, 1, 5]),
    "smoothing": (("ngram",), ["mle", "add-k", "kn"]),
    "add-k": (("ngram",), [0.5, 1.0]),
    "shortcut": (("coin", "categorical", "gaussian"), [True, False]),
}


@st.composite
def sweep_cases(draw) -> Case:
    family = draw(st.sampled_from(FAMILIES))
    most_samples, most_generations, most_replicates = {"gmm": (80, 2, 2), "ngram": (120, 2, 2)
                                                       }.get(family, (100, 3, 3))
    low = 60 if family == "ngram" else 3 if family == "gmm" else 1
    experiment: dict[str, Any] = {
        "family": family, "samples": draw(st.integers(low, most_samples)),
        "generations": draw(st.integers(1, most_generations)),
        "replicates": draw(st.integers(1, most_replicates))}
    if family == "ngram":
        experiment["length"] = draw(st.integers(1, 20))
    if draw(st.booleans()):
        experiment["seed"] = draw(st.integers(0, 2**40))
    if draw(st.booleans()):  # the family's own settings and a policy, as TOML values
        settings = {**draw(policy_options(family)),
                    **draw(family_options(family, experiment["samples"]))}
        for name, text in settings.items():
            if name in ("shortcut", "no-shortcut", "no-accelerate"):
                experiment[name.removeprefix("no-")] = not name.startswith("no-")
            elif name != "length" or family != "ngram":
                experiment[name] = typed(name, text, draw)
    keys = [k for k, (families, _) in GRID_VALUES.items()
            if families is None or family in families]
    grid: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)):
        values = GRID_VALUES[key][1]
        if key in ("samples", "generations", "replicates"):  # keep every cell small
            bound = {"samples": most_samples, "generations": most_generations,
                     "replicates": most_replicates}[key]
            values = [v for v in values if v <= bound]
        grid[key] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3,
                                      unique_by=repr))
        experiment.pop(key, None)
        if key == "length" and family == "ngram":
            experiment["samples"] = max(experiment.get("samples", 60), 60)
    if {"real", "synthetic"} & set(grid) and "policy" not in experiment and "policy" not in grid:
        experiment["policy"] = draw(st.sampled_from(["mix", "augment", "accumulate"]))
    tables: dict[str, Any] = {"experiment": experiment, "grid": grid}
    hostile = draw(st.integers(0, 2)) == 0
    raw_tail = ""
    if hostile:
        for _ in range(draw(st.integers(1, 2))):
            kind = draw(st.integers(0, 12))
            if kind == 0:  # a value of the wrong type in the experiment
                key = draw(st.sampled_from(sorted(experiment)))
                experiment[key] = draw(st.sampled_from(HOSTILE_TOML))
            elif kind == 1:  # a grid value of the wrong type
                key = draw(st.sampled_from(sorted(grid)))
                grid[key] = [*grid[key], draw(st.sampled_from(HOSTILE_TOML))]
            elif kind == 2:  # a grid entry that is no list, or an empty one, or a repeat
                key = draw(st.sampled_from(sorted(grid)))
                grid[key] = draw(st.sampled_from([[], 3, "abc", {"a": 1},
                                                  [grid[key][0], grid[key][0]]]))
            elif kind == 3:  # a key that cannot vary, or that is set twice
                key = draw(st.sampled_from(["seed", "out", "workers", "plots", "family",
                                            "samples"]))
                grid[key] = {"seed": [1, 2], "out": ["a"], "workers": [1], "plots": [True],
                             "family": ["coin", "gmm"], "samples": [10, 20]}[key]
            elif kind == 4:  # an unknown key, or another family's
                name, value = other_setting(draw, family)
                table = draw(st.sampled_from([experiment, grid]))
                key = draw(st.sampled_from([name, "bogus", "sample", "top_p", "Samples", "é"]))
                table[key] = [typed(name, value, draw)] if table is grid else typed(
                    name, value, draw)
            elif kind == 5:  # another table
                tables[draw(st.sampled_from(["extra", "Grid", "experiments", "run"]))] = {
                    "samples": 3}
            elif kind == 6:  # no grid, or an empty one, or a grid that is no table
                tables["grid"] = draw(st.sampled_from([None, {}, Raw("3"), Raw("[1, 2]")]))
            elif kind == 7:  # TOML that does not parse
                raw_tail = draw(st.sampled_from(["samples = \n", "[grid\n", "x = 'a\n",
                                                 "= 3\n", "[experiment]\nfamily = 'coin'\n"]))
            elif kind == 8:  # grids with no valid cell
                grid["samples"] = [0, -1]
            elif kind == 9:  # output settings in the experiment, good and bad
                experiment[draw(st.sampled_from(["out", "workers", "plots"]))] = draw(
                    st.sampled_from(["s", "", 0, 2000, 1, True, "yes", [1], "afile"]))
            elif kind == 10:  # out-of-range experiment values
                key = draw(st.sampled_from(["samples", "generations", "replicates", "seed"]))
                experiment[key] = draw(st.sampled_from([0, -1, 10**13, 10**30, 1.5, "1e3",
                                                        float("nan")]))
            elif kind == 11:  # the experiment table not a table, or missing (the grid
                # then refused: else the cells would be the classic GMM's 2000 generations)
                tables["experiment"] = draw(st.sampled_from([None, Raw("3"), Raw('"coin"')]))
                if tables["experiment"] is None:
                    grid["bogus"] = [1]
            elif kind == 12:  # keys with underscores, and family names as TOML values
                experiment["family"] = draw(st.sampled_from(["Coin", "", "gauss", 1, ["coin"]]))
    text = ""
    for name, table in tables.items():
        if table is None:
            continue
        if isinstance(table, Raw):
            text = f"{name} = {table.text}\n" + text
            continue
        text += f"[{name}]\n" + "".join(f"{toml_key(k)} = {toml_value(v)}\n"
                                        for k, v in table.items())
    text += raw_tail
    files = {**FIXED_FILES, "sweep.toml": text.encode()}
    argv = ["sweep", "sweep.toml"]
    if (draw(st.integers(0, 5)) == 0 and "workers" not in experiment
            and "[experiment]\n" in text):  # the file says so instead of the flag
        files["sweep.toml"] = text.replace("[experiment]\n", "[experiment]\nworkers = 1\n",
                                           1).encode()
    else:  # one worker: this process (a pool of processes would cost seconds to start)
        argv += ["--workers", "1"]
    if draw(st.integers(0, 2)) != 0:
        argv += ["--out", draw(st.sampled_from(["s", "sweeps/one", "afile"]))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--seed", draw(st.sampled_from(["7", "1e3", "-1", "1.5", "x"]))]
    if draw(st.integers(0, 5)) == 0:
        argv.append("--dry-run")
    if draw(st.integers(0, 9)) != 0:
        argv.append("--no-plots")
    return Case(argv, files)


# -- the contract --------------------------------------------------------------------------------

#: Words of a refusal that say what is allowed (or, for a parse error, what was wrong).
ALLOWED_WORDS = ("must", "is not a known setting", "does not apply", "has no effect", "needs",
                 "cannot", "unrecognized arguments", "expected one argument", "invalid choice",
                 "is too large", "lists a value twice", "is also set", "is not a sweep table",
                 "has no valid cell", "holds no text", "is not valid TOML", "would need",
                 "is not", "only")


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


@dataclass
class Outcome:
    status: int | None
    stdout: str
    stderr: str
    warnings: list[str]
    error: str | None  # an exception that escaped main, with its traceback


def invoke(argv: list[str], cwd: Path) -> Outcome:
    """``modelcollapse *argv`` in-process in ``cwd``: its status, output and warnings."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    status: int | None = None
    escaped = None
    terminate = signal.getsignal(signal.SIGTERM)  # cli.main installs its own
    os.chdir(cwd)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                status = cli.main(list(argv))
            except SystemExit as stop:  # argparse's errors (and --help)
                status = stop.code if isinstance(stop.code, int) else 1
            except BaseException:
                escaped = traceback.format_exc()
    finally:
        os.chdir(old)
        signal.signal(signal.SIGTERM, terminate)
    return Outcome(status, out.getvalue(), err.getvalue(),
                   [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
                    for w in caught], escaped)


def masked(message: str) -> str:
    """A message with its numbers and quoted values masked (one entry per kind of message)."""
    message = re.sub(r"\(got .*\)$", "(got …)", message)
    return re.sub(r"\d+(\.\d+)?(e[+-]?\d+)?", "N", message)


def check_refusal(command: str, outcome: Outcome, before: dict, cwd: Path, case: Case) -> None:
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and outcome.stderr.endswith("\n"), outcome.stderr
    line = lines[0]
    prefix = f"modelcollapse {command}: error: "
    assert line.startswith(prefix), line
    message = line[len(prefix):]
    assert "Traceback" not in outcome.stderr and "Warning" not in outcome.stderr, line
    assert any(word in message for word in ALLOWED_WORDS), f"says nothing allowed: {line}"
    names = [f"--{n}" for n in KNOWN] + list(KNOWN) + [
        "--config", "family", "FAMILY", "SWEEP.toml", "sweep.toml", "run.toml", "[grid]",
        "[experiment]", "--dry-run", "--seed", "--dask-local", "argument", "arguments",
        "latin1.toml", "broken.toml", "corpus.txt", "missing.toml"]
    assert any(name in message for name in names), f"names no option: {line}"
    assert len(line) < 600, f"too long for one line: {line}"
    assert outcome.stdout == "", "nothing may be announced before the input is checked"
    assert not outcome.warnings, outcome.warnings
    assert snapshot(cwd) == before, "a refused command left something behind"
    MESSAGES.setdefault(masked(message), case.show())


def documented_infinity(config: RunConfig, table) -> np.ndarray:
    """Where an infinite metric is a documented result (a mask over ``table``'s rows).

    * ``gaussian``, ``gmm``: a model that has blown up (its variance overflowed, possible with a
      sampling scale above 1: the family docstrings) records ``var``, ``w2``, ``kl`` (and the
      gmm's ``std_i``) as ``inf``; ``kl`` is ``inf`` when a fitted variance is exactly 0 (a point
      mass cannot cover the truth: README "Results", ``normal_metrics``).
    * ``ngram`` with ``--smoothing mle``: ``perplexity`` and ``kl_rate`` (README, n-gram
      metrics).
    """
    metric = table["metric"].to_numpy()
    value = table["value"].to_numpy()
    positive = value == np.inf
    family = config.model.name
    if family == "ngram":
        return positive & np.isin(metric, ["perplexity", "kl_rate"]) & (
            config.model.smoothing == "mle")
    if family not in ("gaussian", "gmm"):
        return np.zeros(len(table), dtype=bool)
    key = table["replicate"].astype(str) + ":" + table["generation"].astype(str)
    var = dict(zip(key[metric == "var"], value[metric == "var"], strict=True))
    blown = np.array([var.get(k, 0.0) == np.inf for k in key])
    stds = np.char.startswith(metric.astype(str), "std_")
    point = np.zeros(len(table), dtype=bool)
    if family == "gaussian":
        point = np.array([var.get(k, 1.0) == 0.0 for k in key])
    else:
        for k in set(key[stds & (value == 0.0)]):
            point |= key.to_numpy() == k
    kl = metric == "kl"
    return positive & ((blown & (np.isin(metric, ["var", "w2", "kl"]) | stds)) | (kl & point))


def check_metrics(config: RunConfig, table, where: str) -> None:
    value = table["value"].to_numpy(dtype=float)
    assert not np.isnan(value).any(), f"NaN metrics in {where}: " + ", ".join(
        sorted(set(table["metric"][np.isnan(value)])))
    infinite = ~np.isfinite(value)
    if infinite.any():
        undocumented = infinite & ~documented_infinity(config, table)
        assert not undocumented.any(), (
            f"undocumented infinities in {where}: "
            + table[undocumented].head(5).to_string())


def check_accepted_run(outcome: Outcome, before: dict, cwd: Path, case: Case) -> None:
    new = sorted(set(snapshot(cwd)) - set(before))
    assert not [p for p in new if ".partial" in p or "/." in f"/{p}"], new
    manifests = [cwd / p for p in new if p.endswith("manifest.json")]
    assert len(manifests) == 1, f"one results folder expected: {new}"
    folder = manifests[0].parent
    assert all((cwd / p).resolve().is_relative_to(folder.resolve())
               or (folder.resolve().is_relative_to((cwd / p).resolve())) for p in new), new
    assert f"results: {folder.relative_to(cwd)}" in outcome.stdout, outcome.stdout[-300:]
    result = mc.load(folder)
    config = result.config
    if case.family is not None:  # the run is the one asked for (`run ""` once ran the GMM)
        assert config.model.name == case.family, (config.model.name, case.family)
    table = result.metrics
    names = set(config.model.metric_names)
    assert set(table["metric"]) == names, (set(table["metric"]), names)
    assert len(table) == config.n_replicates * (config.n_generations + 1) * len(names), (
        "the metrics table is not complete")
    check_metrics(config, table, str(folder.relative_to(cwd)))


def check_accepted_sweep(outcome: Outcome, before: dict, cwd: Path, case: Case) -> None:
    new = sorted(set(snapshot(cwd)) - set(before))
    if "--dry-run" in case.argv:
        assert not new, f"a dry run wrote {new}"
        assert "cells" in outcome.stdout
        return
    assert not [p for p in new if ".partial" in p or ".tmp" in p], new
    manifests = [cwd / p for p in new if p.endswith("manifest.json")]
    assert len(manifests) == 1, f"one sweep folder expected: {new}"
    folder = manifests[0].parent
    manifest = json.loads(manifests[0].read_text())
    assert manifest["status"] == "complete", manifest["status"]
    assert (folder / "summary.parquet").is_file()
    result = mc.load(folder)
    metrics = result.metrics
    for cell in manifest["cells"]:
        config = RunConfig.from_dict(cell["config"])
        rows = metrics[metrics["cell"] == cell["id"]]
        names = set(config.model.metric_names)
        assert set(rows["metric"]) == names, (cell["id"], set(rows["metric"]), names)
        assert len(rows) == config.n_replicates * (config.n_generations + 1) * len(names), (
            f"cell {cell['id']} is not complete")
        check_metrics(config, rows.reset_index(drop=True), f"cell {cell['id']}")


def keep_the_contract(case: Case) -> None:
    """Run ``case`` in a fresh working folder and check the contract (module docstring)."""
    command = case.argv[0]
    note(case.show())
    for name, data in case.files.items():
        if name.endswith(".toml") and name in case.argv:
            note(f"{name}:\n{data.decode(errors='replace')}")
    COUNTS[command]["tried"] += 1
    with tempfile.TemporaryDirectory(prefix="mc-property-") as folder:
        cwd = Path(folder)
        for name, data in case.files.items():
            (cwd / name).parent.mkdir(parents=True, exist_ok=True)
            (cwd / name).write_bytes(data)
        before = snapshot(cwd)
        start = time.perf_counter()
        outcome = invoke(case.argv, cwd)
        SLOWEST.append((round(time.perf_counter() - start, 3), case.show()))
        SLOWEST[:] = sorted(SLOWEST, reverse=True)[:20]
        assert outcome.error is None, f"an exception escaped:\n{outcome.error}"
        if outcome.status == 2:
            check_refusal(command, outcome, before, cwd, case)
            COUNTS[command]["clean error"] += 1
            event("clean error")
            return
        assert outcome.status == 0, (outcome.status, outcome.stderr)
        assert outcome.stderr == "", f"printed on standard error: {outcome.stderr}"
        assert not outcome.warnings, outcome.warnings
        (check_accepted_run if command == "run" else check_accepted_sweep)(
            outcome, before, cwd, case)
        COUNTS[command]["accepted"] += 1
        event("accepted")


def _property(cases: st.SearchStrategy[Case], examples: int):
    @settings(derandomize=True, deadline=None, database=None, max_examples=examples,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(case=cases)
    def test(case: Case) -> None:
        keep_the_contract(case)

    return test


test_run_options_are_refused_cleanly_or_run_cleanly = _property(run_cases(), RUN_EXAMPLES)
test_sweep_files_are_refused_cleanly_or_run_cleanly = _property(sweep_cases(), SWEEP_EXAMPLES)
test_many_run_options = pytest.mark.slow(_property(run_cases(), SLOW_RUN_EXAMPLES))
test_many_sweep_files = pytest.mark.slow(_property(sweep_cases(), SLOW_SWEEP_EXAMPLES))


def test_sklearn_warm_start_with_a_dead_component_runs_cleanly(tmp_path):
    """Found by the property run: scikit-learn took the log of a zero initial weight."""
    pytest.importorskip("sklearn")
    outcome = invoke(["run", "gmm", "--means", "1,1,10", "--weights", "0.2,0.8,0",
                      "--backend", "sklearn", "--init", "warm", "--samples", "100",
                      "--generations", "1", "--replicates", "1", "--seed", "1", "--no-plots",
                      "--out", "r"], tmp_path)
    assert outcome.status == 0 and outcome.error is None, outcome.stderr
    assert not outcome.warnings, outcome.warnings[:1]


def test_the_strategies_reach_both_outcomes():
    """Both sides of the contract are exercised: guards against a strategy that only ever
    produces errors (or only valid runs) after a change to the options."""
    if not COUNTS["run"]["tried"]:
        pytest.skip("the property tests did not run")
    for command in ("run", "sweep"):
        counts = COUNTS[command]
        if counts["tried"] >= 20:
            assert counts["clean error"] >= 0.1 * counts["tried"], counts
            assert counts["accepted"] >= 0.1 * counts["tried"], counts
