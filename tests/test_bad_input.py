"""Bad input, end to end: one line naming the option and what is allowed, exit status 2.

Every case of :data:`BAD_INPUTS` is run as a user would run it, in a fresh working folder holding
the files the cases refer to (:func:`make_files`), and must

* exit with status 2,
* write exactly one line to standard error, ``modelcollapse <command>: error: ...``, that
  contains the expected text (which names the option as the user wrote it),
* print no traceback and announce nothing on standard output (the input is checked before any
  work starts, so nothing was started),
* leave the working folder exactly as it was (no ``runs/``, no half-written or hidden folder).

The cases are issue 19's, grouped as its items: files given to ``--config`` and sweeps, where
the output goes, the bounds of the integer options, parse errors, options that have no effect in
the chosen setting, and the n-gram family's own messages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import modelcollapse as mc
from modelcollapse.config import MAX_SIZES
from modelcollapse.errors import ConfigError
from modelcollapse.families import FAMILIES
from modelcollapse.results.folders import prepare_output, prepare_output_file

#: A place nobody can create anything in, root included.
UNWRITABLE = "/proc/modelcollapse-test"

SWEEP = ('[experiment]\nfamily = "coin"\ngenerations = 3\nreplicates = 2\n'
         '[grid]\nsamples = [5, 10]\n')


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "modelcollapse", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def make_files(folder: Path) -> None:
    """The files the cases name, each bad in one way."""
    files = {
        "afile": "not a folder\n",
        # --config: tables and arrays where a scalar is expected, bytes that are not UTF-8
        "family-table.toml": '[family]\nname = "coin"\n',
        "family-list.toml": 'family = ["coin"]\n',
        "family-empty.toml": 'family = ""\nsamples = 5\n',
        "samples-table.toml": 'family = "coin"\n[samples]\nn = 3\n',
        "policy-list.toml": 'family = "coin"\npolicy = ["mix"]\n',
        "out-list.toml": 'family = "coin"\nout = [1]\n',
        "corpus-table.toml": 'family = "ngram"\ncorpus = {path = "x.txt"}\n',
        "means-bools.toml": 'family = "gmm"\nmeans = [true, 2]\n',
        # sweeps
        "sweep.toml": SWEEP,
        "sweep-family-table.toml": '[experiment]\nfamily = {a = 1}\n[grid]\nsamples = [5]\n',
        "sweep-grid-family.toml": '[experiment]\ngenerations = 3\n[grid]\nfamily = [{a = 1}]\n',
        "sweep-out-table.toml": ('[experiment]\nfamily = "coin"\nout = {a = 1}\n'
                                 '[grid]\ngenerations = [2]\n'),
        "sweep-workers-0.toml": ('[experiment]\nfamily = "coin"\nworkers = 0\n'
                                 '[grid]\nsamples = [5, 10]\n'),
        # corpora
        "blank.txt": "   \n\n  \t \n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "latin1.toml").write_bytes(b'family = "coin"\n# caf\xe9\n')
    (folder / "sweep-latin1.toml").write_bytes(b'[experiment]\n# caf\xe9\n[grid]\nsamples = [5]\n')
    (folder / "a-folder").mkdir()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (hidden ones too) with its bytes (``None``: a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A finished run for the ``report`` cases (outside every case's working folder)."""
    return mc.run(mc.RunConfig("coin", n_generations=3, n_replicates=2, seed=1),
                  out=tmp_path_factory.mktemp("report") / "coin", plots=False).path


