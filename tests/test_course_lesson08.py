"""Lesson 08's exercises: the answers a student writes pass, each plausible wrong answer fails with its hint.

The right answers here are written independently of the package (exact fractions for the sign test, Wilson's
formula spelled out for the interval), and the hand-made values are worked out in the comments."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from alpaca_lessons.course import lesson08
from alpaca_lessons.course.checking import NotDoneYet

Z95 = 1.959963984540054


def student_sign_test(wins: int, ties: int, losses: int) -> float:
    """A right answer, with exact fractions: 2 P(X <= min) for X ~ Binomial(wins + losses, 1/2), at most 1."""
    n = wins + losses
    tail = sum(Fraction(math.comb(n, k), 2**n) for k in range(min(wins, losses) + 1))
    return float(min(Fraction(1), 2 * tail))


def student_position(preferences: list[int], swapped: list[bool]) -> tuple[float, float, float]:
    """A right answer, loop by loop, with Wilson's interval written out."""
    left = right = 0
    for preference, flipped in zip(preferences, swapped, strict=True):
        if preference == 0:
            continue
        shown_left = 1 if not flipped else 2  # the output shown on the left (A)
        left += preference == shown_left
        right += preference != shown_left
    n = left + right
    p = left / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return p, centre - half, centre + half


def stub(*args):
    raise NotImplementedError


def test_the_sign_test_by_hand():
    assert student_sign_test(6, 3, 2) == 2 * (1 + 8 + 28) / 256  # n = 8 decisive; the 3 ties are dropped
    assert student_sign_test(4, 1, 4) == 1.0  # 2 * 163/256 > 1: capped
    assert student_sign_test(90, 73, 89) == 1.0  # 179 is odd: P(X <= 89) is exactly 1/2


@pytest.mark.parametrize("hidden", [False, True])
def test_a_right_sign_test_passes(real_data, hidden, capsys):
    lesson08.check_sign_test(student_sign_test, hidden=hidden)
    assert capsys.readouterr().out.startswith("✓ sign_test_p: all")


def test_the_sign_test_is_checked_on_the_real_counts(real_data):
    labels = {c.label: c.args for c in lesson08.sign_test_cases()}
    assert labels["wins=90, ties=73, losses=89: Alpaca's blind evaluation"] == (90, 73, 89)
    # AlpacaEval's GPT-4 verdicts on Alpaca-7B: 205 wins, 16 ties (identical outputs), 584 losses
    assert labels["wins=205, ties=16, losses=584: AlpacaEval, GPT-4 on Alpaca-7B"] == (205, 16, 584)
    assert student_sign_test(205, 16, 584) == pytest.approx(6.08e-43, rel=1e-3)


@pytest.mark.parametrize("mistake", lesson08.MISTAKES_SIGN_TEST, ids=lambda m: m.compute.__name__)
@pytest.mark.parametrize("hidden", [False, True])
def test_each_wrong_sign_test_fails_with_its_hint(real_data, mistake, hidden):
    with pytest.raises(AssertionError) as failed:
        lesson08.check_sign_test(mistake.compute, hidden=hidden)
    if not hidden:  # the visible cases catch every mistake and name it
        assert mistake.hint in str(failed.value)


def test_the_normal_approximation_is_named():
    def normal(wins: int, ties: int, losses: int) -> float:  # z = (wins - n/2) / sqrt(n/4)
        n = wins + losses
        z = (wins - n / 2) / math.sqrt(n / 4)
        return math.erfc(abs(z) / math.sqrt(2))

    with pytest.raises(AssertionError) as failed:
        lesson08.check_sign_test(normal)
    assert str(failed.value).startswith("sign_test_p(wins=6, ties=0, losses=2): expected 0.2890625, got 0.1572")
    assert "normal approximation (a z-score)" in str(failed.value)


def test_the_planted_wrong_solution_fails(real_data):
    namespace: dict = {}
    exec(lesson08.PLANTED["l08-sign-test"], namespace)
    with pytest.raises(AssertionError, match="normal approximation"):
        lesson08.check_sign_test(namespace["sign_test_p"])


def test_an_unwritten_exercise_is_not_done_yet(real_data):
    with pytest.raises(NotDoneYet):
        lesson08.check_sign_test(stub)
    with pytest.raises(NotDoneYet):
        lesson08.check_position_bias(stub)


def test_the_position_bias_by_hand():
    # A, A, A, B, tie, tie, A: output_1 wins unswapped are left; #6 is output_2 shown on the left (swapped)
    share, low, high = student_position([1, 1, 1, 2, 0, 0, 2], [False, False, False, False, True, False, True])
    assert share == 4 / 5
    assert (low, high) == pytest.approx((0.3755, 0.9638), abs=1e-4)


@pytest.mark.parametrize("hidden", [False, True])
def test_a_right_position_bias_passes(real_data, hidden, capsys):
    lesson08.check_position_bias(student_position, hidden=hidden)
    assert capsys.readouterr().out.startswith("✓ position_bias_estimate: all")


def test_the_position_bias_is_checked_on_the_shipped_judgments(real_data):
    case = lesson08.position_cases()[1]
    preferences, swapped = case.args
    assert len(preferences) == 60
    share, _, _ = student_position(preferences, swapped)
    assert share == pytest.approx(21 / 49)  # left won 21, right 28, 11 ties, as lesson 08 prints


@pytest.mark.parametrize("mistake", lesson08.MISTAKES_POSITION_BIAS, ids=lambda m: m.hint[:30])
def test_each_wrong_position_bias_fails_with_its_hint(real_data, mistake):
    with pytest.raises(AssertionError) as failed:
        lesson08.check_position_bias(mistake.compute)
    assert mistake.hint in str(failed.value)


def test_mixing_up_system_and_side_is_named(real_data):
    def by_system(preferences, swapped):  # "left" taken as output_1, whatever the side draw
        decisive = [p for p in preferences if p != 0]
        return student_position([1 if p == 1 else 2 for p in decisive], [False] * len(decisive))

    with pytest.raises(AssertionError) as failed:
        lesson08.check_position_bias(by_system)
    assert "which SYSTEM won, not which SIDE" in str(failed.value)
