"""``modelcollapse verify``: the simulator against the exact results of DESIGN §6.

A fixed, named set of *cases* runs seeded simulations whose answers are known exactly (closed
forms, finite Markov chains, exact moment recursions; see :mod:`modelcollapse.theory`) and
compares them through :mod:`modelcollapse.checks`: each sub-check computes
``z = (simulated − exact) / SE`` and passes when ``|z|`` is below one critical value, two-sided
at family-wise ``α = 1e-3`` with a Bonferroni correction over every sub-check of the set that ran
(the ``--quick`` set has fewer sub-checks, hence its own, smaller critical value). A correct
simulator therefore fails a run with probability at most ``1e-3`` (up to the normal
approximation of each ``z``); the sizes are chosen so that the bugs this field's code typically
has (an off-by-one in ``N`` or ``t``, the wrong variance divisor, a variance passed as a standard
deviation, swapped mixing fractions, carry-over drawn with replacement, a min-count filter) move
some ``z`` far beyond it.

The quick set runs every case but two with fewer replicates, in seconds; its GMM case compiles
the EM kernels on a machine's first run (about 20–40 s, cached afterwards).

Modules: ``cases.py`` (what a case is and returns, the registry :data:`CASES`), ``catalogue.py``
(the cases of DESIGN §6), ``literature.py`` (the loop settings of the literature: sampling
bias, ``augment``, weighted fits), ``curated.py`` (curated runs: the coin's curated chains,
one exact step of the categorical's large-N map, the Gaussian verifier's precision),
``report.py`` (the verdict: :class:`Report`), ``driver.py``
(:func:`verify`: run a set, write its folder). :func:`verify` runs a set and, given a folder, writes

``checks.csv``
    one row per sub-check: ``case, check, exact, simulated, se, z, critical, passed``;
``verify.json``
    the summary: set, seed, ``α``, critical ``|z|``, counts, per-case timings, versions, argv;
``qq.png``, ``trajectories-<family>.png``
    quantile–quantile plots of simulated against exact laws, and simulated means ± 2 SE against
    the exact curves over the generations (drawn by :mod:`modelcollapse.plots.verify`, which
    :func:`modelcollapse.api.verify` passes in).

Every random number comes from the ``seed`` through :class:`numpy.random.SeedSequence`, keyed by
the case's name, so a verify run is deterministic and a case's numbers do not depend on which
other cases ran. Replicate ``i`` of a case is the same in the quick and the full set (only the
number of replicates differs), as everywhere in modelcollapse.
"""

from __future__ import annotations

# Importing a module registers its cases; the verify table lists them in this order.
from . import (  # noqa: F401
    catalogue,
    curated,
    gmm_nd,
    kde,
    literature,
    mvgaussian,
    regression,
)
from .cases import CASES, Case, case_seed, select_cases
from .driver import DEFAULT_SEED, needs_compiling, run_cases, verify
from .report import EXIT_FAILED, EXIT_PASSED, Report

__all__ = [
           "CASES",
           "DEFAULT_SEED",
           "EXIT_FAILED",
           "EXIT_PASSED",
           "Case",
           "Report",
           "case_seed",
           "needs_compiling",
           "run_cases",
           "select_cases",
           "verify",
]
