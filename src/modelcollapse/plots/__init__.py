"""TODO plots."""

from __future__ import annotations

from ..views.run import (
    LOG_DECADES,
    LOG_FLOOR,
    METRIC_LABELS,
    absorbed_fractions,
    choose_scale,
    metric_label,
    mixture_density,
    quantile_bands,
    replicates_text,
    theory_pieces_real,
)
from ..views.style import STYLE, Style
from .canvas import save_figure
from .coin import Curve, absorbed_figure, draw_absorbed, paths_figure
from .metrics import draw_fan, draw_theory, metrics_figure
from .mixture import density_figure, variance_figure
from .run import plot_run

__all__ = ["LOG_DECADES", "LOG_FLOOR", "METRIC_LABELS", "STYLE", "Curve", "Style",
           "absorbed_figure", "absorbed_fractions", "choose_scale", "density_figure",
           "draw_absorbed", "draw_fan", "draw_theory", "metric_label", "metrics_figure",
           "mixture_density", "paths_figure", "plot_run", "quantile_bands", "replicates_text",
           "save_figure", "theory_pieces_real", "variance_figure"]
