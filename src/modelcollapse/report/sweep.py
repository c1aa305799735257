"""The report of a sweep: the grid in words, collapse speed across it, each cell's metrics over
generations, the table of cells, the skipped combinations and the files.

:func:`sweep_page` reads a sweep folder (:class:`~modelcollapse.sweeps.reader.SweepResult`),
complete or not, and returns a :class:`~modelcollapse.report.page.Page`. Collapse speed across the
grid (lines against one varying option, heatmaps over two or more) is
:mod:`modelcollapse.report.grid`, drawn as in ``sweep.png``; each cell's event curve and key
metrics over generations, the sortable table of cells and the skipped combinations are here.

An unfinished sweep has no summary yet: its page shows the experiment, each cell's progress and
the metrics of the finished work units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..results.folders import describe_record
from ..statistics import empirical_cdf
from ..sweeps.grid import column_name, show_value
from ..sweeps.store import GONE, SweepFolder, last_process
from ..views.run import metric_label, plural, quantile_bands
from ..views.sweep import SweepView
from .figures import GENERATION, figure, layout, line, thin
from .grid import speed_charts
from .page import Chart, Page, Preformatted, Section, Table, chart_text, typed

if TYPE_CHECKING:
    from ..sweeps.reader import SweepResult
    from ..views.sweep import SweepView


#: Cells drawn as lines in the per-metric charts (the first ones, in grid order).
MAX_CELL_LINES = 40

#: Key metrics drawn per cell.
CELL_METRICS = 4

#: Replicates per cell over which the medians are taken.
MEDIAN_REPLICATES = 10_000


def _cell_label(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {show_value(v)}" for k, v in values.items())


def _sequential(n: int) -> list[str]:
    """``n`` colours from light blue to dark blue to deep red: neighbouring cells stay apart."""
    stops = np.array([[107, 174, 214], [33, 113, 181], [8, 48, 107], [103, 0, 13], [203, 24, 29]])
    out = []
    for i in range(n):
        f = 0.0 if n == 1 else i / (n - 1) * (len(stops) - 1)
        j = min(int(f), len(stops) - 2)
        rgb = stops[j] + (stops[j + 1] - stops[j]) * (f - j)
        out.append("#" + "".join(f"{round(float(c)):02x}" for c in rgb))
    return out


def lede(sweep: SweepResult) -> list[str]:
    m = sweep.manifest
    spec = m["spec"]
    experiment = spec.get("experiment", {})
    grid = spec.get("grid", {})
    family = experiment.get("family", "gmm")
    axes = " × ".join(f"{k} ({len(v)} values)" for k, v in grid.items())
    fixed = ", ".join(f"{k} = {show_value(v)}" for k, v in experiment.items() if k != "family")
    skipped = f", of which {len(m['skipped'])} are invalid and skipped" if m["skipped"] else ""
    return [
        f"A grid of {family} experiments: every combination of {axes}, "
        f"{plural(len(m['cells']) + len(m['skipped']), 'combination')}{skipped}. "
        f"Every cell is a full `modelcollapse run` with these settings"
        + (f" and {fixed}" if fixed else "") + f", all from seed {m['seed']}.",
        "The charts show how often and how fast the models collapse across the grid, beside "
        "exact theory where it has an answer.",
    ]


def facts(sweep: SweepResult, folder: Path) -> list[tuple[str, str]]:
    m = sweep.manifest
    spec = m["spec"]
    out = [(k, show_value(v)) for k, v in spec.get("experiment", {}).items()]
    out += [(f"grid: {k}", ", ".join(show_value(x) for x in v))
            for k, v in spec.get("grid", {}).items()]
    units = m.get("units") or sum(c["units"] for c in m["cells"])
    finished = int(sweep.cells["finished_units"].sum()) if m["cells"] else 0
    out += [("cells", f"{len(m['cells']):,} valid, {len(m['skipped']):,} skipped"),
            ("status", f"{sweep.status} ({finished:,} of {units:,} work units finished)"),
            ("seed", f"{m['seed']}" + (" (drawn at random)" if m.get("seed_drawn") else "")),
            ("modelcollapse", str(m.get("versions", {}).get("modelcollapse", "?")))]
    sessions = m.get("sessions", [])
    if sessions:
        timed = [s["wall_seconds"] for s in sessions if s.get("wall_seconds") is not None]
        wall = f"{sum(timed):.1f} s in {plural(len(sessions), 'session')}"
        if len(timed) < len(sessions):  # a session killed outright records no time
            untimed = len(sessions) - len(timed)
            wall = (f"{plural(len(sessions), 'session')}, {sum(timed):.1f} s recorded "
                    f"({untimed} ended without recording its time)")
        out.append(("ran", f"{sessions[0].get('started', '?')} · {wall} · "
                           f"{sessions[-1].get('executor', '?')}"))
    if m.get("argv"):
        out.append(("command", " ".join(map(str, m["argv"]))))
    out.append(("folder", str(folder)))
    return out


def progress_words(sweep: SweepResult) -> str:
    """What an unfinished sweep's page says of its state: still running, or stopped (and how)."""
    status = sweep.status
    then = ("The summary and the collapse-speed charts appear when every work unit is done; the "
            "metrics below come from the finished units.")
    if status == "running":
        return (f"This sweep is running ({describe_record(last_process(sweep.manifest))}), or "
                "was running on another machine when this page was written. " + then)
    if status == GONE:
        # The manifest still says running: only the check of its process tells the truth.
        return (f"This sweep was {GONE}: {describe_record(last_process(sweep.manifest))} was "
                "killed before it could record its end. Run the same `modelcollapse sweep` "
                "command again to finish it. " + then)
    return (f"This sweep is {status}: run the same `modelcollapse sweep` command again to "
            "finish it. " + then)


