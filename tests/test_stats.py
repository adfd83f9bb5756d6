"""The shared statistics against values worked out by hand."""

import math

import pytest

from alpaca_lessons.common.stats import (
    cohen_kappa,
    comparisons_needed,
    proportion,
    sample_size_for_width,
    sign_test,
    sign_test_critical_count,
    sign_test_power,
    wilson_interval,
)

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


def _worst_case_wilson_width(n: int) -> float:
    """Wilson's width at p = 1/2 written out from the general formula: 2 z / (1 + z²/n) * sqrt(1/(4n) + z²/(4n²))."""
    return 2 * Z / (1 + Z * Z / n) * math.sqrt(0.25 / n + Z * Z / (4 * n * n))


@pytest.mark.parametrize(("width", "n"), [(0.1, 381), (0.05, 1533), (0.02, 9600), (0.2, 93)])
def test_sample_size_for_width_by_hand(width, n):
    # z² (1/w² - 1) rounded up: 3.8414588 * 99 = 380.30 -> 381; * 399 = 1532.74 -> 1533;
    # * 2499 = 9599.81 -> 9600; * 24 = 92.20 -> 93
    assert sample_size_for_width(width) == n
    assert _worst_case_wilson_width(n) <= width < _worst_case_wilson_width(n - 1)


def test_sample_size_for_width_meets_the_width_on_real_counts_and_refuses_nonsense():
    low, high = wilson_interval(4800, 9600)  # 9600 is even: the share 1/2 is a real count
    assert high - low <= 0.02
    assert sample_size_for_width(1.0) == 1
    with pytest.raises(ValueError):
        sample_size_for_width(0)


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


# power of the sign test and sample sizes
def test_critical_counts_by_hand():
    # n=10: 2*P(X<=1) = 22/1024 = 0.021 <= 0.05, 2*P(X<=2) = 112/1024 = 0.109 > 0.05
    assert sign_test_critical_count(10) == 1
    # n=12: 2*P(X<=2) = 158/4096 = 0.039, 2*P(X<=3) = 598/4096 = 0.146
    assert sign_test_critical_count(12) == 2
    # n=5: even 0 of 5 gives 2/32 = 0.0625 > 0.05
    assert sign_test_critical_count(5) == -1


def test_power_by_hand():
    # size under the null equals the exact rejection probability 22/1024
    assert sign_test_power(10, 0.5) == pytest.approx(22 / 1024)
    # n=10, p=0.9: P(X>=9) + P(X<=1) = 10*.9^9*.1 + .9^10 + (tiny)
    assert sign_test_power(10, 0.9) == pytest.approx(10 * 0.9**9 * 0.1 + 0.9**10 + 0.1**10 + 10 * 0.9 * 0.1**9)
    # n=12, p=0.9: P(X>=10)
    assert sign_test_power(12, 0.9) == pytest.approx(0.9**12 + 12 * 0.9**11 * 0.1 + 66 * 0.9**10 * 0.01, abs=1e-6)
    assert sign_test_power(5, 0.99) == 0.0  # no outcome of 5 is significant


def test_sample_size_is_the_first_that_reaches_the_power():
    # by hand: power 0.775 at n=9, 0.736 at 10, 0.697 at 11 (the sawtooth), 0.889 at 12
    needed = comparisons_needed(0.9)
    assert (needed.decisive, needed.total) == (12, 12)
    assert needed.power == pytest.approx(0.8891, abs=1e-4)


def test_ties_inflate_the_total():
    without = comparisons_needed(0.55)
    with_ties = comparisons_needed(0.55, 0.3)
    assert with_ties.p_win == pytest.approx(0.5 + 0.05 / 0.7)
    assert with_ties.total == -(-with_ties.decisive * 10 // 7)  # decisive / 0.7, rounded up
    assert without.decisive > with_ties.decisive  # each decisive one says more when ties are common
    assert sign_test_power(with_ties.decisive - 1, with_ties.p_win) < 0.8 <= with_ties.power


def test_impossible_effects_are_refused():
    with pytest.raises(ValueError):
        comparisons_needed(0.5)
    with pytest.raises(ValueError):
        comparisons_needed(0.9, tie_rate=0.5)  # P(win | decisive) would be 1.3


def test_power_curves_plot_one_line_per_win_rate_and_the_mark():
    import matplotlib.pyplot as plt

    from alpaca_lessons.common.plots import power_curves

    fig = power_curves([0.55, 0.6], 0.3, range(10, 101, 10), mark=50)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4  # two curves, the mark, the 80% line
    assert lines[0].get_ydata()[-1] == pytest.approx(sign_test_power(70, 0.5 + 0.05 / 0.7))
    plt.close(fig)
