"""Sweeps: grid expansion, determinism across executors, storage, resume, worker loss, theory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import modelcollapse as mc
from modelcollapse.checks import critical_z
from modelcollapse.cli import main
from modelcollapse.errors import ConfigError
from modelcollapse.sweeps import grid as grid_module
from modelcollapse.sweeps.driver import SweepInterrupted, sweep
from modelcollapse.sweeps.executors import SerialExecutor
from modelcollapse.sweeps.grid import SweepSpec, expand
from modelcollapse.sweeps.plan import plan
from modelcollapse.sweeps.store import SweepFolder

KEY = ["cell", "replicate", "metric", "generation"]

#: A small GMM-free sweep with invalid combinations: 6 valid cells, 3 skipped.
MIX_GRID = {
    "experiment": {"family": "gaussian", "samples": 40, "generations": 30, "replicates": 50,
                   "policy": "mix", "seed": 11},
    "grid": {"real": [0.0, 0.1, 0.5], "synthetic": [0.5, 0.9, 1.0]},
}


def write_toml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def sorted_metrics(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(Path(path) / "metrics")
    frame["cell"] = frame["cell"].astype(str)
    frame["metric"] = frame["metric"].astype(str)
    return frame.sort_values(KEY, ignore_index=True)


# -- grid expansion and validation ---------------------------------------------------------


def test_grid_is_the_cartesian_product_with_invalid_cells_listed_and_skipped():
    expansion = expand(SweepSpec.from_dict(MIX_GRID), seed=1)
    assert len(expansion.cells) + len(expansion.skipped) == 9
    assert [c.index for c in expansion.cells] == [0, 1, 2, 3, 4, 6]
    assert [s.index for s in expansion.skipped] == [5, 7, 8]
    assert dict(expansion.skipped[0].values) == {"real": 0.1, "synthetic": 1.0}
    assert "real + synthetic must be at most 1" in expansion.skipped[0].reason
    cell = expansion.cells[3]
    assert cell.config.data_policy.params() == {"real": 0.1, "synthetic": 0.5}
    assert cell.config.n_samples == 40 and cell.config.seed == 1


def test_a_grid_with_no_valid_cell_is_an_error():
    spec = {"experiment": {"family": "gaussian", "policy": "mix"},
            "grid": {"real": [0.6, 0.7], "synthetic": [0.5]}}
    with pytest.raises(ConfigError, match=r"no valid cell.*all 2 combinations are invalid"):
        plan(spec)


@pytest.mark.parametrize(("data", "message"), [
    ({"experiment": {"family": "coin"}}, r"\[grid\].*must list at least one option"),
    ({"grid": {"samples": 10}}, "samples.*must be a list of values"),
    ({"grid": {"samples": []}}, "must list at least one value"),
    ({"grid": {"samples": [10, 10]}}, "lists a value twice"),
    ({"grid": {"sample": [10, 20]}}, "is not a known setting.*did you mean samples"),
    ({"grid": {"samples": ["many"]}}, "samples.*must be an integer"),
    ({"grid": {"seed": [1, 2]}}, "seed.*cannot vary"),
    ({"experiment": {"samples": 5}, "grid": {"samples": [1, 2]}}, "also set in \\[experiment\\]"),
    ({"grid": {"family": ["dice"]}}, "family.*must be one of"),
    ({"grid": {"samples": [1]}, "runs": {}}, r"\[runs\].*not a sweep table"),
])
def test_bad_sweep_files_are_refused_with_the_key_named(data, message):
    with pytest.raises(ConfigError, match=message):
        plan(data)


def test_toml_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="must name an existing TOML file"):
        plan(tmp_path / "missing.toml")
    bad = write_toml(tmp_path / "bad.toml", "[grid\nsamples = [1]\n")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML"):
        plan(bad)


def test_cells_are_keyed_by_their_settings_not_their_position():
    small = plan({"experiment": {"family": "coin", "seed": 3}, "grid": {"samples": [10, 20]}})
    large = plan({"experiment": {"family": "coin", "seed": 3}, "grid": {"samples": [5, 10, 20]}})
    ids = {c.cell.values["samples"]: c.cell.id for c in small.cells}
    assert {c.cell.values["samples"]: c.cell.id for c in large.cells if
            c.cell.values["samples"] != 5} == ids
    assert len({c.cell.id for c in large.cells}) == 3


def test_work_units_split_a_large_cell_and_cover_every_block_once():
    p = plan({"experiment": {"family": "gmm", "seed": 1},  # the classic: 10 × 2000, N = 10 000
              "grid": {"tol": [1e-6, 1e-3]}})
    for planned in p.cells:
        tasks = planned.tasks(planned.cell.values)
        assert len(tasks) == 10  # one replicate (about a second) each, spread over workers
        blocks = [b for t in tasks for b in t.blocks]
        assert blocks == list(range(planned.n_blocks))
        assert len({t.name for t in tasks}) == len(tasks)


def test_dry_run_lists_cells_skipped_combinations_and_the_work(tmp_path, capsys):
    file = write_toml(tmp_path / "mix.toml", """
        [experiment]
        family = "gaussian"
        policy = "mix"
        generations = 30
        [grid]
        real = [0.0, 0.5]
        synthetic = [0.5, 1.0]
    """)
    assert main(["sweep", str(file), "--dry-run", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "3 cells, 3 work units" in out
    assert "skipped (1 invalid combinations)" in out and "real=0.5, synthetic=1" in out
    assert "seed 4" in out and "core" in out
    assert not (tmp_path / "runs").exists() and not Path("runs/sweep-mix").exists()


# -- determinism ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "sweep"
    sweep(MIX_GRID, out=out, workers=1, plots=False)
    return out


def test_a_cell_is_bit_for_bit_the_run_with_the_same_options_and_seed(serial_sweep, tmp_path):
    result = mc.load(serial_sweep)
    assert isinstance(result, mc.SweepResult) and result.complete
    cell = result.cells.query("real == 0.1 and synthetic == 0.5")["cell"].item()
    config = result.config(cell)
    run = mc.run(config, out=tmp_path / "run", plots=False)
    from_sweep = result.metrics_of(cell)[["replicate", "metric", "generation", "value"]]
    from_run = run.metrics.sort_values(["replicate", "metric", "generation"], ignore_index=True)
    from_run["metric"] = from_run["metric"].astype(str)
    from_sweep = from_sweep.assign(metric=from_sweep["metric"].astype(str))
    pd.testing.assert_frame_equal(from_sweep, from_run, check_dtype=False)


def test_processes_give_the_same_tables_as_serial(serial_sweep, tmp_path):
    out = tmp_path / "processes"
    sweep(MIX_GRID, out=out, workers=2, plots=False)
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(serial_sweep))
    a = pd.read_parquet(out / "summary.parquet")
    b = pd.read_parquet(serial_sweep / "summary.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_dask_local_cluster_gives_the_same_tables_as_serial(serial_sweep, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    result = sweep(MIX_GRID, out=out, dask_local=2, plots=False)
    assert "Dask" in result.manifest["sessions"][-1]["executor"]
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(serial_sweep))


def test_unit_tables_carry_the_cell_and_its_grid_values(serial_sweep):
    files = sorted((serial_sweep / "metrics").glob("*.parquet"))
    assert len(files) == 6
    schema = pq.read_schema(files[0])
    assert schema.names[:3] == ["cell", "real", "synthetic"]
    replicates = pd.read_parquet(serial_sweep / "replicates")
    assert {"cell", "real", "synthetic", "replicate", "collapse_time"} <= set(replicates.columns)
    assert len(replicates) == 6 * 50
    manifest = json.loads((serial_sweep / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 11
    assert len(manifest["skipped"]) == 3 and manifest["axes"] == ["real", "synthetic"]
    assert not list(serial_sweep.rglob(".*tmp*"))


# -- resume and refusal --------------------------------------------------------------------


def test_rerunning_resumes_and_only_runs_missing_units(serial_sweep, tmp_path):
    out = tmp_path / "resume"
    sweep(MIX_GRID, out=out, workers=1, plots=False)
    victims = sorted((out / "metrics").glob("*.parquet"))[:2]
    for file in victims:
        file.unlink()  # as if the sweep had been killed before writing them
    stamps = {f.name: f.stat().st_mtime_ns for f in (out / "metrics").glob("*.parquet")}
    lines: list[str] = []
    sweep(MIX_GRID, out=out, workers=1, plots=False, log=lines.append)
    assert any("4 of 6 units already done" in line for line in lines)
    assert all(f.exists() for f in victims)
    assert {f.name: f.stat().st_mtime_ns for f in (out / "metrics").glob("*.parquet")
            if f.name in stamps} == stamps  # finished units untouched
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(serial_sweep))
    # the seed of the folder is kept when the file gives none
    seedless = {"experiment": {k: v for k, v in MIX_GRID["experiment"].items() if k != "seed"},
                "grid": MIX_GRID["grid"]}
    lines.clear()
    result = sweep(seedless, out=out, workers=1, plots=False, log=lines.append)
    assert result.seed == 11 and any("all 6 units were already done" in x for x in lines)


def test_a_changed_sweep_is_refused_and_force_starts_a_new_folder(serial_sweep, tmp_path):
    out = tmp_path / "changed"
    sweep(MIX_GRID, out=out, workers=1, plots=False)
    changed = {"experiment": {**MIX_GRID["experiment"], "generations": 31},
               "grid": MIX_GRID["grid"]}
    with pytest.raises(ConfigError, match=r"holds a different sweep.*generations was 30, is now "
                                          r"31.*--force"):
        sweep(changed, out=out, workers=1, plots=False)
    with pytest.raises(ConfigError, match="with seed 11, not 12"):
        sweep(MIX_GRID, out=out, seed=12, workers=1, plots=False)
    result = sweep(changed, out=out, workers=1, plots=False, force=True)
    assert result.path == tmp_path / "changed-2"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds other files"):
        sweep(MIX_GRID, out=tmp_path / "other", workers=1, plots=False)


def _cli(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # its own process group, like a command started from a shell: Ctrl-C reaches the group
    return subprocess.Popen([sys.executable, "-m", "modelcollapse", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


SLOW_FILE = """
    [experiment]
    family = "gaussian"
    samples = 4000
    generations = 600
    replicates = 12
    shortcut = false
    seed = 21
    [grid]
    std = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
