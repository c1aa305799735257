"""Statistical checks of simulated statistics against exact values, with derived tolerances.

A :class:`Check` compares a statistic estimated from ``n`` independent replicates with the value
theory gives for it, through the standardised difference

.. math:: z = (\\hat\\theta - \\theta) / \\widehat{\\mathrm{SE}}.

By the central limit theorem ``z`` is approximately standard normal when the simulator is right,
so a check fails when ``|z|`` exceeds a critical value. A *set* of ``m`` checks is run at one
family-wise false-alarm rate ``α``: each sub-check is two-sided at level ``α / m``
(Bonferroni), which holds whatever the dependence between the checks. The tolerance of every
check is therefore ``z_crit · SE``: derived from the simulation's own noise, never picked.

Used by the ``modelcollapse verify`` command (:mod:`modelcollapse.studies.verify`) and by the
test suite.

References
----------
.. [1] C. E. Bonferroni, "Teoria statistica delle classi e calcolo delle probabilità",
   Pubblicazioni del R. Istituto Superiore di Scienze Economiche e Commerciali di Firenze 8,
   3–62 (1936).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Default family-wise false-alarm rate of a set of checks.
ALPHA = 1e-3


def critical_z(alpha: float = ALPHA, n_subchecks: int = 1) -> float:
    """Two-sided critical ``|z|`` of one of ``n_subchecks`` checks at family-wise level ``alpha``.

    Parameters
    ----------
    alpha
        Family-wise false-alarm rate, ``0 < α < 1``.
    n_subchecks
        Number of checks in the set, ``m ≥ 1``.

    Returns
    -------
    float
        ``z_crit = Φ⁻¹(1 − α / (2m))``, so that ``P(max_i |Z_i| ≥ z_crit) ≤ m · α/m = α`` for
        standard normal ``Z_i`` with any dependence (the union bound).

    Examples
    --------
    >>> round(critical_z(1e-3, 1), 2)
    3.29
    >>> round(critical_z(1e-3, 19), 2)
    4.04
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, not {alpha!r}")
    if int(n_subchecks) != n_subchecks or n_subchecks < 1:
        raise ValueError(f"n_subchecks must be an integer ≥ 1, not {n_subchecks!r}")
    return float(stats.norm.isf(alpha / (2 * int(n_subchecks))))


@dataclass(frozen=True)
class Check:
    """One comparison of a simulated statistic with its exact value.

    Parameters
    ----------
    name
        What is compared, e.g. ``"coin E p_5"``.
    simulated
        The estimate from the simulation (a mean over replicates).
    exact
        The value theory gives.
    se
        The estimate's standard error.
    critical
        The ``|z|`` above which the check fails (default: a lone check at ``α = 1e-3``; a set of
        checks gets its Bonferroni value from :func:`with_bonferroni`).
    """

    name: str
    simulated: float
    exact: float
    se: float
    critical: float = dataclasses.field(default_factory=critical_z)

    @property
    def z(self) -> float:
        """``(simulated − exact) / se``; ``±inf`` for a difference with no noise to excuse it."""
        diff = self.simulated - self.exact
        if self.se > 0:
            return diff / self.se
        if diff == 0:
            return 0.0
        return math.copysign(math.inf, diff) if not math.isnan(diff) else math.nan

    def passes(self, critical: float | None = None) -> bool:
        """``|z| < critical`` (default: this check's own critical value). NaN never passes."""
        return abs(self.z) < (self.critical if critical is None else critical)

    @property
    def passed(self) -> bool:
        """Whether ``|z|`` is below :attr:`critical`."""
        return self.passes()

    def __str__(self) -> str:
        return (f"{self.name}: simulated {self.simulated:.6g} ± {self.se:.2g}, "
                f"exact {self.exact:.6g}, z = {self.z:+.2f} (critical {self.critical:.2f})")


def mean_check(name: str, samples: np.ndarray, exact: float, *,
               variance: float | None = None, critical: float | None = None) -> Check:
    """The mean of i.i.d. ``samples`` against their exact expectation.

    Parameters
    ----------
    name
        What is compared.
    samples
        One value per independent replicate.
    exact
        The exact expectation ``E X``.
    variance
        The exact ``Var X`` if known; otherwise the sample variance is used.
    critical
        See :class:`Check`.

    Returns
    -------
    Check
        With ``simulated = X̄`` and ``se = sqrt(Var X / n)`` (or ``s / sqrt(n)`` with the sample
        standard deviation ``s``). A sample holding NaN or ±inf fails outright: a diverging
        simulation is a bug, not noise.
    """
    samples = np.asarray(samples, dtype=float).ravel()
    extra = {} if critical is None else {"critical": critical}
    if samples.size < 2:
        raise ValueError(f"{name}: a mean check needs at least 2 samples, got {samples.size}")
    if not np.isfinite(samples).all():
        return Check(f"{name} (non-finite values)", math.inf, float(exact), 1.0, **extra)
    var = float(samples.var(ddof=1)) if variance is None else float(variance)
    return Check(name, float(samples.mean()), float(exact), math.sqrt(var / samples.size),
                 **extra)


def proportion_check(name: str, hits: np.ndarray, p: float, *,
                     critical: float | None = None) -> Check:
    """The fraction of successes among i.i.d. Bernoulli(``p``) outcomes against ``p``.

    The standard error ``sqrt(p (1 − p) / n)`` comes from the exact ``p`` (not the observed
    fraction), so the check is the score test and stays valid when no success was observed.
    """
    hits = np.asarray(hits, dtype=float).ravel()
    extra = {} if critical is None else {"critical": critical}
    return Check(name, float(hits.mean()), float(p), math.sqrt(p * (1 - p) / hits.size),
                 **extra)


def with_bonferroni(checks: Sequence[Check], alpha: float = ALPHA) -> list[Check]:
    """The checks with the critical value of a set of ``len(checks)`` at family-wise ``alpha``."""
    critical = critical_z(alpha, max(len(checks), 1))
    return [dataclasses.replace(c, critical=critical) for c in checks]
