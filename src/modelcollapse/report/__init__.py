"""``report.html``: one self-contained, interactive page of a run or a sweep (Plotly).

=================  ==========================================================================
``write.py``       :func:`write_report`: checks the folder, builds the page, writes it whole
``run.py``         the page of a run
``scatter.py``     a run page's scatter of training points per generation
``pictures.py``    a run page's grid of sampled images per generation
``sweep.py``       the page of a sweep
``figures.py``     Plotly figure pieces shared by both (lines, bands, theory, menus)
``page.py``        the page model (sections, charts, tables), escaping and rendering
``assets/``        the page's CSS and script, inlined into every report
=================  ==========================================================================
"""

from __future__ import annotations

from .write import check_available, write_report

__all__ = ["check_available", "write_report"]
