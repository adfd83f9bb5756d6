"""Fault injection for the local teacher: the failures a real API has, on purpose and reproducibly.

Each request is keyed by its body; the n-th time the server sees the same body is attempt n. Whether
attempt n of a request meets a fault, and which, is drawn from ``random.Random(f"{seed}:{key}:{n}")``,
so the pattern does not depend on timing or concurrency: a run retried under faults sees the same
faults at concurrency 1 and 8.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

RATE_LIMIT = "429"  # "Rate limit reached": the client should back off and retry
SERVER_ERROR = "500"  # an internal error: retry
SLOW = "slow"  # the answer comes only after ``slow_seconds``: a client with a shorter timeout retries
CUT = "cut"  # the reply is cut short as if max_tokens ran out: finish_reason "length", no retry
FAULT_KINDS = (RATE_LIMIT, SERVER_ERROR, SLOW, CUT)


@dataclass
class FaultPlan:
    """Which faults to inject, how often (``rate`` of all attempts), and their seed."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 2.0
    seed: int = 0
    injected: Counter = field(default_factory=Counter)
    _attempts: Counter = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {list(FAULT_KINDS)}")

    def draw(self, body: bytes) -> tuple[str | None, random.Random]:
        """The fault for this attempt of this request body (or None), and a generator for its details."""
        key = hashlib.sha256(body).hexdigest()
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
        rng = random.Random(f"{self.seed}:{key}:{attempt}")
        if not self.rate or rng.random() >= self.rate:
            return None, rng
        kind = self.kinds[rng.randrange(len(self.kinds))]
        with self._lock:
            self.injected[kind] += 1
        return kind, rng
