"""``report.html``: one self-contained, interactive page for a run or a sweep folder.

:func:`write_report` reads the folder's manifest and tables and writes ``report.html`` beside
them: the experiment in plain words, interactive charts (Plotly: hover, zoom, legend toggles) of
every metric with bands and theory, the distribution's evolution, the coin's rollouts, a sweep's
collapse speed across its grid and its table of cells, and links to the Parquet files. Plotly's
JavaScript is inlined, so the page needs no network and can be mailed or put on a course page.
The command line's ``modelcollapse report DIR`` and ``--report`` on ``run`` and ``sweep`` call it.

Plotly comes with the ``report`` extra (``pip install 'modelcollapse[report]'``) and is imported
only here. The page is written to a temporary file and renamed, so a ``report.html`` is always
whole.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..errors import ConfigError
from ..results.folders import atomic_write
from ..results.run import open_run
from ..sweeps.reader import load_sweep
from .page import render
from .run import run_page
from .sweep import sweep_page

#: The report's file name inside a run or sweep folder.
FILE_NAME = "report.html"
#: What to install when Plotly is missing.
REPORT_EXTRA = "pip install 'modelcollapse[report]'"


def check_available() -> None:
    """Raise :class:`ConfigError` now if a report could not be written later (no Plotly)."""
    import importlib.util

    if importlib.util.find_spec("plotly") is None:
        raise ConfigError("--report", f"needs Plotly's JavaScript; install it with "
                                      f"{REPORT_EXTRA}")


def plotly_bundle() -> str:
    """Plotly's JavaScript (``plotly.min.js`` from the Python package ``plotly``)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ConfigError("report", f"needs Plotly's JavaScript; install it with "
                                    f"{REPORT_EXTRA}") from None
    return get_plotlyjs()


def write_report(path: Path | str, *, title: str | None = None,
                 out: Path | str | None = None) -> Path:
    """Write the interactive HTML report of a run or sweep folder.

    Parameters
    ----------
    path
        A folder written by ``modelcollapse run`` or ``modelcollapse sweep`` (a sweep may be
        unfinished: the page shows what is done).
    title
        The page's heading (default: the folder's name). Shown as text, never as HTML.
    out
        Where to write the page (default ``path/report.html``).

    Returns
    -------
    pathlib.Path
        The page.

    Raises
    ------
    ConfigError
        When ``path`` is not a finished run or a sweep folder, or Plotly is not installed.

    Examples
    --------
    >>> import modelcollapse as mc
    >>> result = mc.run(mc.RunConfig("coin", seed=1), out="runs/coin-demo")   # doctest: +SKIP
    >>> mc.write_report("runs/coin-demo")                                        # doctest: +SKIP
    PosixPath('runs/coin-demo/report.html')
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError("DIR", "must be a run or sweep folder; there is no such folder",
                          str(folder))
    if not (folder / "manifest.json").is_file():
        why = ("it looks like an interrupted run, which leaves no results" if ".partial" in
               folder.name else "it has no manifest.json")
        raise ConfigError("DIR", f"must be a folder written by modelcollapse run or sweep; {why}",
                          str(folder))
    try:
        kind = json.loads((folder / "manifest.json").read_text()).get("kind")
    except (ValueError, AttributeError):
        raise ConfigError("DIR", "has a manifest.json that is not a modelcollapse manifest",
                          str(folder)) from None
    if kind not in ("run", "sweep"):
        raise ConfigError("DIR", f"is a {kind} folder; reports are made of run and sweep "
                                 "folders (its figures and tables are beside it)", str(folder))
    target = Path(out) if out is not None else folder / FILE_NAME
    if not target.parent.is_dir():
        raise ConfigError("--out", "must be a file in an existing folder", str(target))
    bundle = plotly_bundle()
    import pyarrow as pa

    try:
        if kind == "sweep":

            page = sweep_page(load_sweep(folder), folder=folder, title=title)
        else:

            page = run_page(open_run(folder), folder=folder, title=title)
    except (OSError, pa.ArrowException) as err:  # a table deleted or damaged after the run
        raise ConfigError("DIR", f"could not be read: {type(err).__name__}: {err}",
                          str(folder)) from None
    page.footer += f" · made {datetime.now().strftime('%Y-%m-%d %H:%M')}"

    text = render(page, bundle)
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
