"""Lesson 05's exercises: a right answer written here passes, each plausible wrong one fails with its hint."""

from __future__ import annotations

import math

import pytest
from course_contract import fails_with_hint

from alpaca_lessons.course import lesson05
from alpaca_lessons.course.checking import NotDoneYet

Z = 1.96  # as a student writes it: the checker accepts the rounded quantile


def wilson(yes: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson's score interval written out independently: solve |p - q| = z sqrt(q (1 - q) / n) for q."""
    p = yes / n
    a, b, c = 1 + z * z / n, -(2 * p + z * z / n), p * p  # a q² + b q + c = 0
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def wald(yes: int, n: int, clip: bool = False) -> tuple[float, float]:
    p = yes / n
    low, high = p - Z * math.sqrt(p * (1 - p) / n), p + Z * math.sqrt(p * (1 - p) / n)
    return (max(0.0, low), min(1.0, high)) if clip else (low, high)


def sample_size(width: float) -> int:
    """Search n upwards with the interval above at a share of exactly 1/2."""
    n = 1
    while (lambda interval: interval[1] - interval[0])(wilson(n / 2, n)) > width:
        n += 1
    return n



def test_the_real_counts_are_the_lessons(real_data):
    # the shares lesson 05 prints: 186, 187, 151 and 148 of 200; the audit rule's 23 of 37, then 23 of 23
    assert [(yes, n) for _, yes, n in lesson05.real_counts()] == [(186, 200), (187, 200), (151, 200), (148, 200),
                                                                   (23, 37), (23, 23)]


def test_a_right_wilson_passes_with_z_as_1_96(real_data, capsys):
    lesson05.check_wilson(wilson, hidden=True)
    assert "✓ wilson: all 12 cases" in capsys.readouterr().out


@pytest.mark.parametrize(("student", "hint"), [
    (wald, "normal-approximation (Wald) interval"),
    (lambda yes, n: wald(yes, n, clip=True), "clipped to [0, 1]"),
    (lambda yes, n: wilson(yes, n, z=2), "with z = 2"),
    (lambda yes, n: wilson(yes, n, z=1.645), "that is a 90% interval"),
    (lambda yes, n: tuple(n * x for x in wilson(yes, n)), "in counts, not shares"),
])
def test_each_wrong_wilson_fails_with_its_hint(real_data, student, hint):
    fails_with_hint(lesson05.check_wilson, student, hint)


def test_a_wald_answer_is_caught_on_1_of_20_where_it_goes_below_zero(real_data):
    # p = 0.05, se = sqrt(0.05 * 0.95 / 20) = 0.0487, so p - 1.96 se = -0.0455: outside [0, 1]
    with pytest.raises(AssertionError, match=r"^wilson\(1, 20\): expected \(0\.0088.*got \(-0\.0455"):
        lesson05.check_wilson(wald)


def test_a_wilson_without_its_denominator_is_named(real_data):
    def undivided(yes, n):
        p = yes / n
        margin = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
        return p + Z * Z / (2 * n) - margin, p + Z * Z / (2 * n) + margin

    fails_with_hint(lesson05.check_wilson, undivided, "without dividing the centre and the margin by 1 + z²/n")


def test_a_stub_is_not_done_yet(real_data):
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(NotDoneYet):
        lesson05.check_wilson(stub)
    with pytest.raises(NotDoneYet):
        lesson05.check_sample_size(stub)


def test_a_right_sample_size_passes(real_data, capsys):
    assert sample_size(0.1) == 381  # 1.96² (1/0.01 - 1) = 380.3, rounded up
    lesson05.check_sample_size(sample_size, hidden=True)
    assert "✓ sample_size: all 9 cases" in capsys.readouterr().out


@pytest.mark.parametrize(("student", "hint"), [
    (lambda w: sample_size(2 * w), "for a margin (half-width)"),
    (lambda w: math.floor(Z * Z * (1 / w ** 2 - 1)), "rounded down"),
    (lambda w: math.ceil(Z * Z * 0.5 * 0.5 / w ** 2), "textbook margin-of-error formula"),
    (lambda w: math.ceil((Z / w) ** 2), "Wald interval's worst-case width z/√n"),
    (lambda w: math.ceil(4 * (1 / w ** 2 - 1)), "with z = 2"),
])
def test_each_wrong_sample_size_fails_with_its_hint(real_data, student, hint):
    fails_with_hint(lesson05.check_sample_size, student, hint)


def test_the_planted_answer_defines_wilson_and_is_wrong(real_data):
    namespace: dict = {}
    exec(lesson05.PLANTED["l05-wilson"], namespace)  # noqa: S102 - the kit plants exactly this cell
    fails_with_hint(lesson05.check_wilson, namespace["wilson"], "clipped to [0, 1]")
