"""Lesson 04's exercise checks: the reference passes, each plausible mistake fails with its own hint, a stub is
reported as not done, and the references give the values worked out by hand."""

from __future__ import annotations

import pytest

pytest.importorskip("spacy")

from alpaca_lessons.course import lesson04  # noqa: E402
from alpaca_lessons.course.checking import NotDoneYet  # noqa: E402

CHECKS = [
    (lesson04.check_verb_noun, lesson04.verb_noun, lesson04.MISTAKES_VERB_NOUN),
    (lesson04.check_top_verb_nouns, lesson04.top_verb_nouns, lesson04.MISTAKES_TOP_VERB_NOUNS),
]
MISTAKES = [(check, mistake) for check, _, mistakes in CHECKS for mistake in mistakes]


@pytest.mark.parametrize("check, reference", [(c, r) for c, r, _ in CHECKS])
def test_the_reference_passes_its_check_hidden_cases_included(check, reference, real_data, capsys):
    check(reference, hidden=True)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("check, mistake", MISTAKES, ids=[m.hint[:40] for _, m in MISTAKES])
def test_each_mistake_fails_with_its_hint(check, mistake, real_data):
    with pytest.raises(AssertionError) as failed:
        check(mistake.compute)
    assert f"That is the answer {mistake.hint}" in str(failed.value)


@pytest.mark.parametrize("check", [c for c, _, _ in CHECKS])
def test_a_stub_is_not_done_yet(check, real_data):
    def stub(*args):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotDoneYet):
        check(stub)


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
