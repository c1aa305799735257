"""The statistical test suite's settings on top of :mod:`modelcollapse.checks`.

The checks themselves (:class:`Check`, :func:`mean_check`, :func:`proportion_check`) live in the
package, where ``modelcollapse verify`` uses them too. Here they are bound to this suite's one
critical value: family-wise ``α = 1e-3`` with a Bonferroni correction over :data:`N_SUBCHECKS`
sub-checks, two-sided.
"""

from __future__ import annotations

import os
from functools import partial

import modelcollapse as mc
from modelcollapse.checks import ALPHA, Check, critical_z
from modelcollapse.checks import mean_check as _mean_check
from modelcollapse.checks import proportion_check as _proportion_check

__all__ = ["ALPHA", "N_SUBCHECKS", "SEED", "Z_CRIT", "Check", "mean_check", "proportion_check",
           "report", "simulate"]

#: Number of sub-checks in tests/test_statistical.py (a guard test keeps this honest).
N_SUBCHECKS = 34
#: Two-sided critical |z| after Bonferroni.
Z_CRIT = critical_z(ALPHA, N_SUBCHECKS)
#: Base seed; set MODELCOLLAPSE_TEST_SEED to re-run the suite on other seeds (any 0–99 must pass).
SEED = int(os.environ.get("MODELCOLLAPSE_TEST_SEED", "20261121"))

mean_check = partial(_mean_check, critical=Z_CRIT)
proportion_check = partial(_proportion_check, critical=Z_CRIT)


def simulate(family, policy="replace", *, n_samples: int, n_generations: int,
             n_replicates: int, seed: int = SEED) -> mc.Result:
    """A seeded in-memory run."""
    return mc.simulate(mc.RunConfig(family=family, policy=policy, n_samples=n_samples,
                                    n_generations=n_generations, n_replicates=n_replicates,
                                    seed=seed))


def report(checks: list[Check]) -> str:
    """One line per check."""
    return "\n".join(str(c) for c in checks)
