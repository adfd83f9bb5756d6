"""A private stand-in for three functions of ``alpaca_lessons.stats`` that the ``analysis`` branch is
writing (Wilson interval, Cohen's kappa, exact sign test), with the signatures agreed for them.

Only ``evaluate`` imports it, and only until that branch lands on main: the lead deletes this file at
the merge and points the import at ``stats``. Nothing else belongs here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from statistics import NormalDist


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the proportion ``successes / n``."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def cohens_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels of the same items; NaN when chance agreement is 1."""
    if len(a) != len(b) or not a:
        raise ValueError(f"need two equally long, non-empty label lists, got {len(a)} and {len(b)}")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    return float("nan") if expected == 1 else (observed - expected) / (1 - expected)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test (ties excluded): P(X <= min) + P(X >= max), X ~ Binomial(wins + losses, 1/2)."""
    if wins < 0 or losses < 0:
        raise ValueError("wins and losses are counts")
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1))
    return min(1.0, 2 * tail / 2**n)
