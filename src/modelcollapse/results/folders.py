"""Writing result folders: where they go, how they appear whole, and the optional figures step.

Every command that writes a folder (``run``, ``verify``, ``collapse-speed``) writes it through a
:class:`PartialFolder`: everything goes into a hidden ``.<name>.partial-<pid>`` folder beside the
target, which is renamed into place in one step when complete and removed when anything fails
(an exception, Ctrl-C, SIGTERM). So a folder without ``.partial`` in its name is always
complete. A process killed outright (SIGKILL, out of memory, a machine that lost power) cannot
remove its partial folder; the next :class:`PartialFolder` in the same parent removes those whose
writer is gone (:func:`remove_stale_partials`) and says so in one line. Single files that must
never be seen half-written (a manifest rewritten while a sweep runs, a sweep's unit tables,
``summary.parquet``, ``report.html``) go through :func:`atomic_write`.

The figures of a folder are drawn by a function the caller passes in (the runtime never imports
a plotting library); :func:`draw_figures` runs it so that a figure that fails costs the figure,
never the results: it warns and records the error in the manifest.

Who writes a folder is a :func:`process_record` (pid, host, an identity of the process that a
later process reusing the pid does not share, start time); :func:`record_gone` tells whether the
process of such a record has ended. Partial folders and sweep manifests both rely on it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

#: Draws a folder's figures into the folder given; returns the files written.
DrawFigures = Callable[[Path], Iterable[Path | str]]

#: Inside a partial folder: the :func:`process_record` of its writer (removed before publishing).
PARTIAL_WRITER = ".writer.json"

#: ``.<name>.partial-<pid>``, the hidden name of a folder being written.
_PARTIAL_NAME = re.compile(r"\.(?P<name>.+)\.partial-(?P<pid>[0-9]+)")

_log = logging.getLogger(__name__)


# -- who writes a folder, and whether that process is gone ------------------------------------


def this_host() -> str:
    """The machine's host name, as recorded in a :func:`process_record`."""
    return socket.gethostname()


