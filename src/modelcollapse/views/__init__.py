"""Views: what the figures and the report show, computed without a plotting library.

=================  ==========================================================================
``run.py``         :class:`~modelcollapse.views.run.RunView` (a run's trajectories, read once,
                   and its prediction), bands, the log-axis rule, absorbed fractions, mixture
                   densities, metric labels
``sweep.py``       :class:`~modelcollapse.views.sweep.SweepView`: a sweep's summary as the
                   figure and the report read it (axes, event statistics, header)
``studies.py``     the numbers behind the study figures (QQ points, absorption curves)
``text.py``        a run's summary as the command line prints it
``style.py``       the palette and sizes every figure and the report share
=================  ==========================================================================

The PNG figures (:mod:`modelcollapse.plots`, matplotlib) and the interactive report
(:mod:`modelcollapse.report`, Plotly) both draw from here, so the two views of a result cannot
disagree, and the report never imports matplotlib.
"""
