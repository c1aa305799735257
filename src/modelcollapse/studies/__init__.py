"""Studies: fixed sets of simulations that answer one question each, computed as tables.

=====================  ======================================================================
``verify/``            ``modelcollapse verify``: the simulator against the exact results of
                       DESIGN §6, every check's tolerance z·SE with a Bonferroni correction
``collapse_speed/``    ``modelcollapse collapse-speed``: how fast collapse comes and what slows
                       it (the coin against ``k``, the variance against fresh data, a language
                       model's tail against decoding truncation)
``output.py``          how a study writes its folder (CSV tables, JSON summary, figures)
``common.py``          progress messages and the seed
=====================  ======================================================================

Studies compute and write tables only; their figures are :mod:`modelcollapse.plots.verify` and
:mod:`modelcollapse.plots.collapse_speed`, passed in by :mod:`modelcollapse.api`.
"""