#: (arguments, text the one line must contain). ``RUN`` stands for a finished run folder.
BAD_INPUTS: list[tuple[list[str], str]] = [
    # 1. --config and sweep files: folders, tables and arrays for scalars, not UTF-8
    (["run", "--config", "a-folder"], "--config must be a TOML file, not a folder"),
    (["run", "--config", "missing.toml"], "--config must name an existing TOML file"),
    (["run", "--config", "family-table.toml"],
     "family (in family-table.toml) must be one of coin, categorical, gaussian, gmm, ngram, "
     "mvgaussian, regression, kde, vae, charlm (got {'name': 'coin'})"),
    (["run", "--config", "family-list.toml"], "family (in family-list.toml) must be one of"),
    (["run", "--config", "samples-table.toml"],
     "samples (in samples-table.toml) must be an integer (got {'n': 3})"),
    (["run", "--config", "policy-list.toml"], "policy (in policy-list.toml) must be one of"),
    (["run", "--config", "out-list.toml"], "out (in out-list.toml) must be a folder path"),
    (["run", "--config", "corpus-table.toml"], "corpus (in corpus-table.toml) must be a string"),
    (["run", "--config", "means-bools.toml"],
     "means (in means-bools.toml) must be a comma-separated list of numbers"),
    (["run", "--config", "latin1.toml"],
     "--config must be UTF-8 text (as TOML requires); byte 0xe9 at offset 21 is not"),
    (["sweep", "a-folder"], "SWEEP.toml must be a TOML file, not a folder"),
    (["sweep", "sweep-latin1.toml"], "sweep-latin1.toml must be UTF-8 text"),
    (["sweep", "sweep-family-table.toml"],
     "family (in [experiment] of sweep-family-table.toml) must be one of"),
    (["sweep", "sweep-grid-family.toml"],
     "family (in [grid] of sweep-grid-family.toml) must be one of"),
    (["sweep", "sweep-out-table.toml"],
     "out (in [experiment] of sweep-out-table.toml) must be a folder path"),
    (["sweep", "sweep-workers-0.toml"],
     "workers (in [experiment] of sweep-workers-0.toml) must be an integer ≥ 1"),
    # 2. where the output goes: below a file, unwritable, a file (checked before any work)
    (["run", "coin", "--out", "afile/sub"],
     "--out must be a new or empty folder; afile is a file, so no folder can be made in it"),
    (["run", "coin", "--out", UNWRITABLE], "--out must be a new or empty folder; nothing can "
     "be written in /proc"),
    (["run", "coin", "--out", "afile"], "--out must be a new or empty folder; it is a file"),
    (["run", "coin", "--out", ""], "--out must be a folder path"),
    (["sweep", "sweep.toml", "--out", "afile/sub"],
     "--out must be a folder; afile is a file, so no folder can be made in it"),
    (["sweep", "sweep.toml", "--out", UNWRITABLE], "--out must be a folder; nothing can be "
     "written in /proc"),
    (["sweep", "sweep.toml", "--out", "afile"], "--out must be a folder; it is a file"),
    (["report", "RUN", "--out", "afile/sub.html"], "--out must be a file in an existing folder"),
    (["report", "RUN", "--out", UNWRITABLE], "--out must be a file in a folder you can write"),
    (["report", "RUN", "--out", "a-folder"], "--out must be a file; it is a folder"),
    (["verify", "--quick", "--out", UNWRITABLE], "--out must be a new or empty folder; nothing "
     "can be written in /proc"),
    (["verify", "--quick", "--out", "afile/sub"], "afile is a file, so no folder can be made"),
    (["verify", "--quick", "--out", "afile"], "--out must be a new or empty folder; it is a file"),
    (["collapse-speed", "coin", "--out", UNWRITABLE], "--out must be a new or empty folder; "
     "nothing can be written in /proc"),
    (["collapse-speed", "coin", "--out", "afile"], "--out must be a new or empty folder; it is "
     "a file"),
    # 3. the integer options' bounds, named in the message
    (["run", "coin", "--samples", "1e30"],
     "--samples must be an integer between 1 and 10^12 (got 1e+30)"),
    (["run", "categorical", "--samples", "1e30"], "--samples must be an integer between 1 and "
     "10^12"),
    (["run", "gaussian", "--samples", "1e30"], "--samples must be an integer between 1 and "
     "10^12"),
    (["run", "coin", "--samples", "1000000000001"], "--samples must be an integer between 1 "
     "and 10^12 (got 1000000000001)"),
    (["run", "coin", "--replicates", "1e18"], "--replicates must be an integer between 1 and "
     "10^9 (got 1e+18)"),
    (["run", "coin", "--generations", "1e30"], "--generations must be an integer between 1 and "
     "10^7"),
    (["run", "coin", "--policy", "accumulate", "--samples", "1e12", "--generations", "1e7"],
     "--samples × --generations is too large for policy accumulate"),
    (["run", "coin", "--seed", "1e999999999"], "--seed must be an integer below 10^300"),
    # every command reads --seed by run's rule: 1e3 is 1000, 1.5 and -1 are refused alike
    (["verify", "--quick", "--seed", "-1"], "modelcollapse verify: error: --seed must be an "
     "integer ≥ 0 (got -1)"),
    (["verify", "--quick", "--seed", "1.5"], "--seed must be an integer (got 1.5)"),
    (["verify", "--quick", "--seed", "1e999999999"], "--seed must be an integer below 10^300"),
    (["sweep", "sweep.toml", "--seed", "1.5"], "--seed must be an integer (got 1.5)"),
    (["run", "coin", "--workers", "1e30"], "--workers must be an integer between 1 and 1024"),
    (["sweep", "sweep.toml", "--workers", "5000"], "--workers must be an integer between 1 and "
     "1024"),
    (["sweep", "sweep.toml", "--dask-local", "1e30"], "--dask-local must be an integer between "
     "1 and 1024"),
    (["collapse-speed", "gaussian", "--samples", "1e30"], "--samples must be an integer between "
     "1 and 10^12"),
    (["collapse-speed", "coin", "--replicates", "1e30"], "--replicates must be an integer "
     "between 1 and 10^9"),
    (["run", "ngram", "--heldout", "1e30"], "--heldout must be an integer between 1 and 10^8"),
    (["run", "ngram", "--vocab", "1e30"], "--vocab must be at most 4,194,304"),
    (["run", "gmm", "--max-iter", "1e30"], "--max-iter must be an integer between 1 and 10^6 "
     "(got 1e+30)"),
    (["run", "gmm", "--max-iter", "0"], "--max-iter must be an integer between 1 and 10^6"),
    (["run", "gmm", "--components", "41"], "--components must be an integer between 1 and 40 "
     "(got 41)"),
    (["run", "gmm", "--components", "1e30"], "--components must be an integer between 1 and 40"),
    (["run", "gmm", "--means", ",".join(map(str, range(41)))], "--means must have at most 40 "
     "values (one per component)"),
    # 4. parse errors name the subcommand and the nearest option; no abbreviations
    (["run", "coin", "--sample", "10"],
     "modelcollapse run: error: unrecognized arguments: --sample 10 (did you mean --samples?)"),
    (["run", "coin", "--replicate", "5"], "(did you mean --replicates?)"),
    (["run", "coin", "--replicate=5"], "(did you mean --replicates?)"),
    (["run", "coin", "--shortcut=", "--samples", "5"], "modelcollapse run: error: --shortcut and "
     "--no-shortcut must be written without a value (got '')"),
    (["run", "coin", "--no-shortcut=yes"], "--shortcut and --no-shortcut must be written without "
     "a value (got 'yes')"),
    # found by tests/test_properties.py: a value for a flag that takes none, blank arguments
    # and an empty family name (which ran the classic GMM) are named and quoted
    (["run", "coin", "--no-progress=1"], "modelcollapse run: error: --no-progress must be "
     "written without a value (got '1')"),
    (["sweep", "sweep.toml", "--dry-run=yes"], "--dry-run must be written without a value "
     "(got 'yes')"),
    (["run", "coin", "--shortcut", ""], "unrecognized arguments: '' (see modelcollapse run "
     "--help)"),
    (["run", "", "--samples", "5"], "family must be one of coin, categorical, gaussian, gmm, "
     "ngram, mvgaussian, regression, kde, vae, charlm (got '')"),
    (["run", "coin ", "--samples", "5"], "family must be one of coin, categorical, gaussian, "
     "gmm, ngram, mvgaussian, regression, kde, vae, charlm (got 'coin ')"),
    (["run", "--config", "family-empty.toml"], "family (in family-empty.toml) must be one of "
     "coin, categorical, gaussian, gmm, ngram, mvgaussian, regression, kde, vae, charlm (got '')"),
    (["run", "coin", "--gen", "5"], "modelcollapse run: error: unrecognized arguments: --gen 5"),
    (["sweep", "sweep.toml", "--worker", "2"], "modelcollapse sweep: error: unrecognized "
     "arguments: --worker 2 (did you mean --workers?)"),
    (["verify", "--quik"], "modelcollapse verify: error: unrecognized arguments: --quik (did "
     "you mean --quick?)"),
    (["collapse-speed", "coin", "--replicate", "3"], "modelcollapse collapse-speed: error: "
     "unrecognized arguments: --replicate 3 (did you mean --replicates?)"),
    (["report", "RUN", "--titel", "x"], "modelcollapse report: error: unrecognized arguments: "
     "--titel x (did you mean --title?)"),
    # 5. an option that has no effect in the chosen setting is refused, naming why
    (["run", "ngram", "--add-k", "0.5"], "--add-k has no effect with smoothing kn"),
    (["run", "ngram", "--add-k", "1"], "--add-k has no effect with smoothing kn"),  # = default
    (["run", "ngram", "--smoothing", "mle", "--add-k", "0.5"], "--add-k has no effect with "
     "smoothing mle"),
    (["run", "ngram", "--smoothing", "mle", "--discount", "0.5"], "--discount has no effect "
     "with smoothing mle"),
    (["run", "ngram", "--smoothing", "add-k", "--discount", "0.5"], "--discount has no effect "
     "with smoothing add-k"),
    (["run", "ngram", "--tokens", "words"], "--tokens has no effect without corpus"),
    (["run", "ngram", "--max-vocab", "50"], "--max-vocab has no effect without corpus"),
    (["run", "ngram", "--corpus", "demo", "--density", "0.5"], "--density has no effect with "
     "corpus"),
    (["run", "ngram", "--corpus", "demo", "--truth-seed", "3"], "--truth-seed has no effect "
     "with corpus"),
    (["run", "ngram", "--corpus", "demo", "--heldout", "500"], "--heldout has no effect with "
     "corpus"),
    (["run", "coin", "--collapse-fraction", "0.3"], "--collapse-fraction has no effect for coin "
     "(it sets the collapse time, and coin runs record absorption instead)"),
    (["run", "categorical", "--collapse-fraction", "0.3"], "--collapse-fraction has no effect "
     "for categorical"),
    (["run", "gaussian", "--fit", "mean", "--estimator", "mle"], "--estimator has no effect "
     "with fit mean"),
    (["run", "gaussian", "--fit", "mean", "--collapse-fraction", "0.2"], "--collapse-fraction "
     "has no effect with fit mean"),
    (["sweep", "sweep.toml", "--dask-local", "2", "--workers", "2"], "--workers has no effect "
     "with --dask-local"),
    # 6. the n-gram family's messages blame the right option, briefly
    (["run", "ngram", "--corpus", "blank.txt"], "--corpus holds no text to learn from (the "
     "file is only whitespace)"),
    (["run", "ngram", "--order", "50"], "--order must be at most 3 with V = 100 tokens"),
    (["run", "ngram", "--order", "1e30"], "--order must be at most 3 with V = 100 tokens"),
    (["run", "ngram", "--length", "1000000"], "--length must be at most samples (N = 10,000"),
    (["run", "ngram", "--samples", "40"], "--length must be at most samples (N = 40"),
    (["collapse-speed", "ngram", "--samples", "10"], "--samples must be at least the sequence "
     "length L = 50"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS,
                         ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, run_folder, argv, message):
    make_files(tmp_path)
    before = snapshot(tmp_path)
    args = [str(run_folder) if a == "RUN" else a for a in argv]
    done = cli(*args, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"modelcollapse {argv[0]}: error: "), lines[0]
    assert message in lines[0], lines[0]
    assert done.stdout == "", "nothing may be announced before the input is checked"
    assert snapshot(tmp_path) == before


def test_the_table_covers_every_command_once():
    assert {argv[0] for argv, _ in BAD_INPUTS} == {"run", "sweep", "report", "verify",
                                                     "collapse-speed"}
    assert len(BAD_INPUTS) == len({tuple(argv) for argv, _ in BAD_INPUTS})


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads a file whatever its permissions")
def test_unreadable_config_file_is_one_line(tmp_path):
    path = tmp_path / "secret.toml"
    path.write_text('family = "coin"\n')
    path.chmod(0)
    try:
        done = cli("run", "--config", "secret.toml", cwd=tmp_path)
    finally:
        path.chmod(0o644)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("modelcollapse run: error: --config cannot be read: "
                                   "Permission denied (got secret.toml)")
    assert not (tmp_path / "runs").exists()


# -- 2. the one check of where output goes -------------------------------------------------------


def test_prepare_output_refuses_each_bad_place_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep").write_text("x")
    before = snapshot(tmp_path)
    for path, why in [("afile", "it is a file"), ("full", "it already holds files"),
                      ("afile/sub/deeper", "afile is a file"),
                      (UNWRITABLE, "nothing can be written in /proc")]:
        with pytest.raises(ConfigError, match=why) as err:
            prepare_output(path)
        assert err.value.field == "out" and err.value.value == path
    assert prepare_output("new/deeper") == Path("new/deeper")  # parents are made later
    assert prepare_output("full", may_hold_files=True) == Path("full")  # a sweep resumes
    assert snapshot(tmp_path) == before
    assert prepare_output_file("afile") == Path("afile")  # an existing file is overwritten
    with pytest.raises(ConfigError, match="it is a folder"):
        prepare_output_file("full")
    assert snapshot(tmp_path) == before


def test_a_default_folder_that_cannot_be_made_names_the_flag(tmp_path):
    (tmp_path / "runs").write_text("a file where the results folders go\n")
    done = cli("run", "coin", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("modelcollapse run: error: --out must be a new or empty "
                                  "folder; runs is a file, so no folder can be made in it")


def test_a_sweep_folder_is_still_resumed(tmp_path):
    (tmp_path / "sweep.toml").write_text(SWEEP)
    first = cli("sweep", "sweep.toml", "--out", "s", "--seed", "1", "--workers", "1",
                "--no-plots", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = cli("sweep", "sweep.toml", "--out", "s", "--workers", "1", "--no-plots",
                cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("modelcollapse ") and "sweep sweep.toml" in again.stdout


# -- 3. bounds: the largest values are accepted, representable, and run without warnings ---------


@pytest.mark.parametrize("family", ["coin", "categorical", "gaussian"])
def test_the_largest_sample_size_runs_cleanly(tmp_path, family):
    done = cli("run", family, "--samples", "1e12", "--generations", "2", "--replicates", "2",
               "--seed", "1", "--no-plots", "--out", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr
    result = mc.load(tmp_path / "r")
    assert result.config.n_samples == 10**12
    assert result.metrics["value"].notna().all()


def test_bounds_are_inclusive_and_hold_for_python_callers():
    config = mc.RunConfig("coin", n_samples=MAX_SIZES["n_samples"],
                          n_generations=MAX_SIZES["n_generations"],
                          n_replicates=MAX_SIZES["n_replicates"])
    assert (config.n_samples, config.n_generations, config.n_replicates) == (
        10**12, 10**7, 10**9)
    for name, bound in MAX_SIZES.items():
        with pytest.raises(ConfigError, match="must be an integer between 1 and 10") as err:
            mc.RunConfig("coin", **{name: bound + 1})
        assert err.value.field == name
    # every count an accumulating set forms stays inside int64
    mc.RunConfig("coin", policy="accumulate", n_samples=10**11, n_generations=10**7 - 1)
    with pytest.raises(ConfigError, match=re.escape("N × (G + 1), about 1.0 × 10^19")):
        mc.RunConfig("coin", policy="accumulate", n_samples=10**12, n_generations=10**7)


def test_integers_in_exponent_notation_are_read_exactly():
    from modelcollapse.options import Option, parse_value

    option = Option("samples", "int", "", "run", "n_samples")
    assert parse_value(option, "1e12", "--samples") == 10**12
    assert parse_value(option, "2.5e3", "--samples") == 2500
    assert parse_value(option, "1e30", "--samples") == 10**30  # exactly, not a rounded float
    for text in ("1.5", "nan", "inf", "0x10", "1e-3"):
        with pytest.raises(ConfigError, match="must be an integer"):
            parse_value(option, text, "--samples")


def test_every_command_reads_a_seed_by_the_same_rule():
    from modelcollapse.cli import _parse_seed

    assert _parse_seed("1e3") == 1000 and _parse_seed("20261121") == 20261121


# -- 4. parser ---------------------------------------------------------------------------------


def test_abbreviations_are_refused_everywhere():
    from modelcollapse.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert parser.allow_abbrev is False
    assert all(sub.allow_abbrev is False for sub in commands.values())


# -- 5. options without effect --------------------------------------------------------------------


def test_options_with_effect_are_accepted(tmp_path):
    done = cli("run", "ngram", "--smoothing", "add-k", "--add-k", "0.5", "--samples", "200",
               "--generations", "2", "--replicates", "2", "--seed", "1", "--no-plots",
               "--out", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mc.load(tmp_path / "r").config.model.add_k == 0.5


def test_idle_settings_name_why_and_only_explicit_options_are_refused():
    assert mc.NGram().idle_settings().keys() == {"add_k", "tokens", "max_vocab"}
    assert set(mc.NGram(smoothing="mle").idle_settings()) == {"add_k", "discount", "tokens",
                                                              "max_vocab"}
    assert "collapse_fraction" in mc.Coin().idle_settings()
    assert not mc.Gaussian().idle_settings()
    assert mc.Gaussian(refit="mean").idle_settings().keys() == {"estimator", "collapse_fraction"}
    for cls in FAMILIES:  # every idle name is a field of the family, or the run's threshold
        names = {f for f in cls.__dataclass_fields__} | {"collapse_fraction"}
        assert set(cls().idle_settings()) <= names
    # Python callers (and stored configurations, which carry every field) are not refused
    assert mc.NGram(add_k=0.5).add_k == 0.5


def test_a_sweep_skips_the_cells_where_an_option_has_no_effect():
    plan = mc.plan_sweep({"experiment": {"family": "ngram", "add-k": 0.5, "generations": 2},
                          "grid": {"smoothing": ["add-k", "kn"]}})
    assert [c.cell.values["smoothing"] for c in plan.cells] == ["add-k"]
    assert "add-k has no effect with smoothing kn" in plan.skipped[0].reason


# -- 6. n-gram ---------------------------------------------------------------------------------


def test_order_message_is_short_for_any_order():
    for order in (4, 50, 10**30):
        with pytest.raises(ConfigError) as err:
            mc.NGram(order=order)
        assert "must be at most 3 with V = 100 tokens" in str(err.value)
        assert len(str(err.value)) < 300
