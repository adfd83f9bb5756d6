"""BELLE's BM25 (gensim 3.8's arithmetic): scores computed by hand, the threshold, and the index that never grows."""

import math

import pytest

from alpaca_lessons.generation.novelty.bm25 import BM25Filter, BM25Index

# Three documents: N = 3, lengths 2, 3, 1, so avgdl = 2.
DOCS = [["a", "b"], ["a", "c", "c"], ["d"]]
L = math.log(5 / 3)  # idf of b, c and d (each in 1 document): ln(3 - 1 + 0.5) - ln(1 + 0.5)
# idf of a (in 2 documents) is ln(1.5) - ln(2.5) < 0, so it is floored at 0.25 x the mean idf:
# the mean is (ln(0.6) + 3 L) / 4 = (-L + 3 L) / 4 = L / 2, so idf(a) = L / 8.
IDF_A = L / 8
# The denominators' constant k1 * (1 - b + b * |d| / avgdl) with k1 = 1.5, b = 0.75: 1.5, 2.0625, 0.9375.


def test_scores_match_the_formula_worked_by_hand():
    index = BM25Index(DOCS)
    assert index.idf == pytest.approx({"a": IDF_A, "b": L, "c": L, "d": L})
    scores = index.scores(["a", "c"])
    # d0: a once: idf(a) * 1 * 2.5 / (1 + 1.5); d1: a once and c twice; d2: nothing shared
    expected = [IDF_A * 2.5 / 2.5, IDF_A * 2.5 / (1 + 2.0625) + L * 2 * 2.5 / (2 + 2.0625), 0.0]
    assert scores == pytest.approx(expected, rel=1e-12)


def test_a_repeated_query_token_counts_each_time_and_unknown_tokens_count_nothing():
    index = BM25Index(DOCS)
    once, twice = index.scores(["d"]), index.scores(["d", "d", "zzz"])
    assert once == pytest.approx([0.0, 0.0, L * 2.5 / (1 + 0.9375)])
    assert twice == pytest.approx([2 * s for s in once])


def test_an_empty_index_is_refused():
    with pytest.raises(ValueError, match="at least one document"):
        BM25Index([])


def test_the_filter_keeps_at_the_threshold_and_rejects_above_it():
    best = L * 2.5 / (1 + 0.9375)  # "d" against ["d"], the only document holding it
    split = list  # one token per character: "ab" -> ["a", "b"]
    assert BM25Filter(["ab", "acc", "d"], threshold=best + 1e-9, tokenizer=split).check("d").keep
    result = BM25Filter(["ab", "acc", "d"], threshold=best - 1e-9, tokenizer=split).check("d")
    assert not result.keep and result.max_score == pytest.approx(best)
    assert result.most_similar[0] == ("d", pytest.approx(best))


def test_the_index_never_grows_so_a_repeated_candidate_is_kept_twice():
    novelty = BM25Filter(["ab", "acc", "d"], threshold=1.0, tokenizer=list)
    first, second = novelty.consider("xyz"), novelty.consider("xyz")
    assert first.keep and second.keep and first.max_score == second.max_score == 0.0
    assert novelty.kept == ["xyz", "xyz"] and len(novelty) == 3


def test_the_top_ten_and_the_mean_are_belles_fields():
    docs = [f"q{i}" for i in range(12)] + ["zz"]
    result = BM25Filter(docs, tokenizer=list).check("q")
    assert len(result.most_similar) == 10
    scores = [score for _, score in result.most_similar]
    assert scores == sorted(scores, reverse=True)
    all_scores = BM25Index([list(d) for d in docs]).scores(["q"])
    assert result.mean_score == pytest.approx(sum(all_scores) / 13)
    assert BM25Filter(docs, tokenizer=list, mean=False).check("q").mean_score is None