"""


def _wait_for_units(folder: Path, count: int, process: subprocess.Popen,
                    timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list((folder / "metrics").glob("*.parquet"))) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"the sweep ended early: {process.communicate()}")
        time.sleep(0.02)
    pytest.fail("no unit finished in time")


def test_a_sweep_killed_with_sigkill_loses_only_units_in_flight(tmp_path):
    file = write_toml(tmp_path / "slow.toml", SLOW_FILE)
    total = len(plan(file).tasks())
    assert total >= 6
    out = tmp_path / "killed"
    process = _cli("sweep", str(file), "--out", str(out), "--workers", "1", "--no-plots",
                   cwd=tmp_path)
    _wait_for_units(out, 2, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()  # also closes its pipes
    finished = SweepFolder(out).finished_units()
    assert 2 <= len(finished) < total
    for unit in finished:  # every visible file is whole
        pq.read_table(out / "metrics" / f"{unit}.parquet")
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    with pytest.raises(FileNotFoundError, match="run it again"):
        mc.load(out).summary  # noqa: B018 (the property raises)

    resumed = _cli("sweep", str(file), "--out", str(out), "--workers", "1", "--no-plots",
                   cwd=tmp_path)
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"{len(finished)} of {total} units already done" in stdout
    reference = tmp_path / "reference"
    sweep(file, out=reference, workers=1, plots=False)
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(reference))


@pytest.mark.parametrize("executor", [["--workers", "2"], ["--dask-local", "2"]],
                         ids=["processes", "dask"])
def test_ctrl_c_keeps_finished_units_and_says_how_to_resume(tmp_path, executor):
    if executor[0] == "--dask-local":
        pytest.importorskip("distributed")
    file = write_toml(tmp_path / "slow.toml", SLOW_FILE)
    out = tmp_path / "interrupted"
    process = _cli("sweep", str(file), "--out", str(out), *executor, "--no-plots",
                   cwd=tmp_path)
    _wait_for_units(out, 1, process)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the sweep and its workers
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "finished and kept in" in stderr and "run the same command again to resume" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert SweepFolder(out).finished_units()


def test_interrupt_inside_the_library_raises_sweep_interrupted(tmp_path):
    class Interrupting(SerialExecutor):
        def imap_unordered(self, fn, tasks):
            for i, task in enumerate(tasks):
                if i == 2:
                    raise KeyboardInterrupt
                yield fn(task)

    with pytest.raises(SweepInterrupted) as stop:
        sweep(MIX_GRID, out=tmp_path / "s", executor=Interrupting(), plots=False)
    assert (stop.value.finished, stop.value.total) == (2, 6)


def test_dask_worker_killed_mid_task_has_its_task_retried(tmp_path):
    distributed = pytest.importorskip("distributed")
    from modelcollapse.sweeps.executors import DaskExecutor

    file = write_toml(tmp_path / "slow.toml", SLOW_FILE)
    executor = DaskExecutor(local_workers=2)
    client = executor.client
    outcome: dict[str, object] = {}

    def go() -> None:
        try:
            outcome["result"] = sweep(file, out=tmp_path / "dask", executor=executor,
                                      plots=False)
        except BaseException as err:  # reported below
            outcome["error"] = err

    thread = threading.Thread(target=go)
    thread.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            time.sleep(0.2)  # let the unit get under way
            os.kill(pid, signal.SIGKILL)
            killed = busy[0]
        time.sleep(0.05)
    thread.join(timeout=300)
    try:
        assert killed is not None
        assert "error" not in outcome, outcome.get("error")
        result = outcome["result"]
        assert result.complete  # type: ignore[attr-defined]
    finally:
        executor.close()
    reference = tmp_path / "reference"
    sweep(file, out=reference, workers=1, plots=False)
    pd.testing.assert_frame_equal(sorted_metrics(tmp_path / "dask"), sorted_metrics(reference))
    assert distributed is not None


def test_dask_flags_name_the_extra_when_dask_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    file = write_toml(tmp_path / "s.toml", "[grid]\nsamples = [10]\n[experiment]\n"
                                           "family = 'coin'\n")
    assert main(["sweep", str(file), "--dask-local", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'modelcollapse[dask]'" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "metrics").exists() or not any((tmp_path / "o").rglob("*.parquet"))


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "0"], "--workers must be an integer ≥ 1"),
    (["--seed", "x"], "--seed must be an integer"),
    (["--scheduler", "tcp://127.0.0.1:9", "--dask-local", "2"], "cannot be used together"),
])
def test_bad_sweep_flags_are_one_line_errors(tmp_path, capsys, args, message):
    file = write_toml(tmp_path / "s.toml", "[experiment]\nfamily = 'coin'\n[grid]\n"
                                           "samples = [10]\n")
    assert main(["sweep", str(file), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


# -- the answer: a sweep over k reproduces the coin's exact absorption times -----------------


def coin_k_sweep(tmp_path: Path) -> pd.DataFrame:
    spec = {"experiment": {"family": "coin", "generations": 200, "replicates": 3000,
                           "seed": 2026},
            "grid": {"samples": [1, 2, 5, 10, 20]}}
    return sweep(spec, out=tmp_path / "coin-k", workers=1, plots=False).summary


def exact_conditional_mean(k: int, generations: int = 200) -> float:
    """E[T | T ≤ G] of the coin's absorption time, from the exact chain's cdf."""
    cdf = mc.predict(mc.RunConfig("coin", n_samples=k, n_generations=generations)).absorbed.values
    pmf = np.diff(cdf, prepend=0.0)
    return float((np.arange(cdf.size) * pmf).sum() / cdf[-1])


def absorption_z(summary: pd.DataFrame) -> list[float]:
    """z of each cell's simulated mean absorption time against theory for the k asked for."""
    z_values = []
    for _, row in summary.iterrows():
        diff = row["absorption_time_mean"] - exact_conditional_mean(int(row["samples"]))
        se = row["absorption_time_se"]
        z_values.append(float(diff / se) if se > 0 else (0.0 if abs(diff) < 1e-12 else np.inf))
    return z_values


