"""TODO theory."""

from __future__ import annotations

from .categorical import (
    categorical_expected_gini_simpson,
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
    coin_heterozygosity,
    coin_hitting_cdf,
    coin_law,
    coin_mix_law,
    coin_mix_stationary,
    coin_mix_transition_matrix,
    coin_survival_diffusion,
    coin_transition_matrix,
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
from .moments import proportion_moments, variance_moments
from .pieces import Pieces, pieces
from .prediction import Prediction, TheoryCurve, predict

__all__ = ["AbsorptionTime", "Pieces", "Prediction", "TheoryCurve",
           "categorical_expected_gini_simpson", "categorical_expected_support",
           "categorical_expected_support_one", "coin_absorption_time",
           "coin_absorption_time_diffusion", "coin_accumulate_hitting_probability",
           "coin_fixation_probability", "coin_heterozygosity", "coin_hitting_cdf", "coin_law",
           "coin_mix_law", "coin_mix_stationary", "coin_mix_transition_matrix",
           "coin_survival_diffusion", "coin_transition_matrix", "gaussian_accumulate_expected_var",
           "gaussian_accumulate_limit_var", "gaussian_collapse_time_cdf", "gaussian_expected_kl",
           "gaussian_expected_log_var", "gaussian_expected_sd", "gaussian_expected_var",
           "gaussian_expected_w2_squared", "gaussian_mix_stationary_var", "gaussian_var_log_var",
           "gaussian_var_mean", "gini_simpson", "last_survivor_probability", "pieces", "predict",
           "proportion_moments", "variance_moments"]
