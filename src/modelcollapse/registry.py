"""Name → object registries for families and policies.

A registry maps a short name (``"gmm"``, ``"mix"``) to a class. Registering a name twice is an
error; looking up an unknown name raises :class:`~modelcollapse.errors.ConfigError` listing the
valid names, so command-line choices and error messages always come from one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered, append-only mapping from names to classes.

    Parameters
    ----------
    kind
        What the entries are, used in messages (``"family"``, ``"policy"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Add ``cls`` under ``cls.name``; usable as a class decorator."""
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a registered {self.kind} needs a non-empty string `name`")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = cls
        return cls

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            valid = ", ".join(self._entries)
            raise ConfigError(self.kind, f"must be one of {valid}", name) from None

    def resolve(self, spec: str | T, factory: Callable[[type[T]], T] | None = None) -> T:
        """Accept a name or an instance; build a default instance from a name."""
        if isinstance(spec, str):
            cls = self.get(spec)
            return factory(cls) if factory else cls()
        if any(isinstance(spec, cls) for cls in self._entries.values()):
            return spec
        raise ConfigError(self.kind, f"must be a name ({', '.join(self._entries)}) or an instance",
                          spec)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __iter__(self) -> Iterator[type[T]]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries  # a list or table: never