def test_a_sweep_over_k_reproduces_the_exact_mean_absorption_times(tmp_path):
    summary = coin_k_sweep(tmp_path)
    z = absorption_z(summary)
    limit = critical_z(1e-3, len(z))
    assert np.all(np.abs(z) < limit), (z, limit)
    for _, row in summary.iterrows():  # the summary's own theory column is the same number
        assert row["exact_absorption_time_mean"] == pytest.approx(
            exact_conditional_mean(int(row["samples"])), rel=1e-9)
    assert summary["absorbed_by_end"].min() > 0.99


def test_the_k_sweep_check_catches_a_grid_that_runs_the_wrong_k(tmp_path, monkeypatch):
    real_build = grid_module.build

    def off_by_one(options):  # planted bug: the grid's k reaches the run as k + 1
        config, output = real_build(options)
        return mc.RunConfig(config.model, config.data_policy, n_samples=config.n_samples + 1,
                            n_generations=config.n_generations,
                            n_replicates=config.n_replicates), output

    monkeypatch.setattr(grid_module, "build", off_by_one)
    z = absorption_z(coin_k_sweep(tmp_path))
    assert np.max(np.abs(z)) > critical_z(1e-3, len(z))


def test_an_unreachable_scheduler_is_a_one_line_error_and_writes_nothing(tmp_path, capsys,
                                                                       monkeypatch):
    pytest.importorskip("distributed")
    from modelcollapse.sweeps import executors

    real = executors.DaskExecutor.__init__

    def quick(self, *, scheduler=None, local_workers=None):  # 1 s instead of 10 s to give up
        import distributed

        original = distributed.Client

        def client(address, timeout=None, **kwargs):
            return original(address, timeout="1s", **kwargs)

        monkeypatch.setattr(distributed, "Client", client)
        real(self, scheduler=scheduler, local_workers=local_workers)

    monkeypatch.setattr(executors.DaskExecutor, "__init__", quick)
    file = write_toml(tmp_path / "s.toml", "[experiment]\nfamily = 'coin'\n[grid]\n"
                                           "samples = [10]\n")
    out = tmp_path / "o"
    assert main(["sweep", str(file), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler could not connect to a Dask scheduler" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_existing_dask_cluster_by_address_gives_the_same_tables(serial_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        out = tmp_path / "cluster"
        result = sweep(MIX_GRID, out=out, scheduler=cluster.scheduler_address, plots=False)
    assert cluster.scheduler_address in result.manifest["sessions"][-1]["executor"]
    pd.testing.assert_frame_equal(sorted_metrics(out), sorted_metrics(serial_sweep))
