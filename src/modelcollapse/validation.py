"""Validation of settings: each function returns the value in its canonical type or raises.

Every check raises :class:`~modelcollapse.errors.ConfigError` naming the field and what is
allowed, so a bad setting is one line for the user, whether it came from Python, a flag or a
TOML file (the command line re-labels the field with the flag's name). Used by the families,
the policies, :class:`~modelcollapse.config.RunConfig` and the studies alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConfigError


def check_int(name: str, value: Any, *, minimum: int) -> int:
    """An integer ``≥ minimum`` (booleans and non-integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(name, f"must be an integer ≥ {minimum}", value)
    if value < minimum:
        raise ConfigError(name, f"must be an integer ≥ {minimum}", value)
    return int(value)


def check_float(name: str, value: Any, *, low: float = -np.inf, high: float = np.inf,
                low_open: bool = False, high_open: bool = False, what: str = "a number") -> float:
    """A finite float in the given interval (NaN and infinities are refused)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be {what}", value) from None
    ok = np.isfinite(x) and (x > low if low_open else x >= low) and (
        x < high if high_open else x <= high)
    if not ok:
        raise ConfigError(name, f"must be {what}", value)
    return x


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}", value)
    return str(value)


def check_fraction(name: str, value: Any) -> float:
    """A number in ``[0, 1]`` (a fraction of a training set); NaN is refused."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, "must be a number between 0 and 1", value) from None
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ConfigError(name, "must be a number between 0 and 1", value)
    return value


def check_real_weight(value: Any) -> float | None:
    """``None`` (every sample counts once) or the real samples' weight ``w`` in ``[0, 1]``."""
    if value is None:
        return None
    return check_float("real_weight", value, low=0.0, high=1.0, what="a number between 0 and 1")


def check_sampling_scale(value: Any) -> float:
    """The factor ``λ`` on a continuous model's standard deviations when it is sampled."""
    return check_float("sampling_scale", value, low=1e-3, high=1e3,
                       what="a number between 0.001 and 1000")
