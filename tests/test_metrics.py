"""Win-rate metrics, by hand: win rates with intervals, verdict agreement, position bias, length preference."""

from __future__ import annotations

import math

import pytest

from alpaca_lessons.common.stats import cohen_kappa, comparisons_needed, sign_test, wilson_interval
from alpaca_lessons.evaluation.metrics import (
    length_preference,
    position_bias,
    position_bias_of,
    shown_choice,
    tie_scenarios,
    verdict_agreement,
    win_rate,
)
from alpaca_lessons.evaluation.pairs import Pair


def test_ninety_vs_eighty_nine_is_a_coin_flip():
    result = win_rate(90, 73, 89)
    assert result.p_value == pytest.approx(1.0)  # 179 decisive is odd: P(X <= 89) is exactly 1/2
    assert result.rate == pytest.approx((90 + 36.5) / 252)
    assert result.low < 0.5 < result.high
    assert sign_test(9, 1) == pytest.approx(22 / 1024)  # 2 * (1 + 10) / 2^10
    assert sign_test(0, 0) == 1.0


def test_wilson_interval_by_hand():
    z = 1.959964
    half = z / (1 + z * z / 100) * math.sqrt(0.25 / 100 + z * z / 40000)
    assert wilson_interval(50, 100) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-6)  # 0.4038, 0.5962
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_agreement_and_kappa_by_hand():
    # observed 3/4; chance: P(1)=.5*.25, P(2)=.5*.75 -> 0.5; kappa = (0.75 - 0.5) / 0.5
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5)
    result = verdict_agreement([1, 1, 2, 2, 0], [1, 2, 2, 2, 2])
    assert (result.same, result.n, result.same_decisive, result.decisive) == (3, 5, 3, 4)
    assert math.isnan(cohen_kappa([1, 1], [1, 1]))


def test_position_bias_counts_left_wins():
    bias = position_bias(["A"] * 9 + ["B"] + ["tie"] * 3)
    assert (bias.left, bias.right, bias.ties) == (9, 1, 3)
    assert bias.left_share == pytest.approx(0.9) and bias.p_value == pytest.approx(22 / 1024)
    # Wilson's interval for 9 of 10, written out: centre (p + z^2/2n) / (1 + z^2/n), half-width as in stats
    z = 1.959964
    centre = (0.9 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * math.sqrt(0.9 * 0.1 / 10 + z * z / 400)
    assert (bias.low, bias.high) == pytest.approx((centre - half, centre + half), abs=1e-6)  # 0.596, 0.982
    assert str(bias) == "left (A) won 9, right (B) won 1, 3 ties: left share 90.0% (95% CI 59.6%-98.2%), " \
                        "sign test p = 0.0215"
    with pytest.raises(ValueError):
        position_bias(["left"])
    none = position_bias(["tie", "tie"])
    assert math.isnan(none.left_share) and math.isnan(none.low) and none.p_value == 1.0


def test_the_side_that_won_follows_from_the_system_and_the_side_draw():
    # not swapped: output_1 is on the left (A); swapped: output_2 is
    assert [shown_choice(1, False), shown_choice(2, False), shown_choice(1, True), shown_choice(2, True)] == \
        ["A", "B", "B", "A"]
    assert shown_choice(0, True) == "tie"
    with pytest.raises(ValueError):
        shown_choice(3, False)
    # left wins: #0 (1, not swapped) and #4 (2, swapped); right: #1, #3, #5; #2 is a tie
    bias = position_bias_of([1, 2, 0, 1, 2, 1], [False, False, False, True, True, True])
    assert (bias.left, bias.right, bias.ties) == (2, 3, 1)
    with pytest.raises(ValueError):
        position_bias_of([1, 2], [False])


def test_length_preference_counts_decisive_pairs_of_different_length():
    ps = [Pair("a", "i", "short", "much longer", "x", "y"), Pair("b", "i", "long one", "s", "x", "y"),
          Pair("c", "i", "same", "same", "x", "y")]
    assert length_preference(ps, [2, 2, 0]) == (1, 2)


def test_tie_scenarios_by_hand():
    rows = tie_scenarios(90, 89, [0, 73])
    # 0 ties: 90 of 179 won; 73 ties: (90 + 36.5) / 252. The sign test drops ties: p = 1 in both rows.
    assert [r.result.n for r in rows] == [179, 252]
    assert rows[0].result.rate == pytest.approx(90 / 179) and rows[1].result.rate == pytest.approx(126.5 / 252)
    assert [r.result.p_value for r in rows] == [1.0, 1.0]
    assert rows[1].tie_share == pytest.approx(73 / 252)
    # more ties, fewer decisive comparisons per comparison, but a larger P(win | decisive) for the same 55%
    assert rows[0].needed.total > rows[1].needed.total
    assert rows[1].needed.total == comparisons_needed(0.55, 73 / 252).total
    assert "73 ties" in str(rows[1]) and "252" in str(rows[1])
