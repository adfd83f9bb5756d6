"""The fast novelty filter: its scores, decisions and top-k lists equal rouge-score's public scorer's, exactly,
and match the reference filter's; ``dedup`` and ``alpaca-lessons dedup``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from alpaca_lessons.cli import main
from alpaca_lessons.common.text import character_tokens
from alpaca_lessons.data import Record, read_records, read_seed_tasks, registry
from alpaca_lessons.generation.novelty import NoveltyFilter, NoveltyResult, ReferenceNoveltyFilter, dedup
from alpaca_lessons.generation.novelty import index as novelty_index

# rouge-score's public scorer, as Alpaca calls it: rougeL, default tokenizer, no stemmer.
SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


class _Characters:
    def tokenize(self, text: str) -> list[str]:
        return character_tokens(text)


CHARACTER_SCORER = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Characters())


def rouge(candidate: str, entry: str, scorer: rouge_scorer.RougeScorer = SCORER) -> float:
    """rouge-score's ROUGE-L F with the candidate as target and the pool entry as prediction."""
    return scorer.score(candidate, entry)["rougeL"].fmeasure


def expected(pool: list[str], candidate: str, top_k: int, scorer: rouge_scorer.RougeScorer = SCORER):
    """(max score, top k as (entry, score), best first, ties in pool order), straight from rouge-score."""
    scores = [rouge(candidate, entry, scorer) for entry in pool]
    ranked = sorted(range(len(pool)), key=lambda i: (-scores[i], i))[:top_k]
    return max(scores, default=0.0), [(pool[i], scores[i]) for i in ranked]


@contextmanager
def tuning(**values: int) -> Iterator[None]:
    """Set the search's tuning constants; they change how much work is done, never a result."""
    if not values:
        yield
        return
    with mock.patch.multiple(novelty_index, **values):
        yield


# Extreme settings that force every path on small pools: each rare token looked up alone, every
# token with a dense column, the dense scan as soon as possible.
EXTREME = {"_GROUP": 10**9, "_GROUP_MIN": 0, "_HEAVY_DF": 1, "_DENSE_SCAN": 10**9}
LISTS_ONLY = {"_GROUP": 10**9, "_GROUP_MIN": 0, "_DENSE_SCAN": 0}  # one list at a time, never a dense scan
DEFAULT: dict[str, int] = {}
TUNINGS = pytest.mark.parametrize("settings_", [DEFAULT, EXTREME, LISTS_ONLY], ids=["default", "extreme", "lists"])

# Words with repeats, case, punctuation-only pieces, digits, non-ASCII letters rouge-score drops.
WORDS = ["the", "the", "a", "cat", "Cat", "CAT!", "sat", "on", "mat", "x1", "42", "...", "!?", "-", "é", "naïve",
         "猫", "don't", "e-mail", "\n", ""]
texts = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=20).map(" ".join),
    st.text(max_size=30),
    st.lists(st.sampled_from(["the", "a", "cat", "sat", "on"]), min_size=55, max_size=140).map(" ".join),  # long
    st.sampled_from(["", "   ", "?!... --", "((()))"]),  # no tokens at all
)
chinese = st.text(alphabet="猫狗的是在一二三，。！ ", max_size=90)


@TUNINGS
@given(pool=st.lists(texts, max_size=12), candidate=texts, threshold=st.sampled_from([0.0, 0.3, 0.7, 1.0]))
@example(pool=[" ".join(["the"] * 70)], candidate="the", threshold=0.0)  # a token held only by a long entry
@settings(max_examples=100, deadline=None)
def test_scores_equal_rouge_score(settings_, pool, candidate, threshold):
    with tuning(**settings_):
        result = NoveltyFilter(pool, threshold=threshold, top_k=len(pool)).check(candidate)
    best, ranked = expected(pool, candidate, len(pool))
    assert result.most_similar == ranked  # every score, float-equal, in the reference's order
    assert result.max_score == best
    assert result.keep == (best <= threshold)


@given(pool=st.lists(chinese, max_size=10), candidate=chinese, top_k=st.sampled_from([0, 1, 3, 10]))
@settings(max_examples=100, deadline=None)
def test_character_tokens_scores_equal_rouge_score(pool, candidate, top_k):
    result = NoveltyFilter(pool, tokenizer=character_tokens, top_k=top_k).check(candidate)
    best, ranked = expected(pool, candidate, top_k, CHARACTER_SCORER)
    assert (result.max_score, result.most_similar) == (best, ranked)
    assert result.keep == (best <= 0.7)


