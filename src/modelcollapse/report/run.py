"""The report of one run: what was simulated, every metric over generations, the distribution's
evolution, the events, theory's exact results, sample texts and the files.

:func:`run_page` reads a finished run (:class:`~modelcollapse.results.Result`) and returns a
:class:`~modelcollapse.report_page.Page`. Every chart is interactive (hover, zoom, legend
toggles):

metrics
    One chart per metric: the median across replicates, the 50% and 90% bands, the truth's
    value, theory's exact curves where :func:`modelcollapse.predict` has them, and the first
    :data:`REPLICATE_LINES` replicates, hidden until their legend entry is clicked.
density (``gaussian``, ``gmm``)
    A heatmap of one replicate's fitted density over x and generation, and the truth beside the
    fitted densities at a few generations; a menu picks the replicate.
coin
    The rollouts coloured by where they end, the fraction absorbed by each generation beside the
    exact absorption law, and the share of rollouts at each value of p̂ over generations.
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
    RunView,
    _plural,
    absorbed_fractions,
    choose_scale,
    metric_label,
    mixture_density,
    quantile_bands,
    theory_pieces_real,
)
from ..views.style import STYLE
from .figures import GENERATION, band, dropdown, figure, layout, line, rgba, theory_traces, thin
from .page import Chart, Page, Preformatted, Section, Table, typed

if TYPE_CHECKING:
    from ..config import RunConfig
    from ..results.run import Result

#: Replicates over which the bands and distributions are computed.
BAND_REPLICATES = 10_000
#: Replicates drawn as individual lines in the metric charts (on demand).
REPLICATE_LINES = 20
#: Coin rollouts drawn in the paths chart.
PATHS = 200
#: Replicates offered in the density charts' menus.
DENSITY_REPLICATES = 5
#: Rows (generations) and columns (x) of the density heatmap.
HEAT_ROWS, HEAT_COLUMNS = 200, 200
#: Fitted densities above this multiple of the truth's peak saturate the heatmap's colours.
DENSITY_CLIP = 3.0
#: Metrics drawn on a log axis when their values span decades (as in the PNG figures).
LOG_METRICS = frozenset({"var"})
#: Sample texts shown for an n-gram run.
SAMPLE_ROWS = 12


class _Run(RunView):
    """A result's config, trajectories of the first :data:`BAND_REPLICATES` replicates (read
    once) and prediction."""

    def __init__(self, result: Result) -> None:
        super().__init__(result, BAND_REPLICATES)
        self.g = int(self.config.n_generations)

    def over(self) -> str:
        """"over all 100 replicates" or "over the first 10,000 of 10⁶ replicates"."""
        if self.shown >= self.total:
            return f"over all {_plural(self.total, 'replicate')}"
        return f"over the first {self.shown:,} of {self.total:,} replicates"


# -- the words -----------------------------------------------------------------------------------


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
                "ngram": "n-gram language model"}


def lede(config: RunConfig) -> list[str]:
    """The experiment in two plain sentences."""
    model = config.model
    unit = "tosses" if model.name == "coin" else "tokens" if model.name == "ngram" else "samples"
    noun = FAMILY_NOUNS.get(model.name, f"{model.name} model")
    return [
        f"A {noun} is fitted to {config.n_samples:,} {unit} of a known truth "
        f"({model.describe()}). Each later generation is fitted to a training set made "
        f"{policy_words(config)}.",
        f"This repeats for {_plural(config.n_generations, 'generation')} in "
        f"{_plural(config.n_replicates, 'independent replicate')}, all drawn from seed "
        f"{config.seed}. The charts show how the fitted models drift away from the truth.",
    ]


def facts(result: Result, title_hint: str) -> list[tuple[str, str]]:
    """The experiment's settings and provenance, as label/value pairs."""
    m = result.manifest
    config = result.config
    out = [("family", config.model.describe()),
           ("policy", config.data_policy.describe()),
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
                           f"{_plural(m.get('workers'), 'thread')}"))
    if m.get("argv"):
        out.append(("command", " ".join(map(str, m["argv"]))))
    out.append(("folder", title_hint))
    return out


# -- charts --------------------------------------------------------------------------------------