def _view(sweep: SweepResult) -> SweepView:
    skipped: list[Mapping[str, Any]] = [{**s["values"], "reason": s["reason"]}
                                        for s in sweep.skipped]
    return SweepView.of(sweep.summary, list(sweep.manifest["spec"]["grid"]), skipped, {})


def event_charts(sweep: SweepResult, view: SweepView) -> list[Chart]:
    """The fraction of each cell's replicates with the event by generation t (from replicates/)."""
    import pyarrow.parquet as pq

    if view.event is None:
        return []
    column = view.event.column
    cells = sweep.manifest["cells"][:MAX_CELL_LINES]
    folder = SweepFolder(sweep.path)
    data = []
    for cell, colour in zip(cells, _sequential(len(cells)), strict=True):
        files = sorted(folder.replicates_dir.glob(f"{cell['id']}-u*.parquet"))
        if not files:
            continue
        times = np.concatenate([pq.read_table(f, columns=[column])[column].to_numpy(
            zero_copy_only=False).astype(float) for f in files])
        g = int(cell["config"]["n_generations"])
        fraction = empirical_cdf(times, g)
        index = thin(g + 1)
        name = _cell_label(cell["values"])
        data.append(line(index, fraction[index], name, color=colour, width=1.8, shape="hv",
                         hover=f"{chart_text(name)}: %{{y:.1%}}<extra></extra>"))
    if not data:
        return []
    return [Chart("speed-curves", f"Fraction of replicates {view.verb} by each generation, "
                                  "cell by cell",
                  figure(data, layout(GENERATION, f"fraction {view.verb} by t", hovermode="closest",
                                      yaxis={"tickformat": ".0%", "range": [-0.02, 1.02]},
                                      legend={"orientation": "v", "x": 1.02, "xanchor": "left",
                                              "y": 1, "yanchor": "top"})),
                  "From every replicate of each cell; click a cell in the legend to hide it, "
                  "double-click to show it alone.", height=420)]


