"""TODO docstring (modelcollapse.results)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for (start-up time)
    pass


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


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default, allow_nan=True) + "\n")
    os.replace(tmp, path)


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


def prepare_output(path: Path | str) -> Path:
    """Check that ``path`` can receive a run; refuse a non-empty existing folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError("out", "must be a new or empty folder; it already holds files",
                          str(path))
    return path
