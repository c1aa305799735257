"""Regenerate every figure in ``docs/`` and every number the README quotes from them.

    python docs/make.py                 # every product: runs its commands, copies its figures,
                                        # rewrites its numbers in README.md
    python docs/make.py sweep-gmm-mix   # some products only
    python docs/make.py --list          # the products, their figures and their README keys
    python docs/make.py --check         # recompute; list the README numbers that differ, exit 1
    python docs/make.py --scratch DIR --resume   # after a failure: rerun only what had not
                                                 # finished in DIR

A *product* runs the command(s) a README caption or section names (the command line itself, in
a subprocess, so that what runs is what the README says), into a scratch folder; it names the
figures to copy into ``docs/`` and returns the numbers it measured, formatted as the README shows
them. In README.md a number is a named span, invisible when rendered::

    … 1000 generations; <!--mc:sweep-gmm-mix.units-->91<!--/mc--> work units, …

and a whole fenced block (where an HTML comment would show) sits between two markers on lines of
their own::

    <!--mc-block:sweep-gmm-mix.interrupt-->
    ```
    ...
    ```
    <!--/mc-block-->

Every key is ``<product>.<name>``; a product declares its keys and figures up front (``--list``
and ``tests/test_docs_make.py`` read them without running anything). Timings are the measured
wall time of the command on the machine that runs this script, rounded ("2 min on 2 cores").
The ``benchmarks`` product reads ``benchmarks/results/*.json`` (``--run-benchmarks`` reruns
``benchmarks/run_all.py`` first, about 25 minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "benchmarks" / "results"

# -- README spans ------------------------------------------------------------------------------

KEY = r"[a-z0-9][a-z0-9_.-]*"
#: ``<!--mc:KEY-->value<!--/mc-->``, on one line.
SPAN = re.compile(rf"<!--mc:({KEY})-->([^\n]*?)<!--/mc-->")
#: ``<!--mc-block:KEY-->`` and ``<!--/mc-block-->`` on lines of their own, the block between.
BLOCK = re.compile(rf"^<!--mc-block:({KEY})-->\n(.*?)\n<!--/mc-block-->$", re.S | re.M)
#: Anything that looks like one of our markers (to find stray or broken ones).
MARKER = re.compile(r"<!--\s*/?\s*mc[-:][^>]*-->|<!--\s*/?\s*mc\b[^>]*-->")


class MarkupError(ValueError):
    """README.md's markers are not well formed."""


def spans(text: str) -> dict[str, list[str]]:
    """Every key of ``text`` with the values its spans and blocks hold, in order."""
    found: dict[str, list[str]] = {}
    for match in SPAN.finditer(text):
        found.setdefault(match.group(1), []).append(match.group(2))
    for match in BLOCK.finditer(text):
        found.setdefault(match.group(1), []).append(match.group(2).strip("\n"))
    return found


def markup_problems(text: str) -> list[str]:
    """What is wrong with the markers of ``text`` (empty when they are well formed).

    Every marker must belong to a whole span or block; a span must not sit inside a fenced
    block (it would show there), and neither a span nor a block may hold another marker.
    """
    problems = []
    used: set[int] = set()
    for match in BLOCK.finditer(text):
        if "<!--" in match.group(2):
            problems.append(f"line {_line(text, match.start())}: block {match.group(1)!r} holds "
                            "a marker")
        used.update((match.start(), match.end() - len("<!--/mc-block-->")))
    for match in SPAN.finditer(text):
        if "<!--" in match.group(2):
            problems.append(f"line {_line(text, match.start())}: span {match.group(1)!r} holds "
                            "another marker")
        used.update((match.start(), match.end() - len("<!--/mc-->")))
    for match in MARKER.finditer(text):
        if match.start() not in used:
            problems.append(f"line {_line(text, match.start())}: {match.group(0)!r} is not part "
                            "of a well-formed span or block")
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            fence = None if fence is not None else number
        elif fence is not None and "<!--mc" in line:
            problems.append(f"line {number}: a span inside the fenced block of line {fence} "
                            "would show; put the number in the prose or the block between "
                            "<!--mc-block:KEY--> and <!--/mc-block-->")
    return problems


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def rewrite(text: str, values: dict[str, str]) -> tuple[str, list[tuple[str, str, str]]]:
    """``text`` with the spans and blocks of ``values``' keys set; and the changes made."""
    changes: list[tuple[str, str, str]] = []

    def span(match: re.Match[str]) -> str:
        key, old = match.group(1), match.group(2)
        if key not in values:
            return match.group(0)
        if values[key] != old:
            changes.append((key, old, values[key]))
        return f"<!--mc:{key}-->{values[key]}<!--/mc-->"

    def block(match: re.Match[str]) -> str:
        key, body = match.group(1), match.group(2)
        if key not in values:
            return match.group(0)
        # Keep the blank lines that frame the body (a table needs them to end before the marker).
        old = body.strip("\n")
        lead, trail = body[:len(body) - len(body.lstrip("\n"))], body[len(body.rstrip("\n")):]
        new = values[key].strip("\n")
        if new != old:
            changes.append((key, old, new))
        return f"<!--mc-block:{key}-->\n{lead}{new}{trail}\n<!--/mc-block-->"

    problems = markup_problems(text)
    if problems:
        raise MarkupError("README.md: " + "; ".join(problems))
    return SPAN.sub(span, BLOCK.sub(block, text)), changes


