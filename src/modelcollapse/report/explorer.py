"""The explorer: one self-contained page where the loop runs in the browser, theory beside it.

:func:`write_explorer` writes a single HTML file (``modelcollapse explore``) in which the coin,
the Gaussian, the categorical (Zipf) model and the 1-D Gaussian mixture are simulated *in the
page*, in JavaScript, with controls for the sizes, the truth, the data policy, the sampling bias
and a seed; every change of a control reruns the simulation and redraws its charts with the exact
theory of :func:`modelcollapse.predict` beside it, computed in the page too.

The page's JavaScript is four files of ``assets/explorer/`` inlined in order:

``random.js``
    ``MCX.random``: a seeded generator (xoshiro128**, seeded by SplitMix32 from a seed and a
    stream number) and exact samplers (uniform, normal, gamma, binomial, hypergeometric).
``theory.js``
    ``MCX.theory.predict(config)``: the exact curves of :mod:`modelcollapse.theory` for the
    page's four families (tested value for value against :func:`modelcollapse.predict`).
``sim.js``
    ``MCX.sim.run(config)``: the generation loop, vectorised over replicates in typed arrays,
    under the package's data policies (DESIGN §2), with the exact sufficient-statistic
    shortcuts where they exist (tested against theory in headless Chromium).
``ui.js``
    ``MCX.ui``: the controls, the charts (Plotly, inlined) and the plain-words texts.

It runs offline: Plotly is inlined, and the report's Content-Security-Policy
(:data:`~modelcollapse.report.page.CSP`) forbids any connection. Every text comes from the page's
own scripts; what a user types is read as a number or shown as text, never as HTML.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..results.folders import atomic_write, prepare_output_file
from ..version import __version__
from ..views.style import STYLE
from .page import document_head, inline_script, script_json
from .write import plotly_bundle

#: The file name ``modelcollapse explore`` writes when given no ``--out``.
FILE_NAME = "explorer.html"
#: The page's scripts, in the order they are inlined (each may use the ones before it).
SCRIPTS = ("random.js", "theory.js", "sim.js", "ui.js")


def _explorer_asset(name: str) -> str:
    return (resources.files("modelcollapse.report").joinpath("assets", "explorer", name)
            .read_text("utf-8"))


def explorer_html(*, plotly_js: str | None = None) -> str:
    """The explorer page as one HTML document (Plotly's bundle inlined unless given)."""
    settings = {"version": __version__,
                "colors": {"main": STYLE.main, "example": STYLE.example, "truth": STYLE.truth,
                           "muted": STYLE.muted, "grid": STYLE.grid, "theory": STYLE.theory,
                           "at_one": STYLE.at_one, "at_zero": STYLE.at_zero,
                           "drifting": STYLE.drifting, "components": list(STYLE.components)}}
    bundle = plotly_bundle() if plotly_js is None else plotly_js
    return "\n".join([
        *document_head("modelcollapse explorer: watch the loop collapse",
                       _explorer_asset("explorer.css")),
        "<body>",
        '<div id="mcx-app"></div>',
        f'<script type="application/json" id="mcx-settings">{script_json(settings)}</script>',
        inline_script(bundle),
        *(inline_script(_explorer_asset(name)) for name in SCRIPTS),
        "</body>",
        "</html>",
        "",
    ])


def write_explorer(out: Path | str | None = None) -> Path:
    """Write the explorer page and return its path.

    Parameters
    ----------
    out
        Where to write it (default ``explorer.html`` in the current folder). The page is written
        to a temporary file and renamed, so it is always whole.

    Returns
    -------
    Path
        The page's path.

    Raises
    ------
    ConfigError
        When Plotly is not installed (``pip install 'modelcollapse[report]'``), or ``out`` names
        a folder, or a file in a folder that does not exist or cannot be written (checked first).
    """
    path = prepare_output_file(FILE_NAME if out is None else out, field="--out")
    text = explorer_html()
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return path
