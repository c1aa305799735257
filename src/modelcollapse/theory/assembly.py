"""How a policy assembles each training set: the sizes of its groups, which theory works with.

A policy builds training set ``t`` from groups: ``m`` fresh draws of the truth, ``s`` draws of
model ``t − 1`` and ``c`` samples carried over without replacement (:class:`Pieces`). Every
exact result of :mod:`modelcollapse.theory` under a policy takes its :class:`Pieces`
(:func:`pieces`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pieces:
    """How a policy assembles each training set from ``N`` = ``n_samples`` samples.

    Attributes
    ----------
    kind
        ``"mix"`` (``replace`` is ``mix`` with ``real = carry = 0``), ``"accumulate"``,
        ``"accumulate-subsample"`` or ``"augment"``.
    real, synthetic, carry
        Sizes of the fresh, model and carried-over groups (``carry`` only for ``mix``). For
        ``augment``, ``real`` is the size ``N`` of the real set, which is not fresh: the same
        samples every generation.
    """

    kind: str
    real: int
    synthetic: int
    carry: int = 0


def pieces(policy, n_samples: int) -> Pieces:
    """The :class:`Pieces` of a policy object for ``n_samples`` per batch."""
    from ..policies import Accumulate, AccumulateSubsample, Augment, Mix, Replace, fraction_count

    if isinstance(policy, Replace):
        return Pieces("mix", 0, n_samples)
    if isinstance(policy, Mix):
        real, synthetic, carry = policy.split(n_samples)
        return Pieces("mix", real, synthetic, carry)
    if isinstance(policy, AccumulateSubsample):
        real = fraction_count(policy.real, n_samples)
        return Pieces("accumulate-subsample", real, n_samples - real)
    if isinstance(policy, Accumulate):
        real = fraction_count(policy.real, n_samples)
        return Pieces("accumulate", real, n_samples - real)
    if isinstance(policy, Augment):
        return Pieces("augment", n_samples, policy.n_synthetic(n_samples))
    raise ValueError(f"no moment recursion for policy {policy!r}")