@TUNINGS
@given(seeds=st.lists(texts, max_size=5), candidates=st.lists(texts, max_size=25),
       threshold=st.sampled_from([0.0, 0.3, 0.5, 0.7]), top_k=st.sampled_from([0, 1, 3, 10]))
@settings(max_examples=60, deadline=None)
def test_a_run_of_candidates_matches_the_reference(settings_, seeds, candidates, threshold, top_k):
    reference = ReferenceNoveltyFilter(seeds, threshold=threshold, top_k=top_k)
    with tuning(**settings_):
        fast = NoveltyFilter(seeds, threshold=threshold, top_k=top_k)
        assert [fast.consider(c) for c in candidates] == [reference.consider(c) for c in candidates]
    assert fast.instructions == reference.instructions


def same_means(got: NoveltyResult, want: NoveltyResult) -> bool:
    """Both None, or equal up to the order of summation (rouge-score's scores, summed in another order)."""
    if want.mean_score is None or got.mean_score is None:
        return got.mean_score is want.mean_score
    return got.mean_score == pytest.approx(want.mean_score, rel=1e-12, abs=1e-15)


@TUNINGS
@given(seeds=st.lists(texts, max_size=5), candidates=st.lists(texts, max_size=20),
       threshold=st.sampled_from([0.0, 0.3, 0.7, 1.0]))
@settings(max_examples=60, deadline=None)
def test_mean_scores_equal_alpacas_mean_over_the_whole_pool(settings_, seeds, candidates, threshold):
    reference = ReferenceNoveltyFilter(seeds, threshold=threshold, top_k=3, mean=True)
    with tuning(**settings_):
        fast = NoveltyFilter(seeds, threshold=threshold, top_k=3, mean=True)
        for candidate in candidates:
            pool_size = len(reference)
            got, want = fast.consider(candidate), reference.consider(candidate)
            assert (got.keep, got.max_score, got.most_similar) == (want.keep, want.max_score, want.most_similar)
            assert same_means(got, want)
            assert (got.mean_score is not None) == (got.keep and pool_size > 0)  # kept tasks only, as Alpaca


@TUNINGS
def test_a_tie_at_the_bound_goes_to_the_earlier_entry(settings_):
    # After the rare x and y, "x y" scores 2/3; "a b" (no rare token) can score at most 2/3 too,
    # and does: it is earlier in the pool, so it must be found and ranked first.
    pool = ["a b", "a", "b", "a c", "b c", "x y"]
    with tuning(**settings_):
        result = NoveltyFilter(pool, top_k=1).check("x y a b")
    assert result.most_similar == [("a b", rouge("x y a b", "a b"))] == [("a b", rouge("x y a b", "x y"))]


@TUNINGS
@pytest.mark.parametrize("top_k", [0, 1, 10])
def test_a_word_repeated_hundreds_of_times(settings_, top_k):
    # Counts past uint8 (255) in the candidate, against entries holding the word in the index (short
    # ones, with a dense column under "extreme") and outside it (an entry of 300 tokens).
    pool = ["the cat sat on the mat", "the the the", " ".join(["the"] * 300), "a dog"]
    pool += [f"w{i} the" for i in range(300)]
    candidates = [" ".join(["the"] * 256), " ".join(["the"] * 1000) + " cat", "the cat " * 300, "dog " * 400 + "a"]
    reference = ReferenceNoveltyFilter(pool, top_k=top_k)
    with tuning(**settings_):
        fast = NoveltyFilter(pool, top_k=top_k)
        for candidate in candidates:
            assert fast.check(candidate) == reference.check(candidate)
    best, ranked = expected(pool, candidates[0], 3)
    assert best == rouge(candidates[0], " ".join(["the"] * 300)) == pytest.approx(2 * 256 / (256 + 300))  # LCS 256
    assert NoveltyFilter(pool, top_k=3).check(candidates[0]).most_similar == ranked


