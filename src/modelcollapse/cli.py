"""The ``modelcollapse`` command. It parses and dispatches; the work is :func:`modelcollapse.run`.

Bad input gets one line naming the option and what is allowed, exit status 2, no traceback, and
no results folder, and it is found before any work starts. A parse error names the subcommand
(``modelcollapse run: error: ...``) and an unknown option gets the nearest real one ("did you
mean --samples?"). Options must be written in full: argparse's prefix matching is switched off
(``allow_abbrev=False``), so ``--sample 10`` is refused as a typo instead of being silently
taken for ``--samples`` (and no abbreviation that works today can become ambiguous, or change
meaning, when an option is added).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from .config import RunConfig
from .errors import ConfigError, SweepFailed, SweepInterrupted
from .families import FAMILIES
from .options import (
    COMMON,
    Option,
    OptionSet,
    build,
    check_workers,
    family_options,
    parse_value,
    read_toml,
    suggest,
)
from .policies import POLICIES
from .runner.compilation import COMPILE_NOTICE
from .version import __version__

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

REPORT_HELP = ("also write report.html: one self-contained interactive page of the results "
               "(needs modelcollapse[report])")

#: A value that argparse would mistake for an option: a negative number or list of numbers.
_NUMERIC = re.compile(r"^-\d|^-\.\d|^-inf|^-nan", re.IGNORECASE)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, with a pointer to ``--help``.

    Abbreviated flags are refused (``--sample`` is a typo, not ``--samples``).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # argparse's words for a value given to a flag that takes none (--dry-run=yes, or an
        # on/off pair's --shortcut=) say what it ignored, not what is allowed: name the flag or
        # both forms of the pair, and say how to write them.
        explicit = re.match(r"argument (--[\w-]+)(?:/(--[\w-]+))?: ignored explicit argument "
                            r"(.*)$", message)
        if explicit:
            flag, off, value = explicit.groups()
            named = f"{flag} and {off}" if off else flag
            message = f"{named} must be written without a value (got {value})"
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)

    def parse_known_args(self, args=None, namespace=None):
        """Parse, refusing what is left over here, so that the message names this parser's
        command (``modelcollapse run``, not ``modelcollapse``) and suggests its nearest option."""
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            # An empty or blank argument (`--shortcut ""`) is shown quoted, never as nothing.
            shown = [repr(e) if not e.strip() else e for e in extras]
            message = f"unrecognized arguments: {' '.join(shown)}"
            flags = [e.split("=", 1)[0] for e in extras
                     if e.startswith("-") and not _NUMERIC.match(e)]
            if flags:
                known = [s for s in self._option_string_actions if s.startswith("--")]
                message += suggest(flags[0], known)
            self.error(message)
        return namespace, extras


def _add_option(group: argparse._ArgumentGroup, option: Option) -> None:
    flag = f"--{option.name}"
    if option.kind == "bool":
        group.add_argument(flag, dest=option.name, action=argparse.BooleanOptionalAction,
                           default=None, help=option.help)
        return
    metavar = {"int": "N", "float": "X", "floats": "X,Y,...", "path": "DIR",
               "name-or-number": "NAME|X"}.get(option.kind, "NAME")
    if option.choices:
        metavar = "{" + ",".join(option.choices) + "}"
    group.add_argument(flag, dest=option.name, default=None, metavar=metavar, help=option.help)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="modelcollapse",
        description="Simulate model collapse: models trained, generation after generation, on "
                    "data from earlier generations of themselves.")
    parser.add_argument("--version", action="version", version=f"modelcollapse {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=OneLineParser)
    run = commands.add_parser(
        "run", help="run one experiment and write its results folder",
        description="Run one experiment: fit, sample, refit for G generations, R replicates. "
                    "Without arguments: the classic GMM experiment (N = 10000, 2000 generations, "
                    "10 replicates). `modelcollapse run coin`: the classic coin (p0 = 0.5, k = 10, "
                    "60 generations, 100 rollouts).",
        epilog=f"families: {', '.join(FAMILIES.names())}; policies: {', '.join(POLICIES.names())}."
               " Options can also come from --config FILE.toml (same names without dashes); "
               "flags override the file.")
    run.add_argument("family", nargs="?", default=None, metavar="FAMILY",
                     help=f"model family: {', '.join(FAMILIES.names())} (default gmm)")
    run.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar (it shows on a terminal for runs over half a second)")
    groups = {
        "run": run.add_argument_group("experiment"),
        "policy": run.add_argument_group("data policy"),
        "curation": run.add_argument_group("curation of synthetic samples"),
        "output": run.add_argument_group("output"),
    }
    for option in COMMON:
        _add_option(groups[option.target], option)
    groups["output"].add_argument("--report", action="store_true", help=REPORT_HELP)
    shared = [o for o in family_options() if len(o.families) > 1]
    if shared:  # listed once, with the families that take them
        group = run.add_argument_group("options of several families")
        for option in shared:
            if option.help.startswith(f"{option.families[0]}: "):  # already family by family
                _add_option(group, option)
                continue
            _add_option(group, dataclasses.replace(
                option, help=f"{option.help} [{', '.join(option.families)}]"))
    for name in FAMILIES.names():
        group = run.add_argument_group(f"{name} options")
        for option in family_options():
            if option.families == (name,):
                _add_option(group, option)
    _add_sweep_parser(commands)
    _add_report_parser(commands)
    _add_explore_parser(commands)
    _add_verify_parser(commands)
    _add_collapse_speed_parser(commands)
    return parser


def _join_numeric_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``--means -2,2`` → ``--means=-2,2`` so argparse does not read ``-2,2`` as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if (token.startswith("--") and "=" not in token and i + 1 < len(argv)
                and _NUMERIC.match(argv[i + 1])):
            out.append(f"{token}={argv[i + 1]}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api
    from .views.text import format_samples, format_summary

    options = OptionSet()
    if args.config:
        options.update(read_toml(args.config), source=args.config)
    if args.family is not None:
        options.update({"family": args.family}, source="flag")
    names = [o.name for o in COMMON] + [o.name for o in family_options()]
    options.update({n: getattr(args, n) for n in names if getattr(args, n, None) is not None},
                   source="flag")
    config, output = build(options)

    def announce(seeded: RunConfig, path) -> None:
        print(f"modelcollapse {__version__}: {seeded.describe()}")
        drawn = "" if config.seed is not None else " (drawn; pass --seed to repeat this run)"
        print(f"seed {seeded.seed}{drawn}", flush=True)
        if api.cold_kernels(seeded.model):
            print(COMPILE_NOTICE, flush=True)
            seconds = api.compile_ahead(seeded, tick=lambda t: print(
                f"  still compiling ({t:.0f} s so far)", flush=True))
            print(f"  compiled in {seconds:.0f} s", flush=True)
        estimate = api.estimate_duration(seeded, workers=output.workers)
        if estimate.long:  # said before the work starts, so a long run never looks stalled
            print(f"estimated time {estimate.describe()}; Ctrl-C stops it", flush=True)

    try:
        # A bar on a terminal; elsewhere (a CI log, a pipe) a line every 10 s, never silence.
        progress: bool | str = False if args.no_progress else (
            True if sys.stderr.isatty() else "lines")
        result = api.run(config, out=output.out, plots=output.plots, workers=output.workers,
                         progress=progress,
                         argv=["modelcollapse", *argv], on_start=announce, report=args.report)
    except ConfigError as err:  # the default folder (runs/...) refused: name the flag to use
        if err.field != "out":
            raise
        raise ConfigError("--out", err.problem, err.value) from None
    print(format_summary(result.config, result.manifest["summary"]))
    if "samples" in result.manifest["files"]:
        print(format_samples(result.samples))
    figures = result.manifest["files"]["figures"]
    if figures:
        print(f"figures: {', '.join(figures)}")
    print(f"wall time {result.manifest['wall_seconds']:.2f} s; results: {result.path}")
    if args.report and result.path is not None:
        print(f"report: {result.path / 'report.html'}")
    return 0


class _Announcer:
    """A ``log`` that prints the command's heading before its first line, so that nothing is
    announced until every check has passed and the work starts saying what it does."""

    def __init__(self, heading: str) -> None:
        self.heading = heading
        self.said = False

    def __call__(self, line: str) -> None:
        self.announce()
        print(line, flush=True)

    def announce(self) -> None:
        if not self.said:
            print(self.heading, flush=True)
            self.said = True


def _add_sweep_parser(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a grid of experiments on all cores or a Dask cluster; resumable",
        description="Run every combination of the option values listed in the file's [grid] "
                    "table, each with the [experiment] table's other options (the same keys as "
                    "`modelcollapse run --config`). Invalid combinations are listed and "
                    "skipped. Each finished work unit is written at once, so running the same "
                    "command again after an interruption resumes where it stopped. Writes "
                    "metrics/ and replicates/ (Parquet, one file per unit), summary.parquet "
                    "(one row per cell), sweep.png and manifest.json.",
        epilog="Numbers depend only on the file and the seed, never on the executor or the "
               "number of workers.")
    sweep.add_argument("file", metavar="SWEEP.toml", help="the sweep: [experiment] and [grid]")
    sweep.add_argument("--out", metavar="DIR", default=None,
                       help="sweep folder (default runs/sweep-<file name>); an unfinished sweep "
                            "there is resumed")
    sweep.add_argument("--seed", metavar="S", default=None,
                       help="random seed (default: the file's; a resumed sweep keeps its own; "
                            "else drawn, printed and recorded)")
    sweep.add_argument("--workers", metavar="N", default=None,
                       help="local worker processes (default: all cores; 1: this process)")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="run on an existing Dask cluster (needs modelcollapse[dask])")
    sweep.add_argument("--dask-local", metavar="N", default=None,
                       help="run on a new local Dask cluster of N workers, dashboard on "
                            "127.0.0.1 (needs modelcollapse[dask])")
    sweep.add_argument("--dry-run", action="store_true",
                       help="list the cells, the skipped combinations and the work; run nothing")
    sweep.add_argument("--force", action="store_true",
                       help="if the folder holds something else, start a new folder beside it")
    sweep.add_argument("--no-plots", action="store_true", help="write no figure")
    sweep.add_argument("--report", action="store_true", help=REPORT_HELP)
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")


def _parse_seed(text: str) -> int:
    """A ``--seed`` of ``sweep`` or ``verify``, read by the same rule as ``run``'s (``1e3`` is
    1000), so the same seed is accepted or refused alike by every command."""
    value = parse_value(Option("seed", "int", "", "output", "seed"), text, "--seed")
    if value < 0:
        raise ConfigError("--seed", "must be an integer ≥ 0", text)
    return value


def _sweep(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api

    def number(flag: str) -> int | None:
        text = getattr(args, flag.replace("-", "_"))
        if text is None:
            return None
        if flag == "seed":
            return _parse_seed(text)
        value = parse_value(Option(flag, "int", "", "output", flag), text, f"--{flag}")
        return check_workers(value, f"--{flag}")

    seed, workers, dask_local = number("seed"), number("workers"), number("dask-local")
    if args.dry_run:
        print(api.plan_sweep(args.file, seed=seed).format())
        return 0
    log = _Announcer(f"modelcollapse {__version__}: sweep {args.file}")
    try:
        result = api.sweep(args.file, out=args.out, seed=seed, workers=workers,
                           scheduler=args.scheduler, dask_local=dask_local, force=args.force,
                           plots=False if args.no_plots else None,
                           progress=not args.no_progress and sys.stderr.isatty(),
                           argv=["modelcollapse", *argv], log=log, report=args.report)
    except SweepInterrupted as stop:
        sys.stderr.write(f"\ninterrupted: {stop.finished} of {stop.total} work units are "
                         f"finished and kept in {stop.path}; run the same command again to "
                         "resume\n")
        return EXIT_INTERRUPTED
    except SweepFailed as failure:
        sys.stderr.write(f"modelcollapse sweep: a work unit failed ({failure}); "
                         f"{failure.finished} of {failure.total} units are finished and kept in "
                         f"{failure.path}; run the same command again to resume\n")
        return 1
    log.announce()
    print(result.table())
    figures = result.manifest["files"]["figures"]
    if figures:
        print(f"figure: {', '.join(figures)}")
    wall = result.manifest["sessions"][-1].get("wall_seconds", 0.0)
    print(f"wall time {wall:.1f} s; results: {result.path} (summary.parquet, metrics/, "
          "replicates/)")
    if args.report:
        print(f"report: {result.path / 'report.html'}")
    return 0


def _add_report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write report.html: an interactive page of a run or sweep folder",
        description="Write DIR/report.html, one self-contained page (no network needed) with "
                    "the experiment in plain words, interactive charts of every metric with "
                    "bands and exact theory, the distribution's evolution, the coin's rollouts, "
                    "a sweep's collapse speed and table of cells, and links to the Parquet "
                    "files. Needs Plotly: pip install 'modelcollapse[report]'.")
    report.add_argument("folder", metavar="DIR", help="a folder written by run or sweep")
    report.add_argument("--title", metavar="TEXT", default=None,
                        help="the page's heading (default: the folder's name)")
    report.add_argument("--out", metavar="FILE.html", default=None,
                        help="where to write the page (default DIR/report.html)")


def _report(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api

    path = api.write_report(args.folder, title=args.title, out=args.out)
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _add_explore_parser(commands: argparse._SubParsersAction) -> None:
    explore = commands.add_parser(
        "explore", help="write explorer.html: a page where the loop runs in your browser",
        description="Write one self-contained page (no network needed) in which the coin, the "
                    "Gaussian, the categorical (Zipf) model and the 1-D Gaussian mixture are "
                    "simulated in the browser: move a slider (samples per generation, fresh "
                    "real data, the policy, the sampling bias, the seed) and the trajectories, "
                    "their median and bands and the exact theory redraw at once. Needs Plotly: "
                    "pip install 'modelcollapse[report]'.")
    explore.add_argument("--out", metavar="FILE.html", default=None,
                         help="where to write the page (default explorer.html here)")


def _explore(args: argparse.Namespace) -> int:
    from . import api

    path = api.write_explorer(args.out)
    print(f"explorer: {path} ({path.stat().st_size / 1e6:.1f} MB); open it in any browser")
    return 0


#: The seed of ``modelcollapse verify`` (:data:`modelcollapse.studies.verify.DEFAULT_SEED`,
#: written out here so that building the parser does not import the verification cases).
VERIFY_SEED = 20261121


def _add_verify_parser(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser(
        "verify", help="check the simulator against exact theory; exit status 1 on a failure",
        description="Run a fixed set of seeded simulations whose answers are known exactly "
                    "(Wright–Fisher chain, chi-square laws, moment recursions) and compare: each "
                    "check's tolerance is z·SE, two-sided, α = 1e-3 family-wise with a "
                    "Bonferroni correction over the checks of the set. Prints a pass/fail "
                    "table; writes checks.csv, verify.json and QQ and trajectory plots into a "
                    "folder. Exit status 0 when every check passes, 1 when one fails, 2 on bad "
                    "usage.")
    verify.add_argument("--quick", action="store_true",
                        help="the quick set: fewer cases and replicates, under a minute (for CI)")
    verify.add_argument("--out", metavar="DIR", default=None,
                        help="results folder, new or empty (default runs/verify-<timestamp>)")
    verify.add_argument("--seed", metavar="S", default=str(VERIFY_SEED),
                        help=f"base seed of every case (default {VERIFY_SEED}: verify is "
                             "deterministic)")
    verify.add_argument("--no-plots", action="store_true", help="write no figures")


def _verify(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api

    label = "quick" if args.quick else "full"
    args.seed = _parse_seed(args.seed)

    def announce(cases: list) -> None:
        print(f"modelcollapse {__version__}: verify, {label} set of {len(cases)} cases, seed "
              f"{args.seed}", flush=True)
        if api.verify_needs_compiling(args.quick):
            print(COMPILE_NOTICE, flush=True)

    def progress(message: str) -> None:
        sys.stderr.write(f"verify {message}\n")

    try:
        report = api.verify(quick=args.quick, seed=args.seed, out=args.out,
                            plots=not args.no_plots,
                            progress=progress if sys.stderr.isatty() else None,
                            on_start=announce, argv=["modelcollapse", *argv])
    except ConfigError as err:  # name the flag, not the Python argument
        raise ConfigError(f"--{err.field}", err.problem, err.value) from None
    print(report.table())
    if report.left_out:
        print(f"not in the {label} set: {', '.join(report.left_out)} (run without --quick)")
    if report.figures:
        print(f"figures: {', '.join(report.figures)}")
    print(f"wall time {report.wall_seconds:.1f} s; results: {report.path}")
    print(report.verdict())
    return report.exit_status


#: ``collapse-speed`` options: flag → (keyword of :func:`modelcollapse.api.collapse_speed`, how
#: its text is read, the targets it applies to, help).
_SPEED_OPTIONS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "replicates": ("n_replicates", "int", ("coin", "gaussian", "gmm", "ngram", "curation"),
                   "replicates per k, fraction or cell (coin 4000, gaussian 1000, gmm 100, "
                   "ngram 400; curation: per family, see the README)"),
    "samples": ("n_samples", "int", ("gaussian", "gmm", "ngram", "curation"),
                "N: samples per generation (gaussian 100, gmm 1000, ngram 10000 tokens; "
                "curation: per family, and this sets every family's)"),
    "generations": ("n_generations", "int", ("gaussian", "gmm", "ngram", "curation"),
                    "G: generations (gaussian 1000, gmm 2000, ngram 30, curation 20-30; the "
                    "coin's horizon is automatic)"),
    "seed": ("seed", "int", ("coin", "gaussian", "gmm", "ngram", "curation"),
             "random seed (drawn, printed and recorded when omitted)"),
    "ks": ("ks", "floats", ("coin",), "tosses per generation (default 1,2,5,10,100,1000)"),
    "p0": ("p0", "float", ("coin",), "true probability of heads (default 0.5)"),
    "real-fractions": ("real_fractions", "floats", ("gaussian", "gmm", "ngram", "curation"),
                       "fractions of fresh real data (default 0,0.01,0.05,0.1,0.5; ngram and "
                       "curation 0,0.1)"),
    "collapse-fraction": ("collapse_fraction", "float", ("gaussian", "gmm", "ngram"),
                          "collapse: var (ngram: tail share) below this fraction of the truth's "
                          "(default 0.5)"),
    "top-ps": ("top_ps", "floats", ("ngram",),
               "nucleus thresholds compared (default 1,0.95,0.9,0.8)"),
    "smoothing": ("smoothing", "str", ("ngram",), "mle, add-k or kn (default kn)"),
    "families": ("families", "str", ("curation",),
                 "families compared (default coin,categorical,gmm,ngram)"),
    "curate-ks": ("curate_ks", "floats", ("curation",),
                  "best-of K values; K = 1 (no curation) is always run (default 1,2,4,16)"),
    "verifier-strictnesses": ("verifier_strictnesses", "floats", ("curation",),
                              "oracle verifier strictnesses s > 0 (default 1,2)"),
    "curate-keeps": ("curate_keeps", "floats", ("curation",),
                     "shares q < 1 kept by the top-likelihood filter (default 0.5)"),
}


def _add_collapse_speed_parser(commands: argparse._SubParsersAction) -> None:
    speed = commands.add_parser(
        "collapse-speed", help="how fast models collapse: one comparison, table and figure",
        description="coin: mean absorption time against k (tosses per generation), simulated "
                    "beside the exact Markov chain and the diffusion approximation. gaussian, "
                    "gmm: generations until the variance falls below half the truth's, against "
                    "the fraction of fresh real data, with the exact mean variance and its "
                    "stationary level. ngram: how fast the rarest tokens vanish from a language "
                    "model's own text under nucleus sampling (top-p), with and without fresh "
                    "real text. curation: how fast curating the synthetic data (best-of-K, a "
                    "verifier, a top-likelihood filter) raises the reward and removes "
                    "diversity and tails, for the coin, categorical, gmm and ngram, with and "
                    "without fresh real data. Prints a table; writes collapse-speed.csv, "
                    "curves.csv, collapse-speed.png and manifest.json into a folder.")
    # The targets of studies.collapse_speed.TARGETS, written out: importing the studies here
    # would slow every command's start.
    speed.add_argument("target", choices=("coin", "gaussian", "gmm", "ngram", "curation"),
                       metavar="TARGET",
                       help="coin, gaussian, gmm, ngram or curation")
    for flag, (_, kind, targets, text) in _SPEED_OPTIONS.items():
        metavar = {"replicates": "R", "generations": "G", "seed": "S", "ks": "K,K,...",
                   "real-fractions": "A,A,...", "top-ps": "P,P,...", "smoothing": "NAME",
                   "families": "F,F,...", "curate-ks": "K,K,...",
                   "verifier-strictnesses": "S,S,...",
                   "curate-keeps": "Q,Q,..."}.get(flag, "N" if kind == "int" else "X")
        speed.add_argument(f"--{flag}", default=None, metavar=metavar,
                           help=f"{text} [{', '.join(targets)}]")
    speed.add_argument("--quick", action="store_true",
                       help="small sizes, the whole study in seconds [curation]")
    speed.add_argument("--out", metavar="DIR", default=None,
                       help="results folder, new or empty "
                            "(default runs/collapse-speed-<target>-<timestamp>)")
    speed.add_argument("--no-plots", action="store_true", help="write no figure")
    speed.add_argument("--no-progress", action="store_true", help="no progress bars")


def _collapse_speed(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api

    settings = {}
    for flag, (keyword, kind, targets, _) in _SPEED_OPTIONS.items():
        text = getattr(args, flag.replace("-", "_"))
        if text is None:
            continue
        if args.target not in targets:
            raise ConfigError(f"--{flag}", f"does not apply to collapse-speed {args.target} "
                              f"(it applies to {', '.join(targets)})")
        settings[keyword] = parse_value(Option(flag, kind, "", "run", keyword), text,
                                        f"--{flag}")
    if args.quick:
        if args.target != "curation":
            raise ConfigError("--quick", f"does not apply to collapse-speed {args.target} (it "
                              "applies to curation)")
        settings["quick"] = True
    log = _Announcer(f"modelcollapse {__version__}: collapse-speed {args.target}")
    try:
        report = api.collapse_speed(args.target, out=args.out, plots=not args.no_plots,
                                    progress=not args.no_progress and sys.stderr.isatty(),
                                    log=log, argv=["modelcollapse", *argv], **settings)
    except ConfigError as err:  # name the flag, not the Python argument
        flags = {keyword: f"--{flag}" for flag, (keyword, *_) in _SPEED_OPTIONS.items()}
        raise ConfigError(flags.get(err.field, f"--{err.field}"), err.problem,
                          err.value) from None
    log.announce()
    print(report.result.format())
    if report.manifest["files"]["figures"]:
        print(f"figure: {', '.join(report.manifest['files']['figures'])}")
    print(f"wall time {report.manifest['wall_seconds']:.1f} s; results: {report.path}")
    return 0


def _terminate(signum, frame) -> NoReturn:
    raise KeyboardInterrupt  # unwind like Ctrl-C, so partial results are removed


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``modelcollapse`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    args = parser.parse_args(_join_numeric_values(argv, parser))
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "run":
            return _run(args, argv)
        if args.command == "sweep":
            return _sweep(args, argv)
        if args.command == "report":
            return _report(args, argv)
        if args.command == "explore":
            return _explore(args)
        if args.command == "verify":
            return _verify(args, argv)
        if args.command == "collapse-speed":
            return _collapse_speed(args, argv)
    except ConfigError as err:
        sys.stderr.write(f"modelcollapse {args.command}: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: no results folder was written\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `modelcollapse sweep x.toml --dry-run | head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    parser.error(f"unknown command {args.command}")
