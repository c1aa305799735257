"""A sweep's folder: one Parquet file per finished work unit, a manifest, a summary.

Layout::

    SWEEP/
      manifest.json               the sweep: spec, seed, cells, skipped cells, unit plan, status
      metrics/<cell>-u<unit>.parquet     tidy metrics of a unit's replicates
      replicates/<cell>-u<unit>.parquet  their per-replicate table (event times, final values)
      summary.parquet             one row per cell (when the sweep is complete)
      sweep.png                   collapse speed across the grid
      .lock                       locked while a sweep runs the folder; names its process

Both unit tables carry ``cell`` (the cell's id) and one column per grid key, so the folders read
as one table each: ``pandas.read_parquet("SWEEP/metrics")``, or in DuckDB
``SELECT * FROM 'SWEEP/metrics/*.parquet'``.

Every file is written to a hidden temporary name and renamed into place, the replicate table
first and the metrics table last, so a unit is finished exactly when its metrics file exists. A
sweep killed at any moment (even with SIGKILL) leaves finished units whole and at most a few hidden
temporary files, which the next run removes; readers skip hidden files.

One sweep at a time runs a folder: it holds an exclusive advisory lock on ``.lock``
(:class:`SweepLock`, ``flock``), which the system releases when its process ends, however it ends;
a second sweep is refused, naming the holder. Each session of the manifest records its process
(:func:`~modelcollapse.results.folders.process_record`), so a manifest still saying ``running``
whose process has ended reads as ``interrupted (process gone)`` (:func:`sweep_status`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError
from ..results.folders import (
    atomic_write,
    describe_record,
    process_record,
    record_gone,
    write_json,
)

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
METRICS_DIR = "metrics"
REPLICATES_DIR = "replicates"
SUMMARY = "summary.parquet"
LOCK = ".lock"
#: The status of a manifest saying ``running`` whose process has ended (killed outright).
GONE = "interrupted (process gone)"
#: Bumped when the folder layout changes (a sweep is only resumed by a compatible version).
FORMAT = 1


def unit_name(cell_id: str, unit: int) -> str:
    """``<cell>-u00003``: the file stem of a work unit."""
    return f"{cell_id}-u{unit:05d}"


class SweepFolder:
    """Reads and writes one sweep folder."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def metrics_dir(self) -> Path:
        return self.path / METRICS_DIR

    @property
    def replicates_dir(self) -> Path:
        return self.path / REPLICATES_DIR

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` if there is none."""
        file = self.path / MANIFEST
        if not file.is_file():
            return None
        return json.loads(file.read_text())

    def create(self) -> None:
        """Make the folder and its unit folders; remove temporaries a killed run left."""
        for folder in (self.metrics_dir, self.replicates_dir):
            folder.mkdir(parents=True, exist_ok=True)
            for leftover in folder.glob(".*.tmp-*"):
                leftover.unlink(missing_ok=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.path / MANIFEST, manifest)

    def finished_units(self) -> set[str]:
        """Names of the units whose files are both in place."""
        if not self.metrics_dir.is_dir():
            return set()
        metrics = {p.stem for p in self.metrics_dir.glob("*.parquet")}
        replicates = {p.stem for p in self.replicates_dir.glob("*.parquet")}
        return metrics & replicates

    def write_unit(self, name: str, metrics: pa.Buffer | bytes,
                   replicates: pa.Buffer | bytes) -> None:
        """Publish a unit's two Parquet files (already encoded by the worker)."""
        _write_atomic(self.replicates_dir / f"{name}.parquet", replicates)
        _write_atomic(self.metrics_dir / f"{name}.parquet", metrics)

    def read_replicates(self, cell_id: str) -> pa.Table:
        """A cell's per-replicate table, in replicate order."""
        files = sorted(self.replicates_dir.glob(f"{cell_id}-u*.parquet"))
        table = pa.concat_tables([pq.read_table(f) for f in files])
        return table.sort_by("replicate")

    def write_summary(self, frame: pd.DataFrame) -> None:
        atomic_write(self.path / SUMMARY, lambda tmp: frame.to_parquet(tmp, index=False))


def last_process(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The process record of the manifest's latest session (``None`` if it has none)."""
    sessions = manifest.get("sessions") or []
    record = sessions[-1].get("process") if sessions else None
    return record if isinstance(record, dict) else None


def sweep_status(manifest: dict[str, Any]) -> str:
    """The sweep's status as it is now, not only as its manifest last said.

    ``complete``, ``interrupted`` (Ctrl-C, SIGTERM), ``failed``, ``running``, or
    :data:`GONE`: the manifest says ``running`` but its session's process has ended on this
    machine (its pid is not alive, or is alive as another process). A sweep run from another
    machine stays ``running``: its process cannot be checked from here.
    """
    status = str(manifest.get("status", "unknown"))
    if status == "running" and record_gone(last_process(manifest)):
        return GONE
    return status


class SweepLock:
    """The exclusive lock a sweep holds on its folder while it runs it.

    An advisory ``flock`` on :data:`LOCK`, which the operating system releases when the process
    ends however it ends (a SIGKILL included), so a lock is never left stale. The file holds the
    holder's :func:`~modelcollapse.results.folders.process_record`, for the message that
    refuses a second sweep.

    Parameters
    ----------
    path
        The sweep folder; :meth:`acquire` creates it (and its parents) if needed, and
        :meth:`release` with ``discard`` removes what it created.

    Notes
    -----
    On a file system without locks (``flock`` unsupported) :meth:`acquire` returns ``False``
    and the sweep runs unlocked; a platform without ``fcntl`` (Windows) likewise.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._created: list[Path] = []  # folders acquire() made, outermost first
        self._made_file = False

    @property
    def file(self) -> Path:
        return self.path / LOCK

    def holder(self) -> dict[str, Any] | None:
        """The record of the process holding (or last holding) the lock, if readable."""
        try:
            record = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def acquire(self) -> bool:
        """Take the lock; ``False`` if locks are not supported here.

        Raises
        ------
        ConfigError
            On ``--out``, when another process holds it: names that process (pid, host,
            since when); or when the lock file cannot be opened (no permission).
        """
        try:
            import fcntl
        except ImportError:
            return False
        missing = [p for p in (self.path, *self.path.parents) if not p.exists()]
        self.path.mkdir(parents=True, exist_ok=True)
        self._created = missing[::-1]
        self._made_file = not self.file.exists()
        for _ in range(10):
            try:
                fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as err:
                self.release(discard=True)
                raise ConfigError("--out", "cannot be locked for this sweep "
                                  f"({err.strerror or err})", str(self.path)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ConfigError("--out", "is being run by another sweep "
                                  f"({describe_record(self.holder())}); wait for it to finish "
                                  "or stop it, or choose another --out",
                                  str(self.path)) from None
            except OSError:
                os.close(fd)
                return False  # no locks on this file system (some network file systems)
            # A sweep that failed before any work removes the lock file of the folder it had
            # just made; one that opened the file before that removal holds a lock on a file
            # no one else will open. So the lock counts only if the file is still in place.
            try:
                in_place = os.stat(self.file).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                in_place = False
            if in_place:
                break
            os.close(fd)
            self.path.mkdir(parents=True, exist_ok=True)
        else:
            return False
        self._fd = fd
        data = (json.dumps(process_record()) + "\n").encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        return True

    def release(self, *, discard: bool = False) -> None:
        """Let the lock go; with ``discard``, also remove the lock file and the folders that
        :meth:`acquire` created, if they are empty (a sweep refused before any work)."""
        fd, self._fd = self._fd, None
        try:
            if discard:
                if fd is not None or self._made_file:
                    self.file.unlink(missing_ok=True)
                for folder in reversed(self._created):
                    try:
                        folder.rmdir()
                    except OSError:
                        break
                self._created, self._made_file = [], False
        finally:
            if fd is not None:
                os.close(fd)  # closing the file releases the lock

    def __enter__(self) -> SweepLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _write_atomic(path: Path, data: pa.Buffer | bytes) -> None:
    # Synced: the rename must not publish a file whose bytes a crash of the machine loses.
    atomic_write(path, lambda tmp: tmp.write_bytes(memoryview(data)), sync=True)


def check_resumable(folder: SweepFolder, manifest: dict[str, Any], *, spec: dict[str, Any],
                    seed: int | None, stream_version: int) -> None:
    """Refuse to add units to a folder holding a different sweep.

    Raises
    ------
    ConfigError
        Naming the first difference and the way out (``--force`` or another ``--out``).
    """
    way_out = "; use --force to start a new folder, or another --out"
    if manifest.get("kind") != "sweep":
        raise ConfigError("--out", "holds something other than a sweep" + way_out,
                          str(folder.path))
    old = manifest["spec"]
    if manifest.get("format") != FORMAT or manifest.get("stream_version") != stream_version:
        raise ConfigError("--out", "holds a sweep written by an incompatible version of "
                          f"modelcollapse ({manifest.get('versions', {}).get('modelcollapse')})"
                          + way_out, str(folder.path))
    if seed is not None and seed != manifest["seed"]:
        raise ConfigError("--out", f"holds this sweep with seed {manifest['seed']}, not {seed}"
                          + way_out, str(folder.path))
    difference = _first_difference(old, spec)
    if difference:
        raise ConfigError("--out", f"holds a different sweep ({difference})" + way_out,
                          str(folder.path))


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    for table in ("experiment", "grid"):
        a, b = old.get(table, {}), new.get(table, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                was = "unset" if key not in a else json.dumps(a[key])
                now = "unset" if key not in b else json.dumps(b[key])
                return f"[{table}] {key} was {was}, is now {now}"
    return None
