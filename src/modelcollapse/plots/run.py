"""A run's PNG figures: :func:`plot_run` writes them into the run's folder.

``metrics.png`` for every family, then the family's own (:data:`FAMILY_FIGURES`): ``variance.png``
and ``density.png`` for ``gmm``, ``paths.png`` and ``absorbed.png`` for ``coin``. A new family's
figures are registered here. ``scatter.png`` (:mod:`modelcollapse.plots.scatter`) is written for
any run that kept points in the plane (:meth:`Family.points`), and ``samples.png``
(:mod:`modelcollapse.plots.pictures`) for any run that kept images (:meth:`Family.pictures`),
whatever its family.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from .canvas import save_figure
from .coin import absorbed_figure, paths_figure
from .metrics import metrics_figure
from .mixture_nd import gmm_density_figure, gmm_variance_figure
from .pictures import pictures_figure
from .scatter import scatter_figure

if TYPE_CHECKING:

    from ..results.run import Result


#: Figures written by :func:`plot_run` for each family (``metrics.png`` is written for all).
FAMILY_FIGURES: dict[str, list[tuple[str, Callable[[Result], Figure]]]] = {
    "gmm": [("variance.png", gmm_variance_figure), ("density.png", gmm_density_figure)],
    "coin": [("paths.png", paths_figure), ("absorbed.png", absorbed_figure)],
}


def plot_run(result: Result, folder: Path) -> list[Path]:
    """Write the run's PNG figures into ``folder``; return their paths.

    Parameters
    ----------
    result
        A finished run (in memory or loaded); at most :data:`MAX_LINES` replicates are drawn as
        lines, and titles say so when the run has more.
    folder
        Where the PNG files go (created if missing).

    Returns
    -------
    list of pathlib.Path
        ``metrics.png`` for every family, then the family's own figures: ``variance.png`` and
        ``density.png`` for ``gmm``; ``paths.png`` and ``absorbed.png`` for ``coin``; and
        ``scatter.png`` for every run that kept points (``result.point_sets()``), and
        ``samples.png`` for every run that kept images (``result.pictures()``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    builders = [("metrics.png", metrics_figure),
                *FAMILY_FIGURES.get(result.config.model.name, [])]
    if result.point_sets():  # generic: any family whose samples are points in the plane
        builders.append(("scatter.png", scatter_figure))
    if result.pictures():  # generic: any family whose samples are images
        builders.append(("samples.png", pictures_figure))
    return [save_figure(build(result), folder / name) for name, build in builders]
