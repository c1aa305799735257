"""TODO."""

from __future__ import annotations

from .coin import CoinRow, CoinSpeed, coin_speed
from .folder import TARGETS, SpeedReport, collapse_speed, default_speed_out
from .truncation import TruncationCell, TruncationSpeed, truncation_speed
from .variance import FractionResult, VarianceSpeed, fraction_policy, variance_speed

__all__ = ["TARGETS", "CoinRow", "CoinSpeed", "FractionResult", "SpeedReport", "TruncationCell",
           "TruncationSpeed", "VarianceSpeed", "coin_speed", "collapse_speed",
           "default_speed_out", "fraction_policy", "truncation_speed", "variance_speed"]
