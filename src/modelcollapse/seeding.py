"""Random streams keyed by identity, never by execution order.

A run's replicates are split into fixed-size blocks (the size is part of the family's definition,
:meth:`~modelcollapse.families.base.Family.block_size`). Block ``b`` of a run with seed ``s`` draws
everything from::

    Generator(PCG64(SeedSequence(s, spawn_key=(stream_key(config), b))))

where ``stream_key`` hashes the settings that define the experiment (family, policy, ``N``) but not
the number of generations or replicates. Hence:

* results depend only on (config, seed), never on worker count, executor or completion order;
* replicate ``i`` is the same trajectory whether 10 or 10 000 replicates were asked for (every block
  is always simulated whole, surplus replicates are dropped);
* a longer run extends a shorter one: its first ``G`` generations are identical;
* two experiments that differ in any defining setting use unrelated streams.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import numpy as np

#: Bumped whenever the mapping from (config, seed) to numbers changes.
STREAM_VERSION = 1


def stream_key(identity: dict[str, Any]) -> int:
    """A 64-bit key from the canonical JSON of an experiment's defining settings."""
    payload = json.dumps({"stream": STREAM_VERSION, **identity}, sort_keys=True,
                         separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.blake2b(payload.encode(), digest_size=8).digest(), "little")


def block_rng(seed: int, key: int, block: int) -> np.random.Generator:
    """The generator of replicate block ``block``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed,
                                                                      spawn_key=(key, block))))


def draw_seed() -> int:
    """A fresh seed from the operating system (recorded and printed, so the run can be repeated)."""
    return secrets.randbits(32)
