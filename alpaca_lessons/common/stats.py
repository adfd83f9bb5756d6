"""Small, exact statistics the lessons share: proportions with Wilson intervals, Cohen's kappa, the
sign test and its power.

Validity (lesson 05) reports shares of "yes" with Wilson intervals and annotator agreement with kappa;
pairwise evaluation (lesson 08) tests wins against losses with the sign test and asks how many
comparisons a real difference needs (the sign test's exact power, from the binomial with numpy).
Everything is computed from counts with the standard library (numpy for the power), so each
function can be checked against a value worked out by hand.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
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


def sample_size_for_width(width: float, confidence: float = 0.95) -> int:
    """The smallest number of items n whose worst-case Wilson interval is at most ``width`` wide.

    The width is high - low (twice the margin) and the worst case is a share of 1/2, where the interval is
    widest. There the width is z / sqrt(n + z²), so n is the smallest integer at least z² (1 / width² - 1);
    the Wald interval's worst-case width z / sqrt(n) would ask for z² more items.
    """
    if not 0 < width <= 1:
        raise ValueError(f"width must be in (0, 1], got {width}")
    z = _z(confidence)
    n = max(1, math.ceil(z * z * (1 / (width * width) - 1)))
    while n > 1 and z / math.sqrt(n - 1 + z * z) <= width:  # guard the rounding of the closed form
        n -= 1
    while z / math.sqrt(n + z * z) > width:
        n += 1
    return n


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


# ------------------------------------------------ power of the sign test and sample sizes (lesson 08)
def _log_binomial_pmf(n: int, p: float) -> np.ndarray:
    """log P(X = k) for k = 0..n, X ~ Binomial(n, p), with 0 < p < 1."""
    k = np.arange(1, n + 1)
    log_comb = np.concatenate([[0.0], np.cumsum(np.log(n - k + 1) - np.log(k))])
    ks = np.arange(n + 1)
    return log_comb + ks * math.log(p) + (n - ks) * math.log1p(-p)


def sign_test_critical_count(n: int, alpha: float = 0.05) -> int:
    """The largest k whose two-sided exact sign-test p-value, 2 P(X <= k) under a fair coin, is at most
    ``alpha``; -1 when even 0 wins of ``n`` is not significant. The test rejects when the smaller of wins
    and losses is at most this count."""
    if n <= 0:
        return -1
    cdf = np.cumsum(np.exp(_log_binomial_pmf(n, 0.5)))
    significant = np.nonzero(2 * cdf[: n // 2 + 1] <= alpha * (1 + 1e-12))[0]
    return int(significant[-1]) if significant.size else -1


def sign_test_power(decisive: int, p_win: float, alpha: float = 0.05) -> float:
    """Exact power of the two-sided sign test at level ``alpha`` with ``decisive`` (non-tied) comparisons,
    each won with probability ``p_win``: P(reject) = P(X <= c) + P(X >= n - c), c the critical count."""
    if not 0 < p_win < 1:
        raise ValueError(f"p_win must be strictly between 0 and 1, got {p_win}")
    c = sign_test_critical_count(decisive, alpha)
    if c < 0:
        return 0.0
    pmf = np.exp(_log_binomial_pmf(decisive, p_win))
    return float(pmf[: c + 1].sum() + pmf[decisive - c:].sum())


@dataclass(frozen=True)
class SampleSize:
    """How many comparisons a pairwise evaluation needs to detect a given true win rate."""

    win_rate: float  # the true win rate with ties counted as half
    tie_rate: float
    p_win: float  # the implied chance of a win among decisive (non-tied) comparisons
    decisive: int  # non-tied comparisons needed
    total: int  # comparisons needed in all, ties included (decisive / (1 - tie_rate), rounded up)
    power: float  # the exact power reached with ``decisive`` comparisons

    def __str__(self) -> str:
        return (f"true win rate {self.win_rate:.1%} with {self.tie_rate:.0%} ties: {self.total} comparisons "
                f"({self.decisive} decisive) for {self.power:.0%} power")


def comparisons_needed(win_rate: float, tie_rate: float = 0.0, *, alpha: float = 0.05,
                       power: float = 0.8) -> SampleSize:
    """The smallest number of decisive comparisons whose two-sided exact sign test at ``alpha`` detects a
    true ``win_rate`` (ties as half) with at least ``power``, and the total once ties are added back.

    A win rate ``w`` with a tie share ``t`` means P(win | no tie) = 0.5 + (w - 0.5) / (1 - t). The search
    starts from zero decisive comparisons, so the answer is the first size that reaches ``power``.
    """
    if not 0 <= tie_rate < 1:
        raise ValueError(f"tie_rate must be in [0, 1), got {tie_rate}")
    p_win = 0.5 + (win_rate - 0.5) / (1 - tie_rate)
    if not 0.5 < p_win < 1:
        raise ValueError(f"win rate {win_rate} with tie rate {tie_rate} gives P(win | decisive) = {p_win:.3f}; "
                         "it must be above 0.5 and below 1")
    normal = NormalDist()
    approx = ((normal.inv_cdf(1 - alpha / 2) * 0.5 + normal.inv_cdf(power) * math.sqrt(p_win * (1 - p_win)))
              / (p_win - 0.5)) ** 2
    for n in range(1, 4 * math.ceil(approx) + 50):
        reached = sign_test_power(n, p_win, alpha)
        if reached >= power:
            return SampleSize(win_rate, tie_rate, p_win, n, math.ceil(n / (1 - tie_rate) - 1e-9), reached)
    raise RuntimeError("no sample size found within four times the normal approximation")
