"""Faults: a sweep killed outright leaves no process behind and reads as "interrupted (process
gone)"; one sweep at a time runs a folder; partial folders of killed runs are cleaned up.

The kills are real (SIGKILL of a real ``modelcollapse`` process). Every wait is bounded and
only waits for a state to be reached; no test asserts how long anything takes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import modelcollapse as mc
from modelcollapse.cli import main
from modelcollapse.errors import ConfigError
from modelcollapse.results.folders import (
    PARTIAL_WRITER,
    process_record,
    process_start,
    record_gone,
    remove_stale_partials,
)
from modelcollapse.sweeps.driver import sweep
from modelcollapse.sweeps.store import GONE, LOCK, SweepFolder, SweepLock, sweep_status
from test_sweep import sorted_metrics, write_toml

psutil = pytest.importorskip("psutil")  # installed with distributed (the test extra)

#: Eight work units of about half a second each: long enough to be killed with units in flight,
#: short enough to run whole twice in a test.
KILL_FILE = """
    [experiment]
    family = "gaussian"
    policy = "accumulate"
    samples = 200
    generations = 200
    replicates = 12
    seed = 5
    [grid]
    std = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
"""

#: A sweep of three quick cells, for what needs no real kill.
QUICK = {"experiment": {"family": "coin", "generations": 40, "replicates": 20, "seed": 3},
         "grid": {"samples": [5, 10, 20]}}

HOST = socket.gethostname()


def cli(*args: str, cwd: Path, log: Path) -> subprocess.Popen:
    """``modelcollapse ARGS`` in its own session, output to a file: a pipe would keep a test
    waiting for as long as any process left behind holds it open."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "modelcollapse", *args], cwd=cwd,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until(reached: Callable[[], bool], process: subprocess.Popen, log: Path,
               what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not reached():
        if process.poll() is not None:
            pytest.fail(f"the command ended before {what}: {log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s")
        time.sleep(0.02)


def survivors(processes: list, timeout: float = 30.0) -> list:
    """The processes still running (a zombie has ended) once they stop or ``timeout`` passes."""
    def running(p) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while any(running(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in processes if running(p)]


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def dead_record() -> dict:
    return {**process_record(), "pid": dead_pid(), "process_start": None}


# -- a sweep killed outright -------------------------------------------------------------------


def test_a_killed_sweep_leaves_no_process_behind_and_resumes_to_the_same_numbers(tmp_path,
                                                                                 capsys):
    file = write_toml(tmp_path / "kill.toml", KILL_FILE)
    out = tmp_path / "killed"
    args = ("sweep", str(file), "--out", str(out), "--workers", "2", "--no-plots")
    log = tmp_path / "killed.log"
    process = cli(*args, cwd=tmp_path, log=log)
    family: list = []
    try:
        wait_until(lambda: bool(SweepFolder(out).finished_units()), process, log,
                   "a finished unit")
        # Collected before the kill: afterwards the orphans' parent is no longer the sweep.
        family = psutil.Process(process.pid).children(recursive=True)
        served = [p for p in family if "forkserver" in " ".join(p.cmdline())]
        assert len(served) >= 3, "the fork server and two workers should be running"

        # A second sweep into the same folder, while the first runs, is refused: one line
        # naming the first, exit status 2, and the manifest is left as the first wrote it.
        before = (out / "manifest.json").read_text()
        assert main(list(args)) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert f"is being run by another sweep (pid {process.pid} on {HOST} since " in err
        assert (out / "manifest.json").read_text() == before

        process.kill()
        process.wait(timeout=60)
        left = survivors(family)
        assert not left, f"left behind: {[(p.pid, p.cmdline()[:3]) for p in left]}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for p in family:  # whatever a failed assertion above left, never leave it running
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass

    finished = SweepFolder(out).finished_units()
    assert 1 <= len(finished) < 8
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    killed = mc.load(out)
    assert killed.status == GONE and not killed.complete
    with pytest.raises(FileNotFoundError, match=r"interrupted \(process gone\); run it again"):
        killed.summary  # noqa: B018 (the property raises)

    resumed = subprocess.run([sys.executable, "-m", "modelcollapse", *args], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (f"the previous session was interrupted (process gone): pid {process.pid} on {HOST}"
            in resumed.stdout)
    assert f"{len(finished)} of 8 units already done" in resumed.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and mc.load(out).status == "complete"
    assert [s.get("status") for s in manifest["sessions"]] == [GONE, None]

    reference = tmp_path / "reference"
    sweep(file, out=reference, workers=1, plots=False)
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(reference))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"),
                                  pd.read_parquet(reference / "summary.parquet"))


# -- "running" against "interrupted (process gone)", without a real kill ----------------------