# -- products ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    """Something that regenerates figures and README numbers.

    Attributes
    ----------
    name
        The product's name: the prefix of its keys, and what ``make.py NAME`` runs.
    summary
        One line for ``--list``: what it runs.
    figures
        File names in ``docs/`` that it writes (each PNG there belongs to exactly one product).
    keys
        Its README keys, without the ``name.`` prefix.
    make
        ``make(workspace) -> {key: value}``: runs the commands, registers the figures with
        :meth:`Workspace.figure` and returns every key's value as the README shows it.
    cost
        Rough wall time on two cores, for ``--list``.
    """

    name: str
    summary: str
    figures: tuple[str, ...]
    keys: tuple[str, ...]
    make: Callable[[Workspace], dict[str, str]]
    cost: str

    @property
    def full_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{k}" for k in self.keys)


PRODUCTS: dict[str, Product] = {}


def product(name: str, *, summary: str, figures: Sequence[str] = (), keys: Sequence[str] = (),
            cost: str) -> Callable[[Callable[[Workspace], dict[str, str]]],
                                   Callable[[Workspace], dict[str, str]]]:
    """Register the decorated function as the product ``name``."""
    def register(make: Callable[[Workspace], dict[str, str]]
                 ) -> Callable[[Workspace], dict[str, str]]:
        if name in PRODUCTS:
            raise ValueError(f"product {name!r} registered twice")
        PRODUCTS[name] = Product(name, summary, tuple(figures), tuple(keys), make, cost)
        return make
    return register


@dataclass
class Done:
    """A finished command: what it printed, how long it took, where it wrote.

    ``others`` is the share of the machine's CPU time that other processes used meanwhile (0 to
    1; ``nan`` where ``/proc/stat`` cannot be read), so that a timing says when it was measured
    on a busy machine.
    """

    argv: list[str]
    output: str
    seconds: float
    out: Path | None
    others: float = math.nan


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux), else nan."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return math.nan
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _group_seconds(group: int, seen: dict[int, float]) -> None:
    """Record in ``seen`` the CPU seconds of every process of process group ``group`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the name: state, ppid, pgrp, ..., utime (the 12th), stime (the 13th).
        if int(fields[2]) == group:
            seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick


def _run_watched(argv: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run ``argv`` in its own process group; its exit status, output (stdout then stderr) and
    the CPU seconds its processes were seen to use (sampled twice a second)."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err, text=True,
                                 start_new_session=True)
        seen: dict[int, float] = {}
        try:
            while child.poll() is None:
                if Path("/proc").is_dir():
                    _group_seconds(child.pid, seen)
                time.sleep(0.5)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            child.wait()
            raise
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read() + err.read(), sum(seen.values())


def _children_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Workspace:
    """A product's scratch folder, the commands it ran and the figures it made."""

    folder: Path
    figures: dict[str, Path] = field(default_factory=dict)
    say: Callable[[str], None] = print
    #: Reuse a command finished in an earlier run into the same folder (``--resume``).
    resume: bool = False

    def modelcollapse(self, *argv: str, out: str | None = None) -> Done:
        """Run ``modelcollapse ARGV --out FOLDER/OUT`` from the repository's root."""
        path = None if out is None else self.folder / out
        full = [*argv, *([] if path is None else ["--out", str(path)])]
        return self.command([sys.executable, "-m", "modelcollapse", *full],
                            shown=["modelcollapse", *argv], out=path)

    def command(self, argv: list[str], *, shown: list[str] | None = None,
                env: dict[str, str] | None = None, out: Path | None = None) -> Done:
        """Run ``argv`` from the repository's root; raise with its output if it fails.

        Each finished command leaves a record (``.command-<hash>.json``: its output, wall time
        and the machine's load) beside its output, which ``--resume`` reuses instead of running
        the command again.
        """
        self.say("  $ " + " ".join(shown or argv))
        record = self.folder / f".command-{_digest(argv, env)}.json"
        if self.resume and record.is_file():
            saved = json.loads(record.read_text(encoding="utf-8"))
            self.say(f"    {saved['seconds']:.1f} s (reused from an earlier run)")
            return Done(list(argv), saved["output"], saved["seconds"],
                        None if saved["out"] is None else Path(saved["out"]), saved["others"])
        if out is not None and out.exists():
            shutil.rmtree(out)  # an earlier run's output: the commands want a new folder
        busy, reaped, started = _busy_seconds(), _children_seconds(), time.perf_counter()
        returncode, output, group = _run_watched(argv, {**os.environ, "MPLBACKEND": "Agg",
                                                        **(env or {})})
        seconds = time.perf_counter() - started
        # Our CPU time: the reaped children's, or what the process group was seen to use (worker
        # processes that outlive the command are never reaped by us), whichever is more.
        ours = max(_children_seconds() - reaped, group)
        others = ((_busy_seconds() - busy) - ours) / (seconds * (os.cpu_count() or 1))
        if returncode != 0:
            raise RuntimeError(f"{' '.join(shown or argv)} exited {returncode}:\n"
                               f"{output[-4000:]}")
        out = out if out is not None else (Path(argv[argv.index("--out") + 1])
                                            if "--out" in argv else None)
        self.say(f"    {seconds:.1f} s" + (f" ({100 * others:.0f}% of the machine busy with "
                                               "other work)" if others > 0.05 else ""))
        finished = Done(list(argv), output, seconds, out, max(0.0, min(1.0, others)))
        self.folder.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"argv": argv, "output": output, "seconds": seconds,
                                      "others": finished.others,
                                      "out": None if out is None else str(out)}),
                          encoding="utf-8")
        return finished

    def figure(self, name: str, source: Path) -> None:
        """``source`` becomes ``docs/name``."""
        if not source.is_file():
            raise FileNotFoundError(f"{source} (for docs/{name}) was not written")
        self.figures[name] = source


def _digest(argv: list[str], env: dict[str, str] | None) -> str:
    import hashlib

    text = json.dumps([argv, sorted((env or {}).items())])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- formatting --------------------------------------------------------------------------------


def cores() -> str:
    n = os.cpu_count() or 1
    return f"{n} core" if n == 1 else f"{n} cores"


def duration(seconds: float) -> str:
    """A wall time as the README quotes it, rounded: "7 s", "25 s", "1.5 min", "12 min"."""
    if seconds < 10:
        return f"{max(1, round(seconds))} s"
    if seconds < 60:
        return f"{5 * round(seconds / 5)} s"
    if seconds < 600:
        return f"{round(seconds / 30) / 2:g} min"
    return f"{round(seconds / 60)} min"


#: Above this share of the machine used by other processes, a timing says it was shared.
SHARED = 0.2


def timing(done: Done) -> str:
    """A command's ``duration`` and the machine: "2 min on 2 cores", and "… shared with other
    jobs" when other processes used more than :data:`SHARED` of the CPU meanwhile."""
    shared = " shared with other jobs" if done.others > SHARED else ""
    return f"{duration(done.seconds)} on {cores()}{shared}"


def span_of(values: Iterable[float], show: Callable[[float], str]) -> str:
    """"a–b" (an en dash) for the smallest and largest value, or one value if they agree."""
    values = list(values)
    low, high = show(min(values)), show(max(values))
    return low if low == high else f"{low}–{high}"


def percent(x: float) -> str:
    return f"{100 * x:.0f}"


def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, without an exponent for ordinary sizes."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{decimals}f}"


def grouped(x: float, digits: int = 3) -> str:
    """Rounded to ``digits`` significant figures, thousands apart as the README writes them:
    7947.6 → "7 950"."""
    rounded = round(x, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0.0
    return f"{rounded:,.0f}".replace(",", " ")


def ceil1(x: float) -> str:
    """Rounded up to one decimal: a bound that stays true."""
    return f"{math.ceil(x * 10 - 1e-9) / 10:.1f}"


def megabytes(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f}"


def read_csv(path: Path) -> list[dict[str, Any]]:
    """A CSV as rows of floats where the cell is a number (standard library only)."""
    import csv

    def value(cell: str) -> Any:
        try:
            return float(cell)
        except ValueError:
            return cell

    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def only(rows: list[dict[str, Any]], **where: float) -> dict[str, Any]:
    """The one row whose columns equal ``where``."""
    found = [r for r in rows if all(math.isclose(r[k], v) for k, v in where.items())]
    if len(found) != 1:
        raise LookupError(f"{len(found)} rows with {where}")
    return found[0]


# -- exact theory (no simulation) -------------------------------------------------------------


@product("theory", summary="exact values from modelcollapse.theory and mc.predict (no simulation)",
         keys=("coin-mean", "coin-states", "coin-diffusion", "diffusion-slope",
               "tempered-coin-mean"),
         cost="1 s")
def _theory(ws: Workspace) -> dict[str, str]:
    import modelcollapse as mc

    classic = mc.predict(mc.RunConfig("coin"))
    k = mc.RunConfig("coin").n_samples
    tempered = mc.predict(mc.RunConfig(mc.Coin(temperature=1.4), n_generations=600,
                                       n_replicates=1000))
    return {
        "coin-mean": f"{classic.facts['mean absorption time']:.2f}",
        "coin-states": f"{k + 1}",
        "coin-diffusion":
            f"{classic.facts['mean absorption time, diffusion approximation (not exact)']:.2f}",
        # Kimura: E T ≈ −2k[p ln p + (1 − p) ln(1 − p)], 2 ln 2 · k at p = ½.
        "diffusion-slope": f"{2 * math.log(2):.2f}",
        "tempered-coin-mean": f"{tempered.facts['mean absorption time']:.2f}",
    }


# -- the two classic experiments ---------------------------------------------------------------


@product("gmm-variance", summary="modelcollapse run --seed 2026 (variance.png)",
         figures=("gmm-variance.png",), keys=("shrunk",), cost="20 s")
def _gmm_variance(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    done = ws.modelcollapse("run", "--seed", "2026", out="gmm")
    assert done.out is not None
    ws.figure("gmm-variance.png", done.out / "variance.png")
    final = pd.read_parquet(done.out / "replicates.parquet")
    stds = final[[c for c in final.columns if c.startswith("final_std_")]].to_numpy().ravel()
    truth = 1.0  # the default truth's components: stds (1, 1)
    return {"shrunk": f"{int((stds < truth).sum())} of the {stds.size}"}


@product("coin-paths", summary="modelcollapse run coin --seed 2026 (paths.png)",
         figures=("coin-paths.png",), keys=("absorbed", "mean"), cost="10 s")
def _coin_paths(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    done = ws.modelcollapse("run", "coin", "--seed", "2026", out="coin")
    assert done.out is not None
    ws.figure("coin-paths.png", done.out / "paths.png")
    times = pd.read_parquet(done.out / "replicates.parquet")["absorption_time"]
    n, hit = len(times), int(times.notna().sum())
    return {"absorbed": f"all {n}" if hit == n else f"{hit} of {n}",
            "mean": f"{times.mean():.1f}"}


@product("neural-vae", summary="modelcollapse run vae --seed 2 under replace, 20% and 50% fresh "
         "digits, and best-of toward a digit (samples.png)", figures=("vae-samples.png",),
         keys=("time", "replicates", "entropy-0", "entropy-4", "pixel-var-0", "pixel-var-4",
               "collapse", "collapse-20", "entropy-50", "reward-3-before", "reward-3-after",
               "accuracy", "frechet-real", "train", "heldout"),
         cost="4 min")
def _neural_vae(ws: Workspace) -> dict[str, str]:
    import numpy as np

    import modelcollapse as mc
    from modelcollapse.families.neural import digits

    def mean_se(values: Any) -> str:
        values = np.asarray(values, dtype=float)
        return f"{values.mean():.1f} ± {values.std(ddof=1) / np.sqrt(values.size):.1f}"

    plain = ws.modelcollapse("run", "vae", "--seed", "2", out="replace")
    some = ws.modelcollapse("run", "vae", "--seed", "2", "--policy", "mix", "--real", "0.2",
                            "--no-plots", out="real-20")
    half = ws.modelcollapse("run", "vae", "--seed", "2", "--policy", "mix", "--real", "0.5",
                            "--generations", "8", "--no-plots", out="real-50")
    steer = ws.modelcollapse("run", "vae", "--seed", "2", "--curate", "best-of", "--reward",
                             "class:3", "--generations", "2", "--no-plots", out="class-3")
    assert None not in (plain.out, some.out, half.out, steer.out)
    ws.figure("vae-samples.png", plain.out / "samples.png")
    run, mixed = mc.load(plain.out), mc.load(some.out)
    entropy, pixel_var = run.trajectories("class_entropy"), run.trajectories("pixel_var")
    # Mode collapse: the replicates' collapse times (every one collapsed within the run).
    times = run.replicates["collapse_time"]
    mixed_times = mixed.replicates["collapse_time"]
    if times.isna().any() or mixed_times.isna().any():
        raise LookupError("a vae replicate no longer collapses within the run: reword the README")
    reward = mc.load(steer.out).trajectories("reward")
    ruler, data = digits.ruler(), digits.digits()
    return {
        "time": timing(plain), "replicates": f"{entropy.shape[0]}",
        "entropy-0": f"{entropy[:, 0].mean():.2f}", "entropy-4": f"{entropy[:, 4].mean():.2f}",
        "pixel-var-0": f"{pixel_var[:, 0].mean():.3f}",
        "pixel-var-4": f"{pixel_var[:, 4].mean():.3f}",
        "collapse": mean_se(times), "collapse-20": mean_se(mixed_times),
        "entropy-50": f"{mc.load(half.out).trajectories('class_entropy')[:, -1].mean():.2f}",
        "reward-3-before": _minus(f"{reward[:, 1].mean():.1f}"),
        "reward-3-after": _minus(f"{reward[:, 2].mean():.1f}"),
        "accuracy": f"{ruler.accuracy:.3f}",
        "frechet-real": f"{run.trajectories('frechet')[0, 0]:.2f}",
        "train": f"{data.train.shape[0]}", "heldout": f"{data.heldout.shape[0]}",
    }


# -- the report ------------------------------------------------------------------------------


@product("report", summary="the browser test's screenshot of a GMM run's report; the report sizes "
         "of the classic coin and GMM runs", figures=("report-gmm.png",),
         keys=("coin-mb", "gmm-mb", "plotly-mb"), cost="1 min")
def _report(ws: Workspace) -> dict[str, str]:
    shots = ws.folder / "screenshots"
    ws.command([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                "tests/test_report_browser.py::test_a_gmm_run_report_renders_and_responds"],
               shown=["pytest", "tests/test_report_browser.py::test_a_gmm_run_report_renders"
                      "_and_responds"],
               env={"MODELCOLLAPSE_SCREENSHOT_DIR": str(shots),
                    "MODELCOLLAPSE_REQUIRE_BROWSER": "1"})
    ws.figure("report-gmm.png", shots / "report-gmm.png")
    coin = ws.modelcollapse("run", "coin", "--seed", "2026", "--no-plots", "--report",
                            out="coin")
    gmm = ws.modelcollapse("run", "--seed", "2026", "--no-plots", "--report", out="gmm")
    assert coin.out is not None and gmm.out is not None
    from plotly.offline import get_plotlyjs

    return {"coin-mb": megabytes(coin.out / "report.html"),
            "gmm-mb": megabytes(gmm.out / "report.html"),
            "plotly-mb": f"{len(get_plotlyjs().encode()) / 1e6:.1f}"}


# -- the explorer ----------------------------------------------------------------------------


@product("explorer", summary="the explorer page's browser test: its screenshot and the time from a "
         "control's change to the charts redrawn at the issue's live sizes",
         figures=("explorer.png",), keys=("coin-ms", "gaussian-ms", "mb"), cost="30 s")
def _explorer(ws: Workspace) -> dict[str, str]:
    shots = ws.folder / "screenshots"
    test = "tests/test_explorer.py::test_how_fast_a_change_redraws"
    ws.command([sys.executable, "-m", "pytest", "-q", "-s", "-n", "0", "-p", "no:cacheprovider",
                test], shown=["pytest", "-s", test],
               env={"MODELCOLLAPSE_SCREENSHOT_DIR": str(shots),
                    "MODELCOLLAPSE_REQUIRE_BROWSER": "1"})
    ws.figure("explorer.png", shots / "explorer.png")
    timings = json.loads((shots / "explorer-timings.json").read_text(encoding="utf-8"))
    page = ws.modelcollapse("explore", out="explorer.html")
    assert page.out is not None
    return {"coin-ms": f"{timings['coin 1000 × 200']['median_redraw_ms']:.0f}",
            "gaussian-ms": f"{timings['gaussian 200 × 200, N = 100']['median_redraw_ms']:.0f}",
            "mb": megabytes(page.out)}


# -- sweeps ------------------------------------------------------------------------------------


@product("sweep-gmm-mix", summary="modelcollapse sweep examples/sweeps/gmm-mix.toml (sweep.png)",
         figures=("sweep-gmm-mix.png",),
         keys=("cells", "units", "time", "collapsed-no-fresh", "median-no-fresh",
               "collapsed-1pct", "from-5pct", "interrupt"),
         cost="3 min")
def _sweep_gmm_mix(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    done = ws.modelcollapse("sweep", "examples/sweeps/gmm-mix.toml", out="sweep-gmm-mix")
    assert done.out is not None
    ws.figure("sweep-gmm-mix.png", done.out / "sweep.png")
    manifest = json.loads((done.out / "manifest.json").read_text())
    summary = pd.read_parquet(done.out / "summary.parquet")
    fresh0 = summary[summary.real == 0]
    fresh1 = summary[summary.real == 0.01]
    later = summary[summary.real >= 0.05]
    worst = float(later.collapsed_by_end.max())
    units = int(manifest["units"])
    # The interrupted sweep is an illustration: stopped a little before half-way.
    kept = round(units * 0.44)
    return {
        "cells": f"{len(summary)}",
        "units": f"{units}",
        "time": timing(done),
        "collapsed-no-fresh": span_of(fresh0.collapsed_by_end, percent),
        "median-no-fresh": span_of(fresh0.collapse_time_median, lambda x: f"{x:.0f}"),
        "collapsed-1pct": span_of(fresh1.collapsed_by_end, percent),
        "from-5pct": "none collapse" if worst == 0 else f"at most {percent(worst)}% collapse",
        "interrupt": "\n".join([
            "```",
            "$ modelcollapse sweep examples/sweeps/gmm-mix.toml",
            "^C",
            f"interrupted: {kept} of {units} work units are finished and kept in "
            "runs/sweep-gmm-mix; run the same command again to resume",
            "$ modelcollapse sweep examples/sweeps/gmm-mix.toml",
            f"resuming runs/sweep-gmm-mix: {kept} of {units} units already done",
            "```"]),
    }