def test_entries_longer_than_a_machine_word():
    words = [f"w{i}" for i in range(70)]
    pool = [" ".join(words[:64]), " ".join(words[:65]), " ".join(words), " ".join(reversed(words))]
    for candidate in (" ".join(words[:64]), " ".join(words), "w3 w1 w2", ""):
        result = NoveltyFilter(pool, top_k=4).check(candidate)
        best, ranked = expected(pool, candidate, 4)
        assert (result.max_score, result.most_similar) == (best, ranked)
    assert not NoveltyFilter(pool).check(" ".join(words)).keep  # an exact copy scores 1.0


def test_interface_add_check_consider():
    f = NoveltyFilter(top_k=2)
    assert f.check("anything at all") == NoveltyResult(True, 0.0, [])  # an empty pool
    f.add("Write a poem about the sea.")
    f.add("Write a poem about the sea.")  # add() is unconditional
    assert len(f) == 2
    result = f.check("Write a poem about the sea")
    assert result == NoveltyResult(False, 1.0, [("Write a poem about the sea.", 1.0)] * 2)
    assert len(f) == 2  # check() never adds
    assert f.consider("Translate the sentence into French.").keep
    assert not f.consider("Write a poem about the sea!").keep
    assert f.instructions[-1] == "Translate the sentence into French." and len(f) == 3
    assert f.stats.candidates == 4 and f.stats.pairs == 0 + 2 + 2 + 3
    with pytest.raises(ValueError, match="top_k"):
        NoveltyFilter(top_k=-1)


# -- real Alpaca instructions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alpaca() -> tuple[list[str], list[str]]:
    """The 52,002 Alpaca instructions in file order, and the 175 seed instructions."""
    if not Path(os.environ.get(registry.MIRROR_ENV) or "/nonexistent").is_dir():  # conftest.py sets it
        pytest.skip("no data mirror: set ALPACA_LESSONS_DATA")
    return [r.instruction for r in read_records("alpaca_data")], [t.instruction for t in read_seed_tasks()]


@pytest.mark.slow
def test_2000_real_candidates_match_the_reference(alpaca):
    """2,000 Alpaca instructions in 20 runs of 100, each from the seeds; thresholds low enough to reject."""
    instructions, seeds = alpaca
    rejected = 0
    for run in range(20):
        candidates = instructions[run * 100:(run + 1) * 100]
        threshold = (0.7, 0.5, 0.4, 0.3)[run % 4]
        reference = ReferenceNoveltyFilter(seeds, threshold=threshold, top_k=10)
        with tuning(**(EXTREME if run % 2 else DEFAULT)):
            fast = NoveltyFilter(seeds, threshold=threshold, top_k=10)
            results = [fast.consider(c) for c in candidates]
        assert results == [reference.consider(c) for c in candidates]  # decisions, max scores, top 10
        rejected += sum(not r.keep for r in results)
    assert rejected > 100  # the comparison covered rejections, not only keeps


@pytest.mark.slow
def test_a_large_real_pool_matches_the_reference_and_skips_most_lcs(alpaca):
    instructions, seeds = alpaca
    pool = seeds + instructions[:2000]  # large enough for the dense columns and scans
    fast, reference = NoveltyFilter(pool, top_k=10), ReferenceNoveltyFilter(pool, top_k=10)
    candidates = instructions[40000:40040]
    assert [fast.check(c) for c in candidates] == [reference.check(c) for c in candidates]
    assert fast.stats.pairs == 40 * len(pool)
    assert fast.stats.lcs < 0.05 * fast.stats.pairs
    fast.mean = reference.mean = True  # Alpaca's avg_similarity_score: every entry sharing a token needs an LCS
    means = [(fast.check(c), reference.check(c)) for c in candidates]
    assert all(same_means(got, want) for got, want in means) and sum(w.mean_score is not None for _, w in means) > 30


# -- dedup and the command line ----------------------------------------------------------------------


def test_dedup_keeps_records_with_their_evidence():
    records = [Record("Name three fruits.", output="Apple", meta={"id": 1}),
               Record("Name three fruits!", output="Pear"),
               Record("Sort these numbers.", input="3 1 2", output="1 2 3")]
    result = dedup(records, ["Name two animals."], threshold=0.7, top_k=2)
    assert [r.instruction for r in result.kept] == ["Name three fruits.", "Sort these numbers."]
    assert result.rejected == 1 and result.stats.candidates == 3
    first = result.kept[0]
    assert first.meta["id"] == 1 and first.output == "Apple"
    assert first.meta["most_similar_instructions"] == {"Name two animals.": rouge(first.instruction,
                                                                                 "Name two animals.")}
    assert first.meta["max_similarity"] == rouge(first.instruction, "Name two animals.") > 0
    # No shared token: both score 0, so the top 2 is the pool in order, seeds first.
    assert result.kept[1].meta["most_similar_instructions"] == {"Name two animals.": 0.0, "Name three fruits.": 0.0}


