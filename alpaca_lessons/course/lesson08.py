"""Lesson 08's implement-it exercises: the sign test and the position-bias estimate.

Exercise 8.1 asks for the two-sided exact sign test from wins, ties and losses (ties dropped), checked
against :func:`common.stats.sign_test` on hand-made counts, on Alpaca's published 90 vs 89 and on the counts
of AlpacaEval's GPT-4 verdicts. Exercise 8.2 asks for the share of decisive blind judgments won by the answer
shown on the left, with its 95% Wilson interval, from verdicts recorded by system and each pair's side draw,
checked against :func:`evaluation.metrics.position_bias_of` on hand-made verdicts and the course's shipped
blind judgments. Each names the plausible wrong answers a student gives and what each one gets wrong.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from statistics import NormalDist

from alpaca_lessons.common.stats import sign_test, wilson_interval
from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.evaluation.metrics import position_bias_of, win_rate_of
from alpaca_lessons.evaluation.pairs import FIRST, SECOND, TIE

# ------------------------------------------------------------------------------- 8.1 the sign test


def _reference_sign_test(wins: int, ties: int, losses: int) -> float:
    return sign_test(wins, losses)


def _lower_tail(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


def _one_sided_smaller(wins: int, ties: int, losses: int) -> float:
    return _lower_tail(wins + losses, min(wins, losses))


def _one_sided_wins(wins: int, ties: int, losses: int) -> float:
    return 1 - _lower_tail(wins + losses, wins - 1)  # P(X >= wins)


def _ties_half_down(wins: int, ties: int, losses: int) -> float:
    return sign_test(wins + ties // 2, losses + ties - ties // 2)


def _ties_half_up(wins: int, ties: int, losses: int) -> float:
    return sign_test(wins + ties - ties // 2, losses + ties // 2)


def _ties_in_n(wins: int, ties: int, losses: int) -> float:
    return min(1.0, 2 * _lower_tail(wins + ties + losses, min(wins, losses)))


def _normal(wins: int, ties: int, losses: int) -> float:
    return 2 * (1 - NormalDist().cdf(abs(wins - losses) / math.sqrt(wins + losses)))


def _normal_corrected(wins: int, ties: int, losses: int) -> float:
    return 2 * (1 - NormalDist().cdf(max(0, abs(wins - losses) - 1) / math.sqrt(wins + losses)))


def _uncapped(wins: int, ties: int, losses: int) -> float:
    return 2 * _lower_tail(wins + losses, min(wins, losses))


def _tail_without_observed(wins: int, ties: int, losses: int) -> float:
    return 2 * _lower_tail(wins + losses, min(wins, losses) - 1)


MISTAKES_SIGN_TEST = (
    Mistake(_one_sided_smaller, "of a one-sided test: one tail only. The question is whether wins and losses "
            "differ in either direction, so both tails count."),
    Mistake(_one_sided_wins, "of a one-sided test: one tail only. The question is whether wins and losses "
            "differ in either direction, so both tails count."),
    Mistake(_ties_half_down, "with each tie counted as half a win and half a loss. The sign test drops ties: "
            "a tie says nothing about which system is better."),
    Mistake(_ties_half_up, "with each tie counted as half a win and half a loss. The sign test drops ties: "
            "a tie says nothing about which system is better."),
    Mistake(_ties_in_n, "with the ties kept among the comparisons (n = wins + ties + losses). The sign test "
            "drops ties: n is the number of decisive comparisons."),
    Mistake(_normal, "of the normal approximation (a z-score). The exercise asks for the exact binomial "
            "p-value, which small counts need."),
    Mistake(_normal_corrected, "of the normal approximation with a continuity correction. The exercise asks for "
            "the exact binomial p-value, which small counts need."),
    Mistake(_uncapped, "of doubling the tail without a cap: when wins equal losses the two tails overlap and "
            "the doubled sum passes 1. A p-value is a probability, at most 1."),
    Mistake(_tail_without_observed, "with the observed count left out of the tail: P(X <= k) includes k itself."),
)


def _close(got: object, expected: object) -> bool:
    """Equal to a relative tolerance only: p-values of 1e-43 and 1e-41 must differ."""
    try:
        return math.isclose(float(got), float(expected), rel_tol=1e-6, abs_tol=1e-300)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _counts(preferences: Sequence[int]) -> tuple[int, int, int]:
    """(wins, ties, losses) of output 2, as the lesson reports them."""
    result = win_rate_of(preferences)
    return result.wins, result.ties, result.losses


def _case(wins: int, ties: int, losses: int, what: str = "") -> Case:
    label = f"wins={wins}, ties={ties}, losses={losses}" + (f": {what}" if what else "")
    return Case((wins, ties, losses), label)


def sign_test_cases(hidden: bool = False) -> list[Case]:
    """Hand-made counts, Alpaca's 90 vs 89 (73 ties assumed, as in the lesson) and AlpacaEval's GPT-4 counts;
    with ``hidden``, edge cases, AlpacaEval's five subsets and the course's 60 blind judgments."""
    from alpaca_lessons.evaluation.pairs import gpt4_judged_pairs

    judged = gpt4_judged_pairs()
    if not hidden:
        return [_case(6, 0, 2), _case(6, 3, 2), _case(4, 1, 4),
                _case(90, 73, 89, "Alpaca's blind evaluation"),
                _case(*_counts(judged.preferences), "AlpacaEval, GPT-4 on Alpaca-7B")]
    from alpaca_lessons.common.paths import course_data_dir
    from alpaca_lessons.evaluation.blind import read_judgments

    cases = [_case(0, 5, 0, "only ties"), _case(10, 0, 0), _case(0, 0, 1), _case(3, 7, 12)]
    for dataset in sorted(set(judged.datasets)):
        subset = [p for p, d in zip(judged.preferences, judged.datasets, strict=True) if d == dataset]
        cases.append(_case(*_counts(subset), f"AlpacaEval's {dataset} subset"))
    shipped = read_judgments(course_data_dir() / "annotations" / "pairwise_claude.jsonl", judged.pairs)
    for records in shipped.values():
        cases.append(_case(*_counts([r["preference"] for r in records]), "the course's blind judgments"))
    return cases


def check_sign_test(fn: Callable[[int, int, int], float], hidden: bool = False) -> None:
    """Check ``fn(wins, ties, losses) -> p`` against the exact two-sided sign test."""
    check_function(fn, _reference_sign_test, sign_test_cases(hidden), mistakes=MISTAKES_SIGN_TEST,
                   compare=_close, name="sign_test_p")


# ------------------------------------------------------------------ 8.2 the position-bias estimate


def _reference_position(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    bias = position_bias_of(preferences, swapped)
    return bias.left_share, bias.low, bias.high


def _sides(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[int, int, int]:
    """(left wins, right wins, ties), written out here for the mistakes."""
    left = sum((p == FIRST and not s) or (p == SECOND and s) for p, s in zip(preferences, swapped, strict=True))
    ties = sum(p == TIE for p in preferences)
    return left, len(preferences) - left - ties, ties


def _share_of(successes: float, n: float) -> tuple[float, float, float]:
    return (successes / n, *wilson_interval(successes, n))


def _ties_in_denominator(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    left, _, _ = _sides(preferences, swapped)
    return _share_of(left, len(preferences))


def _ties_as_half(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    left, _, ties = _sides(preferences, swapped)
    return _share_of(left + ties / 2, len(preferences))


def _system_one(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    return _share_of(sum(p == FIRST for p in preferences), sum(p != TIE for p in preferences))


def _system_two(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    return _share_of(sum(p == SECOND for p in preferences), sum(p != TIE for p in preferences))


def _right_share(preferences: Sequence[int], swapped: Sequence[bool]) -> tuple[float, float, float]:
    left, right, _ = _sides(preferences, swapped)
    return _share_of(right, left + right)


def _wald(preferences: Sequence[int], swapped: Sequence[bool], clip: bool = False) -> tuple[float, float, float]:
    left, right, _ = _sides(preferences, swapped)
    share = left / (left + right)
    half = NormalDist().inv_cdf(0.975) * math.sqrt(share * (1 - share) / (left + right))
    low, high = share - half, share + half
    return (share, max(0.0, low), min(1.0, high)) if clip else (share, low, high)


MISTAKES_POSITION_BIAS = (
    Mistake(_ties_in_denominator, "with the ties counted among the judgments. A tie favours no side: the share is "
            "taken over decisive judgments only (left + right)."),
    Mistake(_ties_as_half, "with each tie counted as half a left win. A tie favours no side: leave ties out."),
    Mistake(_system_one, "of how often output_1 won: that is which SYSTEM won, not which SIDE. Use `swapped` "
            "to find the side the winner was shown on."),
    Mistake(_system_two, "of how often output_2 won: that is which SYSTEM won, not which SIDE. Use `swapped` "
            "to find the side the winner was shown on."),
    Mistake(_right_share, "for the RIGHT side: swapped=True means output_2 was shown on the left (A)."),
    Mistake(_wald, "with the normal (Wald) interval, share ± 1.96·SE. The exercise asks for Wilson's interval, "
            "which stays inside [0, 1] and keeps its coverage for small counts."),
    Mistake(lambda p, s: _wald(p, s, clip=True), "with the normal (Wald) interval, cut at 0 and 1. The exercise "
            "asks for Wilson's interval, which keeps its coverage for small counts."),
)


def position_cases(hidden: bool = False) -> list[Case]:
    """A hand-made case and the course's 60 shipped blind judgments; with ``hidden``, seeded random verdicts
    and GPT-4's 805 verdicts with a seeded side draw per pair."""
    from alpaca_lessons.common.paths import course_data_dir
    from alpaca_lessons.evaluation.blind import blind_items, read_judgments
    from alpaca_lessons.evaluation.pairs import gpt4_judged_pairs

    judged = gpt4_judged_pairs()
    if not hidden:
        shipped = read_judgments(course_data_dir() / "annotations" / "pairwise_claude.jsonl", judged.pairs)
        records = next(iter(shipped.values()))
        return [Case(([1, 1, 1, 2, 0, 0, 2], [False, False, False, False, True, False, True]),
                     "7 hand-made verdicts"),
                Case(([r["preference"] for r in records], [r["swapped"] for r in records]),
                     "the course's 60 blind judgments")]
    rng = random.Random(8)
    cases = []
    for size in (5, 40, 300):
        verdicts = [rng.choice((FIRST, SECOND, SECOND, TIE)) for _ in range(size)]
        cases.append(Case((verdicts, [rng.random() < 0.5 for _ in range(size)]), f"{size} random verdicts"))
    cases.append(Case(([2, 2, 1, 0], [True, True, True, True]), "every pair swapped"))
    sides = {item.pair.id: item.swapped for item in blind_items(judged.pairs, seed=8)}
    cases.append(Case((list(judged.preferences), [sides[p.id] for p in judged.pairs]),
                      "GPT-4's 805 verdicts, sides drawn with seed 8"))
    return cases


def check_position_bias(fn: Callable[..., tuple[float, float, float]], hidden: bool = False) -> None:
    """Check ``fn(preferences, swapped) -> (left share, low, high)`` against the package's estimate."""
    check_function(fn, _reference_position, position_cases(hidden), mistakes=MISTAKES_POSITION_BIAS,
                   name="position_bias_estimate")


# A complete wrong solution the instructor kit plants to prove that a wrong answer loses points.
PLANTED = {
    "l08-sign-test": '''from statistics import NormalDist


def sign_test_p(wins: int, ties: int, losses: int) -> float:
    """The two-sided exact sign-test p-value of wins against losses under a fair coin, ties dropped."""
    n = wins + losses
    if n == 0:
        return 1.0
    z = abs(wins - losses) / n ** 0.5
    return 2 * (1 - NormalDist().cdf(z))
''',
}