@product("sweep-coin-k", summary="modelcollapse sweep examples/sweeps/coin-k.toml (sweep.png)",
         figures=("sweep-coin-k.png",),
         keys=("time", "max-z", "k500", "k500-exact", "k1000-absorbed"), cost="30 s")
def _sweep_coin_k(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    done = ws.modelcollapse("sweep", "examples/sweeps/coin-k.toml", out="sweep-coin-k")
    assert done.out is not None
    ws.figure("sweep-coin-k.png", done.out / "sweep.png")
    s = pd.read_parquet(done.out / "summary.parquet").set_index("samples")
    exact = s.dropna(subset=["exact_absorption_time_mean"])
    z = ((exact.absorption_time_mean - exact.exact_absorption_time_mean)
         / exact.absorption_time_se).abs()
    k500 = s.loc[500]
    return {
        "time": timing(done),
        "max-z": ceil1(float(z.max())),
        "k500": f"{k500.absorption_time_mean:.0f} ± {k500.absorption_time_se:.0f}",
        "k500-exact": f"{k500.exact_absorption_time_mean:.1f}",
        "k1000-absorbed": f"{100 * s.loc[1000].absorbed_by_end:.1f}",
    }


# -- studies -----------------------------------------------------------------------------------


@product("verify", summary="modelcollapse verify --quick; modelcollapse verify",
         keys=("quick-checks", "quick-time", "checks", "time", "critical"), cost="6 min")
def _verify(ws: Workspace) -> dict[str, str]:
    quick = ws.modelcollapse("verify", "--quick", out="verify-quick")
    full = ws.modelcollapse("verify", out="verify")
    assert quick.out is not None and full.out is not None
    q = json.loads((quick.out / "verify.json").read_text())
    f = json.loads((full.out / "verify.json").read_text())
    if not (q["passed"] and f["passed"]):
        raise RuntimeError("modelcollapse verify failed; fix that before regenerating docs")
    return {"quick-checks": f"{q['n_checks']}", "quick-time": timing(quick),
            "checks": f"{f['n_checks']}", "time": timing(full),
            "critical": f"{f['critical_z']:.2f}"}


@product("collapse-speed-coin", summary="modelcollapse collapse-speed coin --seed 2026",
         figures=("collapse-speed-coin.png",),
         keys=("time", "max-z", "diffusion-small-k", "diffusion-k10", "diffusion-k1000"),
         cost="20 s")
def _speed_coin(ws: Workspace) -> dict[str, str]:
    done = ws.modelcollapse("collapse-speed", "coin", "--seed", "2026", out="coin")
    assert done.out is not None
    ws.figure("collapse-speed-coin.png", done.out / "collapse-speed.png")
    rows = read_csv(done.out / "collapse-speed.csv")

    def too_long(k: int) -> float:
        row = only(rows, k=k)
        return row["diffusion_approx"] / row["exact_mean"] - 1

    return {
        "time": timing(done),
        "max-z": ceil1(max(abs(r["z"]) for r in rows)),
        "diffusion-small-k": span_of([too_long(1), too_long(2)], percent),
        "diffusion-k10": percent(too_long(10)),
        "diffusion-k1000": f"{100 * too_long(1000):.1f}",
    }


@product("collapse-speed-gaussian", summary="modelcollapse collapse-speed gaussian --seed 2026",
         figures=("collapse-speed-gaussian.png",),
         keys=("time", "median", "exact-median", "median-var-1pct"), cost="15 s")
def _speed_gaussian(ws: Workspace) -> dict[str, str]:
    done = ws.modelcollapse("collapse-speed", "gaussian", "--seed", "2026", out="gaussian")
    assert done.out is not None
    ws.figure("collapse-speed-gaussian.png", done.out / "collapse-speed.png")
    rows = read_csv(done.out / "collapse-speed.csv")
    curves = read_csv(done.out / "curves.csv")
    none = only(rows, real=0.0)
    last = max(c["t"] for c in curves)
    return {
        "time": timing(done),
        "median": f"{none['sim_median']:.0f}",
        "exact-median": f"{none['exact_median']:.0f}",
        "median-var-1pct": f"{only(curves, real=0.01, t=last)['median']:.2f}",
    }


@product("collapse-speed-gmm", summary="modelcollapse collapse-speed gmm --seed 2026",
         figures=("collapse-speed-gmm.png",), keys=("time", "var-1pct", "collapsed-1pct"),
         cost="2 min")
def _speed_gmm(ws: Workspace) -> dict[str, str]:
    done = ws.modelcollapse("collapse-speed", "gmm", "--seed", "2026", out="gmm")
    assert done.out is not None
    ws.figure("collapse-speed-gmm.png", done.out / "collapse-speed.png")
    rows = read_csv(done.out / "collapse-speed.csv")
    one = only(rows, real=0.01)
    # The exact stationary E var / var₀ (the figure's "E var∞"), and the replicates that still
    # fell below half the truth's variance within the run.
    return {"time": timing(done), "var-1pct": f"{one['stationary_var']:.2f}",
            "collapsed-1pct": percent(one["collapsed_fraction"])}


@product("collapse-speed-ngram",
         summary="modelcollapse collapse-speed ngram --seed 2026 (and --smoothing mle)",
         figures=("collapse-speed-ngram.png",),
         keys=("time", "truth-tail", "table", "kn-tail-30", "p95-t5", "p80-removed",
               "half-life", "half-life-real", "floor", "types-real", "types-none",
               "mle-tail-30", "mle-types-30", "mle-t5", "mle-floor"),
         cost="5 min")
def _speed_ngram(ws: Workspace) -> dict[str, str]:
    kn = ws.modelcollapse("collapse-speed", "ngram", "--seed", "2026", out="kn")
    mle = ws.modelcollapse("collapse-speed", "ngram", "--seed", "2026", "--smoothing", "mle",
                           out="mle")
    assert kn.out is not None and mle.out is not None
    ws.figure("collapse-speed-ngram.png", kn.out / "collapse-speed.png")
    # The study's table names the last generation G; the README quotes it as t = 30.
    rows = [_at_last_generation(r) for r in read_csv(kn.out / "collapse-speed.csv")]
    mle_rows = [_at_last_generation(r) for r in read_csv(mle.out / "collapse-speed.csv")]
    found = re.search(r"truth: tail share ([0-9.e-]+)", kn.output)
    if found is None:
        raise LookupError("collapse-speed ngram no longer prints the truth's tail share")
    truncated = [r for r in rows if r["top_p"] < 1]
    with_real = [r for r in truncated if r["real"] > 0]
    without = [r for r in truncated if r["real"] == 0]

    def tail(x: float) -> str:
        return f"{x:.3f}" if x < 0.01 else f"{x:.2f}"

    def t(x: float) -> str:
        return "> 30" if not math.isfinite(x) else f"{x:.0f}"

    return {
        "time": timing(kn),
        "truth-tail": f"{100 * float(found.group(1)):.2f}",
        "table": _ngram_table(rows),
        "kn-tail-30": f"{only(rows, top_p=1, real=0)['tail_G']:.1f}",
        "p95-t5": percent(only(rows, top_p=0.95, real=0)["tail_5"]),
        "p80-removed": percent(1 - only(rows, top_p=0.8, real=0)["tail_2"]),
        "half-life": span_of([r["half_life_median"] for r in without], t),
        "half-life-real": span_of([r["half_life_median"] for r in with_real], t),
        "floor": span_of([r["tail_G"] for r in with_real], lambda x: f"{x:.2f}"),
        "types-real": span_of([r["support_G"] for r in with_real], lambda x: f"{x:.0f}"),
        "types-none": span_of([r["support_G"] for r in without], lambda x: f"{x:.0f}"),
        "mle-tail-30": f"{only(mle_rows, top_p=1, real=0)['tail_G']:.2f}",
        "mle-types-30": f"{only(mle_rows, top_p=1, real=0)['support_G']:.1f}",
        "mle-t5": ", ".join(tail(r["tail_5"]) for r in sorted(
            (r for r in mle_rows if r["real"] == 0), key=lambda r: -r["top_p"])),
        "mle-floor": span_of([r["tail_G"] for r in mle_rows if r["top_p"] < 1 and r["real"] > 0],
                             lambda x: f"{x:.2f}"),
    }


def _at_last_generation(row: dict[str, Any], last: int = 30) -> dict[str, Any]:
    """``row`` with its ``*_G`` and ``*_G_se`` columns (the study's last generation) also under
    ``*_30`` and ``*_30_se``."""
    aliases = {re.sub(r"_G(_se)?$", rf"_{last}\1", k): v for k, v in row.items()
               if re.search(r"_G(_se)?$", k)}
    return {**row, **aliases}


def _ngram_table(rows: list[dict[str, Any]]) -> str:
    """The README's table of ``collapse-speed ngram`` (its collapse-speed.csv, one row a pair)."""
    def share(row: dict[str, Any], t: int) -> str:
        mean, se = row[f"tail_{t}"], row[f"tail_{t}_se"]
        return f"{mean:.3f}" if round(se, 3) == 0 and round(mean, 3) == 0 else \
            f"{mean:.3f} ± {se:.3f}"

    def when(x: float) -> str:
        return "> 30" if not math.isfinite(x) else f"{x:.0f}"

    lines = ["| top-p | real | tail share / truth's, t = 2 | t = 5 | t = 30 | types left, t = 30 "
             "| half-life T½ (median [IQR]) |",
             "|------:|-----:|----------:|----------:|----------:|---------:|------:|"]
    for row in sorted(rows, key=lambda r: (r["real"], -r["top_p"])):
        median = row["half_life_median"]
        half = "> 30" if not math.isfinite(median) else (
            f"{when(median)} [{when(row['half_life_q25'])}, {when(row['half_life_q75'])}]")
        top_p, real = f"{row['top_p']:g}", f"{row['real']:g}"
        lines.append(f"| {top_p:<4} | {real:<3} | {share(row, 2)} | {share(row, 5)} "
                     f"| {share(row, 30)} "
                     f"| {row['support_G']:.1f} | {half} |")
    return "\n".join(lines)


@product("collapse-speed-curation", summary="modelcollapse collapse-speed curation --seed 2026",
         figures=("collapse-speed-curation.png",),
         keys=("time", "table", "coin-reward", "coin-half", "cat-gain", "cat-reward-max",
               "gmm-gain", "ngram-gain", "ngram-drop", "cat-rare-gone", "gmm-tail-max",
               "ngram-tail-k16", "ngram-tail-none", "gmm-var-bestof", "gmm-var-verifier",
               "coin-top-reward", "coin-top-half", "coin-real-reward", "coin-real-div",
               "cat-real-entropy", "cat-real-entropy-none", "cat-real-rare",
               "cat-real-rare-none", "gmm-real-tail", "ngram-real-tail", "floor-k"),
         cost="1 min")
def _speed_curation(ws: Workspace) -> dict[str, str]:
    done = ws.modelcollapse("collapse-speed", "curation", "--seed", "2026", out="curation")
    assert done.out is not None
    ws.figure("collapse-speed-curation.png", done.out / "collapse-speed.png")
    rows = read_csv(done.out / "collapse-speed.csv")
    curves = read_csv(done.out / "curves.csv")

    def cell(family: str, curation: str, setting: float, real: float) -> dict[str, Any]:
        return only([r for r in rows if r["family"] == family and r["curation"] == curation],
                    setting=setting, real=real)

    def curated(family: str, real: float, *kinds: str) -> list[dict[str, Any]]:
        kinds = kinds or ("best-of", "verifier", "top")
        return [r for r in rows if r["family"] == family and r["real"] == real
                and r["curation"] in kinds]

    def fixed(digits: int) -> Callable[[float], str]:
        return lambda x: _minus(f"{x:.{digits}f}")

    def pm(row: dict[str, Any], measure: str, digits: int = 2) -> str:
        return _minus(f"{row[f'{measure}_G']:.{digits}f} ± {row[f'{measure}_G_se']:.{digits}f}")

    def gone(family: str, measure: str) -> int:
        """The last generation at which a curated cell without real data still had some of
        ``measure`` (its mean first exactly 0), over the curated cells."""
        first = []
        for r in curated(family, 0.0):
            zero = [c["t"] for c in curves if c["family"] == family and c["real"] == 0
                    and c["curation"] == r["curation"] and c["setting"] == r["setting"]
                    and c[measure] == 0]
            if not zero:
                raise LookupError(f"{family} {r['label']}: {measure} never reaches 0")
            first.append(min(zero))
        return int(max(first))

    coin_k = [cell("coin", "best-of", k, 0.0) for k in (2.0, 4.0, 16.0)]
    uncurated_ngram = cell("ngram", "none", 1.0, 0.0)
    floors = [[cell(f, "best-of", k, 0.1)[f"{m}_G"] for k in (2.0, 4.0, 16.0)]
              for f, m in (("coin", "diversity"), ("categorical", "diversity"),
                           ("gmm", "tail"), ("ngram", "tail"))]
    if any(not (a > b > c) for a, b, c in floors):
        raise LookupError("best-of's floor with real data no longer falls with K everywhere")
    return {
        "time": timing(done),
        "table": _curation_table(rows),
        "coin-reward": span_of([r["reward_G"] for r in coin_k], fixed(3)),
        "coin-half": "{}, {} and {}".format(*(f"{r['diversity_half_t']:.0f}" for r in coin_k)),
        "cat-gain": span_of([r["reward_gain_G"] for r in curated("categorical", 0.0)],
                            fixed(2)),
        "cat-reward-max": _minus(f"{cell('categorical', 'best-of', 16.0, 0.0)['reward_G']:.3f}"),
        "gmm-gain": span_of([r["reward_gain_G"] for r in curated("gmm", 0.0)], fixed(2)),
        "ngram-gain": span_of([r["reward_gain_G"] for r in curated("ngram", 0.0)], fixed(2)),
        "ngram-drop": _minus(f"{-uncurated_ngram['reward_gain_G']:.2f} ± "
                             f"{uncurated_ngram['reward_G_se']:.2f}"),
        "cat-rare-gone": f"{gone('categorical', 'tail')}",
        "gmm-tail-max": f"{max(r['tail_G'] for r in curated('gmm', 0.0)):.0e}".replace(
            "e-", "e−"),
        "ngram-tail-k16": pm(cell("ngram", "best-of", 16.0, 0.0), "tail"),
        "ngram-tail-none": pm(uncurated_ngram, "tail"),
        "gmm-var-bestof": span_of([r["diversity_G"] for r in curated("gmm", 0.0, "best-of")],
                                  fixed(2)),
        "gmm-var-verifier": span_of([r["diversity_G"] for r in
                                     curated("gmm", 0.0, "verifier")], fixed(2)),
        "coin-top-reward": pm(cell("coin", "top", 0.5, 0.0), "reward", 3),
        "coin-top-half": f"{cell('coin', 'top', 0.5, 0.0)['diversity_half_t']:.0f}",
        "coin-real-reward": span_of([r["reward_G"] for r in curated("coin", 0.1, "best-of")],
                                    fixed(2)),
        "coin-real-div": span_of([r["diversity_G"] for r in curated("coin", 0.1, "best-of")],
                                 fixed(2)),
        "cat-real-entropy": span_of([r["diversity_G"] for r in curated("categorical", 0.1)],
                                    fixed(2)),
        "cat-real-entropy-none": pm(cell("categorical", "none", 1.0, 0.1), "diversity", 3),
        "cat-real-rare": span_of([r["tail_G"] for r in curated("categorical", 0.1)], fixed(2)),
        "cat-real-rare-none": pm(cell("categorical", "none", 1.0, 0.1), "tail", 3),
        "gmm-real-tail": span_of([r["tail_G"] for r in curated("gmm", 0.1, "best-of")],
                                 fixed(3)),
        "ngram-real-tail": span_of([r["tail_G"] for r in curated("ngram", 0.1, "best-of")],
                                   fixed(2)),
        "floor-k": "K = 2, 4, 16",
    }


def _minus(text: str) -> str:
    """A number as the README prints it: a true minus sign."""
    return text.replace("-", "−")


def _curation_table(rows: list[dict[str, Any]]) -> str:
    """The README's table of ``collapse-speed curation``: one row per (family, curation), the
    last generation's reward, diversity and tail without and with real data."""
    names = {"coin": "coin", "categorical": "categorical", "gmm": "mixture", "ngram": "n-gram"}

    def value(row: dict[str, Any], measure: str) -> str:
        mean, se = row[f"{measure}_G"], row[f"{measure}_G_se"]
        if se == 0:  # every replicate agrees: an absorbed coin, a single surviving token
            return _minus(f"{mean:.3f}")
        if 0 < abs(mean) < 5e-4:
            return _minus(f"{mean:.1e} ± {se:.1e}")
        return _minus(f"{mean:.3f} ± {se:.3f}")

    lines = ["| family | curation | reward, no real data | diversity | tail | reward, 10% real "
             "| diversity | tail |",
             "|:--|:--|--:|--:|--:|--:|--:|--:|"]
    seen: set[str] = set()
    for row in rows:
        if row["real"] != 0:
            continue
        fresh = [r for r in rows if r["family"] == row["family"]
                 and r["curation"] == row["curation"] and r["setting"] == row["setting"]
                 and r["real"] > 0]
        if len(fresh) != 1:
            raise LookupError(f"{row['family']} {row['label']}: {len(fresh)} rows with real data")
        family = "" if row["family"] in seen else names[row["family"]]
        seen.add(row["family"])
        label = "none (K = 1)" if row["curation"] == "none" else row["label"]
        lines.append(f"| {family} | {label} | "
                     + " | ".join(value(r, m) for r in (row, fresh[0])
                                  for m in ("reward", "diversity", "tail")) + " |")
    return "\n".join(lines)


# -- the loops of the literature ---------------------------------------------------------------


def summary_row(output: str, metric: str) -> dict[str, str]:
    """A metric's row of a run's printed summary: 5%, median, 95%, mean, exact mean, truth."""
    for line in output.splitlines():
        words = line.split()
        if words[:1] == [metric] and len(words) == 7:
            return dict(zip(("q05", "median", "q95", "mean", "exact", "truth"), words[1:],
                            strict=True))
    raise LookupError(f"no row {metric!r} in the run's summary")


def theory_fact(output: str, name: str) -> str:
    """A value of the summary's ``theory:`` line, as printed."""
    found = re.search(rf"(?:theory: |; ){re.escape(name)} ([^;\s]+)", output)
    if found is None:
        raise LookupError(f"no {name!r} on the run's theory line")
    return found.group(1)


def mean_se(values: Any) -> str:
    """Mean ± SE of the non-missing values, three significant figures each."""
    values = values.dropna()
    return f"{sig(values.mean())} ± {sig(values.std(ddof=1) / math.sqrt(len(values)))}"


@product("literature", summary="the README's commands for sampling bias, augment and weighted "
         "fits (the first, second, fourth and fifth)",
         keys=("heat-fixed", "heat-time", "tempered", "scaled-var", "scaled-exact",
               "weighted-var", "weighted-weight", "weighted-w2", "weighted-w2-exact"),
         cost="30 s")
def _literature(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    heat = ws.modelcollapse("run", "categorical", "--vocab", "20", "--samples", "1000",
                            "--temperature", "0.7", "--seed", "1", "--no-plots", out="heat")
    coin = ws.modelcollapse("run", "coin", "--temperature", "1.4", "--generations", "600",
                            "--replicates", "1000", "--seed", "1", "--no-plots", out="coin")
    scaled = ws.modelcollapse("run", "gaussian", "--sampling-scale", "0.9", "--policy", "augment",
                              "--synthetic", "2", "--replicates", "1000", "--seed", "1",
                              "--no-plots", out="scaled")
    weighted = ws.modelcollapse("run", "gaussian", "--fit", "mean", "--policy", "mix", "--real",
                                "0.5", "--real-weight", "0.618", "--replicates", "1000",
                                "--seed", "1", "--no-plots", out="weighted")
    assert heat.out is not None and coin.out is not None
    fixed = pd.read_parquet(heat.out / "replicates.parquet")["fixation_time"]
    absorbed = pd.read_parquet(coin.out / "replicates.parquet")["absorption_time"]
    n, hit = len(fixed), int(fixed.notna().sum())
    var, w2 = summary_row(scaled.output, "var"), summary_row(weighted.output, "w2")
    return {
        "heat-fixed": f"all {n}" if hit == n else f"{hit} of {n}",
        "heat-time": sig(fixed.mean()),
        "tempered": mean_se(absorbed),
        "scaled-var": var["mean"], "scaled-exact": var["exact"],
        "weighted-var": theory_fact(weighted.output, "stationary Var mean"),
        "weighted-weight": theory_fact(weighted.output,
                                       "optimal real weight (least stationary Var mean)"),
        "weighted-w2": w2["mean"], "weighted-w2-exact": w2["exact"],
    }


# -- the toy models of the literature (kde, regression, mvgaussian, gmm in 2-D) ----------------


@product("toy-models", summary="the README's commands for kde, regression, mvgaussian and the "
         "2-D gmm (gmm-blobs-scatter.png, kde-scatter.png)",
         figures=("gmm-blobs-scatter.png", "kde-scatter.png"),
         keys=("kde-var", "kde-var-exact", "kde-factor", "kde2-spread", "kde2-spread-exact",
               "reg-replace", "reg-replace-exact", "reg-slope", "reg-accumulate",
               "reg-accumulate-exact", "reg-limit", "mv-trace", "mv-trace-exact", "mv-logdet",
               "mv-logdet-exact", "mv-step", "mv-min-eig", "mv-collapsed", "blobs-var",
               "blobs-var-exact", "blobs-collapsed"),
         cost="30 s")
def _toy_models(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    kde = ws.modelcollapse("run", "kde", "--bandwidth", "scott", "--generations", "30",
                           "--seed", "2026", "--no-plots", out="kde")
    kde2 = ws.modelcollapse("run", "kde", "--dim", "2", "--bandwidth", "0.3", "--generations",
                            "50", "--seed", "2026", out="kde2")
    replace = ws.modelcollapse("run", "regression", "--samples", "100", "--generations", "50",
                               "--replicates", "1000", "--seed", "2026", "--no-plots",
                               out="regression")
    accumulate = ws.modelcollapse("run", "regression", "--samples", "100", "--generations",
                                  "50", "--replicates", "1000", "--inputs", "fixed", "--policy",
                                  "accumulate", "--seed", "2026", "--no-plots",
                                  out="regression-accumulate")
    mv = ws.modelcollapse("run", "mvgaussian", "--dim", "10", "--samples", "20", "--generations",
                          "20", "--estimator", "unbiased", "--replicates", "1000", "--seed",
                          "2026", "--no-plots", out="mvgaussian")
    blobs = ws.modelcollapse("run", "gmm", "--dim", "2", "--samples", "1000", "--generations",
                             "200", "--replicates", "20", "--seed", "2026", out="blobs")
    assert kde2.out is not None and blobs.out is not None and mv.out is not None
    ws.figure("gmm-blobs-scatter.png", blobs.out / "scatter.png")
    ws.figure("kde-scatter.png", kde2.out / "scatter.png")
    var, spread = summary_row(kde.output, "var"), summary_row(kde2.output, "spread")
    rep, acc = summary_row(replace.output, "test_error"), summary_row(accumulate.output,
                                                                      "test_error")
    trace, logdet = summary_row(mv.output, "trace"), summary_row(mv.output, "logdet")
    blob = summary_row(blobs.output, "var")
    collapsed = pd.read_parquet(mv.out / "replicates.parquet")["collapse_time"].notna()
    blob_collapsed = pd.read_parquet(blobs.out / "replicates.parquet")["collapse_time"].notna()
    return {
        "kde-var": var["mean"], "kde-var-exact": var["exact"],
        "kde-factor": theory_fact(kde.output, "growth factor of E var per generation"),
        "kde2-spread": spread["mean"], "kde2-spread-exact": spread["exact"],
        "reg-replace": rep["mean"], "reg-replace-exact": rep["exact"],
        "reg-slope": theory_fact(replace.output, "param error growth per generation"),
        "reg-accumulate": acc["mean"], "reg-accumulate-exact": acc["exact"],
        "reg-limit": theory_fact(accumulate.output, "limit param error c(1 + λ²(π²/6 − 1))"),
        "mv-trace": trace["mean"], "mv-trace-exact": trace["exact"],
        "mv-logdet": _minus(logdet["mean"]), "mv-logdet-exact": _minus(logdet["exact"]),
        "mv-step": _minus(theory_fact(mv.output, "E logdet per generation")),
        "mv-min-eig": summary_row(mv.output, "min_eig")["median"],
        "mv-collapsed": f"{int(collapsed.sum())} of {collapsed.size}",
        "blobs-var": blob["mean"], "blobs-var-exact": blob["exact"],
        "blobs-collapsed": f"{int(blob_collapsed.sum())} of {blob_collapsed.size}",
    }


# -- the neural families -----------------------------------------------------------------------

#: The comparison sweep, and how its figure and table name the families and policies.
NVC_SWEEP = "examples/sweeps/ngram-vs-charlm.toml"
NVC_FAMILIES = {"ngram": "n-gram", "charlm": "transformer"}
NVC_COLORS = {"ngram": "#1f5a96", "charlm": "#c2410c"}
#: z beyond which the answer calls two tail shares different (α = 10⁻³, two-sided).
NVC_Z = 3.29
#: The keys of the neural benchmark (:func:`neural_bench_values`).
NEURAL_BENCH_KEYS = ("date", "machine", "torch", "threads", "table", "commands", "vae-ratio",
                     "charlm-ratio")


def nvc_policy(real: float) -> str:
    """A cell's policy in words (the sweep's ``mix`` with real 0 is ``replace``)."""
    return "replace" if real == 0 else f"mix, {100 * real:g}% real"


def nvc_curves(metrics: Any) -> Any:
    """Mean ± SE over replicates of every (family, real, metric, generation) of the sweep's
    metrics table, with ``tail_ratio``: each replicate's tail share over its generation 0's
    (the truth's, the same for every replicate and both families)."""
    import pandas as pd

    frame = metrics.assign(family=metrics["family"].astype(str),
                           metric=metrics["metric"].astype(str))
    tail = frame[frame.metric == "tail_share"]
    truth = tail[tail.generation == 0].set_index(["family", "real", "replicate"])["value"]
    ratio = tail.join(truth.rename("truth"), on=["family", "real", "replicate"])
    ratio = ratio.assign(metric="tail_ratio", value=ratio["value"] / ratio["truth"])
    frame = pd.concat([frame, ratio.drop(columns="truth")], ignore_index=True)
    grouped = frame.groupby(["family", "real", "metric", "generation"], observed=True)["value"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"] / out["count"].pow(0.5)
    return out.drop(columns="std")


def nvc_at(curves: Any, family: str, real: float, metric: str, t: int) -> tuple[float, float]:
    """Mean and SE of ``metric`` at generation ``t`` of one cell."""
    row = curves[(curves.family == family) & (curves.real == real) & (curves.metric == metric)
                 & (curves.generation == t)]
    if len(row) != 1:
        raise LookupError(f"{len(row)} rows of {metric} at t = {t} for {family}, real {real}")
    return float(row["mean"].iloc[0]), float(row["se"].iloc[0])


def nvc_figure(curves: Any, path: Path, *, subtitle: str) -> Path:
    """Tail share / truth's, types and held-out perplexity against generation: mean ± SE
    bands, one colour per family, solid without real text and dashed with it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from modelcollapse.plots.canvas import figure_legend, new_figure, save_figure
    from modelcollapse.views.style import STYLE

    # (metric, axis label, first generation drawn: the truth has no network's perplexity)
    panels = (("tail_ratio", "tail share / truth's", 0),
              ("support", "character types in text t", 0),
              ("perplexity", "held-out perplexity of model t", 1))
    fig, axes = new_figure("Does a transformer lose its tail like an n-gram model?", subtitle,
                           panel_size=(4.2, 3.2), ncols=len(panels))
    cells = curves[["family", "real"]].drop_duplicates().sort_values(["real", "family"])
    for ax, (metric, label, first) in zip(axes, panels, strict=True):
        for family, real in cells.itertuples(index=False):
            part = curves[(curves.family == family) & (curves.real == real)
                          & (curves.metric == metric) & (curves.generation >= first)]
            part = part.sort_values("generation")
            t, mean, se = (part[c].to_numpy(dtype=float) for c in ("generation", "mean", "se"))
            color = NVC_COLORS[family]
            ax.fill_between(t, mean - se, mean + se, color=color, alpha=0.22, lw=0)
            ax.plot(t, mean, color=color, lw=1.6, ls="-" if real == 0 else (0, (5, 2)))
        if metric == "tail_ratio":
            ax.axhline(1.0, color=STYLE.truth, lw=0.9, ls=":")
        ax.set_xlabel("generation t", fontsize=STYLE.label_size)
        ax.set_ylabel(label, fontsize=STYLE.label_size)
    handles: list[Any] = [Patch(color=NVC_COLORS[f], label=NVC_FAMILIES[f] + f" ({f})")
                          for f in NVC_FAMILIES]
    handles += [Line2D([], [], color="#555555", lw=1.6, ls=style, label=nvc_policy(real))
                for real, style in sorted({(float(r), "-" if r == 0 else (0, (5, 2)))
                                           for r in cells.real})]
    handles.append(Patch(color="#777777", alpha=0.3, label="mean ± SE over replicates"))
    figure_legend(fig, handles)
    return save_figure(fig, path)


def nvc_table(curves: Any, generations: Sequence[int], last: int) -> str:
    """The README's table: tail share / truth's at a few generations, types at the last,
    held-out perplexity at t = 1 and the last, mean ± SE per family and policy."""
    def pm(mean: float, se: float, digits: int = 2) -> str:
        return f"{mean:.{digits}f} ± {se:.{digits}f}"

    heads = " | ".join(f"t = {t}" for t in generations)
    lines = [f"| model | policy | tail share / truth's, {heads} | types, t = {last} "
             f"| perplexity, t = 1 | t = {last} |",
             "|:--|:--|" + "--:|" * (len(generations) + 3)]
    cells = sorted(curves[["family", "real"]].drop_duplicates().itertuples(index=False),
                   key=lambda cell: (cell[1], list(NVC_FAMILIES).index(cell[0])))
    for family, real in cells:
        tails = " | ".join(pm(*nvc_at(curves, family, real, "tail_ratio", t))
                           for t in generations)
        types = pm(*nvc_at(curves, family, real, "support", last), 1)
        first = pm(*nvc_at(curves, family, real, "perplexity", 1))
        final = pm(*nvc_at(curves, family, real, "perplexity", last))
        lines.append(f"| {NVC_FAMILIES[family]} (`{family}`) | {nvc_policy(real)} | {tails} "
                     f"| {types} | {first} | {final} |")
    return "\n".join(lines)


def nvc_answer(curves: Any, last: int) -> str:
    """One sentence: does either family lose its tail under ``replace`` by generation ``last``,
    and which faster (differences called at |z| ≥ :data:`NVC_Z`, α = 10⁻³)."""
    ngram, charlm = (nvc_at(curves, f, 0.0, "tail_ratio", last) for f in ("ngram", "charlm"))
    types = {f: nvc_at(curves, f, 0.0, "support", last)[0] for f in ("ngram", "charlm")}
    vocab = nvc_at(curves, "ngram", 0.0, "support", 0)[0]
    z = (charlm[0] - ngram[0]) / math.hypot(ngram[1], charlm[1])
    lost = {f: m + NVC_Z * se < 1 for f, (m, se) in (("ngram", ngram), ("charlm", charlm))}
    shares = (f"at generation {last} the tail share is "
              f"{charlm[0]:.2f} ± {charlm[1]:.2f} of the truth's for the transformer and "
              f"{ngram[0]:.2f} ± {ngram[1]:.2f} for the n-gram model (z = {_minus(f'{z:.1f}')}")
    left = (f"with {types['charlm']:.1f} and {types['ngram']:.1f} of the {vocab:.0f} character "
            "types left")
    if not any(lost.values()):
        grows = ""
        if abs(z) >= NVC_Z:
            higher, (m, se) = ("transformer", charlm) if z > 0 else ("n-gram model", ngram)
            if m - NVC_Z * se > 1:
                grows = f"; the {higher}'s grows instead"
        return f"neither loses it under plain sampling{grows}: {shares}), {left}"
    if abs(z) < NVC_Z:
        return f"both lose it, alike within noise: {shares}), {left}"
    faster = "transformer" if z < 0 else "n-gram model"
    return f"the {faster} loses it faster: {shares}), {left}"


@product("ngram-vs-charlm", summary=f"modelcollapse sweep {NVC_SWEEP} --no-plots (the figure is "
         "drawn here from its metrics)", figures=("ngram-vs-charlm.png",),
         keys=("time", "cells", "replicates", "truth-tail", "table", "answer"), cost="5 min")
def _ngram_vs_charlm(ws: Workspace) -> dict[str, str]:
    import pandas as pd

    done = ws.modelcollapse("sweep", NVC_SWEEP, "--no-plots", out="ngram-vs-charlm")
    assert done.out is not None
    manifest = json.loads((done.out / "manifest.json").read_text(encoding="utf-8"))
    experiment = manifest["spec"]["experiment"]
    last = int(experiment["generations"])
    curves = nvc_curves(pd.read_parquet(done.out / "metrics"))
    counts = curves[curves.metric == "tail_ratio"]["count"]
    if counts.nunique() != 1:
        raise LookupError("the sweep's cells have different numbers of replicates")
    truth, _ = nvc_at(curves, "ngram", 0.0, "tail_share", 0)
    for family in NVC_FAMILIES:  # both measure the same truth: the corpus's training text
        if not math.isclose(nvc_at(curves, family, 0.0, "tail_share", 0)[0], truth):
            raise LookupError(f"{family}'s truth has another tail share than ngram's")
    models = {c["config"]["family"]["name"]: c["config"]["family"] for c in manifest["cells"]}
    ngram, charlm = models["ngram"], models["charlm"]
    decoding = ("plain sampling" if (charlm["temperature"], charlm["top_k"], charlm["top_p"])
                == (1.0, 0, 1.0) else "decoded as set in the sweep")
    subtitle = (f"{NVC_SWEEP}: the demo corpus (characters, --max-vocab "
                f"{experiment['max-vocab']}), N = {int(experiment['samples']):,} tokens per "
                f"generation in sequences of L = {experiment['length']}, {decoding}, {last} "
                f"generations, {int(counts.iloc[0])} replicates per line, seed "
                f"{manifest['seed']}\nngram: order {ngram['order']}, {ngram['smoothing']} "
                f"smoothing · charlm: {charlm['layers']} layers × {charlm['heads']} heads, "
                f"width {charlm['embedding']}, {charlm['epochs']} epochs of Adam per generation "
                f"from {'the previous network' if charlm['warm_start'] else 'fresh weights'}")
    figure = nvc_figure(curves, ws.folder / "ngram-vs-charlm.png", subtitle=subtitle)
    ws.figure("ngram-vs-charlm.png", figure)
    return {
        "time": timing(done),
        "cells": f"{curves[['family', 'real']].drop_duplicates().shape[0]}",
        "replicates": f"{int(counts.iloc[0])}",
        "truth-tail": f"{100 * truth:.2f}",
        "table": nvc_table(curves, (2, 5, last), last),
        "answer": nvc_answer(curves, last),
    }


@product("benchmarks-neural", summary="python benchmarks/bench_neural.py (stacked replicate "
         "blocks against the per-replicate PyTorch loop; benchmarks/results/neural.json)",
         keys=NEURAL_BENCH_KEYS, cost="4 min")
def _benchmarks_neural(ws: Workspace) -> dict[str, str]:
    ws.command([sys.executable, str(ROOT / "benchmarks" / "bench_neural.py")],
               shown=["python", "benchmarks/bench_neural.py"])
    return neural_bench_values(_bench("neural"))


def neural_bench_values(bench: dict[str, Any]) -> dict[str, str]:
    """The README's values from ``benchmarks/results/neural.json`` (nothing run: a test can
    compare the README with the stored results)."""
    machine = bench["machine"]

    def rate(x: float) -> str:
        return grouped(x) if x >= 1000 else sig(x)

    def ratio(x: float) -> str:
        return "1" if x == 1 else f"**{_ratio(x)}**" if x >= 1.5 else _ratio(x)

    lines = ["| family | one generation's training | replicates | rate | ratio |",
             "|:--|:--|--:|--:|--:|"]
    for row in bench["rows"]:
        lines.append(f"| `{row['family']}` | {row['what']} | {row['replicates']} | "
                     f"{rate(row['items/s'])} {row['unit']}/s | {ratio(row['ratio'])} |")
    commands = ["| command | wall time | per generation | training rate (a lower bound) "
                "| ratio |", "|:--|--:|--:|--:|--:|"]
    for row in bench["commands"]:
        commands.append(f"| `{row['command']}` | {_seconds(row['seconds'])} | "
                        f"{_seconds(row['per generation (s)'])} | {rate(row['items/s'])} "
                        f"{row['unit']}/s | {_ratio(row['ratio'])} |")

    def best(family: str) -> str:
        return _ratio(max(r["ratio"] for r in bench["rows"] if r["family"] == family))

    return {"date": machine["date"][:10],
            "machine": f"{machine['cores']}-core {_cpu_words(machine)}",
            "torch": bench["torch"], "threads": f"{bench['user_threads']}",
            "table": "\n".join(lines), "commands": "\n".join(commands),
            "vae-ratio": best("vae"), "charlm-ratio": best("charlm")}


# -- the test suite's own counts (read from its files, nothing run) -----------------------------


def _assigned(path: Path, name: str) -> Any:
    """The value assigned to ``name`` at the top of a Python file (a literal), read with ast."""
    import ast

    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            if isinstance(node.value, ast.List):
                return node.value.elts
            return ast.literal_eval(node.value)
    raise LookupError(f"{path}: no {name} = ...")


@product("suite", summary="counts of the test suite's checks and planted bugs (from tests/)",
         keys=("statistical-checks", "loop-checks", "theory-bugs"), cost="1 s")
def _suite(ws: Workspace) -> dict[str, str]:
    tests = ROOT / "tests"
    return {
        "statistical-checks": f"{_assigned(tests / 'harness.py', 'N_SUBCHECKS')}",
        "loop-checks": f"{_assigned(tests / 'test_loop_settings.py', 'N_SUBCHECKS')}",
        "theory-bugs": f"{len(_assigned(tests / 'planted_theory_bugs.py', 'BUGS'))}",
    }


# -- benchmarks --------------------------------------------------------------------------------


def _bench(name: str) -> dict[str, Any]:
    path = BENCHMARKS / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: run `python benchmarks/run_all.py` (or make.py "
                                "--run-benchmarks)")
    return json.loads(path.read_text(encoding="utf-8"))


def _row(rows: list[dict[str, Any]], **where: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r.get(k) == v for k, v in where.items())]
    if len(found) != 1:
        raise LookupError(f"{len(found)} benchmark rows with {where}")
    return found[0]


def _ratio(x: float) -> str:
    """A speed-up as the README's tables show it: 2 significant figures, 3 from 100 on."""
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def _seconds(x: float) -> str:
    return f"{sig(x, 3)} s"


BENCHMARK_KEYS = (
    "date", "machine", "versions", "repeats",
    "gmm-ref", "gmm-default", "gmm-default-ratio", "gmm-long", "gmm-long-ratio",
    "gmm-short", "gmm-startup", "gmm-short-ratio",
    "coin-ref", "coin-ref-total", "coin-big", "coin-big-ratio", "coin-sim", "coin-sim-ratio",
    "coin-small-ref", "coin-small", "coin-small-ratio",
    "gauss-10k-ref", "gauss-10k", "gauss-10k-ratio", "gauss-wide-ref", "gauss-wide",
    "gauss-wide-ratio", "gauss-100-ref", "gauss-100", "gauss-100-ratio",
    "cat-1000-ref", "cat-1000", "cat-1000-ratio", "cat-100-ref", "cat-100", "cat-100-ratio",
    "ngram-date", "ngram-table", "ngram-sample-rate",
    "sweep-repeats", "sweep-table",
    "startup-date", "startup-machine", "startup-repeats", "startup-table",
    "import-numpy-ms", "import-ms", "coin-start",
    "generation-us", "sample-us", "sample-ns", "fit-us", "fit-passes", "pass-us", "pass-ns",
    "metrics-us", "gmm-start", "gmm-long-ratios",
)


@product("benchmarks", summary="the README's performance tables from benchmarks/results/*.json "
         "(--run-benchmarks reruns benchmarks/run_all.py first)",
         keys=BENCHMARK_KEYS, cost="1 s (25 min with --run-benchmarks)")
def _benchmarks(ws: Workspace) -> dict[str, str]:
    gmm, coin, gauss = _bench("gmm"), _bench("coin"), _bench("gaussian")
    cat, ngram, sweep, start = _bench("categorical"), _bench("ngram"), _bench("sweep"), \
        _bench("startup")
    machine = gmm["machine"]
    for other in (coin, gauss, cat, ngram, sweep):
        if other["machine"]["cpu"] != machine["cpu"] or other["repeats"] != gmm["repeats"]:
            raise ValueError("benchmarks/results/*.json come from different machines or "
                             "settings; rerun benchmarks/run_all.py")
    g = gmm["rows"]
    ref = _row(g, what="scikit-learn loop (reference)")
    default = _row(g, what="modelcollapse 10 replicates × 2000 (all cores)")
    long = _row(g, what="modelcollapse 1 replicate × 20000")
    short = _row(g, what="modelcollapse 1 replicate × 2000")
    startup = _row(g, what="modelcollapse start-up (1 generation)")
    c = coin["rows"]
    c_ref = _row(c, what="per-rollout Python loop (reference)")
    c_big = _row(c, what="modelcollapse 1,000,000 rollouts × 1000")
    c_sim = _row(c, what="simulation only, 1,000,000 × 1000 (library, nothing written)")
    c_small = _row(c, what="modelcollapse 10,000 rollouts × 1000")

    def gauss_row(n: int, shape: str) -> dict[str, Any]:
        return _row(gauss["rows"], N=n, **{"replicates × generations": shape})

    def cat_row(v: int) -> dict[str, Any]:
        return _row(cat["rows"], V=v)

    g10k, gwide, g100 = (gauss_row(10_000, "1,000 × 1,000"), gauss_row(10_000, "100,000 × 100"),
                         gauss_row(100, "1,000 × 1,000"))
    cat1000, cat100 = cat_row(1000), cat_row(100)
    per = "reference per rep-gen (µs)"
    breakdown = gmm["breakdown"]
    commands = {c["command"]: c["median seconds"] for c in start["commands"]}
    imports = {m["module"]: m["cumulative ms"] for m in start["import_modelcollapse_ms"]}
    return {
        "date": machine["date"][:10],
        "machine": f"{machine['cores']}-core {machine['cpu']}",
        "versions": f"Python {machine['python']}, numpy {machine['numpy']}, "
                    f"numba {machine['numba']}",
        "repeats": f"{gmm['repeats']}",
        "gmm-ref": sig(ref["per replicate-generation (ms)"]),
        "gmm-default": _seconds(default["seconds"]),
        "gmm-default-ratio": _ratio(default["ratio"]),
        "gmm-long": _seconds(long["seconds"]),
        "gmm-long-ratio": _ratio(long["ratio"]),
        "gmm-short": _seconds(short["seconds"]),
        "gmm-startup": _seconds(startup["seconds"]),
        "gmm-short-ratio": _ratio(short["ratio"]),
        "coin-ref": sig(c_ref["per rollout-generation (ns)"] / 1000),
        "coin-ref-total": grouped(c_big["reference would take (s)"]),
        "coin-big": _seconds(c_big["seconds"]),
        "coin-big-ratio": _ratio(c_big["ratio"]),
        "coin-sim": _seconds(c_sim["seconds"]),
        "coin-sim-ratio": _ratio(c_sim["ratio"]),
        "coin-small-ref": _seconds(c_small["reference would take (s)"]),
        "coin-small": _seconds(c_small["seconds"]),
        "coin-small-ratio": _ratio(c_small["ratio"]),
        "gauss-10k-ref": sig(g10k[per]), "gauss-10k": _seconds(g10k["modelcollapse seconds"]),
        "gauss-10k-ratio": _ratio(g10k["ratio"]),
        "gauss-wide-ref": sig(gwide[per]), "gauss-wide": _seconds(gwide["modelcollapse seconds"]),
        "gauss-wide-ratio": _ratio(gwide["ratio"]),
        "gauss-100-ref": sig(g100[per]), "gauss-100": _seconds(g100["modelcollapse seconds"]),
        "gauss-100-ratio": _ratio(g100["ratio"]),
        "cat-1000-ref": sig(cat1000[per]), "cat-1000": _seconds(cat1000["modelcollapse seconds"]),
        "cat-1000-ratio": _ratio(cat1000["ratio"]),
        "cat-100-ref": sig(cat100[per]), "cat-100": _seconds(cat100["modelcollapse seconds"]),
        "cat-100-ratio": _ratio(cat100["ratio"]),
        "ngram-date": ngram["machine"]["date"][:10],
        "ngram-table": _ngram_bench_table(ngram),
        # Sampling alone, where the smoothed table is small (V < 1000): about 30 M tokens/s.
        "ngram-sample-rate": f"{round(min(_small_v_sample_rates(ngram)), -1):.0f}",
        "sweep-repeats": f"{sweep['repeats']}",
        "sweep-table": _sweep_bench_table(sweep),
        "startup-date": start["machine"]["date"][:10],
        "startup-machine": f"{start['machine']['cores']}-core {_cpu_words(start['machine'])}",
        "startup-repeats": f"{start['repeats']}",
        "startup-table": _startup_table(start),
        "import-numpy-ms": f"{imports['numpy']:.0f}",
        "import-ms": f"{imports['modelcollapse']:.0f}",
        "coin-start": f"{commands['modelcollapse run coin --no-plots']:.1f}",
        "generation-us": f"{breakdown['generation_us']:.0f}",
        "sample-us": f"{breakdown['sample_us']:.0f}",
        "sample-ns": f"{breakdown['sample_kernel_ns_per_point']:.1f}",
        "fit-us": f"{breakdown['fit_us']:.0f}",
        "fit-passes": f"{breakdown['em_passes_per_fit']:.2f}",
        "pass-us": f"{breakdown['e_step_pass_us']:.0f}",
        "pass-ns": f"{breakdown['e_step_ns_per_point']:.1f}",
        "metrics-us": f"{breakdown['metrics_us']:.0f}",
        "gmm-start": f"{startup['seconds']:.1f}",
        "gmm-long-ratios": span_of([long["ratio"], default["ratio"]], lambda x: f"{x:.0f}") + "×",
    }


@product("benchmarks-toy-models", summary="the README's table for kde, regression, mvgaussian "
         "and the 2-D gmm from benchmarks/results/{kde,regression,mvgaussian,gmm_nd}.json",
         keys=("toy-date", "toy-machine", "toy-table"), cost="1 s")
def _benchmarks_toy_models(ws: Workspace) -> dict[str, str]:
    kde, reg, mv, blobs = (_bench(name) for name in ("kde", "regression", "mvgaussian",
                                                     "gmm_nd"))
    machine = kde["machine"]
    for other in (reg, mv, blobs):
        if other["machine"]["cpu"] != machine["cpu"]:
            raise ValueError("benchmarks/results/*.json come from different machines; rerun "
                             "the toy-model benchmarks")
    lines = ["| workload | reference (per replicate-generation) | modelcollapse | ratio |",
             "|---|---|---|---|"]

    def us(x: float) -> str:
        return f"{sig(x)} µs" if x < 1000 else f"{sig(x / 1000)} ms"

    for row in kde["rows"]:
        lines.append(f"| kde, N = {row['N']:,}, d = {row['d']}, {row['replicates × generations']}"
                     f" | `KernelDensity` loop {us(row['reference per rep-gen (µs)'])} | "
                     f"{us(row['modelcollapse per rep-gen (µs)'])} "
                     f"({_seconds(row['modelcollapse seconds'])} in all) | "
                     f"**{_ratio(row['ratio'])}** |")
    for row in reg["rows"]:
        lines.append(f"| regression, N = {row['N']:,}, d = {row['d']}, "
                     f"{row['replicates × generations']} | `LinearRegression` loop "
                     f"{us(row['reference per rep-gen (µs)'])} | "
                     f"{us(row['modelcollapse per rep-gen (µs)'])} exact statistics, "
                     f"{us(row['raw per rep-gen (µs)'])} raw pairs | "
                     f"**{_ratio(row['ratio'])}**, {_ratio(row['ratio raw'])} raw |")
    for row in mv["rows"]:
        lines.append(f"| mvgaussian, N = {row['N']:,}, d = {row['d']}, "
                     f"{row['replicates × generations']} | numpy loop "
                     f"{us(row['numpy per rep-gen (µs)'])}, `GaussianMixture(1)` "
                     f"{us(row['sklearn per rep-gen (µs)'])} | "
                     f"{us(row['modelcollapse per rep-gen (µs)'])} Wishart, "
                     f"{us(row['sample path per rep-gen (µs)'])} sample path | "
                     f"**{_ratio(row['ratio vs numpy'])}** vs numpy, "
                     f"{_ratio(row['ratio vs sklearn'])} vs scikit-learn |")
    ref = _row(blobs["rows"], what="scikit-learn loop (reference)")
    for row in blobs["rows"]:
        if row["what"].startswith(("modelcollapse,", "modelcollapse defaults")):
            what = row["what"].removeprefix("modelcollapse").strip(" ,")
            lines.append(f"| gmm 2-D blobs, N = {blobs['samples']:,}: {what} "
                         f"(start-up subtracted) | `GaussianMixture(2, 'full')` loop "
                         f"{sig(ref['per replicate-generation (ms)'])} ms | "
                         f"{sig(row['per replicate-generation (ms)'])} ms | "
                         f"**{_ratio(row['ratio'])}** |")
    return {"toy-date": machine["date"][:10],
            "toy-machine": f"{machine['cores']}-core {_cpu_words(machine)}",
            "toy-table": "\n" + "\n".join(lines) + "\n"}


def _small_v_sample_rates(ngram: dict[str, Any]) -> list[float]:
    return [r["sample (Mtok/s)"] for r in ngram["rows"] if r["V"] < 1000]


def _cpu_words(machine: dict[str, Any]) -> str:
    """"Intel(R) Xeon(R) Processor @ 2.80GHz" → "Intel Xeon at 2.8 GHz"."""
    cpu = re.sub(r"\((R|TM)\)", "", machine["cpu"]).replace(" Processor", "")
    found = re.match(r"(.*?)\s*@\s*([0-9.]+)\s*GHz", cpu)
    return f"{found.group(1)} at {float(found.group(2)):g} GHz" if found else cpu


def _ngram_bench_table(ngram: dict[str, Any]) -> str:
    def rate(x: float) -> str:
        return f"{x:.2f}" if x < 1 else (f"{x:.1f}" if x < 10 else f"{x:.0f}")

    def ratio(x: float) -> str:
        shown = f"{x:.1f}×" if x < 10 else f"{x:.0f}×"
        return f"**{shown}**" if x >= 10 else shown

    lines = ["| V, order | fit: dict / modelcollapse (M tokens/s) | ratio "
             "| sample: dict / modelcollapse (M tokens/s) | ratio |",
             "|---|---|---|---|---|"]
    for r in ngram["rows"]:
        lines.append(f"| {r['V']}, {r['n']} | {rate(r['fit ref (Mtok/s)'])} / "
                     f"{rate(r['fit (Mtok/s)'])} | {ratio(r['fit ratio'])} | "
                     f"{rate(r['sample ref (Mtok/s)'])} / {rate(r['sample (Mtok/s)'])} | "
                     f"{ratio(r['sample ratio'])} |")
    return "\n".join(lines)


def _sweep_bench_table(sweep: dict[str, Any]) -> str:
    columns = [("one run per cell", "one run per cell"),
               ("sweep, 1 worker", "sweep, `--workers 1`"),
               ("sweep, processes", "sweep, 2 processes"),
               ("sweep, dask-local 2", "sweep, `--dask-local 2`")]
    names = list(dict.fromkeys(r["sweep"] for r in sweep["rows"]))
    lines = ["| sweep | " + " | ".join(title for _, title in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name in names:
        cells = []
        for how, _ in columns:
            row = _row(sweep["rows"], sweep=name, how=how)
            shown = _seconds(row["seconds"])
            cells.append(shown if how == "one run per cell" else
                         f"{shown} ({row['speed-up']:.1f}×)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: How the start-up table names each command of benchmarks/results/startup.json.
STARTUP_ROWS = {
    "python -c pass": ("`python -c pass`", False),
    "python -c 'import numpy'": ("`python -c 'import numpy'`", False),
    "python -c 'import modelcollapse'": ("`python -c 'import modelcollapse'`", False),
    "modelcollapse --help": ("`modelcollapse --help`", True),
    "modelcollapse run coin --no-plots": (
        "`modelcollapse run coin --no-plots` (100 rollouts × 60, its summary with the exact "
        "chain, Parquet written)", True),
    "modelcollapse run gmm --samples 1000 --generations 10 --replicates 2 --no-plots "
    "(warm cache)": ("`modelcollapse run gmm --samples 1000 --generations 10 --replicates 2 "
                     "--no-plots` (warm cache)", False),
}


def _startup_table(start: dict[str, Any]) -> str:
    lines = ["| command | median |", "|---|---|"]
    for c in start["commands"]:
        title, bold = STARTUP_ROWS.get(c["command"], (f"`{c['command']}`", False))
        seconds = c["median seconds"]
        shown = f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"
        lines.append(f"| {title} | {'**' + shown + '**' if bold else shown} |")
    return "\n".join(lines)


# -- driver ------------------------------------------------------------------------------------


def declared_keys() -> dict[str, str]:
    """Every declared key and the product that declares it."""
    owners: dict[str, str] = {}
    for p in PRODUCTS.values():
        for key in p.full_keys:
            if key in owners:
                raise ValueError(f"key {key!r} declared twice")
            owners[key] = p.name
    return owners


def declared_figures() -> dict[str, list[str]]:
    """Every figure name and the products that declare it."""
    owners: dict[str, list[str]] = {}
    for p in PRODUCTS.values():
        for name in p.figures:
            owners.setdefault(name, []).append(p.name)
    return owners


def run_product(p: Product, folder: Path, *, say: Callable[[str], None] = print,
                resume: bool = False) -> tuple[dict[str, str], dict[str, Path], float]:
    """Run ``p`` in ``folder``: its values (full keys), its figures and its wall time.

    With ``resume``, commands that finished in an earlier run into ``folder`` are not run
    again (see :meth:`Workspace.command`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    ws = Workspace(folder, say=say, resume=resume)
    started = time.perf_counter()
    values = p.make(ws)
    seconds = time.perf_counter() - started
    if set(values) != set(p.keys):
        raise RuntimeError(f"product {p.name} returned keys {sorted(values)}, declared "
                           f"{sorted(p.keys)}")
    if set(ws.figures) != set(p.figures):
        raise RuntimeError(f"product {p.name} made figures {sorted(ws.figures)}, declared "
                           f"{sorted(p.figures)}")
    return {f"{p.name}.{k}": v for k, v in values.items()}, dict(ws.figures), seconds


def _list(readme: str) -> None:
    current = spans(readme)
    for p in PRODUCTS.values():
        print(f"{p.name}  ({p.cost})\n  runs:    {p.summary}")
        if p.figures:
            print("  figures: " + ", ".join(f"docs/{f}" for f in p.figures))
        for key in p.full_keys:
            shown = current.get(key, ["(not in README.md)"])[0]
            shown = shown if "\n" not in shown else f"({shown.count(chr(10)) + 1} lines)"
            print(f"  {key} = {shown}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python docs/make.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("products", nargs="*", metavar="NAME",
                        help="products to run (default: all; see --list)")
    parser.add_argument("--list", action="store_true", help="list products, figures and keys")
    parser.add_argument("--check", action="store_true",
                        help="recompute and report README numbers that differ (exit 1); "
                             "write nothing")
    parser.add_argument("--run-benchmarks", action="store_true",
                        help="rerun benchmarks/run_all.py before reading its results")
    parser.add_argument("--scratch", type=Path,
                        help="keep the commands' output folders here (default: a temporary "
                             "folder, removed afterwards)")
    parser.add_argument("--resume", action="store_true",
                        help="with --scratch: reuse the commands an earlier run there finished "
                             "(their output and timing), run only the rest")
    args = parser.parse_args(argv)
    if args.resume and args.scratch is None:
        parser.error("--resume needs --scratch DIR (the earlier run's folder)")
    readme = README.read_text(encoding="utf-8")
    problems = markup_problems(readme)
    if problems:
        print("README.md: " + "\n  ".join(["markers are not well formed:", *problems]),
              file=sys.stderr)
        return 2
    if args.list:
        _list(readme)
        return 0
    unknown = [n for n in args.products if n not in PRODUCTS]
    if unknown:
        parser.error(f"unknown product {', '.join(unknown)}; products: {', '.join(PRODUCTS)}")
    chosen = [PRODUCTS[n] for n in (args.products or PRODUCTS)]
    if args.run_benchmarks and any(p.name == "benchmarks" for p in chosen):
        print("benchmarks: python benchmarks/run_all.py", flush=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py")], cwd=ROOT,
                       check=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"{cores()}, load average {load:.1f} (timings are this machine's, as it is now)")
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="mc-docs-"))
    values: dict[str, str] = {}
    figures: dict[str, Path] = {}
    started = time.perf_counter()
    try:
        failed = []
        for p in chosen:
            print(f"{p.name}:", flush=True)
            try:
                got, made, seconds = run_product(p, scratch / p.name, resume=args.resume,
                                                 say=lambda line: print(line, flush=True))
            except Exception:  # one broken product must not discard the others
                print(traceback.format_exc(), file=sys.stderr)
                failed.append(p.name)
                continue
            values.update(got)
            figures.update(made)
            print(f"  done in {seconds:.0f} s", flush=True)
        # Re-read: others may have edited README.md while the commands ran.
        readme = README.read_text(encoding="utf-8")
        new, changes = rewrite(readme, values)
        missing = sorted(set(values) - set(spans(readme)))
        for key in missing:
            print(f"{'error' if args.check else 'warning'}: README.md has no span {key}",
                  file=sys.stderr)
        for key, old, value in changes:
            if "\n" in old or "\n" in value:
                print(f"{key}: block changed")
            else:
                print(f"{key}: {old} → {value}")
        if args.check:
            print(f"{len(changes)} README number(s) differ, {len(missing)} missing"
                  if changes or missing else "README.md matches")
            return 1 if changes or missing else 0
        for name, source in figures.items():
            shutil.copyfile(source, DOCS / name)
            print(f"docs/{name} ← {source.relative_to(scratch)}")
        if new != readme:
            README.write_text(new, encoding="utf-8")
        print(f"{len(chosen) - len(failed)} product(s), {len(changes)} README change(s), "
              f"{len(figures)} figure(s) in {time.perf_counter() - started:.0f} s")
        if failed:
            print(f"failed (their numbers and figures left as they were): {', '.join(failed)}",
                  file=sys.stderr)
            return 1
        return 0
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
