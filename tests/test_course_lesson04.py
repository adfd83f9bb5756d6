"""Lesson 04's exercise checks: the reference passes, each plausible mistake fails with its own hint, a stub is
reported as not done, and the references give the values worked out by hand."""

from __future__ import annotations

import pytest

pytest.importorskip("spacy")

from course_contract import contract_tests  # noqa: E402

from alpaca_lessons.course import lesson04  # noqa: E402

CHECKS = [
    (lesson04.check_verb_noun, lesson04.verb_noun, lesson04.MISTAKES_VERB_NOUN),
    (lesson04.check_top_verb_nouns, lesson04.top_verb_nouns, lesson04.MISTAKES_TOP_VERB_NOUNS),
]
(test_the_reference_passes_its_check_hidden_cases_included, test_each_mistake_fails_with_its_hint,
 test_a_stub_is_not_done_yet) = contract_tests(CHECKS)


def test_the_planted_wrong_answer_loses_the_points(real_data):
    namespace: dict = {}
    exec(lesson04.PLANTED["l04-verb-noun"], namespace)
    with pytest.raises(AssertionError, match="first verb of the sentence"):
        lesson04.check_verb_noun(namespace["verb_noun"])


def test_the_rule_on_the_hand_picked_instructions():
    docs = lesson04._nlp().pipe(lesson04.VERB_NOUN_EXAMPLES)
    assert [lesson04.verb_noun(d) for d in docs] == [
        ("give", "tip"), ("give", "phrase"), (None, None), ("describe", "structure"), ("make", "list"),
        ("explain", None), ("tell", None), ("find", "word")]


def test_the_alternative_rule_with_the_right_switches_is_the_reference(real_data):
    right = lesson04._rule()
    assert all(right(c.args[0]) == lesson04.verb_noun(c.args[0]) for c in lesson04.verb_noun_cases())


def test_the_tree_of_the_hand_made_pairs():
    # describe: 5 pairs (5 objects, 1 each, alphabetical: atom, city); give: 3; add and create tie at 2
    # (create's 3 pairs without a noun do not count): add goes first alphabetically
    assert lesson04.top_verb_nouns(lesson04.TIES, 3, 2) == [
        ("describe", [("atom", 1), ("city", 1)]), ("give", [("tip", 3)]), ("add", [("number", 2)])]
