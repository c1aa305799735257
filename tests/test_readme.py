"""The README's code cannot drift: its snippets run, its commands parse, its transcripts match.

The README is read into fenced blocks and each kind is held to what it shows:

* every ```` ```python ```` block runs as written, in a fresh working folder (a block that reads
  a sweep's folder gets a small sweep of the same file written there first);
* every ``modelcollapse`` command of a ```` ```bash ```` block is parsed and checked by the real
  command line, with only the final call into the work (``api.run``, ``api.sweep``, …) replaced
  by a stub, so an option renamed, a value no longer allowed or a file moved fails here;
* every transcript (a plain block whose first line is ``$ modelcollapse ...``) is run and its
  output compared line by line, only the lines that name a time or a drawn seed left out.

New blocks are picked up by themselves; :func:`test_every_block_is_checked` fails when a block
is of a kind nobody checks.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import modelcollapse as mc
from modelcollapse import api, cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass(frozen=True)
class Block:
    """A fenced block of the README: its language tag, first line number and text."""

    lang: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def read_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order."""
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip(), number, []
            else:
                blocks.append(Block(lang, start, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    assert lang is None, f"README.md:{start}: a fenced block is never closed"
    return blocks


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.lang == "python"]
TRANSCRIPTS = [b for b in BLOCKS if b.lang == "" and b.text.startswith("$ modelcollapse")]
#: Plain blocks that are the output of a command shown elsewhere (a sample text, a table).
OUTPUTS = [b for b in BLOCKS if b.lang in ("", "text") and b not in TRANSCRIPTS]


def commands(block: Block) -> list[list[str]]:
    """The ``modelcollapse`` command lines of a bash block, comments and continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    found = []
    for line in joined.splitlines():
        code = line.split("#", 1)[0]
        for part in code.split("&&"):
            words = shlex.split(part.strip().rstrip("&"))
            if words[:1] == ["modelcollapse"]:
                found.append(words[1:])
    return found


BASH_COMMANDS = [(b, argv) for b in BLOCKS if b.lang == "bash" for argv in commands(b)]


# -- Python snippets ----------------------------------------------------------------------------


def _small_gmm_mix_sweep(folder: Path) -> None:
    """``runs/sweep-gmm-mix`` as the README's snippets read it: examples/sweeps/gmm-mix.toml's
    grid and family, shrunk to seconds (the snippets read the folder's layout, not its values)."""
    import tomllib

    spec = tomllib.loads((ROOT / "examples/sweeps/gmm-mix.toml").read_text())
    spec["experiment"].update(samples=200, generations=20, replicates=3)
    mc.sweep(spec, out=folder / "runs/sweep-gmm-mix", workers=1, plots=False)


def _run_snippet(block: Block, folder: Path) -> None:
    if "runs/sweep-gmm-mix" in block.text:
        _small_gmm_mix_sweep(folder)
    code = block.text
    if "import duckdb" in code and not all(_importable(m) for m in ("duckdb", "polars")):
        # Neither engine is a dependency: read the same glob with pyarrow, so that the paths and
        # columns the snippet relies on are still checked.
        import pyarrow.dataset as ds

        files = sorted((folder / "runs/sweep-gmm-mix/metrics").glob("*.parquet"))
        assert files
        names = set(ds.dataset([str(f) for f in files]).schema.names)
        assert {"real", "synthetic", "metric", "generation", "value"} <= names
        return
    exec(compile(code, block.id, "exec"), {"__name__": "__readme__"})


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_snippet_runs_as_written(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _run_snippet(block, tmp_path)


# -- commands in bash blocks -------------------------------------------------------------------


class Accepted(Exception):
    """Raised by the stubs: the command got as far as starting its work."""


def _stub_the_work(monkeypatch) -> None:
    def stop(*args, **kwargs):
        raise Accepted

    def planned_sweep(file, *args, seed=None, **kwargs):
        api.plan_sweep(file, seed=seed)  # parses and checks the sweep file, runs nothing
        raise Accepted

    for name in ("run", "verify", "collapse_speed", "write_report"):
        monkeypatch.setattr(api, name, stop)
    monkeypatch.setattr(api, "sweep", planned_sweep)


def _working_folder(folder: Path) -> None:
    """The files the README's commands name, where a user following it would have them."""
    (folder / "examples").symlink_to(ROOT / "examples")
    toml = next(b for b in BLOCKS if b.lang == "toml" and "experiment.toml" in b.text)
    (folder / "experiment.toml").write_text(toml.text)
    (folder / "my-text.txt").write_text("the cat sat on the mat and the dog sat on the log\n" * 50)


@pytest.mark.parametrize(("block", "argv"), BASH_COMMANDS,
                         ids=[f"{b.id}:{' '.join(a)[:40]}" for b, a in BASH_COMMANDS])
def test_command_is_accepted_as_written(block, argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _working_folder(tmp_path)
    _stub_the_work(monkeypatch)
    if argv[:1] == ["sweep"] and any(a in ("--scheduler", "--dask-local") for a in argv):
        pytest.skip("needs a Dask cluster; the same options are tested in tests/test_sweep.py")
    code = None
    try:
        code = cli.main(argv)
    except Accepted:
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    assert code == 0, f"{block.id}: modelcollapse {' '.join(argv)}\n{capsys.readouterr().err}"


# -- transcripts -------------------------------------------------------------------------------

#: Lines whose content depends on the machine or the moment.
VOLATILE = re.compile(r"^(wall time |seed \d+ \(drawn|figures: |results: |report: )")


def _transcript(block: Block) -> tuple[list[str], list[str]]:
    first, *shown = block.text.rstrip("\n").splitlines()
    return shlex.split(first[2:])[1:], shown


RUNNABLE = [b for b in TRANSCRIPTS if "^C" not in b.text]


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_transcript_matches_the_command_output(block, tmp_path):
    argv, shown = _transcript(block)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "modelcollapse", *argv, "--out",
                           str(tmp_path / "out")] if argv[0] == "run" and "--out" not in argv
                          else [sys.executable, "-m", "modelcollapse", *argv],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    printed = (done.stdout + done.stderr).splitlines()
    expected = [line for line in shown if not VOLATILE.match(line)]
    got = [line for line in printed if not VOLATILE.match(line)]
    assert got == expected, f"{block.id}: the README shows other output than the command prints"


def test_the_interrupt_transcript_names_the_sweeps_real_unit_count(tmp_path):
    """The Ctrl-C transcript cannot be rerun, but its unit count is the sweep's own."""
    (block,) = [b for b in TRANSCRIPTS if "^C" in b.text]
    argv, _ = _transcript(block)
    plan = api.plan_sweep(ROOT / argv[1])
    totals = {int(n) for n in re.findall(r"of (\d+)", block.text)}
    assert totals == {plan.n_units}, (totals, plan.n_units)


# -- output shown as an excerpt ----------------------------------------------------------------

SRC = ROOT / "src" / "modelcollapse"


def test_the_layout_names_every_module_and_folder_that_exists_and_no_other():
    (block,) = [b for b in OUTPUTS if b.text.startswith("core:")]
    top = set(re.findall(r"^  (\S+?\.py|\S+?/)\s", block.text, flags=re.M))
    actual = {p.name + ("/" if p.is_dir() else "") for p in SRC.iterdir()
              if p.name != "__init__.py" and not p.name.startswith((".", "__pycache__"))
              and (p.is_dir() or p.suffix == ".py")}
    assert top == actual
    for folder, listed in re.findall(r"^ {4}(\S+)/\s+[^:]*: (.*(?:\n {21}.*)*)", block.text,
                                     flags=re.M):
        named = set(re.findall(r"(\w+\.py)", listed))
        files = {p.name for p in (SRC / "families" / folder).glob("*.py")} - {"__init__.py"}
        assert named == files, folder
    listed = re.search(r"families/ +(.*(?:\n {21}\S.*)*)", block.text)[1]  # continued lines too
    named = set(re.findall(r"(\w+\.py)", listed))
    assert named == {p.name for p in (SRC / "families").glob("*.py")} - {"__init__.py"}


def test_the_synopsis_names_only_options_its_command_has():
    (block,) = [b for b in OUTPUTS if b.text.startswith("modelcollapse run [FAMILY]")]
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.choices and "run" in a.choices).choices
    for synopsis in re.split(r"\n(?=modelcollapse )", block.text.strip()):
        command = synopsis.split()[1]
        known = {flag for action in commands[command]._actions for flag in action.option_strings}
        written = set(re.findall(r"(--[a-z][a-z-]*)", synopsis))
        assert written and written <= known, (command, written - known)


def test_the_ngram_sample_texts_are_what_the_command_prints(tmp_path):
    (block,) = [b for b in OUTPUTS if b.text.startswith("sample text of replicate 0")]
    (argv,) = [a for _, a in BASH_COMMANDS if "--corpus" in a and "demo" in a]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "modelcollapse", *argv, "--seed", "7",
                           "--no-plots", "--out", str(tmp_path / "out")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    for line in block.text.rstrip("\n").splitlines():
        assert line in printed, line


# -- coverage ----------------------------------------------------------------------------------


def test_every_block_is_checked():
    assert len(OUTPUTS) == 3, "a new output excerpt needs a test above that compares it"
    checked = {b.line for b in PYTHON + TRANSCRIPTS + OUTPUTS}
    checked |= {b.line for b in BLOCKS if b.lang in ("bash", "toml")}
    unchecked = [b.id for b in BLOCKS if b.line not in checked]
    assert not unchecked, f"blocks of a kind no test checks: {unchecked}"
    assert PYTHON and TRANSCRIPTS and BASH_COMMANDS


def test_the_setup_block_is_the_readme_s_first_and_has_two_commands():
    first = BLOCKS[0]
    assert first.lang == "bash" and first.text.splitlines() == [
        "pip install . && modelcollapse run", "pip install '.[test]' && python -m pytest"]


def test_toml_examples_are_valid(tmp_path):
    import tomllib

    for block in (b for b in BLOCKS if b.lang == "toml"):
        tomllib.loads(block.text)


def test_the_readme_is_found():
    assert README.is_file() and shutil.which(sys.executable)
