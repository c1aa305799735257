"""Exceptions shared by every layer, and the ones the command line turns into exit statuses.

Invalid input is an exception with a message that names the field and what is allowed; degenerate
*data* (a collapsed variance, a lost token) is never an exception but a result to record.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """An invalid setting.

    Parameters
    ----------
    field
        The setting's name as the caller wrote it (``"n_samples"`` in Python, ``"--samples"`` on
        the command line). The command line re-labels Python names with their flags.
    problem
        What is allowed, phrased to follow the field name, e.g. ``"must be an integer ≥ 1"``.
    value
        The offending value, shown with ``repr`` unless omitted.
    """

    _MISSING = object()

    def __init__(self, field: str, problem: str, value: object = _MISSING) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        super().__init__(self.message())

    def message(self, field: str | None = None) -> str:
        """The one-line message, optionally with the field spelled differently."""
        text = f"{field or self.field} {self.problem}"
        if self.value is not ConfigError._MISSING:
            # A string is shown as written unless it is empty or has blanks at an end ("" and
            # "gmm " would be invisible): then quoted.
            plain = isinstance(self.value, str) and self.value and self.value == self.value.strip()
            shown = self.value if plain else repr(self.value)
            if isinstance(self.value, int) and abs(self.value) >= 10**15:
                shown = f"{self.value:.6g}"  # 1e+30, not thirty-one digits
            text += f" (got {shown})"
        return text


class OutOfMemoryEstimate(ConfigError):
    """A run would need more memory than the machine has; raised before any work starts."""


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped (Ctrl-C, SIGTERM); finished units are kept.

    Attributes
    ----------
    path
        The sweep folder.
    finished, total
        Work units finished (including earlier runs) and in all.
    """

    def __init__(self, path: Path, finished: int, total: int) -> None:
        super().__init__(f"{finished} of {total} work units finished")
        self.path = path
        self.finished = finished
        self.total = total


class SweepFailed(RuntimeError):
    """A work unit failed (or kept killing its workers); finished units are kept."""

    def __init__(self, path: Path, finished: int, total: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.path = path
        self.finished = finished
        self.total = total
        self.error = error
