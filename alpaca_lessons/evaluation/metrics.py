"""Win-rate metrics of pairwise verdicts: wins, ties and losses with an interval and a sign test, the
agreement of two judges' verdicts, position bias, and how often the longer output wins.

Verdicts follow AlpacaEval's convention (see ``pairs``): 1 or 2 names the winning output, 0 is a tie.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alpaca_lessons.common.stats import SampleSize, cohen_kappa, comparisons_needed, sign_test, wilson_interval
from alpaca_lessons.evaluation.pairs import FIRST, SECOND, TIE, Pair


@dataclass(frozen=True)
class WinRate:
    """Wins, ties and losses of one system against another, the win rate with ties as half, its 95%
    Wilson interval, the standard error AlpacaEval reports, and the two-sided sign test."""

    wins: int
    ties: int
    losses: int
    low: float
    high: float
    p_value: float

    @property
    def n(self) -> int:
        """All comparisons, ties included."""
        return self.wins + self.ties + self.losses

    @property
    def rate(self) -> float:
        """(wins + ties / 2) / n."""
        return (self.wins + self.ties / 2) / self.n

    @property
    def standard_error(self) -> float:
        """The standard error of the mean per-comparison score (1, 1/2, 0), as AlpacaEval reports it."""
        scores = [1.0] * self.wins + [0.5] * self.ties + [0.0] * self.losses
        mean = sum(scores) / self.n
        return math.sqrt(sum((s - mean) ** 2 for s in scores) / (self.n - 1) / self.n)

    def __str__(self) -> str:
        return (f"{self.wins} wins, {self.ties} ties, {self.losses} losses: win rate {self.rate:.2%} "
                f"(95% CI {self.low:.1%}-{self.high:.1%}), sign test p = {self.p_value:.3g}")


def win_rate(wins: int, ties: int, losses: int, confidence: float = 0.95) -> WinRate:
    """The summary of a pairwise comparison from its counts.

    The interval is Wilson's on ``wins + ties / 2`` successes out of ``n``: counting a tie as half a
    success is how win rates are reported, and the interval is then approximate (a tie has less variance
    than a coin flip, so it errs on the wide side)."""
    n = wins + ties + losses
    if n == 0:
        raise ValueError("no comparisons")
    low, high = wilson_interval(wins + ties / 2, n, confidence)
    return WinRate(wins, ties, losses, low, high, sign_test(wins, losses))


@dataclass(frozen=True)
class TieScenario:
    """One assumed tie count beside published wins and losses: the win rate it implies and the sample size a
    study with that tie share would need to detect ``target`` (ties as half) with 80% power."""

    result: WinRate
    target: float
    needed: SampleSize

    @property
    def tie_share(self) -> float:
        """Ties as a share of all comparisons."""
        return self.result.ties / self.result.n

    def __str__(self) -> str:
        r = self.result
        return (f"{r.ties:>4} ties ({self.tie_share:4.0%}), n = {r.n:>4}: win rate {r.rate:.2%} "
                f"(95% CI {r.low:.1%}-{r.high:.1%}), sign test p = {r.p_value:.3g}; "
                f"{self.target:.0%} true win rate needs {self.needed.total:,} comparisons for 80% power")


def tie_scenarios(wins: int, losses: int, ties: Sequence[int], target: float = 0.55) -> list[TieScenario]:
    """What a result reported only as ``wins`` vs ``losses`` would mean under each assumed tie count.

    Alpaca's blog gives 90 vs 89 and no tie count; 252 - 179 = 73 ties assumes every one of the 252 evaluation
    instructions was compared exactly once. The sign test ignores ties, so its p-value is the same in every row;
    the interval of the win rate and the sample size a follow-up needs are not."""
    return [TieScenario(r := win_rate(wins, t, losses), target, comparisons_needed(target, t / r.n))
            for t in ties]


def win_rate_of(preferences: Iterable[int], system: int = SECOND) -> WinRate:
    """The win rate of output ``system`` (1 or 2) from a sequence of preferences (1, 2, or 0 for a tie)."""
    counts = Counter(preferences)
    other = FIRST if system == SECOND else SECOND
    return win_rate(counts[system], counts[TIE], counts[other])


@dataclass(frozen=True)
class VerdictAgreement:
    """How often two judges gave the same verdict on the same pairs, and Cohen's kappa."""

    n: int
    same: int
    decisive: int  # pairs where neither judge called a tie
    same_decisive: int
    kappa: float

    @property
    def share(self) -> float:
        """Share of pairs with the same verdict (ties must match ties)."""
        return self.same / self.n

    @property
    def decisive_share(self) -> float:
        """Share of the same winner among pairs neither judge called a tie (NaN when there are none)."""
        return self.same_decisive / self.decisive if self.decisive else float("nan")

    def __str__(self) -> str:
        return (f"same verdict on {self.same} of {self.n} pairs ({self.share:.1%}); same winner on "
                f"{self.same_decisive} of {self.decisive} without a tie ({self.decisive_share:.1%}); "
                f"Cohen's kappa {self.kappa:.2f}")