def test_cli_dedup(tmp_path, capsys):
    data = [{"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well."},
            {"instruction": "Give three tips for staying healthy!", "input": "", "output": "Sleep."},
            {"instruction": "Translate the sentence into French.", "input": "Hello", "output": "Bonjour",
             "source": "hand"},
            {"instruction": "Write a haiku about tips.", "input": "", "output": "..."}]
    (tmp_path / "in.json").write_text(json.dumps(data))
    seed = {"id": "seed_task_0", "name": "tips", "instruction": "Give me three ideas for a birthday party.",
            "instances": [{"input": "", "output": "Sleep."}], "is_classification": False}
    (tmp_path / "seeds.jsonl").write_text(json.dumps(seed) + "\n")
    out = tmp_path / "out" / "kept.jsonl"
    code = main(["dedup", str(tmp_path / "in.json"), "--seeds", str(tmp_path / "seeds.jsonl"), "--threshold", "0.7",
                 "--top-k", "2", "--avg-similarity", "--out", str(out), "--no-progress"])
    assert code == 0
    assert "kept 3, rejected 1 of 4" in capsys.readouterr().out
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [k["instruction"] for k in kept] == [data[0]["instruction"], data[2]["instruction"], data[3]["instruction"]]
    assert kept[1]["source"] == "hand" and kept[1]["input"] == "Hello"
    tips = rouge(data[0]["instruction"], seed["instruction"])
    assert kept[0]["most_similar_instructions"] == {seed["instruction"]: tips}
    assert kept[0]["max_similarity"] == tips <= 0.7
    assert kept[0]["avg_similarity_score"] == tips  # the pool held only the seed
    french = data[2]["instruction"]  # against the seed and the first kept instruction
    assert kept[1]["avg_similarity_score"] == pytest.approx(
        (rouge(french, seed["instruction"]) + rouge(french, data[0]["instruction"])) / 2)
    assert len(kept[2]["most_similar_instructions"]) == 2


def test_cli_dedup_rejects_a_negative_top_k(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["dedup", "in.json", "--top-k", "-1", "--out", str(tmp_path / "o.jsonl")])
    assert exit_.value.code == 2
    assert "--top-k" in capsys.readouterr().err


def test_cli_dedup_names_a_missing_input(tmp_path, capsys):
    assert main(["dedup", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "nope.json: no such file" in capsys.readouterr().err


def test_cli_dedup_on_chinese_picks_characters_and_drops_an_exact_duplicate(tmp_path, capsys):
    """rouge-score's tokens drop every Chinese character: with them, two different instructions (and two
    identical ones) are all empty token lists. The default picks character tokens by the text's script."""
    data = [{"instruction": "给出下面词语的同义词", "input": "", "output": "a"},
            {"instruction": "给出下面词语的同义词", "input": "", "output": "b"},  # an exact duplicate
            {"instruction": "写一首关于大海的短诗", "input": "", "output": "c"}]
    (tmp_path / "in.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    seed = {"id": "s0", "name": "n", "instruction": "把这句话翻译成英文", "instances": [{"input": "", "output": "x"}],
            "is_classification": False}
    (tmp_path / "seeds.jsonl").write_text(json.dumps(seed, ensure_ascii=False) + "\n", encoding="utf-8")
    base = ["dedup", str(tmp_path / "in.json"), "--seeds", str(tmp_path / "seeds.jsonl"), "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "auto.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("tokenizer: characters (100% of instructions are Chinese, Japanese or Korean)")
    assert "kept 2, rejected 1 of 3" in out and err == ""
    assert main([*base, "--tokenizer", "rouge", "--out", str(tmp_path / "rouge.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert err == ("alpaca-lessons: warning: 100% of instructions are Chinese, Japanese or Korean, which rouge-score's "
                   "tokens drop entirely: use --tokenizer characters\n")
