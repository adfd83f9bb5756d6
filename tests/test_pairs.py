"""Pairs: alignment by instruction, the public pairs and verdicts, the text hash judgments are checked by."""

from __future__ import annotations

import hashlib
import json

import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.evaluation.metrics import win_rate_of
from alpaca_lessons.evaluation.pairs import (
    TIE,
    Pair,
    SystemOutputs,
    align,
    gpt4_judged_pairs,
    leaderboard_row,
    merged_instruction,
    user_oriented_alignment,
)


def test_alignment_matches_merged_inputs_and_stray_whitespace():
    si = SystemOutputs("si", ("Rewrite it.\n\nHello  world", "Name a color. ", "Only here."), ("r1", "r2", "r3"))
    ae = SystemOutputs("ae", ("Name a color.", merged_instruction("Rewrite it.", "Hello  world"), "x"),
                          ("a1", "a2", "a3"))
    aligned = align(si, ae, id_prefix="t")
    assert [(p.id, p.output_1, p.output_2) for p in aligned.pairs] == [("t/0", "r1", "a2"), ("t/1", "r2", "a1")]
    assert (aligned.exact, aligned.normalised) == (1, 1)
    assert aligned.unmatched_1 == ("Only here.",) and aligned.unmatched_2 == ("x",)
    assert aligned.summary().startswith("2 pairs aligned (1 on identical text, 1 more")


def test_alignment_refuses_ambiguous_instructions():
    dup = SystemOutputs("d", ("Same  text", "Same text "), ("a", "b"))
    with pytest.raises(DataError, match="normalise to the same text"):
        align(SystemOutputs("o", ("x",), ("y",)), dup)


def test_real_user_oriented_alignment(real_data):
    aligned = user_oriented_alignment()
    assert len(aligned.pairs) == 252 and (aligned.exact, aligned.normalised) == (234, 18)
    assert {p.system_1 for p in aligned.pairs} == {"text-davinci-003 (Self-Instruct)"}
    assert {p.system_2 for p in aligned.pairs} == {"alpaca-7b"}


def test_real_gpt4_verdicts_reproduce_the_leaderboard(real_data):
    judged = gpt4_judged_pairs()
    assert len(judged.pairs) == 805 and (judged.pairs[0].system_1, judged.pairs[0].system_2) == (
        "text_davinci_003", "alpaca-7b")
    rate = win_rate_of(judged.preferences)
    assert (rate.wins, rate.ties, rate.losses) == (205, 16, 584)
    row = leaderboard_row("alpaca-7b")
    assert rate.rate * 100 == pytest.approx(float(row["win_rate"]), abs=1e-9)  # 26.4596...
    assert rate.standard_error * 100 == pytest.approx(float(row["standard_error"]), abs=1e-9)
    draws = [p for p, v in zip(judged.pairs, judged.preferences, strict=True) if v == TIE]
    assert all(p.output_1 == p.output_2 for p in draws)  # the 16 draws are identical outputs
    assert judged.cost == pytest.approx(12.4386, abs=1e-3)
    humans = leaderboard_row("humans", "alpaca_eval/evaluators")
    assert float(humans["Human agreement"]) == pytest.approx(65.66, abs=0.01)
    with pytest.raises(DataError, match="no row"):
        leaderboard_row("no-such-model")


def test_the_text_hash_is_the_short_sha256_of_the_three_texts_as_ascii_json():
    pair = Pair("p", "Say \u00e9t\u00e9.", "\u00c9t\u00e9.", "Summer.", "a", "b")
    by_hand = hashlib.sha256(b'["Say \\u00e9t\\u00e9.", "\\u00c9t\\u00e9.", "Summer."]').hexdigest()[:16]
    assert pair.text_hash == by_hand
    assert json.loads('["Say \\u00e9t\\u00e9.", "\\u00c9t\\u00e9.", "Summer."]') == [pair.instruction, pair.output_1,
                                                                                    pair.output_2]
    assert Pair("other id", pair.instruction, pair.output_1, pair.output_2, "x", "y").text_hash == by_hand
