"""How a study writes its folder: tables as CSV, a JSON summary, figures, all published whole.

A study (``verify``, ``collapse-speed``) produces a few small tables, tens to thousands of rows
that people open in a spreadsheet or read into pandas with one line; so they are CSV with every
float at full precision (``repr``: 17 significant digits, ``inf`` and ``nan`` as Python spells
them) and missing values as empty cells. (A run's tables are Parquet instead: they are large,
typed and read selectively; see :mod:`modelcollapse.results`.)

:func:`write_study` is the one place a study's folder is written: the tables, then the figures
(drawn by the function the caller passes, a failure recorded, never fatal), then the JSON
summary with the figures' names and the provenance, in a
:class:`~modelcollapse.results.folders.PartialFolder` that is published only when complete.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..results.folders import DrawFigures, PartialFolder, draw_figures, write_json
from ..runner.provenance import environment, now

#: A table: one dictionary per row, the same keys in every row.
Rows = list[dict[str, Any]]


def write_table(path: Path, rows: Rows) -> None:
    """Write ``rows`` as CSV (header from the first row's keys; see the module docstring)."""
    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return repr(float(value))  # full precision; inf and nan as Python spells them
        return value

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(rows[0]) if rows else [])
        for row in rows:
            writer.writerow([cell(v) for v in row.values()])


def write_study(path: Path, *, tables: Mapping[str, Rows], summary_file: str,
                summary: Callable[[list[str]], dict[str, Any]], figures: DrawFigures | None,
                started: str, t0: float, argv: list[str] | None,
                beside_if_taken: bool = False) -> tuple[Path, dict[str, Any]]:
    """Write a study's folder and publish it; return where it went and its summary.

    Parameters
    ----------
    path
        The folder (new or empty).
    tables
        File name → rows, written with :func:`write_table`.
    summary_file
        Name of the JSON summary (``verify.json``, ``manifest.json``).
    summary
        Builds the summary from the names of the figures written; ``finished``,
        ``wall_seconds`` and the provenance (:func:`~modelcollapse.runner.provenance.
        environment`) are added to it, and ``figures_error`` when drawing failed.
    figures
        Draws the figures into the folder (``None``: none).
    started, t0
        When the study started (ISO time, and :func:`time.perf_counter`).
    argv
        The command line to record.
    beside_if_taken
        Publish beside ``path`` if it received files meanwhile
        (:meth:`~modelcollapse.results.folders.PartialFolder.publish`).
    """
    with PartialFolder(path) as folder:
        for name, rows in tables.items():
            write_table(folder.tmp / name, rows)
        error: dict[str, Any] = {}
        names = draw_figures(figures, folder.tmp, error)
        manifest = summary(names)
        manifest.update(error)
        manifest.update({"finished": now(), "wall_seconds": round(time.perf_counter() - t0, 3),
                         "started": manifest.get("started", started), **environment(argv)})
        write_json(folder.tmp / summary_file, manifest)
        where = folder.publish(beside_if_taken=beside_if_taken)
    return where, manifest
