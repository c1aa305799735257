"""The events a replicate can have, and every word and column name used for them.

Each family records one event per replicate, the first generation at which something
irreversible-looking happened (``NaN`` / missing where it did not happen within the run):

=============== ============ ============================== =================================
event           family       per-replicate column           happens at the first generation
=============== ============ ============================== =================================
``absorption``  coin         ``absorption_time``            with ``p̂ = 0`` or ``p̂ = 1``
``collapse``    gaussian,    ``collapse_time``              with the family's collapse metric
                gmm, ngram                                  (``var``; ``tail_share`` for the
                                                            n-gram) below ``collapse_fraction``
                                                            × its value for the truth
``fixation``    categorical  ``fixation_time``              with a single token left
=============== ============ ============================== =================================

Tables and texts spell them from here: the per-replicate column ``<name>_time``; a sweep
summary's share ``<participle>_by_end`` ("collapsed by the end of the run") and time statistics
``<name>_time_mean`` …; theory's law of the event time, ``Prediction.absorbed`` or
``Prediction.collapsed`` (:attr:`Event.theory`). The coin also records ``absorbed_at``, the
boundary (0 or 1) it hit first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One kind of event and its vocabulary.

    Attributes
    ----------
    name
        The noun: ``"absorption"``; the per-replicate column is ``<name>_time``.
    participle
        ``"absorbed"``: the stem of the share columns of a sweep summary (``absorbed_by_end``).
    happened
        What a replicate with the event did, after "n of R replicates": ``"absorbed at 0 or 1"``.
    definition
        The event time's definition, ``{metric}`` and ``{fraction}`` standing for the collapse
        metric and threshold: ``"first generation with p̂ = 0 or 1"``.
    plural_verb
        The present tense for many replicates: "rollouts are absorbed", "models collapse".
    theory
        The attribute of :class:`~modelcollapse.theory.Prediction` holding theory's
        ``P(T ≤ t)`` of this event, or ``None`` when theory has no law for it.
    """

    name: str
    participle: str
    happened: str
    definition: str
    plural_verb: str
    theory: str | None = None

    @property
    def column(self) -> str:
        """The per-replicate column of the event's generation: ``absorption_time``."""
        return f"{self.name}_time"

    @property
    def share_column(self) -> str:
        """A sweep summary's column of the share of replicates with the event in the run."""
        return f"{self.participle}_by_end"

    def defined(self, *, metric: str = "var", fraction: str = "c") -> str:
        """``"collapse time T = first generation with var < 0.5 × the truth's"``."""
        return f"{self.name} time T = " + self.definition.format(metric=metric, fraction=fraction)


ABSORPTION = Event("absorption", "absorbed", "absorbed at 0 or 1",
                   "first generation with p̂ = 0 or 1", "are absorbed", theory="absorbed")
COLLAPSE = Event("collapse", "collapsed", "collapsed",
                 "first generation with {metric} < {fraction} × the truth's", "collapse",
                 theory="collapsed")
FIXATION = Event("fixation", "fixed", "fixed on a single token",
                 "first generation with a single token left", "fix on one token")

#: Every event by name, in the order tables list them.
EVENTS: dict[str, Event] = {e.name: e for e in (ABSORPTION, COLLAPSE, FIXATION)}

#: The coin's per-replicate column of the boundary (0 or 1) it was absorbed at.
ABSORBED_AT = "absorbed_at"

#: Per-replicate columns holding whole generations or boundaries, with missing values where the
#: event did not happen: written to Parquet as nullable integers.
INTEGER_COLUMNS: tuple[str, ...] = (*(e.column for e in EVENTS.values()), ABSORBED_AT)


def event_in(columns: Iterable[str]) -> Event | None:
    """The event whose per-replicate column is among ``columns`` (``None`` if there is none)."""
    present = set(columns)
    return next((e for e in EVENTS.values() if e.column in present), None)


def event_of_summary(columns: Iterable[str]) -> Event | None:
    """The event whose share column (``<participle>_by_end``) a sweep summary has."""
    present = set(columns)
    return next((e for e in EVENTS.values() if e.share_column in present), None)


def as_event(event: Event | str) -> Event:
    """``event`` itself, or the event of that name (``"collapse"``)."""
    if isinstance(event, Event):
        return event
    if event not in EVENTS:
        raise ValueError(f"no event {event!r}; events are {', '.join(EVENTS)}")
    return EVENTS[event]
