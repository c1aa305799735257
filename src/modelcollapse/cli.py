"""The ``modelcollapse`` command. It parses and dispatches; the work is :func:`modelcollapse.run`.

Bad input gets one line naming the option and what is allowed, exit status 2, no traceback, and
no results folder.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .compilation import cold_kernels
from .config import RunConfig
from .errors import ConfigError
from .families import FAMILIES
from .options import COMMON, Option, OptionSet, build, family_options, read_toml
from .policies import POLICIES

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

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
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _add_option(group: argparse._ArgumentGroup, option: Option) -> None:
    flag = f"--{option.name}"
    if option.kind == "bool":
        group.add_argument(flag, dest=option.name, action=argparse.BooleanOptionalAction,
                           default=None, help=option.help)
        return
    metavar = {"int": "N", "float": "X", "floats": "X,Y,...", "path": "DIR"}.get(option.kind,
                                                                               "NAME")
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
        "output": run.add_argument_group("output"),
    }
    for option in COMMON:
        _add_option(groups[option.target], option)
    for name in FAMILIES.names():
        group = run.add_argument_group(f"{name} options")
        for option in family_options():
            if option.families[0] == name:  # each shared option is listed once
                _add_option(group, option)
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
    from .api import run

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
        if cold_kernels(seeded.model.kernels()):
            print("compiling the numerical kernels for this machine (first run only, about "
                  "20 s; cached afterwards)", flush=True)

    result = run(config, out=output.out, plots=output.plots, workers=output.workers,
                 progress=not args.no_progress and sys.stderr.isatty(),
                 argv=["modelcollapse", *argv], on_start=announce)
    from .summary import format_summary

    print(format_summary(result.config, result.manifest["summary"]))
    figures = result.manifest["files"]["figures"]
    if figures:
        print(f"figures: {', '.join(figures)}")
    print(f"wall time {result.manifest['wall_seconds']:.2f} s; results: {result.path}")
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
    except ConfigError as err:
        sys.stderr.write(f"modelcollapse {args.command}: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: no results folder was written\n")
        return EXIT_INTERRUPTED
    parser.error(f"unknown command {args.command}")
