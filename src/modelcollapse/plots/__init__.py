"""Every matplotlib figure: of a run, of a sweep, of the verification and collapse-speed studies.

======================  ======================================================================
``run.py``              :func:`plot_run`: a run's PNG files (``metrics.png`` for every family,
                        and the family's own)
``metrics.py``          fan charts of any metric (:func:`metrics_figure`, :func:`draw_fan`) with
                        theory's exact curves (:func:`draw_theory`)
``mixture.py``          the mixture's component variances and densities (``variance.png``,
                        ``density.png``)
``coin.py``             the coin's rollouts and absorption (``paths.png``, ``absorbed.png``)
``sweep.py``            ``sweep.png``: collapse speed across a sweep's grid
``collapse_speed.py``  ``collapse-speed.png`` of the collapse-speed studies
``verify.py``           ``qq.png`` and ``trajectories-<family>.png`` of ``modelcollapse verify``
``canvas.py``           what every figure shares: the header, panels, legend, notes, lines, scales
======================  ======================================================================

The numbers drawn come from :mod:`modelcollapse.views` (bands, absorbed fractions, densities,
labels, the palette :data:`STYLE`), which the HTML report shares, so the two cannot disagree.
Wherever :func:`modelcollapse.predict` has an exact result, it is drawn beside the simulation in
one colour (:attr:`Style.theory`), labelled "exact": dashed lines for expectations, dotted ones
for exact bands; a panel whose metric theory does not cover says so.

Figures are built with the object API (:class:`~matplotlib.figure.Figure` on an Agg canvas), never
through :mod:`matplotlib.pyplot`: nothing needs a display and no figure stays registered in
pyplot's global list, so long sessions do not leak memory. Each figure has a builder returning the
unsaved :class:`~matplotlib.figure.Figure` (:func:`metrics_figure`, :func:`variance_figure`,
:func:`density_figure`, :func:`paths_figure`, :func:`absorbed_figure`), so notebooks can add to
it. Importing this package imports matplotlib: the runtime never does (the drivers receive a
figures function from :mod:`modelcollapse.api`).
"""

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