def cell_metric_charts(sweep: SweepResult) -> list[Chart]:
    """One chart per key metric: each cell's median over generations (cells toggle in the
    legend), from the finished work units."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cells = sweep.manifest["cells"]
    if not cells:
        return []
    first = sweep.config(cells[0]["id"])
    metrics = list(first.key_metrics)[:CELL_METRICS]
    shown = cells[:MAX_CELL_LINES]
    colours = _sequential(len(shown))
    folder = SweepFolder(sweep.path)
    series: dict[str, list[tuple[str, str, np.ndarray]]] = {m: [] for m in metrics}
    for cell, colour in zip(shown, colours, strict=True):
        files = sorted(folder.metrics_dir.glob(f"{cell['id']}-u*.parquet"))
        if not files:
            continue
        n_gen = int(cell["config"]["n_generations"]) + 1
        # Each unit's file is read once, for all the metrics drawn.
        tables = [pq.read_table(f, columns=["replicate", "metric", "generation", "value"],
                                filters=[("metric", "in", metrics),
                                         ("replicate", "<", MEDIAN_REPLICATES)])
                  for f in files]
        for metric in metrics:
            values = []
            for table in tables:
                rows = table.filter(pc.equal(table["metric"], metric))
                values.append(_trajectories(rows, n_gen))
            traj = np.concatenate(values)
            if traj.size:
                q = quantile_bands(traj, [5.0, 50.0, 95.0])
                series[metric].append((_cell_label(cell["values"]), colour, q))
    charts = []
    for metric in metrics:
        if not series[metric]:
            continue
        title, label = metric_label(metric)
        data = []
        for name, colour, q in series[metric]:
            index = thin(q.shape[1])
            data.append(line(index, q[1, index], name, color=colour, width=1.8,
                             customdata=typed(np.stack([q[0, index], q[2, index]], axis=1)),
                             hover=f"{chart_text(name)}: %{{y:.4g}} (5–95%: "
                                   "%{customdata[0]:.3g} to %{customdata[1]:.3g})"
                                   "<extra></extra>"))
        more = len(cells) - len(shown)
        charts.append(Chart(
            f"cells-{metric}", f"{title}: the median of each cell", figure(data, layout(
                GENERATION, label, hovermode="closest",
                legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1,
                        "yanchor": "top"},
                margin={"r": 10})),
            "Each line is one cell's median across its replicates; hover for its 5–95% range, "
            "click a cell in the legend to hide it, double-click to show it alone."
            + (f" The first {len(shown)} of {len(cells)} cells are drawn ({more} more in "
               "metrics/)." if more > 0 else ""), height=440))
    return charts


def _trajectories(rows: Any, n_gen: int) -> np.ndarray:
    """One metric's rows of a unit file as ``[replicate, generation]``.

    Units are written sorted by replicate and generation, so the sort is skipped when a cheap
    check confirms that order (it is most of the time of a large sweep's report otherwise).
    """
    replicate = rows["replicate"].to_numpy()
    generation = rows["generation"].to_numpy()
    value = rows["value"].to_numpy()
    in_order = (np.all(replicate[1:] >= replicate[:-1])
                and np.array_equal(generation.reshape(-1, n_gen),
                                   np.broadcast_to(np.arange(n_gen), (generation.size // n_gen,
                                                                      n_gen))))
    if not in_order:
        value = value[np.lexsort((generation, replicate))]
    return value.reshape(-1, n_gen)


def cells_table(sweep: SweepResult, view: SweepView | None) -> Table:
    """One row per cell: grid values, then how often and how fast it collapsed (or, before the
    sweep is complete, its progress)."""
    grid = list(sweep.manifest["spec"]["grid"])
    columns = [column_name(k) for k in grid]
    if view is None:
        frame = sweep.cells
        rows = [[*(row[c] for c in columns), int(row["finished_units"]), int(row["units"]),
                 row["cell"]] for _, row in frame.iterrows()]
        n = len(columns)
        return Table([*grid, "finished units", "units", "cell"], rows,
                     numeric={n, n + 1}, sortable=True,
                     caption="The sweep is not complete: each cell's progress.")
    frame = view.frame
    event, verb = (view.event.name if view.event else None), view.verb
    metric = view.collapse_metric()
    head = [*grid, "replicates"]
    stats: list[tuple[str, np.ndarray, float]] = []
    if event is not None:
        stats += [(f"{verb} by end %", view.ev("fraction"), 100.0),
                  ("± SE", view.ev("fraction_se"), 100.0),
                  ("exact %", view.ev("fraction", exact=True), 100.0),
                  (f"mean {event} time", view.ev("time_mean"), 1.0),
                  ("± SE ", view.ev("time_se"), 1.0),
                  ("exact E[T | T ≤ G]", view.ev("time_mean", exact=True), 1.0),
                  ("median time", view.ev("time_median"), 1.0),
                  ("exact median", view.ev("time_median", exact=True), 1.0)]
    final = f"final_{metric}_median"
    if final in frame.columns:
        stats.append((f"final {metric}, median", view.column(final), 1.0))
    rows = []
    for r in range(len(frame)):
        row = [frame[column_name(k)].iloc[r] if column_name(k) in frame.columns else None
               for k in grid]
        row = [getattr(v, "item", lambda v=v: v)() for v in row]
        row.append(int(frame["replicates"].iloc[r]))
        row += [float(values[r] * scale) if math.isfinite(values[r]) else None
                for _, values, scale in stats]
        row.append(str(frame["cell"].iloc[r]))
        rows.append(row)
    n = len(grid)
    return Table([*head, *(name.strip() for name, _, _ in stats), "cell"], rows,
                 numeric=set(range(n, n + 1 + len(stats))), sortable=True,
                 caption="Click a column's name to sort. Times are in generations; “–”: no "
                         "replicate had the event, or theory has no exact value.")


def skipped_table(sweep: SweepResult) -> Table | None:
    if not sweep.skipped:
        return None
    grid = list(sweep.manifest["spec"]["grid"])
    rows = [[*(s["values"].get(k) for k in grid), s["reason"]] for s in sweep.skipped]
    return Table([*grid, "why it was skipped"], rows,
                 caption="Invalid combinations of the grid, not run.")


def files_section(sweep: SweepResult, folder: Path) -> Section:
    store = SweepFolder(folder)
    n_metrics = len(list(store.metrics_dir.glob("*.parquet"))) if store.metrics_dir.is_dir() \
        else 0
    entries = [("manifest.json", "the sweep file, seed, cells, work units, sessions"),
               ("summary.parquet", "one row per cell: the table above, with every quantile"),
               ("metrics/", f"every replicate's metrics, one Parquet file per work unit "
                            f"({n_metrics:,} files), with the cell's grid values as columns"),
               ("replicates/", "one row per replicate: event times and final values"),
               *((f, "figure (PNG)") for f in sweep.manifest.get("files", {}).get("figures",
                                                                                   []))]
    rows: list[list[Any]] = []
    links: dict[tuple[int, int], str] = {}
    for name, note in entries:
        if not (folder / name.rstrip("/")).exists():
            continue
        links[(len(rows), 0)] = name
        rows.append([name, note])
    code = (f"import modelcollapse as mc\nsweep = mc.load({str(folder)!r})\n"
            "sweep.summary               # one row per cell (pandas)\n"
            "sweep.metrics_of(sweep.summary.cell[0])   # one cell's tidy metrics\n\n"
            "# or with DuckDB, straight from the files:\n"
            f"# duckdb -c \"SELECT * FROM '{folder}/metrics/*.parquet' LIMIT 5\"")
    return Section("files", "Files", ["The tables behind this page, beside it in the sweep "
                                      "folder (links are relative: keep the page in its folder)."],
                   [Table(["file", "what it holds"], rows, links=links), Preformatted(code)])


def sweep_page(sweep: SweepResult, *, folder: Path, title: str | None = None) -> Page:
    """The report of a sweep folder, complete or not.

    Parameters
    ----------
    sweep
        The sweep (loaded from ``folder``).
    folder
        The sweep folder (for the file list).
    title
        The page's heading (default: the folder's name).
    """
    complete = sweep.complete and (folder / "summary.parquet").is_file()
    view = _view(sweep) if complete else None
    sections = []
    if view is not None:
        charts = speed_charts(view)
        paragraphs = ([f"How often and how fast the models "
                       f"{view.event.plural_verb if view.event else 'collapse'} in each cell "
                       "of the grid, with theory's exact values in magenta where it has them."]
                      if charts else ["No grid option varies, or the family has no collapse "
                                      "event: see the table of cells."])
        sections.append(Section("speed", "Collapse speed across the grid", paragraphs,
                                [*charts, *event_charts(sweep, view)]))
    else:
        sections.append(Section("progress", "Progress", [progress_words(sweep)]))
    per_cell = cell_metric_charts(sweep)
    if per_cell:
        sections.append(Section("cells-metrics", "Metrics over generations, cell by cell", [
            "The key metrics of each cell's fitted models against generation."], per_cell))
    items: list[Any] = [cells_table(sweep, view)]
    skipped = skipped_table(sweep)
    if skipped is not None:
        items.append(skipped)
    sections.append(Section("cells", "Table of cells", [], items))
    sections.append(files_section(sweep, folder))
    version = sweep.manifest.get("versions", {}).get("modelcollapse", "?")
    return Page(title=title if title is not None else folder.name, lede=lede(sweep),
                facts=facts(sweep, folder), sections=sections,
                footer=f"modelcollapse {version} · report of sweep {folder.name} · charts by "
                       "Plotly")
