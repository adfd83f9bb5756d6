"""Lesson 03's exercise checks: the reference passes, each plausible mistake fails with its own hint, a stub is
reported as not done, and the references give the values worked out by hand (or by rouge-score itself)."""

from __future__ import annotations

import string

import pytest
from course_contract import contract_tests

from alpaca_lessons.course import lesson03
from alpaca_lessons.data import Record
from alpaca_lessons.generation import rules

CHECKS = [
    (lesson03.check_parse_blocks, lesson03.parse_blocks_reference, lesson03.MISTAKES_PARSE_BLOCKS),
    (lesson03.check_rule_broken, lesson03.rule_broken_reference, lesson03.MISTAKES_RULE_BROKEN),
    (lesson03.check_lcs_length, lesson03.lcs_table_length, lesson03.MISTAKES_LCS),
    (lesson03.check_rouge_l, lesson03.rouge_score_f, lesson03.MISTAKES_ROUGE_L),
]
(test_the_reference_passes_its_check_hidden_cases_included, test_each_mistake_fails_with_its_hint,
 test_a_stub_is_not_done_yet) = contract_tests(CHECKS)


def test_the_planted_wrong_answer_loses_the_points(real_data):
    namespace = {name: getattr(rules, name) for name in dir(rules) if name.isupper()} | {"string": string}
    exec(lesson03.PLANTED["l03-rule-broken"], namespace)
    with pytest.raises(AssertionError, match="as substrings"):
        lesson03.check_rule_broken(namespace["rule_broken"])


def test_parse_reference_on_the_hand_written_replies():
    verdicts = lesson03.parse_blocks_reference(lesson03.ENGLISH_REPLY.text, "length")
    # blocks 4-11 read into tasks; 12 is labelled 13., 13 has no Output:, 14 was cut by max_tokens
    assert [v if isinstance(v, str) else "task" for v in verdicts] == \
        ["task"] * 8 + ["unparseable block", "unparseable block", "cut by max_tokens"]
    assert verdicts[1] == Record("Name a color.", "", "Blue.")
    assert lesson03.parse_blocks_reference(lesson03.EXERCISE_REPLY, "stop") == [
        Record("List three uses of a paperclip.", "", ""),  # an empty output is kept
        Record("Sort the numbers from smallest to largest.", "7, 2, 9", "2, 7, 9"),
        "unparseable block"]  # no Output: label; the blank block after the last ### is left out


def test_a_real_reply_with_empty_outputs_keeps_them(real_data):
    text, reason, _ = lesson03._replay_replies()[2]
    tasks = lesson03.parse_blocks_reference(text, reason)
    assert reason == "stop" and len(tasks) == 16 and sum(t.output == "" for t in tasks) == 3


EXPECTED_RULES = [None, "blacklisted word", None, "too short", "blacklisted word", "starts with a banned prefix", None,
                  "starts with punctuation", "starts with a non-ASCII character", "too long", None]


def test_rule_reference_on_the_hand_made_instructions():
    assert [lesson03.rule_broken_reference(t) for t in lesson03.RULE_EXAMPLES] == EXPECTED_RULES


def test_lcs_by_hand():
    # the cat sat on the mat / the dog sat on a mat: "the sat on mat"; ABCBDAB / BDCABA: "BCBA"
    assert [lesson03.lcs_table_length(a, b) for a, b in lesson03.LCS_EXAMPLES] == [4, 4, 1, 0]
    assert [lesson03._substring_length(a, b) for a, b in lesson03.LCS_EXAMPLES[:2]] == [2, 2]


def test_rouge_l_by_hand():
    # 6 candidate tokens, all in order inside the 10 reference tokens: P = 1, R = 0.6, F = 2 * 6 / 16
    assert [lesson03.rouge_score_f(a, b) for a, b in lesson03.ROUGE_EXAMPLES] == pytest.approx([0.75, 1.0, 0, 0])


def test_the_real_pairs_overlap(real_data):
    scores = [lesson03.rouge_score_f(a, b) for a, b in lesson03.real_pairs()]
    assert len(scores) == 40 and min(scores) > 0.1 and max(scores) <= 0.7  # the 52K passed the 0.7 filter
