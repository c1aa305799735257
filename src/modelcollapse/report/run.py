"""The report of one run: what was simulated, every metric over generations, the distribution's
evolution, the events, theory's exact results, sample texts and the files.

:func:`run_page` reads a finished run (:class:`~modelcollapse.results.run.Result`) and returns a
:class:`~modelcollapse.report.page.Page`. Every chart is interactive (hover, zoom, legend
toggles):

metrics
    One chart per metric: the median across replicates, the 50% and 90% bands, the truth's
    value, theory's exact curves where :func:`modelcollapse.predict` has them, and the first
    :data:`REPLICATE_LINES` replicates, hidden until their legend entry is clicked.
density (``gaussian``, ``gmm``)
    :mod:`modelcollapse.report.mixture`.
coin
    :mod:`modelcollapse.report.coin`.
scatter (any family with points in the plane)
    :mod:`modelcollapse.report.scatter`: the training points per pictured generation.
pictures (any family whose samples are images)
    :mod:`modelcollapse.report.pictures`: a row of sampled images per pictured generation.
events
    The fraction of replicates collapsed (or fixed on one token) by each generation, with the
    exact law where there is one.

Bands are over the first :data:`BAND_REPLICATES` replicates (all of them in most runs; the page
says when not); the absorption and event curves use every replicate.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..events import ABSORPTION, EVENTS
from ..statistics import empirical_cdf
from ..views.run import (
    LOG_DECADES,
    choose_scale,
    metric_label,
    plural,
    quantile_bands,
)
from ..views.style import STYLE
from .coin import coin_charts
from .figures import GENERATION, band, figure, layout, line, rgba, theory_traces, thin
from .mixture import density_charts
from .page import Chart, Page, Preformatted, Section, Table
from .pictures import pictures_section
from .scatter import scatter_section
from .view import ReportRun

if TYPE_CHECKING:
    from ..config import RunConfig
    from ..results.run import Result


#: Replicates drawn as individual lines in the metric charts (on demand).
REPLICATE_LINES = 20

#: Metrics drawn on a log axis when their values span decades (as in the PNG figures).
LOG_METRICS = frozenset({"var"})

#: Sample texts shown for an n-gram run.
SAMPLE_ROWS = 12


def policy_words(config: RunConfig) -> str:
    """How each training set after the first is made, in words."""
    policy: Any = config.data_policy
    n = config.n_samples
    if policy.name == "replace":
        return f"entirely of {n:,} samples of the previous generation's fit"
    if policy.name == "mix":
        real, synthetic, kept = policy.split(n)
        parts = [f"{real:,} fresh samples of the truth" if real else "",
                 f"{synthetic:,} samples of the previous fit" if synthetic else "",
                 f"{kept:,} samples carried over from the previous training set" if kept else ""]
        return "of " + ", ".join(p for p in parts if p)
    if policy.name == "augment":
        extra = policy.n_synthetic(n)
        return (f"of the first training set's {n:,} real samples, the same ones every "
                f"generation, plus {extra:,} new samples of the previous fit")
    new = f"{n:,} new samples of the previous fit"
    if getattr(policy, "real", 0):
        new = (f"{n:,} new samples ({policy.real:.0%} fresh from the truth, the rest from the "
               "previous fit)")
    if policy.name == "accumulate":
        return f"of every sample so far plus {new}, so training sets grow"
    return f"of {n:,} samples drawn without replacement from every sample so far plus {new}"


#: What each family is, in words.
FAMILY_NOUNS = {"coin": "coin", "gmm": "Gaussian mixture", "gaussian": "normal distribution",
                "categorical": "categorical distribution over tokens",
                "ngram": "n-gram language model", "regression": "linear regression",
                "mvgaussian": "multivariate normal distribution",
                "kde": "kernel density estimator", "vae": "variational autoencoder",
                "charlm": "character-level transformer language model"}


def reward_words(config: RunConfig) -> str:
    """The run's reward in a few words (``"the truth's log density"``)."""
    reward = config.bound_reward()
    return "" if reward is None else reward.words.removeprefix("reward: ")


def curation_words(config: RunConfig) -> str:
    """A sentence on how the previous fit's samples were selected (empty when they were not)."""
    curator = config.curator
    if curator.is_identity:
        return ""
    reward = config.bound_reward()
    by = (f", rewarded by {reward_words(config)}" if reward is not None and curator.uses_reward
          else "")
    return (f" Those samples of the previous fit are curated before training: "
            f"{curator.describe()}{by}.")


