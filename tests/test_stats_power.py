"""Power of the sign test and sample sizes, against values worked out by hand."""

from __future__ import annotations

import pytest

from alpaca_lessons.stats import comparisons_needed, sign_test_critical_count, sign_test_power


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

    from alpaca_lessons.plots import power_curves

    fig = power_curves([0.55, 0.6], 0.3, range(10, 101, 10), mark=50)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4  # two curves, the mark, the 80% line
    assert lines[0].get_ydata()[-1] == pytest.approx(sign_test_power(70, 0.5 + 0.05 / 0.7))
    plt.close(fig)