def verdict_agreement(a: Sequence[int], b: Sequence[int]) -> VerdictAgreement:
    """Agreement of two judges' verdicts (1, 2, 0) on the same pairs, in the same order."""
    if len(a) != len(b) or not a:
        raise ValueError(f"need verdicts on the same, non-empty list of pairs, got {len(a)} and {len(b)}")
    same = sum(x == y for x, y in zip(a, b, strict=True))
    decisive = [(x, y) for x, y in zip(a, b, strict=True) if x != TIE and y != TIE]
    return VerdictAgreement(len(a), same, len(decisive), sum(x == y for x, y in decisive),
                            cohen_kappa(list(a), list(b)))


@dataclass(frozen=True)
class PositionBias:
    """How often the answer shown on the left (A) won among decisive blind judgments, with the 95% Wilson
    interval of that share (NaN without a decisive judgment) and the two-sided sign test of left against right."""

    left: int
    right: int
    ties: int
    low: float
    high: float
    p_value: float

    @property
    def left_share(self) -> float:
        """left / (left + right): ties say nothing about a side, so they are left out."""
        return self.left / (self.left + self.right) if self.left + self.right else float("nan")

    def __str__(self) -> str:
        return (f"left (A) won {self.left}, right (B) won {self.right}, {self.ties} ties: left share "
                f"{self.left_share:.1%} (95% CI {self.low:.1%}-{self.high:.1%}), sign test p = {self.p_value:.3g}")


def position_bias(choices: Iterable[str]) -> PositionBias:
    """Position bias from blind choices ("A", "B", "tie"): under no bias, A and B win equally often."""
    counts = Counter(choices)
    unknown = set(counts) - {"A", "B", "tie"}
    if unknown:
        raise ValueError(f"choices must be 'A', 'B' or 'tie', got {sorted(unknown)}")
    left, right = counts["A"], counts["B"]
    low, high = wilson_interval(left, left + right) if left + right else (float("nan"), float("nan"))
    return PositionBias(left, right, counts["tie"], low, high, sign_test(left, right))


def shown_choice(preference: int, swapped: bool) -> str:
    """The side ("A" is left, "B" right, or "tie") that won, from the system that won (``preference`` 1 or 2,
    0 for a tie) and the side draw (``swapped``: True when output_2 was shown on the left)."""
    if preference not in (FIRST, SECOND, TIE):
        raise ValueError(f"preference must be {FIRST}, {SECOND} or {TIE} (a tie), got {preference!r}")
    if preference == TIE:
        return "tie"
    return "A" if (preference == FIRST) != swapped else "B"


def position_bias_of(preferences: Sequence[int], swapped: Sequence[bool]) -> PositionBias:
    """Position bias from verdicts recorded by system (1, 2, 0) with each pair's side draw: a log that keeps
    which system won must be turned back into which side won before the sides can be compared."""
    if len(preferences) != len(swapped):
        raise ValueError(f"one side draw per verdict: {len(preferences)} verdicts, {len(swapped)} draws")
    return position_bias(shown_choice(p, s) for p, s in zip(preferences, swapped, strict=True))


def length_preference(pairs: Sequence[Pair], preferences: Sequence[int]) -> tuple[int, int]:
    """(times the longer output won, decisive verdicts between outputs of different lengths)."""
    longer_won = decided = 0
    for pair, pref in zip(pairs, preferences, strict=True):
        if pref == TIE or len(pair.output_1) == len(pair.output_2):
            continue
        decided += 1
        longer_won += pref == (FIRST if len(pair.output_1) > len(pair.output_2) else SECOND)
    return longer_won, decided
