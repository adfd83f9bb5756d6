"""The reference filter: ``rouge_l`` is float-equal to rouge-score's public ``RougeScorer(["rougeL"]).score``
on real instruction pairs, and ``ReferenceNoveltyFilter`` keeps, ranks and averages as Alpaca does."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from alpaca_lessons.common.text import rouge_tokens
from alpaca_lessons.data import read_records, read_seed_tasks
from alpaca_lessons.generation.novelty import NoveltyResult, ReferenceNoveltyFilter, lcs_table_length, rouge_l

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)  # as Alpaca calls it


def public_rouge_l(target: str, prediction: str) -> float:
    return SCORER.score(target, prediction)["rougeL"].fmeasure


def test_lcs_table_length_by_hand():
    assert lcs_table_length("ABCBDAB", "BDCABA") == 4
    assert lcs_table_length("abc", "") == lcs_table_length("", "abc") == 0
    assert lcs_table_length(["the", "cat", "sat"], ["the", "sat"]) == 2


HANDWRITTEN_PAIRS = [
    ("Give three tips for staying healthy.", "Give me three ideas for a birthday party."),
    ("Translate the sentence into French.", "Translate this sentence to Spanish, please!"),
    ("What is the capital of France?", "Name the capital city of France."),
    ("", "Anything at all."),
]


@pytest.mark.parametrize(("target", "prediction"), HANDWRITTEN_PAIRS)
def test_rouge_l_equals_rouge_scores_public_scorer(target, prediction):
    assert rouge_l(rouge_tokens(target), rouge_tokens(prediction)) == public_rouge_l(target, prediction)


def test_rouge_l_equals_rouge_scores_public_scorer_on_real_instructions(real_data):
    seeds = [t.instruction for t in read_seed_tasks()][:40]
    alpaca = [r.instruction for r in read_records("alpaca_data")[:40]]
    pairs = list(itertools.product(seeds, alpaca)) + list(itertools.combinations(seeds, 2))
    mismatches = [(a, b) for a, b in pairs if rouge_l(rouge_tokens(a), rouge_tokens(b)) != public_rouge_l(a, b)]
    assert mismatches == [] and len(pairs) == 40 * 40 + 40 * 39 // 2
    assert any(public_rouge_l(a, b) > 0.3 for a, b in pairs)  # not only near-zero scores


words = st.lists(st.sampled_from(["the", "a", "cat", "sat", "on", "mat", "dog"]), max_size=8).map(" ".join)


@given(pool=st.lists(words, max_size=8), candidate=words)
@settings(max_examples=60, deadline=None)
def test_reference_filter_ranks_as_rouge_score(pool, candidate):
    result = ReferenceNoveltyFilter(pool, top_k=3).check(candidate)
    scores = [public_rouge_l(candidate, entry) for entry in pool]
    ranked = sorted(range(len(pool)), key=lambda i: (-scores[i], i))[:3]
    assert result.most_similar == [(pool[i], scores[i]) for i in ranked]
    assert result.max_score == max(scores, default=0.0) and result.keep == (result.max_score <= 0.7)


def test_reference_filter_consider_and_mean():
    f = ReferenceNoveltyFilter(["a b c"], top_k=1, mean=True)
    kept = f.consider("a x")  # against "a b c": LCS 1, P = 1/3, R = 1/2, F = 0.4
    assert kept == NoveltyResult(True, pytest.approx(0.4), [("a b c", pytest.approx(0.4))], pytest.approx(0.4))
    assert len(f) == 2 and not f.consider("a b c").keep and len(f) == 2