def _read_first_line(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.readline().strip() or None
    except OSError:
        return None


def _boot_id() -> str | None:
    return _read_first_line("/proc/sys/kernel/random/boot_id")


def _pid_namespace() -> str | None:
    """This process's pid namespace (``pid:[4026531836]``) on Linux, else ``None``.

    Two containers on one machine may share its host name but not their pids: a pid is only
    looked up where it means the same process.
    """
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from the third (the state) on; ``None`` off Linux or
    when there is no such process."""
    text = _read_first_line(f"/proc/{pid}/stat")
    if text is None or ")" not in text:
        return None
    return text[text.rindex(")") + 1:].split()  # the command name may hold spaces and ")"


def process_start(pid: int) -> str | None:
    """An identity of process ``pid`` that no other process with the same pid shares.

    On Linux, the boot's id and the process's start time in clock ticks since boot (field 22 of
    ``/proc/<pid>/stat``): a pid reused later, or after a reboot, gives another value. ``None``
    where this cannot be read (other systems, no such process); callers then rely on the pid
    alone.
    """
    fields = _stat_fields(pid)
    boot = _boot_id()
    if fields is None or boot is None or len(fields) < 20:
        return None
    return f"{boot}/{fields[19]}"


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether process ``pid`` of this machine (and pid namespace) is still running.

    Parameters
    ----------
    pid
        The process id.
    start
        Its :func:`process_start` when it was recorded: a live process with another identity
        has reused the pid, and the recorded process is gone. ``None``: the pid alone decides.

    Notes
    -----
    A process that has exited but is not yet reaped by its parent (a zombie) counts as gone: it
    holds no memory, files or locks any more.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, and belongs to another user
    except OverflowError:
        return False
    fields = _stat_fields(pid)
    if fields is not None and fields[0] in ("Z", "X"):
        return False
    if start is not None:
        now_start = process_start(pid)
        if now_start is not None and now_start != start:
            return False
    return True


def process_record() -> dict[str, Any]:
    """Who this process is: ``pid``, ``host``, ``pid_namespace``, ``process_start``
    (:func:`process_start`) and ``since`` (now, UTC ISO 8601)."""
    pid = os.getpid()
    return {"pid": pid, "host": this_host(), "pid_namespace": _pid_namespace(),
            "process_start": process_start(pid),
            "since": datetime.now(UTC).isoformat(timespec="seconds")}


def record_gone(record: dict[str, Any] | None) -> bool:
    """Whether the process of a :func:`process_record` has certainly ended.

    ``False`` whenever that cannot be told from here: no record, another host, another pid
    namespace. So a caller that removes or relabels what a gone process left never touches the
    work of a process that may be alive elsewhere (a shared file system, another container).
    """
    if not isinstance(record, dict) or record.get("host") != this_host():
        return False
    try:
        pid = int(record["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    theirs, mine = record.get("pid_namespace"), _pid_namespace()
    if theirs is not None and theirs != mine:
        return False
    start = record.get("process_start")
    return not process_alive(pid, start if isinstance(start, str) else None)


def describe_record(record: dict[str, Any] | None) -> str:
    """``pid 4242 on host-a since 2026-05-01T10:00:00+00:00``, or ``an unknown process``."""
    if not isinstance(record, dict) or "pid" not in record:
        return "an unknown process"
    text = f"pid {record['pid']} on {record.get('host', '?')}"
    return text + (f" since {record['since']}" if record.get("since") else "")


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (np.ndarray, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def atomic_write(path: Path, write: Callable[[Path], object], *, sync: bool = False) -> Path:
    """Write a file through ``write(temporary_path)``, then rename it to ``path`` in one step.

    Parameters
    ----------
    path
        The file to publish.
    write
        Writes the whole file to the path it is given (a hidden name beside ``path``).
    sync
        Flush the bytes to disk before the rename, so that a crash of the machine cannot publish
        a file whose contents are lost (for files that many hours of work depend on).
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        if sync:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically (:func:`atomic_write`)."""
    text = json.dumps(data, indent=2, default=_json_default, allow_nan=True) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def stamped_folder(root: Path | str, name: str, *, reuse_empty: bool = False) -> Path:
    """``root/<name>-<YYYYmmdd-HHMMSS>``, or the first free ``…-2``, ``…-3``, … after it.

    ``reuse_empty`` also accepts an existing empty folder as free.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return free_folder(Path(root) / f"{name}-{stamp}", reuse_empty=reuse_empty)


def free_folder(base: Path, *, reuse_empty: bool = False) -> Path:
    """``base`` if it does not exist (or, with ``reuse_empty``, is an empty folder), else the
    first of ``base-2``, ``base-3``, … that is."""
    def taken(path: Path) -> bool:
        if not path.exists():
            return False
        return not (reuse_empty and path.is_dir() and not any(path.iterdir()))

    path, n = base, 2
    while taken(path):
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path


def prepare_output(path: Path | str, *, may_hold_files: bool = False) -> Path:
    """Check, before any work, that a results folder can be written at ``path``.

    The one check of where every command's output goes (``run``, ``sweep``, ``verify``,
    ``collapse-speed``, and the folder of ``report --out``): it refuses a path that is a file,
    a folder that already holds files (unless ``may_hold_files``: a sweep to resume), a path
    below a file, and a place where nothing can be created (no such place, no permission, a
    read-only disk). It creates nothing that stays: writability is tested by creating and
    removing a hidden folder in the nearest existing ancestor, the only test that is true for
    every file system and user (``root`` included).

    Raises
    ------
    ConfigError
        On field ``out``, naming the path and what is wrong with it.
    """
    path = Path(path)
    wanted = "must be a new or empty folder" if not may_hold_files else "must be a folder"

    def refuse(why: str) -> ConfigError:
        return ConfigError("out", f"{wanted}; {why}", str(path))

    try:
        if path.exists():
            if not path.is_dir():
                raise refuse("it is a file")
            if not may_hold_files and any(path.iterdir()):
                raise refuse("it already holds files")
        existing = next(p for p in path.absolute().parents if p.exists())
    except OSError as err:
        raise refuse(f"it cannot be looked at ({err.strerror or err})") from None
    if not existing.is_dir():
        raise refuse(f"{_shown(existing)} is a file, so no folder can be made in it")
    target = path if path.is_dir() else existing
    try:
        probe = tempfile.mkdtemp(prefix=".modelcollapse-probe-", dir=target)
    except OSError as err:
        raise refuse(f"nothing can be written in {_shown(target)} "
                     f"({err.strerror or err})") from None
    os.rmdir(probe)
    return path


def prepare_output_file(path: Path | str, *, field: str = "out") -> Path:
    """Check, before any work, that the file ``path`` can be written (or overwritten).

    Refuses a folder, a file whose folder does not exist (or is a file), and a folder where
    nothing can be created; a file that exists is overwritten (atomically, by the writer).
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(field, "must be a file; it is a folder", str(path))
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(field, "must be a file in an existing folder", str(path))
    try:
        os.close(os.open(probe := parent / f".{path.name}.probe-{os.getpid()}",
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError as err:
        raise ConfigError(field, f"must be a file in a folder you can write; nothing can be "
                          f"written in {_shown(parent)} ({err.strerror or err})",
                          str(path)) from None
    probe.unlink()
    return path


def _shown(path: Path) -> str:
    """A path as the user would recognise it: relative to here when inside it."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def partial_writer(path: Path) -> dict[str, Any] | None:
    """The :func:`process_record` of the process writing the partial folder ``path`` (``None``
    if it has none: written by an older version, or created this instant)."""
    return _read_record(path / PARTIAL_WRITER)


def remove_stale_partials(parent: Path) -> list[Path]:
    """Remove the partial folders in ``parent`` whose writer is gone; return them.

    A partial folder is removed only when its writer's record (:data:`PARTIAL_WRITER`) says it
    was written on this machine by a process that has ended (:func:`record_gone`): its pid is
    not alive, or is alive as another process (a pid reused, told by the process's start time).
    So a live process's folder is never touched, whatever the process is; and the pid of a
    live process that is not a modelcollapse run is no reason to keep a folder whose recorded
    writer has ended. A folder without a record (written by an older version, or in the
    instant between its creation and its record) is left in place; if its pid is not alive
    here it is named, so the user can remove it. Partial folders of other machines (a shared
    file system) are left alone.

    Each outcome is one line on the ``modelcollapse`` logger (shown on standard error unless
    logging is configured otherwise). Never raises: the work at hand matters more.
    """
    removed: list[Path] = []
    unknown: list[Path] = []
    try:
        entries = sorted((e, int(m["pid"])) for e in parent.iterdir()
                         if (m := _PARTIAL_NAME.fullmatch(e.name)))
    except OSError:
        return removed
    for entry, pid in entries:
        try:
            if not entry.is_dir():
                continue
            record = partial_writer(entry)
            if record is None:
                if not process_alive(pid):
                    unknown.append(entry)
                continue
            if record_gone(record):
                shutil.rmtree(entry, ignore_errors=True)
                (removed if not entry.exists() else unknown).append(entry)
        except OSError:
            continue
    shown = _shown(parent)
    where = "the current folder" if shown == "." else shown
    if removed:
        _log.warning("removed %s left by killed runs in %s: %s", _count(removed), where,
                     ", ".join(p.name for p in removed))
    if unknown:
        _log.warning("left in place %s in %s whose writer cannot be identified: %s; remove "
                     "them if no run is writing them", _count(unknown), where,
                     ", ".join(p.name for p in unknown))
    return removed


def _count(paths: list[Path]) -> str:
    return f"{len(paths)} partial folder" + ("" if len(paths) == 1 else "s")


class PartialFolder:
    """A results folder written under a hidden name and published whole by one rename.

    Parameters
    ----------
    path
        The folder to publish (new or empty: :func:`prepare_output`).

    Notes
    -----
    The hidden folder holds its writer's :func:`process_record` until it is published, so
    that the next :class:`PartialFolder` in the same parent can tell a folder left by a killed
    process from one still being written, and removes the first kind
    (:func:`remove_stale_partials`).

    Examples
    --------
    >>> with PartialFolder(path) as folder:                        # doctest: +SKIP
    ...     (folder.tmp / "table.csv").write_text("a,b\\n1,2\\n")
    ...     folder.publish()                                       # path now holds table.csv

    Leaving the ``with`` block by an exception before :meth:`publish` removes everything written.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = prepare_output(path)
        self.tmp = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.tmp, ignore_errors=True)  # left by a killed process with our pid
        self.tmp.mkdir()
        self.published = False
        try:
            write_json(self.tmp / PARTIAL_WRITER, process_record())
        except BaseException:  # Ctrl-C included: nothing of ours may stay behind
            self.abort()
            raise
        remove_stale_partials(self.path.parent)

    def publish(self, *, beside_if_taken: bool = False) -> Path:
        """Rename the hidden folder to :attr:`path`; return where it went.

        ``beside_if_taken``: if :attr:`path` received files meanwhile (another command chose the
        same folder), publish to the first free ``…-2``, ``…-3`` beside it instead of failing, so
        that finished work is never thrown away.
        """
        (self.tmp / PARTIAL_WRITER).unlink(missing_ok=True)  # a published folder is nobody's
        try:
            os.replace(self.tmp, self.path)
        except OSError:
            if not beside_if_taken:
                raise
            self.path = free_folder(self.path, reuse_empty=True)
            os.replace(self.tmp, self.path)
        self.published = True
        return self.path

    def abort(self) -> None:
        """Remove everything written so far."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> PartialFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None or not self.published:
            self.abort()


def draw_figures(draw: DrawFigures | None, folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The figures step of a results folder: draw, and on failure warn and record, never raise.

    Parameters
    ----------
    draw
        Writes the figures into the folder it is given and returns their paths; ``None``: no
        figures were asked for.
    folder
        Where they go (the folder being written).
    manifest
        Receives ``figures_error`` (``"TypeError: ..."``) when drawing fails.

    Returns
    -------
    list of str
        The file names written (empty if none were asked for or drawing failed).
    """
    if draw is None:
        return []
    try:
        return [Path(p).name for p in draw(folder)]
    except Exception as err:  # the results matter more than their pictures
        warnings.warn(f"figures were not written: {type(err).__name__}: {err}",
                      RuntimeWarning, stacklevel=3)
        manifest["figures_error"] = f"{type(err).__name__}: {err}"
        return []
