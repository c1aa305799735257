"""Exact results the simulator must reproduce (DESIGN §6), and :func:`predict` for a run.

``t`` counts fit steps, ``N`` is the number of samples per generation (``k`` tosses for the coin),
``r = (N − 1)/N``. Everything here is exact (closed forms or finite Markov chains); approximations
are named as such.

Coin under ``replace``
    The number of heads is a Wright–Fisher chain on ``{0, …, k}``:
    ``P(X_{t+1} = j | X_t = i) = Binom(j; k, i/k)``. Hence ``E p_t = p0``,
    ``E[p_t(1 − p_t)] = p0(1 − p0)(1 − 1/k)^t`` (heterozygosity decay), ``P(fixed at 1) = p0``, and
    the absorption time's exact law follows from the transient block ``Q`` of the transition matrix
    (mean 12.59 generations for ``k = 10, p0 = ½``; Kimura's diffusion formula
    ``−2k[p ln p + (1 − p) ln(1 − p)] = 13.86`` only approximates it).
Categorical under ``replace``
    Each token's count is such a chain with ``p0 = q_v``: ``E support_1 = Σ_v 1 − (1 − q_v)^N``;
    Gini–Simpson diversity ``1 − Σ q²`` decays by exactly ``(1 − 1/N)`` per generation; token ``v``
    is the last survivor with probability ``q_v``.
Gaussian under ``replace``
    ``var_t = var_0 Π χ²_{N−1}/D`` with ``D = N`` (MLE) or ``N − 1`` (unbiased), so
    ``E var_t = var_0 r^t`` (MLE) or ``var_0`` (unbiased); ``E log var_t = log var_0 +
    t[ψ((N−1)/2) + ln(2/D)]`` and ``Var log var_t = t ψ′((N−1)/2)``; ``Var mean_t = var_0(1 − r^t)``
    (MLE) or ``var_0 t/N`` (unbiased).
Gaussian under ``mix`` (``real = a``, ``synthetic = 1 − a``, MLE)
    stationary ``E var = a(N(2−a) − 1) / (aN(2−a) + 1 − a) · var_0``.
Gaussian under ``accumulate`` (MLE)
    ``E var_t = var_0 Π_{i ≤ t}(1 − 1/(N i²)) → var_0 sin(π/√N)/(π/√N)``.
GMM
    every M-step matches the mixture's mean and variance to the training sample's, so under
    ``replace`` ``E var_t = var_0 r^t`` exactly, whatever EM does inside.
The loops of the literature (:mod:`.moments`, :mod:`.coin`)
    a fixed real set (``augment``): the Gaussian's ``E var_t`` and ``E (mean_t − μ₀)²`` by a
    linear recursion conditional on the real set (the mean relaxes to the real set's mean);
    sampling scale ``λ``: the model's group enters every recursion with variance ``λ² v``;
    temperature ``τ``: the coin's chain with tosses at ``f(i/k) = logistic(logit(i/k)/τ)``;
    weighted fits: two-part recursions, and the known-variance mean's stationary variance
    ``var0 [w²/m + (1 − w)² λ²/s] / (1 − (1 − w)²)``, least at ``w = 1/φ`` when ``m = s``.

References
----------
.. [1] M. Kimura, "Solution of a process of random genetic drift with a continuous model",
   PNAS 41, 144–150 (1955).
.. [2] I. Shumailov et al., "AI models collapse when trained on recursively generated data",
   Nature 631, 755–759 (2024).
.. [3] M. Gerstgrasser et al., "Is model collapse inevitable? Breaking the curse of recursion by
   accumulating real and synthetic data", arXiv:2404.01413 (2024).
.. [4] Q. Bertrand et al., "On the stability of iterative retraining of generative models on
   their own data", ICLR 2024, arXiv:2310.00429.
.. [5] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada, "Heat death of generative models in
   closed-loop learning", arXiv:2404.02325 (2024).
.. [6] H. He, S. Xu, G. Cheng, "Golden ratio weighting prevents model collapse" (JRSS-B, 2026),
   arXiv:2502.18049.

Modules
-------
=================  ==========================================================================
``assembly.py``    how a policy assembles a training set: the sizes of its fresh, synthetic and
                   carried-over groups (:class:`Pieces`), which every result below takes
``coin.py``        the Wright–Fisher chain and its ``mix`` generalisation, absorption laws,
                   Kimura's diffusion approximation
``categorical.py`` expected support, Gini–Simpson diversity, the last survivor
``gaussian.py``    chi-square laws of the refitted normal, the collapse-time law, closed forms
                   under ``mix`` and ``accumulate``
``moments.py``     exact first and second moments under every policy (linear recursions)
``prediction.py``  :func:`predict`: all of the above for one :class:`~modelcollapse.RunConfig`
=================  ==========================================================================

Every name is importable from here (``from modelcollapse import theory;
theory.coin_absorption_time``); each module is imported on first use, so a coin's prediction
does not pay for the Gaussian's scipy.stats.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers and import-linter; at run time: __getattr__
    from .assembly import Pieces, pieces
    from .categorical import (
        categorical_alive_probability,
        categorical_alive_sums,
        categorical_expected_gini_simpson,
        categorical_expected_rare_mass,
        categorical_expected_support,
        categorical_expected_support_one,
        gini_simpson,
        last_survivor_probability,
    )
    from .coin import (
        AbsorptionTime,
        coin_absorption_time,
        coin_absorption_time_diffusion,
        coin_accumulate_hitting_probability,
        coin_fixation_probability,
        coin_fixation_probability_chain,
        coin_heterozygosity,
        coin_hitting_cdf,
        coin_law,
        coin_mix_law,
        coin_mix_stationary,
        coin_mix_transition_matrix,
        coin_survival_diffusion,
        coin_transition_matrix,
        tempered_heads,
    )
    from .gaussian import (
        gaussian_accumulate_expected_var,
        gaussian_accumulate_limit_var,
        gaussian_collapse_time_cdf,
        gaussian_expected_kl,
        gaussian_expected_log_var,
        gaussian_expected_sd,
        gaussian_expected_var,
        gaussian_expected_w2_squared,
        gaussian_mix_stationary_var,
        gaussian_var_log_var,
        gaussian_var_mean,
    )
    from .kde import KDEMoments, kde_expected_moments, kde_fixed_limit_var, kde_growth_factor
    from .moments import (
        NotCovered,
        optimal_real_weight,
        proportion_moments,
        proportion_square_sum,
        two_part_moments,
        variance_moments,
        weighted_mean_stationary_var,
    )
    from .mvgaussian import (
        mv_expected_kl,
        mv_expected_logdet,
        mv_logdet_step,
        mv_trace_moments,
        mv_var_logdet,
    )
    from .prediction import Prediction, TheoryCurve, predict
    from .regression import (
        inverse_wishart_trace,
        regression_accumulate_limit,
        regression_accumulate_param_error,
        regression_mix_plateau,
        regression_replace_noise,
        regression_replace_param_error,
    )

#: Every public name of the theory modules → its module.
_NAMES = {
    "categorical_alive_probability": ".categorical",
    "categorical_alive_sums": ".categorical",
    "categorical_expected_gini_simpson": ".categorical",
    "categorical_expected_rare_mass": ".categorical",
    "categorical_expected_support": ".categorical",
    "categorical_expected_support_one": ".categorical",
    "gini_simpson": ".categorical",
    "last_survivor_probability": ".categorical",
    "AbsorptionTime": ".coin",
    "coin_absorption_time": ".coin",
    "coin_absorption_time_diffusion": ".coin",
    "coin_accumulate_hitting_probability": ".coin",
    "coin_fixation_probability": ".coin",
    "coin_fixation_probability_chain": ".coin",
    "tempered_heads": ".coin",
    "coin_heterozygosity": ".coin",
    "coin_hitting_cdf": ".coin",
    "coin_law": ".coin",
    "coin_mix_law": ".coin",
    "coin_mix_stationary": ".coin",
    "coin_mix_transition_matrix": ".coin",
    "coin_survival_diffusion": ".coin",
    "coin_transition_matrix": ".coin",
    "gaussian_accumulate_expected_var": ".gaussian",
    "gaussian_accumulate_limit_var": ".gaussian",
    "gaussian_collapse_time_cdf": ".gaussian",
    "gaussian_expected_kl": ".gaussian",
    "gaussian_expected_log_var": ".gaussian",
    "gaussian_expected_sd": ".gaussian",
    "gaussian_expected_var": ".gaussian",
    "gaussian_expected_w2_squared": ".gaussian",
    "gaussian_mix_stationary_var": ".gaussian",
    "gaussian_var_log_var": ".gaussian",
    "gaussian_var_mean": ".gaussian",
    "proportion_moments": ".moments",
    "proportion_square_sum": ".moments",
    "variance_moments": ".moments",
    "two_part_moments": ".moments",
    "weighted_mean_stationary_var": ".moments",
    "optimal_real_weight": ".moments",
    "NotCovered": ".moments",
    "mv_expected_kl": ".mvgaussian",
    "mv_expected_logdet": ".mvgaussian",
    "mv_logdet_step": ".mvgaussian",
    "mv_trace_moments": ".mvgaussian",
    "mv_var_logdet": ".mvgaussian",
    "KDEMoments": ".kde",
    "kde_expected_moments": ".kde",
    "kde_fixed_limit_var": ".kde",
    "kde_growth_factor": ".kde",
    "inverse_wishart_trace": ".regression",
    "regression_accumulate_limit": ".regression",
    "regression_accumulate_param_error": ".regression",
    "regression_mix_plateau": ".regression",
    "regression_replace_noise": ".regression",
    "regression_replace_param_error": ".regression",
    "Pieces": ".assembly",
    "pieces": ".assembly",
    "Prediction": ".prediction",
    "TheoryCurve": ".prediction",
    "predict": ".prediction",
}

__all__ = [
    "AbsorptionTime",
    "KDEMoments",
    "NotCovered",
    "Pieces",
    "Prediction",
    "TheoryCurve",
    "categorical_alive_probability",
    "categorical_alive_sums",
    "categorical_expected_gini_simpson",
    "categorical_expected_rare_mass",
    "categorical_expected_support",
    "categorical_expected_support_one",
    "coin_absorption_time",
    "coin_absorption_time_diffusion",
    "coin_accumulate_hitting_probability",
    "coin_fixation_probability",
    "coin_fixation_probability_chain",
    "coin_heterozygosity",
    "coin_hitting_cdf",
    "coin_law",
    "coin_mix_law",
    "coin_mix_stationary",
    "coin_mix_transition_matrix",
    "coin_survival_diffusion",
    "coin_transition_matrix",
    "gaussian_accumulate_expected_var",
    "gaussian_accumulate_limit_var",
    "gaussian_collapse_time_cdf",
    "gaussian_expected_kl",
    "gaussian_expected_log_var",
    "gaussian_expected_sd",
    "gaussian_expected_var",
    "gaussian_expected_w2_squared",
    "gaussian_mix_stationary_var",
    "gaussian_var_log_var",
    "gaussian_var_mean",
    "gini_simpson",
    "inverse_wishart_trace",
    "kde_expected_moments",
    "kde_fixed_limit_var",
    "kde_growth_factor",
    "last_survivor_probability",
    "mv_expected_kl",
    "mv_expected_logdet",
    "mv_logdet_step",
    "mv_trace_moments",
    "mv_var_logdet",
    "optimal_real_weight",
    "pieces",
    "predict",
    "proportion_moments",
    "proportion_square_sum",
    "regression_accumulate_limit",
    "regression_accumulate_param_error",
    "regression_mix_plateau",
    "regression_replace_noise",
    "regression_replace_param_error",
    "tempered_heads",
    "two_part_moments",
    "variance_moments",
    "weighted_mean_stationary_var",
]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(import_module(_NAMES[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})
