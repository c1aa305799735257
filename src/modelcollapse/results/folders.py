"""Writing result folders: where they go, how they appear whole, and the optional figures step.

Every command that writes a folder (``run``, ``verify``, ``collapse-speed``) writes it through a
:class:`PartialFolder`: everything goes into a hidden ``.<name>.partial-<pid>`` folder beside the
target, which is renamed into place in one step when complete and removed when anything fails
(an exception, Ctrl-C, SIGTERM). So a folder without ``.partial`` in its name is always
complete. Single files that must never be seen half-written (a manifest rewritten while a sweep
runs, a sweep's unit tables, ``summary.parquet``, ``report.html``) go through
:func:`atomic_write`.

The figures of a folder are drawn by a function the caller passes in (the runtime never imports
a plotting library); :func:`draw_figures` runs it so that a figure that fails costs the figure,
never the results: it warns and records the error in the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

#: Draws a folder's figures into the folder given; returns the files written.
DrawFigures = Callable[[Path], Iterable[Path | str]]


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


class PartialFolder:
    """A results folder written under a hidden name and published whole by one rename.

    Parameters
    ----------
    path
        The folder to publish (new or empty: :func:`prepare_output`).

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

    def publish(self, *, beside_if_taken: bool = False) -> Path:
        """Rename the hidden folder to :attr:`path`; return where it went.

        ``beside_if_taken``: if :attr:`path` received files meanwhile (another command chose the
        same folder), publish to the first free ``…-2``, ``…-3`` beside it instead of failing, so
        that finished work is never thrown away.
        """
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
