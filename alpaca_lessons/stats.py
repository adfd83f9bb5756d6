"""Small, exact statistics the lessons share.

This part: the power of the two-sided sign test and how many pairwise comparisons a real difference
needs (lesson 08's "what does 90 vs 89 mean"). Computed exactly from the binomial distribution with
numpy, so each value can be checked by hand on small cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


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