def metric_chart(run: _Run, metric: str) -> Chart:
    """Median, 50% and 90% bands, truth, theory and (on demand) replicates of one metric."""
    values = run.traj(metric)
    title, label = metric_label(metric)
    index = thin(values.shape[1])
    log = metric in LOG_METRICS and choose_scale(values)[0] == "log"
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
    curves = run.theory(metric)
    data += theory_traces(curves, index)
    where = "" if curves or run.prediction is None else " Theory has no exact result for it here."
    caption = (f"Median and bands {run.over()}; the truth's value is dashed black"
               + (", theory's exact result magenta" if curves else "") + "." + where
               + " Click “replicates” in the legend to draw individual replicates; drag to zoom,"
                 " double-click to reset.")
    if index.size < values.shape[1]:
        caption += f" Every {int(index[1] - index[0])}th generation is drawn."
    return Chart(f"metric-{metric}", title,
                 figure(data, layout(GENERATION, label, log_y=log)), caption)


def _mixture_params(run: _Run, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and standard deviations ``[R, G + 1, K]`` of the first ``n`` replicates."""
    model: Any = run.config.model
    if model.name == "gaussian":
        mean = run.traj("mean")[:n, :, None]
        return np.ones_like(mean), mean, np.sqrt(np.maximum(run.traj("var")[:n, :, None], 0.0))
    k = int(model.n_components)
    return tuple(np.stack([run.traj(f"{name}_{i}")[:n] for i in range(k)], axis=-1)
                 for name in ("weight", "mean", "std"))  # type: ignore[return-value]


def _x_range(w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> tuple[float, float]:
    """Where the truth and the visible fitted components lie (± 4σ), not wider than 4 × the
    truth's own span, so one exploding component does not flatten the rest."""
    mu0, sd0 = mu[0, 0], sd[0, 0]
    lo0, hi0 = float(np.min(mu0 - 4 * sd0)), float(np.max(mu0 + 4 * sd0))
    visible = (w > 1e-3) & np.isfinite(mu) & np.isfinite(sd)
    lo = min(lo0, float(np.min((mu - 4 * sd)[visible]))) if visible.any() else lo0
    hi = max(hi0, float(np.max((mu + 4 * sd)[visible]))) if visible.any() else hi0
    centre, span = (lo0 + hi0) / 2, hi0 - lo0
    return max(lo, centre - 2 * span), min(hi, centre + 2 * span)


def bin_density(centres: np.ndarray, weights: np.ndarray, means: np.ndarray,
                stds: np.ndarray) -> np.ndarray:
    """Mixtures' mean density over the bins centred on the evenly spaced ``centres``.

    Each bin's probability mass ``Σ_k w_k [Φ((b − μ_k)/σ_k) − Φ((a − μ_k)/σ_k)]`` divided by its
    width: unlike the density at the centres, it keeps a collapsed component, narrower than a
    bin, visible as one bright bin.

    Parameters
    ----------
    centres
        ``[X]`` evenly spaced.
    weights, means, stds
        ``[T, K]``.

    Returns
    -------
    numpy.ndarray
        ``[T, X]``; NaN where a mixture is not finite.
    """
    from scipy.special import ndtr

    step = centres[1] - centres[0]
    edges = np.append(centres - step / 2, centres[-1] + step / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (edges[None, :, None] - means[:, None, :]) / stds[:, None, :]  # [T, X + 1, K]
        cdf = (weights[:, None, :] * ndtr(z)).sum(axis=-1)
    out = np.diff(cdf, axis=1) / step
    out[~np.isfinite(out)] = np.nan
    return out


def density_charts(run: _Run) -> list[Chart]:
    """The fitted density over x and generation (heatmap) and at a few generations (lines)."""
    n = min(DENSITY_REPLICATES, run.shown)
    w, mu, sd = _mixture_params(run, n)
    lo, hi = _x_range(w, mu, sd)
    x = np.linspace(lo, hi, HEAT_COLUMNS)
    rows = thin(run.g + 1, HEAT_ROWS)
    peak = float(mixture_density(x, w[0, 0], mu[0, 0], sd[0, 0]).max())
    heat = []
    for r in range(n):
        z = bin_density(x, w[r, rows], mu[r, rows], sd[r, rows])
        heat.append({"type": "heatmap", "x": typed(x), "y": typed(rows, "i4"),
                     "z": typed(np.where(np.isfinite(z), z, np.nan), "f4"),
                     "zmin": 0.0, "zmax": DENSITY_CLIP * peak, "zauto": False,
                     "colorscale": "Viridis", "visible": r == 0, "name": f"replicate {r}",
                     "colorbar": {"title": {"text": "density"}, "thickness": 14},
                     "hovertemplate": "x = %{x:.3g}<br>t = %{y}<br>density %{z:.3g}"
                                      "<extra></extra>"})
    menus = [dropdown([str(r) for r in range(n)], [[i == r for i in range(n)] for r in range(n)],
                      title="replicate ")] if n > 1 else []
    heat_chart = Chart(
        "density-heatmap", "The fitted density over x and generation",
        figure(heat, layout("x (data units)", GENERATION, hovermode="closest", showlegend=False,
                            updatemenus=menus, margin={"t": 40})),
        f"Each row is one generation's fitted density of one replicate (pick it in the menu), "
        f"averaged over each of {HEAT_COLUMNS} bins of x; colours saturate at {DENSITY_CLIP:g}× "
        "the truth's peak. A component that collapses shows as a thin bright line, one that "
        "widens as a fading smear.", height=520)

    g = run.g
    chosen = sorted({0, 1, g // 10, g // 4, g // 2, g} - {0}) if g >= 1 else [0]
    palette = ["#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b", "#041d44"][-len(chosen):]
    offsets = np.array([-4, -3, -2, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2, 3, 4.0])
    data: list[dict[str, Any]] = []
    visible = []
    top = peak
    for r in range(n):
        for j, t in enumerate(chosen):
            # The common grid plus points across each component: a needle is drawn, not skipped.
            extra = (mu[r, t][:, None] + sd[r, t][:, None] * offsets).ravel()
            xs = np.sort(np.concatenate([x, np.clip(extra[np.isfinite(extra)], lo, hi)]))
            ys = np.minimum(mixture_density(xs, w[r, t], mu[r, t], sd[r, t]),
                            2 * DENSITY_CLIP * peak)
            top = max(top, float(np.nanmax(ys)) if np.isfinite(ys).any() else top)
            data.append(line(xs, ys, f"t = {t:,}", color=palette[j % len(palette)], width=1.6,
                             visible=r == 0, group=f"t{t}",
                             hover=f"t = {t:,}: %{{y:.3g}}<extra></extra>"))
            visible.append(r)
    truth_x = np.sort(np.concatenate([x, mu[0, 0]]))
    data.append(line(truth_x, mixture_density(truth_x, w[0, 0], mu[0, 0], sd[0, 0]), "truth",
                     color=STYLE.truth, width=2.6, hover="truth: %{y:.3g}<extra></extra>"))
    visible.append(-1)
    menus = [dropdown([str(r) for r in range(n)],
                      [[v in (r, -1) for v in visible] for r in range(n)],
                      title="replicate ")] if n > 1 else []
    # Needles of collapsed components would squash everything else: clip the axis, say so.
    clipped = top > DENSITY_CLIP * peak
    y_axis = {"range": [0, 1.05 * DENSITY_CLIP * peak]} if clipped else {}
    lines_chart = Chart(
        "density-lines", "The truth and the fitted density at selected generations",
        figure(data, layout("x (data units)", "density (1 / data unit)", hovermode="x unified",
                            updatemenus=menus, yaxis=y_axis)),
        "The truth (black) and one replicate's fitted density after 1 fit and at 10%, 25%, 50% "
        "and 100% of the run (light to dark). Pick the replicate in the menu; click a legend "
        "entry to hide a generation."
        + (f" The y axis stops at {DENSITY_CLIP:g}× the truth's peak; collapsed components go "
           "higher (double-click the chart to see them in full)." if clipped else ""),
        height=420)
    return [heat_chart, lines_chart]


def coin_charts(run: _Run) -> list[Chart]:
    """The rollouts, the fraction absorbed by each generation and the law of p̂ over time."""
    p = run.traj("p")
    g = run.g
    sticky = theory_pieces_real(run.config) == 0
    shown = p[:PATHS]
    index = thin(g + 1)
    final = shown[:, -1]
    groups = (("still drifting" if sticky else "inside (0, 1)", STYLE.drifting,
               (final != 0.0) & (final != 1.0)),
              ("fixed at 0" if sticky else "at 0", STYLE.at_zero, final == 0.0),
              ("fixed at 1" if sticky else "at 1", STYLE.at_one, final == 1.0))
    data: list[dict[str, Any]] = []
    alpha = max(0.15, min(0.8, 6.0 / math.sqrt(max(shown.shape[0], 1))))
    for label, color, keep in groups:
        ids = np.flatnonzero(keep)
        if not ids.size:
            continue
        # One trace per group, rollouts separated by a gap: 200 rollouts stay one SVG path each.
        xs = np.concatenate([np.append(index, np.nan) for _ in ids])
        ys = np.concatenate([np.append(shown[i, index], np.nan) for i in ids])
        who = np.concatenate([np.full(index.size + 1, i) for i in ids])
        data.append(line(xs, ys, f"{label} at t = {g:,}: {ids.size:,} of {shown.shape[0]:,}",
                         color=rgba(color, alpha), width=1.0, customdata=typed(who, "i4"),
                         hover="rollout %{customdata}: p̂ = %{y:.3g} at t = %{x}"
                               "<extra></extra>", connectgaps=False))
    p0 = float(run.config.model.truth())
    data.append(line([0, g], [p0, p0], f"truth p0 = {p0:g}", color=STYLE.truth, width=1.2,
                     dash="dash"))
    data += theory_traces(run.theory("p"), index)
    paths = Chart("coin-paths", "Every rollout's p̂, generation by generation",
                  figure(data, layout(GENERATION, "p̂ = heads / tosses", hovermode="closest",
                                      yaxis={"range": [-0.03, 1.03]})),
                  f"The first {shown.shape[0]:,} of {run.total:,} rollouts, coloured by where "
                  "they are at the last generation; theory's E p_t and exact 5–95% band in "
                  "magenta. Hover a line to see which rollout it is.", height=440)

    fractions = absorbed_fractions(run.result.replicates, g)
    t = np.arange(g + 1)
    words = ("absorbed at 0 or 1", "fixed at 1", "fixed at 0") if sticky else (
        "touched 0 or 1", "touched 1 first", "touched 0 first")
    data = [line(t[index], fractions[key][index], f"{label} ({fractions[key][-1]:.1%} by "
                 f"t = {g:,})", color=color, width=w_, shape="hv")
            for key, label, color, w_ in (("absorbed", words[0], STYLE.main, 2.6),
                                          ("at 1", words[1], STYLE.at_one, 1.6),
                                          ("at 0", words[2], STYLE.at_zero, 1.6))]
    exact = run.prediction.absorbed if run.prediction is not None else None
    if exact is not None:
        data.append(line(t[index], np.asarray(exact.values)[index], exact.label,
                         color=STYLE.theory, width=1.8, dash="dash", shape="hv"))
    absorbed = Chart(
        "coin-absorbed", "Fraction of rollouts absorbed by each generation" if sticky else
        "Fraction of rollouts whose p̂ has touched 0 or 1",
        figure(data, layout(GENERATION, "fraction of rollouts", yaxis={"range": [-0.02, 1.02]})),
        f"From all {run.total:,} rollouts." + (" Theory's exact P(absorbed by t) is dashed "
                                               "magenta." if exact is not None else
                                               " Theory has no exact absorption law here."))
    return [paths, absorbed, _coin_law(run, p)]


def _coin_law(run: _Run, p: np.ndarray) -> Chart:
    """A heatmap: the share of rollouts at each value of p̂, generation by generation."""
    k = int(run.config.n_samples)
    rows = thin(run.g + 1, HEAT_ROWS)
    values = p[:, rows]
    if k <= 200:
        # p̂ takes the values j/k after the first fit (and p0 before): count each exactly.
        levels = np.arange(k + 1) / k
        bins = np.clip(np.rint(values * k), 0, k).astype(np.int64)
        label = "p̂ = j / k"
    else:
        levels = (np.arange(101) + 0.5) / 101
        bins = np.clip((values * 101).astype(np.int64), 0, 100)
        label = "p̂ (101 bins)"
    z = np.zeros((rows.size, levels.size))
    for i in range(rows.size):
        z[i] = np.bincount(bins[:, i], minlength=levels.size) / max(values.shape[0], 1)
    interior = z[:, 1:-1]
    top = float(interior.max()) if interior.size and interior.max() > 0 else 1.0
    data = [{"type": "heatmap", "x": typed(levels), "y": typed(rows, "i4"), "z": typed(z, "f4"),
             "zmin": 0.0, "zmax": top, "zauto": False, "colorscale": "Magma", "reversescale": True,
             "colorbar": {"title": {"text": "share"}, "thickness": 14},
             "hovertemplate": "p̂ = %{x:.3g}<br>t = %{y}<br>%{z:.1%} of rollouts<extra></extra>"}]
    return Chart("coin-law", "Where the rollouts are: the share at each value of p̂",
                 figure(data, layout(label, GENERATION, hovermode="closest", showlegend=False)),
                 f"Each row is one generation, {run.over()}. The mass drains from the middle "
                 "to the absorbing ends p̂ = 0 and p̂ = 1 (their colour saturates at the largest "
                 "share of any inner value).", height=460)


def event_charts(run: _Run) -> list[Chart]:
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


# -- the page ------------------------------------------------------------------------------------


def theory_section(run: _Run) -> Section | None:
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
            "result.trajectories('" + result.config.model.metric_names[0]
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

    run = _Run(result)
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
    ordered = list(dict.fromkeys([*model.key_metrics, *model.metric_names]))
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