def lede(config: RunConfig) -> list[str]:
    """The experiment in two plain sentences."""
    model = config.model
    unit = "tosses" if model.name == "coin" else "tokens" if model.name == "ngram" else "samples"
    noun = FAMILY_NOUNS.get(model.name, f"{model.name} model")
    return [
        f"A {noun} is fitted to {config.n_samples:,} {unit} of a known truth "
        f"({model.describe()}). Each later generation is fitted to a training set made "
        f"{policy_words(config)}.{curation_words(config)}",
        f"This repeats for {plural(config.n_generations, 'generation')} in "
        f"{plural(config.n_replicates, 'independent replicate')}, all drawn from seed "
        f"{config.seed}. The charts show how the fitted models drift away from the truth.",
    ]


def facts(result: Result, title_hint: str) -> list[tuple[str, str]]:
    """The experiment's settings and provenance, as label/value pairs."""
    m = result.manifest
    config = result.config
    out = [("family", config.model.describe()),
           ("policy", config.data_policy.describe()),
           *([("curation", config.curator.describe())] if not config.curator.is_identity
             else []),
           *([("reward", reward_words(config))] if config.reward is not None else []),
           ("N per generation", f"{config.n_samples:,}"),
           ("generations", f"{config.n_generations:,}"),
           ("replicates", f"{config.n_replicates:,}"),
           ("seed", f"{config.seed}" + (" (drawn at random)" if m.get("seed_drawn") else ""))]
    if config.model.collapse_metric:
        out.append(("collapse", f"{config.model.collapse_metric} below "
                                f"{config.collapse_fraction:g} × the truth's"))
    versions = m.get("versions", {})
    out.append(("modelcollapse", str(versions.get("modelcollapse", "?"))))
    if m.get("started"):
        out.append(("ran", f"{m['started']} · {m.get('wall_seconds', 0):.1f} s on "
                           f"{plural(m.get('workers'), 'thread')}"))
    if m.get("argv"):
        out.append(("command", " ".join(map(str, m["argv"]))))
    out.append(("folder", title_hint))
    return out


def _log_axis(metric: str, values: np.ndarray, curves: list[Any]) -> bool:
    """A log axis for ``var`` by the log rule; for another metric that is never negative, when
    theory's curves reach more than :data:`LOG_DECADES` decades above every simulated value
    (E KL_t of a Gaussian under ``replace`` reaches 5e8, dominated by rare paths, while the
    simulated KL stays near 1: on a linear axis the simulation would be a flat line)."""
    if metric in LOG_METRICS:
        return choose_scale(values)[0] == "log"
    simulated = np.asarray(values, dtype=float)
    simulated = simulated[np.isfinite(simulated)]
    exact = np.concatenate([np.asarray(c.values, dtype=float).ravel() for c in curves]) \
        if curves else np.empty(0)
    exact = exact[np.isfinite(exact)]
    if simulated.size == 0 or exact.size == 0 or (simulated < 0).any() or (exact < 0).any():
        return False
    top = float(simulated.max())
    return top > 0 and float(exact.max()) > top * 10.0**LOG_DECADES


