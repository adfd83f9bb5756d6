"""Small, exact statistics the lessons share: proportions with Wilson intervals, Cohen's kappa, the
sign test and a percentile bootstrap.

Validity (lesson 05) reports shares of "yes" with Wilson intervals and annotator agreement with kappa;
pairwise evaluation (lesson 08) tests wins against losses with the sign test and bootstraps win rates.
Everything is computed from counts with the standard library (numpy only for the bootstrap), so each
function can be checked against a value worked out by hand.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion ``successes / n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps its coverage near 0 and 1,
    which matters for shares like 92% measured on 200 items.
    """
    if n <= 0:
        raise ValueError("a proportion needs at least one trial")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Proportion:
    """A share with its confidence interval."""

    successes: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def share(self) -> float:
        """successes / n."""
        return self.successes / self.n

    def __str__(self) -> str:
        return f"{self.share:.1%} [{self.low:.1%}, {self.high:.1%}] ({self.successes}/{self.n})"


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """``successes / n`` with its Wilson interval."""
    return Proportion(successes, n, *wilson_interval(successes, n, confidence), confidence)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa between two raters' labels of the same items: (p_o - p_e) / (1 - p_e).

    Returns NaN when chance agreement is 1 (both raters gave one and the same label to every item):
    kappa is undefined there, and calling it perfect agreement would overstate what was measured.
    """
    if len(a) != len(b):
        raise ValueError(f"the raters labelled different numbers of items ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("kappa needs at least one item")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1:
        return float("nan")
    return (observed - expected) / (1 - expected)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the p-value of ``wins`` vs ``losses`` under a fair coin (ties dropped).

    p = P(X <= min) + P(X >= max) for X ~ Binomial(wins + losses, 1/2), capped at 1.
    """
    if wins < 0 or losses < 0:
        raise ValueError("wins and losses are counts")
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_ci(values: Sequence[float], statistic: Callable[..., np.ndarray] = np.mean, *,
                 n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (resampled with replacement).

    ``statistic`` is a numpy reduction called as ``statistic(resamples, axis=1)`` (``np.mean``,
    ``np.median``, ...). Seeded, so a lesson's printed interval is reproducible.
    """
    _z(confidence)  # validates the level
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("the bootstrap needs at least one value")
    rng = np.random.default_rng(seed)
    samples = data[rng.integers(0, data.size, size=(n_resamples, data.size))]
    stats = statistic(samples, axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return float(low), float(high)
