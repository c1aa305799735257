"""TODO docstring (modelcollapse.collapse_speed)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return repr(float(value))  # full precision; inf and nan as Python spells them
        return value

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([cell(v) for v in row.values()])