def metric_chart(run: ReportRun, metric: str) -> Chart:
    """Median, 50% and 90% bands, truth, theory and (on demand) replicates of one metric."""
    values = run.traj(metric)
    title, label = metric_label(metric)
    index = thin(values.shape[1])
    curves = run.theory(metric)
    log = _log_axis(metric, values, curves)
    q = quantile_bands(values, [5.0, 25.0, 50.0, 75.0, 95.0])[:, index]
    data: list[dict[str, Any]] = []
    lines = min(REPLICATE_LINES, values.shape[0])
    for r in range(lines):
        data.append(line(index, values[r, index], f"replicates (first {lines})",
                         color=rgba(STYLE.example, 0.45), width=0.8, group="replicates",
                         showlegend=r == 0, visible="legendonly", precise=False,
                         hover=f"replicate {r}: %{{y:.4g}}<extra></extra>"))
    data += band(index, q[0], q[4], "5–95% of replicates", color=STYLE.main, alpha=0.15,
                 group="band90", hover_names=("5%", "95%"))
    data += band(index, q[1], q[3], "25–75% of replicates", color=STYLE.main, alpha=0.3,
                 group="band50", hover_names=("25%", "75%"))
    data.append(line(index, q[2], "median", color=STYLE.main, width=2.4))
    truth = float(values[0, 0]) if values.size else math.nan
    if math.isfinite(truth):
        data.append(line([0, run.g], [truth, truth], "truth (generation 0)", color=STYLE.truth,
                         width=1.2, dash="dash", hover="truth: %{y:.4g}<extra></extra>"))
    data += theory_traces(curves, index)
    where = "" if curves or run.prediction is None else " Theory has no exact result for it here."
    caption = (f"Median and bands {run.over()}; the truth's value is dashed black"
               + (", theory's exact result magenta" if curves else "") + "." + where
               + " Click “replicates” in the legend to draw individual replicates; drag to zoom,"
                 " double-click to reset.")
    if index.size < values.shape[1]:
        caption += f" One generation in {int(index[1] - index[0])} is drawn."
    if log and metric not in LOG_METRICS:
        caption += " The axis is logarithmic: the values span many decades."
    return Chart(f"metric-{metric}", title,
                 figure(data, layout(GENERATION, label, log_y=log)), caption)


def event_charts(run: ReportRun) -> list[Chart]:
    """For each event of the family (not the coin's, drawn above): the fraction by generation."""
    replicates = run.result.replicates
    out = []
    for event in EVENTS.values():
        column, words, noun = event.column, event.happened, event.name
        if column not in replicates.columns or event is ABSORPTION:
            continue
        fraction = empirical_cdf(replicates[column].to_numpy(dtype=float, na_value=np.nan),
                                 run.g)
        t = np.arange(run.g + 1)
        index = thin(run.g + 1)
        data = [line(t[index], fraction[index], f"{words} ({fraction[-1]:.1%} by t = {run.g:,})",
                     color=STYLE.main, width=2.4, shape="hv")]
        exact = (getattr(run.prediction, event.theory)
                 if run.prediction is not None and event.theory else None)
        if exact is not None:
            data.append(line(t[index], np.asarray(exact.values)[index], exact.label,
                             color=STYLE.theory, width=1.8, dash="dash", shape="hv"))
        definition = "the " + event.definition.format(
            metric=run.config.model.collapse_metric, fraction=f"{run.config.collapse_fraction:g}")
        out.append(Chart(f"event-{noun}", f"Fraction of replicates {words} by each generation",
                         figure(data, layout(GENERATION, "fraction of replicates",
                                             yaxis={"range": [-0.02, 1.02]})),
                         f"The {noun} time is {definition}. From all {run.total:,} replicates."
                         + (" Theory's exact law is dashed magenta." if exact is not None
                            else "")))
    return out


def theory_section(run: ReportRun) -> Section | None:
    prediction = run.prediction
    if prediction is None:
        return None
    if not prediction.facts and not prediction.curves:
        return Section("theory", "Exact theory", [
            "Theory has no exact result for this configuration. "
            + " ".join(prediction.notes)])
    paragraphs = ["Exact results for this configuration from modelcollapse.predict (Markov "
                  "chains, chi-square laws and moment recursions; see the README's theory "
                  "section). The charts above draw them in magenta."]
    items: list[Any] = []
    if prediction.facts:
        items.append(Table(["quantity", "exact value"],
                           [[name, float(value)] for name, value in prediction.facts.items()],
                           numeric={1}))
    if prediction.notes:
        paragraphs.append("Not covered exactly here: " + " ".join(prediction.notes))
    return Section("theory", "Exact theory", paragraphs, items)


def samples_section(result: Result) -> Section | None:
    samples = result.samples
    if samples.empty:
        return None
    first = samples[samples["replicate"] == samples["replicate"].min()]
    generations = sorted(first["generation"].unique())
    if len(generations) > SAMPLE_ROWS:
        pick = np.unique(np.linspace(0, len(generations) - 1, SAMPLE_ROWS).round().astype(int))
        generations = [generations[i] for i in pick]
    rows = [[int(r.generation), str(r.text)] for r in
            first[first["generation"].isin(generations)].sort_values("generation").itertuples()]
    return Section("samples", "Sample texts",
                   [f"Text sampled from replicate {int(first['replicate'].iloc[0])}'s model at "
                    f"{len(rows)} generations: watch the rare words go and the phrases repeat. "
                    "All of them are in samples.parquet."],
                   [Table(["generation", "text"], rows, numeric={0})])


