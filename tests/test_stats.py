"""The shared statistics against values worked out by hand."""

import math

import numpy as np
import pytest

from alpaca_lessons.stats import bootstrap_ci, cohen_kappa, proportion, sign_test, wilson_interval

Z = 1.959963984540054  # the 97.5% normal quantile


def test_wilson_8_of_10_by_hand():
    # p = 0.8, n = 10: centre = (0.8 + z²/20) / (1 + z²/10) = 0.7167402;
    # half = z / (1 + z²/10) * sqrt(0.016 + z²/400) = 0.2265777
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4901625, abs=1e-7)
    assert high == pytest.approx(0.9433178, abs=1e-7)


def test_wilson_zero_successes_has_closed_form():
    # with 0 successes the interval is [0, z² / (n + z²)]
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(Z * Z / (10 + Z * Z), abs=1e-12)
    assert wilson_interval(10, 10) == pytest.approx((1 - high, 1.0))


def test_wilson_narrows_with_n_and_rejects_bad_counts():
    small, large = wilson_interval(46, 50), wilson_interval(184, 200)
    assert large[1] - large[0] < small[1] - small[0]
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_proportion_prints_share_and_interval():
    p = proportion(8, 10)
    assert p.share == 0.8
    assert str(p) == "80.0% [49.0%, 94.3%] (8/10)"


def test_kappa_textbook_table():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50: p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_extremes():
    labels = [True, False, True, True]
    assert cohen_kappa(labels, labels) == 1.0
    assert cohen_kappa(labels, [not x for x in labels]) == pytest.approx(-0.6)  # p_o 0, p_e 0.375
    assert math.isnan(cohen_kappa([True] * 5, [True] * 5))  # undefined, not "perfect"
    with pytest.raises(ValueError):
        cohen_kappa([True], [True, False])


def test_sign_test_exact_binomial():
    assert sign_test(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)  # 0.109375
    assert sign_test(2, 8) == sign_test(8, 2)
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(5, 5) == 1.0
    assert sign_test(0, 0) == 1.0


def test_bootstrap_matches_normal_approximation_and_is_seeded():
    values = [1.0] * 200 + [0.0] * 200  # mean 0.5, normal 95% half-width 1.96 * sqrt(0.25 / 400) = 0.049
    low, high = bootstrap_ci(values, seed=1)
    assert low == pytest.approx(0.451, abs=0.01) and high == pytest.approx(0.549, abs=0.01)
    assert bootstrap_ci(values, seed=1) == (low, high)
    assert bootstrap_ci([3.0] * 7, np.median) == (3.0, 3.0)