@pytest.fixture
def quick_sweep(tmp_path) -> Path:
    out = tmp_path / "quick"
    sweep(QUICK, out=out, workers=1, plots=False)
    return out


def as_if_killed(out: Path, record: dict) -> None:
    """Make ``out`` look like a sweep whose session (run by ``record``) was killed mid-way."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"
    manifest["sessions"][-1] = {"started": manifest["sessions"][-1]["started"],
                                "units_already_done": 0, "process": record}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "summary.parquet").unlink()
    next(iter(sorted((out / "metrics").glob("*.parquet")))).unlink()


def test_a_running_manifest_whose_process_is_gone_reads_as_interrupted(quick_sweep):
    record = dead_record()
    as_if_killed(quick_sweep, record)
    result = mc.load(quick_sweep)
    assert result.status == GONE == "interrupted (process gone)"
    assert "interrupted (process gone)" in repr(result)
    manifest = result.manifest
    # alive, the same process: running
    assert sweep_status({**manifest, "sessions": [{"process": process_record()}]}) == "running"
    # the pid alive but as another process (reused): gone
    reused = {**process_record(), "process_start": "another-boot/1"}
    if process_start(os.getpid()) is not None:
        assert sweep_status({**manifest, "sessions": [{"process": reused}]}) == GONE
    # another machine, or no record (an older version): cannot be told, so running
    elsewhere = {**record, "host": "another-machine"}
    assert sweep_status({**manifest, "sessions": [{"process": elsewhere}]}) == "running"
    assert sweep_status({**manifest, "sessions": [{}]}) == "running"
    # a sweep that stopped cleanly keeps its own word
    assert sweep_status({**manifest, "status": "interrupted"}) == "interrupted"


def test_the_report_of_a_killed_sweep_says_its_process_is_gone(quick_sweep):
    pytest.importorskip("plotly")
    record = dead_record()
    as_if_killed(quick_sweep, record)
    page = mc.write_report(quick_sweep).read_text()
    assert "interrupted (process gone)" in page
    assert f"pid {record['pid']} on {HOST}" in page
    assert "This sweep is running" not in page


def test_resuming_a_sweep_whose_process_is_gone_says_so_in_one_line(quick_sweep):
    record = dead_record()
    as_if_killed(quick_sweep, record)
    lines: list[str] = []
    result = sweep(QUICK, out=quick_sweep, workers=1, plots=False, log=lines.append)
    notes = [line for line in lines if "previous session" in line]
    assert notes == [f"the previous session was interrupted (process gone): pid {record['pid']} "
                     f"on {HOST} since {record['since']} was killed before it could record its "
                     "end"]
    assert result.status == "complete"
    sessions = result.manifest["sessions"]
    assert sessions[-2]["status"] == GONE
    assert sessions[-1]["process"]["pid"] == os.getpid()
    assert sessions[-1]["process"]["host"] == HOST and sessions[-1]["process"]["since"]


# -- one sweep per folder ----------------------------------------------------------------------


def test_a_sweep_into_a_locked_folder_exits_2_naming_the_holder(quick_sweep, tmp_path):
    lock = SweepLock(quick_sweep)
    assert lock.acquire()
    before = (quick_sweep / "manifest.json").read_text()
    try:
        file = tmp_path / "quick.toml"
        file.write_text("[experiment]\nfamily = 'coin'\ngenerations = 40\nreplicates = 20\n"
                        "seed = 3\n[grid]\nsamples = [5, 10, 20]\n")
        refused = subprocess.run([sys.executable, "-m", "modelcollapse", "sweep", str(file),
                                  "--out", str(quick_sweep), "--workers", "1", "--no-plots"],
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, refused.stderr
        since = lock.holder()["since"]
        assert lines[0].startswith("modelcollapse sweep: error: --out is being run by another "
                                   f"sweep (pid {os.getpid()} on {HOST} since {since})")
        assert refused.stdout == ""
        with pytest.raises(ConfigError, match=f"pid {os.getpid()} on "):
            sweep(QUICK, out=quick_sweep, workers=1, plots=False)
        assert (quick_sweep / "manifest.json").read_text() == before
    finally:
        lock.release()
    assert sweep(QUICK, out=quick_sweep, workers=1, plots=False).status == "complete"


def test_the_lock_dies_with_its_process(tmp_path):
    folder = tmp_path / "s"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom modelcollapse.sweeps.store import SweepLock\n"
         f"assert SweepLock({str(folder)!r}).acquire()\nprint('locked', flush=True)\n"
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=f"another sweep \\(pid {holder.pid} on "):
            sweep(QUICK, out=folder, workers=1, plots=False)
        assert [p.name for p in folder.iterdir()] == [LOCK]  # the refused sweep wrote nothing
    finally:
        holder.kill()
        holder.wait()
    lock = SweepLock(folder)
    assert lock.acquire()  # SIGKILL released it
    lock.release()


def test_a_sweep_refused_before_any_work_leaves_no_folder(tmp_path, monkeypatch):
    from modelcollapse.sweeps import driver

    def unreachable(**_):
        raise ConfigError("--scheduler", "could not connect to a Dask scheduler there")

    monkeypatch.setattr(driver, "make_executor", unreachable)
    with pytest.raises(ConfigError, match="could not connect"):
        sweep(QUICK, out=tmp_path / "new" / "s", plots=False)
    assert not (tmp_path / "new").exists()  # nor the lock file, nor the folders made for it
    monkeypatch.undo()

    out = tmp_path / "kept"
    sweep(QUICK, out=out, workers=1, plots=False)
    names = sorted(p.name for p in out.iterdir())
    assert LOCK in names
    changed = {"experiment": {**QUICK["experiment"], "generations": 41}, "grid": QUICK["grid"]}
    with pytest.raises(ConfigError, match="holds a different sweep"):
        sweep(changed, out=out, workers=1, plots=False)
    assert sorted(p.name for p in out.iterdir()) == names  # the lock file stays, unlocked
    lock = SweepLock(out)
    assert lock.acquire()
    lock.release()


# -- partial folders of killed runs ------------------------------------------------------------


def partial(parent: Path, name: str, pid: int, record: dict | None) -> Path:
    folder = parent / f".{name}.partial-{pid}"
    folder.mkdir(parents=True)
    (folder / "metrics.parquet").write_bytes(b"half a table")
    if record is not None:
        (folder / PARTIAL_WRITER).write_text(json.dumps(record))
    return folder


def test_partial_folders_of_gone_writers_are_removed_and_no_others(tmp_path, caplog):
    runs = tmp_path / "runs"
    gone = dead_record()
    me = process_record()
    dead = partial(runs, "dead", gone["pid"], gone)
    live = partial(runs, "live", me["pid"], me)
    elsewhere = partial(runs, "elsewhere", gone["pid"], {**gone, "host": "another-machine"})
    unknown = partial(runs, "old", gone["pid"], None)  # an older version wrote no record
    expected = [dead]
    if me["process_start"] is not None:  # told apart by its start (Linux)
        expected.append(partial(runs, "reused", me["pid"], {**me, "process_start": "x/1"}))
    (runs / "done").mkdir()
    with caplog.at_level("WARNING", logger="modelcollapse"):
        mc.run(mc.RunConfig("coin", n_generations=5, n_replicates=4, seed=1),
               out=runs / "new", plots=False)
    assert [p for p in expected if p.exists()] == []
    assert live.exists() and elsewhere.exists() and unknown.exists()
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == [
        "done", "new"]
    assert not (runs / "new" / PARTIAL_WRITER).exists()  # a published folder is nobody's
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith(f"removed {len(expected)} partial folder")
    assert all(p.name in messages[0] for p in expected)
    assert messages[1].startswith("left in place 1 partial folder in ")
    assert unknown.name in messages[1] and "remove them if no run is writing them" in messages[1]
    caplog.clear()
    assert remove_stale_partials(runs) == [] and len(caplog.records) == 1  # only the unknown


def test_a_run_killed_with_sigkill_leaves_a_partial_the_next_run_removes(tmp_path):
    log = tmp_path / "long.log"
    process = cli("run", "gaussian", "--samples", "2000", "--policy", "mix", "--real", "0.1",
                  "--synthetic", "0.5", "--generations", "100000", "--replicates", "64",
                  "--seed", "1", "--out", "long", "--no-plots", cwd=tmp_path, log=log)
    left = tmp_path / f".long.partial-{process.pid}"
    try:
        wait_until(lambda: (left / PARTIAL_WRITER).is_file(), process, log, "a partial folder")
        assert not record_gone(json.loads((left / PARTIAL_WRITER).read_text()))
        with pytest.raises(FileNotFoundError, match="a run is still writing it"):
            mc.load(left)
    finally:
        process.kill()
        process.wait()
    assert record_gone(json.loads((left / PARTIAL_WRITER).read_text()))
    with pytest.raises(FileNotFoundError, match="left by a run that was killed"):
        mc.load(left)
    following = subprocess.run([sys.executable, "-m", "modelcollapse", "run", "coin",
                                "--generations", "5", "--replicates", "4", "--out", "next",
                                "--no-plots"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "MPLBACKEND": "Agg"})
    assert following.returncode == 0, following.stderr
    assert not left.exists() and (tmp_path / "next" / "manifest.json").is_file()
    notes = [line for line in following.stderr.splitlines() if "partial folder" in line]
    assert notes == [f"removed 1 partial folder left by killed runs in the current folder: "
                     f"{left.name}"]
