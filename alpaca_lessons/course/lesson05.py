"""Lesson 05's implement-it exercises: the Wilson interval, and the sample size for a target width.

The student writes ``wilson(yes, n)`` (the 95% Wilson score interval of the share ``yes / n``) and
``sample_size(width)`` (the smallest n whose 95% Wilson interval is at most ``width`` wide whatever the share).
Each is checked against ``common.stats`` on the real counts of the shipped annotations (the four validity
shares of 200 records, the audit rule's 23 of 37 and 23 of 23) and on hand-made edge cases; the known wrong
answers (the normal-approximation interval, z = 2 or 1.645, counts instead of shares, a half-width, rounding
down) are recognised and named.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from alpaca_lessons.analysis.validity import ALL_VALID, QUESTIONS, latest, read_annotations
from alpaca_lessons.common.paths import course_data_dir
from alpaca_lessons.common.stats import sample_size_for_width, wilson_interval
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.course.checking import Case, Mistake, check_function, same
from alpaca_lessons.data import read_records

Z95 = 1.959963984540054  # the two-sided 95% normal quantile, NormalDist().inv_cdf(0.975)


@lru_cache(maxsize=1)
def real_counts() -> list[tuple[str, int, int]]:
    """(what, yes, n) from the course's shipped annotation files: the yes count of each validity question and of
    all three over the 200 sampled records, then the first audit rule's 23 real of 37 hits and the tightened
    rule's 23 of 23."""
    annotations = course_data_dir() / "annotations"
    judged = list(latest(read_annotations(annotations / "validity_claude.jsonl", read_records("alpaca_data")))
                  .values())
    counts = [(q, sum(getattr(a, q) for a in judged), len(judged)) for q in (*QUESTIONS, ALL_VALID)]
    labels = AppendOnlyStore(annotations / "missing_input_claude.jsonl").read()
    real = sum(bool(row["refers_to_missing_input"]) for row in labels)
    return [*counts, ("missing_input, first rule", real, len(labels)), ("missing_input, tightened", real, real)]


# ------------------------------------------------------------------ exercise 5.1: the Wilson interval
def _wald(yes: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = yes / n
    margin = z * math.sqrt(p * (1 - p) / n)
    return p - margin, p + margin


def _wilson_z(z: float) -> Callable[[int, int], tuple[float, float]]:
    def interval(yes: int, n: int) -> tuple[float, float]:
        p = yes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        margin = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return centre - margin, centre + margin
    return interval


def _wilson_undivided(yes: int, n: int) -> tuple[float, float]:
    p = yes / n
    margin = Z95 * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n))
    return p + Z95 * Z95 / (2 * n) - margin, p + Z95 * Z95 / (2 * n) + margin


MISTAKES_WILSON = (
    Mistake(_wald, "of the normal-approximation (Wald) interval p ± z·√(p(1−p)/n): centred on p, it leaves [0, 1] "
                   "near the edges and shrinks to a single point at p = 0 or 1. Wilson's interval is centred "
                   "between p and 1/2 and stays honest there."),
    Mistake(lambda yes, n: tuple(min(1.0, max(0.0, x)) for x in _wald(yes, n)),
            "of the Wald interval p ± z·√(p(1−p)/n) clipped to [0, 1]: clipping hides that it leaves [0, 1], but "
            "it is still too narrow near 0 and 1 (a single point at p = 0 or 1). Write Wilson's score interval."),
    Mistake(_wilson_z(2.0), "with z = 2: a two-sided 95% interval uses the normal quantile 1.96 (z = 2 is 95.4%)."),
    Mistake(_wilson_z(1.6448536269514722), "with z = 1.645: that is a 90% interval (or a one-sided 95% bound); "
                                           "a two-sided 95% interval uses 1.96."),
    Mistake(lambda yes, n: tuple(n * x for x in wilson_interval(yes, n)),
            "in counts, not shares: the interval is for the share yes / n, between 0 and 1."),
    Mistake(_wilson_undivided, "without dividing the centre and the margin by 1 + z²/n."),
)


