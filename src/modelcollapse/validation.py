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



#: The magnitudes a continuous family's truth may take: means within ±1e50, standard
#: deviations between 1e-50 and 1e50. Every square, difference and ratio the samplers, fits,
#: theory and metrics form of such values (a sample minus a mean over a standard deviation,
#: squared: at most about 1e201) stays far inside float64's ±1.8e308; near its edges (a mean
#: of 1e300, a standard deviation of 1e-300) they overflow or underflow and the arithmetic
#: breaks.
SCALE_LIMIT = 1e50
#: The narrowest standard deviation a component may have relative to its mean's magnitude:
#: float64 resolves a value ``x`` to ``1.1e-16 |x|``, so at ``σ = 1e-10 |μ|`` samples are still
#: resolved to about 1e-6 σ; much below, they fall on a grid as coarse as σ itself and a fit
#: would record a collapse that is float64's, not the loop's.
RESOLUTION = 1e-10


def _power(x: float) -> str:
    return f"1e{round(np.log10(x))}"


LOCATION_RANGE = f"between -{_power(SCALE_LIMIT)} and {_power(SCALE_LIMIT)}"
SCALE_RANGE = f"between {_power(1 / SCALE_LIMIT)} and {_power(SCALE_LIMIT)}"


def resolved(std: float, mean: float) -> bool:
    """``std ≥ RESOLUTION × |mean|`` (to rounding: ``1e40`` at mean ``1e50`` is allowed)."""
    return std >= RESOLUTION * abs(mean) * (1.0 - 1e-12)


def check_location(name: str, value: Any) -> float:
    """A finite mean within ``±SCALE_LIMIT``."""
    return check_float(name, value, low=-SCALE_LIMIT, high=SCALE_LIMIT,
                       what=f"a number {LOCATION_RANGE}")


def check_scale(name: str, value: Any) -> float:
    """A standard deviation between ``1 / SCALE_LIMIT`` and ``SCALE_LIMIT``."""
    return check_float(name, value, low=1 / SCALE_LIMIT, high=SCALE_LIMIT,
                       what=f"a number {SCALE_RANGE}")


def check_locations_and_scales(means: tuple[float, ...], stds: tuple[float, ...], *,
                               names: tuple[str, str] = ("means", "stds")) -> None:
    """Every mean within ``±SCALE_LIMIT``; every standard deviation between ``1/SCALE_LIMIT``
    and ``SCALE_LIMIT`` and at least ``RESOLUTION`` times its mean's magnitude."""
    mean_name, std_name = names
    if not all(abs(m) <= SCALE_LIMIT for m in means):
        raise ConfigError(mean_name, f"must each be {LOCATION_RANGE}", means)
    if not all(1 / SCALE_LIMIT <= s <= SCALE_LIMIT for s in stds):
        raise ConfigError(std_name, f"must each be {SCALE_RANGE}", stds)
    for m, s in zip(means, stds, strict=True):
        if not resolved(s, m):
            raise ConfigError(std_name, f"must each be at least {RESOLUTION:g} × |mean| "
                              f"(float64 cannot resolve a narrower normal at mean {m:g})", stds)