#: Files of a run folder and what they hold.
FILE_NOTES = {
    "manifest.json": "configuration, seed, versions, command, summary",
    "metrics.parquet": "every metric of every replicate at every generation (tidy: replicate, "
                       "metric, generation, value)",
    "replicates.parquet": "one row per replicate: event times and final values",
    "samples.parquet": "sample texts per generation",
    "points.parquet": "replicate 0's training points at the pictured generations (x, y)",
    "pictures.parquet": "replicate 0's sampled images at the pictured generations (one row per "
                        "image: height, width, pixels)",
}


def files_section(folder: Path, result: Result) -> Section:
    names = [n for n in FILE_NOTES if (folder / n).is_file()]
    names += list(result.manifest.get("files", {}).get("figures", []))
    rows, links = [], {}
    for i, name in enumerate(names):
        path = folder / name
        size = path.stat().st_size if path.is_file() else None
        rows.append([name, FILE_NOTES.get(name, "figure (PNG)"),
                     _size(size) if size is not None else "missing"])
        links[(i, 0)] = name
    code = (f"import modelcollapse as mc\nresult = mc.load({str(folder)!r})\n"
            "result.metrics          # pandas DataFrame: replicate, metric, generation, value\n"
            "result.replicates       # one row per replicate\n"
            "result.trajectories('" + result.config.metric_names[0]
            + "')   # numpy [replicate, generation]")
    return Section("files", "Files", ["The tables behind this page, beside it in the run "
                                      "folder (links are relative: keep the page in its folder)."],
                   [Table(["file", "what it holds", "size"], rows, links=links),
                    Preformatted(code)])


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def run_page(result: Result, *, folder: Path, title: str | None = None) -> Page:
    """The report of a finished run.

    Parameters
    ----------
    result
        The run (loaded from ``folder``).
    folder
        The run folder (for the file list).
    title
        The page's heading (default: the folder's name).
    """
    from ..views.text import format_summary

    run = ReportRun(result)
    config = run.config
    sections = []
    summary = result.manifest.get("summary")
    sections.append(Section(
        "summary", "Summary",
        ["What the run printed at the end: the final generation's metrics across replicates "
         "beside theory's exact means, and how many replicates were absorbed or collapsed."],
        [Preformatted(format_summary(config, summary))] if summary else []))
    model = config.model
    if model.name == "coin":
        sections.append(Section("coin", "The coin's rollouts", [
            "The coin re-estimated from its own k tosses is Wright–Fisher genetic drift: p̂ "
            "wanders until it sticks at 0 or 1, and under replace it never leaves."],
            list(coin_charts(run))))
    if model.name in ("gmm", "gaussian"):
        sections.append(Section("density", "How the distribution changes", [
            "The fitted model's density, generation after generation: a model trained on its "
            "own samples loses its tails and narrows (sometimes it widens), and the replicates "
            "drift apart."], density_charts(run)))
    scatter = scatter_section(result)  # generic: any family whose samples are points
    if scatter is not None:
        sections.append(scatter)
    pictures = pictures_section(result)  # generic: any family whose samples are images
    if pictures is not None:
        sections.append(pictures)
    ordered = list(dict.fromkeys([*config.key_metrics, *config.metric_names]))
    sections.append(Section("metrics", "Metrics over generations", [
        f"Each metric of the fitted model against generation, {run.over()}. "
        + ("" if run.prediction is None or not run.prediction.curves else
           "Where theory has an exact answer it is drawn in magenta beside the simulation.")],
        [metric_chart(run, m) for m in ordered]))
    events = event_charts(run)
    if events:
        sections.append(Section("events", "Collapse events", [], list(events)))
    for extra in (theory_section(run), samples_section(result)):
        if extra is not None:
            sections.append(extra)
    sections.append(files_section(folder, result))
    heading = title if title is not None else folder.name
    version = result.manifest.get("versions", {}).get("modelcollapse", "?")
    return Page(title=heading, lede=lede(config), facts=facts(result, str(folder)),
                sections=sections,
                footer=f"modelcollapse {version} · report of {folder.name} · charts by Plotly")