def _close(got: object, expected: object) -> bool:
    """Equal within 1e-4: z written as 1.96 is as right as the exact quantile 1.95996..."""
    return same(got, expected, tol=1e-4)


def check_wilson(fn: Callable[[int, int], tuple[float, float]], hidden: bool = False) -> None:
    """Check ``fn(yes, n)``, the 95% Wilson interval (low, high) of the share yes / n, against
    ``common.stats.wilson_interval``: first 1 of 20 (where the normal approximation leaves [0, 1]), then the
    real counts of the shipped annotations; with ``hidden``, the edges 0 of 10, 10 of 10, 1 of 1 and larger n."""
    cases = [Case((1, 20), "1, 20")]
    cases += [Case((yes, n), f"{yes}, {n}  # {what}") for what, yes, n in real_counts()]
    if hidden:
        cases += [Case((yes, n), f"{yes}, {n}") for yes, n in ((0, 10), (10, 10), (1, 1), (499, 1000), (7, 52002))]
    check_function(fn, wilson_interval, cases, mistakes=MISTAKES_WILSON, compare=_close, name="wilson")


# ------------------------------------------------------------------ exercise 5.2: the sample size for a width
def _first_n(width_at: Callable[[int], float], width: float) -> int:
    n = 1
    while width_at(n) > width:
        n += 1
    return n


MISTAKES_SAMPLE_SIZE = (
    Mistake(lambda w: _first_n(lambda n: Z95 / (2 * math.sqrt(n + Z95 * Z95)), w),
            "for a margin (half-width) of `width`: the width is high − low, twice the margin."),
    Mistake(lambda w: math.floor(Z95 * Z95 * (1 / (w * w) - 1)),
            "rounded down: at that n the interval is still a little wider than asked. The smallest n that reaches "
            "the width rounds up."),
    Mistake(lambda w: math.ceil(Z95 * Z95 * 0.25 / (w * w)),
            "of the textbook margin-of-error formula n = z²·p(1−p)/E²: that is the Wald interval, and its E is a "
            "half-width, not the width."),
    Mistake(lambda w: _first_n(lambda n: Z95 / math.sqrt(n), w),
            "of the Wald interval's worst-case width z/√n: Wilson's interval at 1/2 is narrower, z/√(n + z²), so it "
            "needs z² ≈ 4 fewer items."),
    Mistake(lambda w: _first_n(lambda n: 2 / math.sqrt(n + 4), w),
            "with z = 2: a two-sided 95% interval uses the normal quantile 1.96."),
)


def check_sample_size(fn: Callable[[float], int], hidden: bool = False) -> None:
    """Check ``fn(width)``, the smallest n whose 95% Wilson interval is at most ``width`` wide (high − low) at the
    worst case, a share of 1/2, against ``common.stats.sample_size_for_width``: round widths, then the widths of
    the real intervals measured in the lesson; with ``hidden``, more widths."""
    cases = [Case((w,), str(w)) for w in (0.2, 0.1, 0.05)]
    for what, yes, n in real_counts()[3:5]:
        low, high = wilson_interval(yes, n)
        cases.append(Case((high - low,), f"{high - low:.4f}  # the width of {what}'s interval, {yes} of {n}"))
    if hidden:
        cases += [Case((w,), str(w)) for w in (0.5, 0.15, 0.03, 0.025)]  # where z = 1.96 and the exact z agree
    check_function(fn, sample_size_for_width, cases, mistakes=MISTAKES_SAMPLE_SIZE, name="sample_size")


# A plausible wrong solution the instructor kit plants to prove that a wrong answer loses points.
PLANTED = {
    "l05-wilson": '''import math


def wilson(yes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval (low, high) for the share yes / n."""
    p = yes / n
    margin = 1.96 * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - margin), min(1.0, p + margin)
''',
}
