"""The novelty index: its bit-parallel LCS against the textbook table, and its small interface (add, top,
total_score, the work counters) on pools small enough to score by hand."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alpaca_lessons.generation.novelty.index import PoolIndex, f_measure, lcs_length


def textbook_lcs(a: list, b: list) -> int:
    """The LCS length from the full (len(a)+1) x (len(b)+1) table, written out here."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, start=1):
        for j, y in enumerate(b, start=1):
            table[i][j] = table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


@given(st.lists(st.integers(0, 4), max_size=150), st.lists(st.integers(0, 4), max_size=150))
@example(list(range(64)), list(range(64)))
@example(list(range(65)), list(range(64, -1, -1)))
def test_lcs_length_equals_the_textbook_table(a, b):
    assert lcs_length(a, b) == textbook_lcs(a, b)


def test_lcs_length_by_hand():
    assert lcs_length("ABCBDAB", "BDCABA") == 4  # BCBA, the classic example
    assert lcs_length([], [1, 2]) == lcs_length([1, 2], []) == 0


def test_f_measure_by_hand():
    # precision 2/3 (2 of the 3 prediction tokens), recall 1: F = 2PR / (P + R) = 0.8
    assert f_measure(2, 3, 2) == pytest.approx(0.8)
    assert f_measure(1, 2, 2) == 0.5 and f_measure(0, 5, 5) == 0.0


def small_index() -> PoolIndex:
    index = PoolIndex()
    for tokens in (["a", "b", "c"], ["a", "x"], ["y"]):
        index.add(tokens)
    return index


def test_top_scores_and_orders_entries_by_hand():
    index = small_index()
    assert len(index) == 3
    entries, scores = index.top(["a", "b"], 3)
    # entry 0 shares "a b" (F 0.8), entry 1 shares "a" (P = R = 1/2: F 0.5), entry 2 nothing (0, found last)
    assert entries.tolist() == [0, 1, 2] and scores.tolist() == pytest.approx([0.8, 0.5, 0.0])
    entries, scores = index.top(["a", "b"], 1)
    assert entries.tolist() == [0] and scores.tolist() == pytest.approx([0.8])


def test_entries_sharing_no_token_fill_the_top_k_in_pool_order():
    entries, scores = small_index().top(["z"], 2)
    assert entries.tolist() == [0, 1] and scores.tolist() == [0.0, 0.0]
    entries, scores = PoolIndex().top(["z"], 2)  # an empty index
    assert len(entries) == len(scores) == 0


def test_total_score_sums_every_entry():
    assert small_index().total_score(["a", "b"]) == pytest.approx(0.8 + 0.5)
    long = PoolIndex()
    long.add(["w"] * 70)  # more than 64 tokens: scored outside the numpy lanes
    # LCS 1 of a 1-token candidate with a 70-token entry: P = 1/70, R = 1, F = 2/71
    assert long.total_score(["w"]) == pytest.approx(2 / 71)


def test_counters_count_the_work():
    index = small_index()
    index.top(["a", "b"], 3)
    assert index.lcs_computed == 2  # the two entries sharing a token
    assert index.overlaps_counted >= 2
