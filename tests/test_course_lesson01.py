"""Lesson 01's exercise checks: the right answer passes, each plausible wrong answer fails with its hint.

The students' functions here are written out independently of the package (plain ``json``/``statistics``),
each with one mistake; the expected facts are counted by hand or pinned from the real files."""

from __future__ import annotations

import json
import statistics

import pytest
from course_contract import fails_with_hint

from alpaca_lessons.course import lesson01
from alpaca_lessons.course.checking import NotDoneYet
from alpaca_lessons.data import read_seed_tasks, read_text


def student_seed_facts(lines, unit="words", *, instances="first", blank="strip", length=None, median=None,
                       characters=lambda s: sum(not c.isspace() for c in s)):
    """A student's ``seed_facts``; the keyword arguments plant one mistake each."""
    tasks = [json.loads(line) for line in lines if line.strip()]
    if length is None:
        length = (lambda s: len(s.split())) if unit == "words" else characters
    has_input = (lambda i: bool(i["input"].strip())) if blank == "strip" else (lambda i: i["input"] != "")
    chosen = [t["instances"][:1] if instances == "first" else t["instances"] for t in tasks]
    return {"tasks": len(tasks), "classification": sum(t["is_classification"] for t in tasks),
            "with_input": sum(has_input(i) for group in chosen for i in group),
            "median_instruction_length": (median or statistics.median)([length(t["instruction"]) for t in tasks])}


def test_hand_made_facts_by_hand():
    # h0..h3: 2 classification; inputs: h0's first is empty, h1's is whitespace, h2 and h3 have one;
    # instruction words 3, 4, 10, 5: median (4 + 5) / 2
    assert student_seed_facts(lesson01.HAND_MADE) == {"tasks": 4, "classification": 2, "with_input": 2,
                                                      "median_instruction_length": 4.5}
    assert student_seed_facts(lesson01.HAND_MADE_CHINESE, "characters") == {
        "tasks": 3, "classification": 1, "with_input": 2, "median_instruction_length": 5}


def test_real_facts_are_the_published_ones(real_data):
    english, chinese = read_text("seed_tasks").splitlines(), read_text("belle_seed_tasks").splitlines()
    assert student_seed_facts(english) == {"tasks": 175, "classification": 26, "with_input": 125,
                                           "median_instruction_length": 11}
    assert student_seed_facts(chinese, "characters") == {"tasks": 175, "classification": 26, "with_input": 126,
                                                         "median_instruction_length": 19}


def test_the_right_answer_passes(real_data, capsys):
    lesson01.check_seed_facts(student_seed_facts, hidden=True)
    assert "all 7 cases match" in capsys.readouterr().out



@pytest.mark.parametrize(("mistake", "kwargs"), [
    (0, {"instances": "all"}),
    (1, {"blank": "keep"}),
    (2, {"length": lambda s: len(s.split())}),
    (3, {"characters": len}),
    (4, {"median": statistics.mean}),
    (5, {"median": lambda xs: sorted(xs)[len(xs) // 2]}),
])
def test_each_mistake_fails_with_its_hint(real_data, mistake, kwargs):
    def wrong(lines, unit="words"):
        return student_seed_facts(lines, unit, **kwargs)
    message = fails_with_hint(lesson01.check_seed_facts, wrong, lesson01.MISTAKES_SEED_FACTS[mistake].hint)
    assert message.startswith("seed_facts(") and "expected {" in message and "got {" in message


def test_the_chinese_words_mistake_names_the_real_file(real_data):
    message = fails_with_hint(lesson01.check_seed_facts, lambda lines, unit="words": student_seed_facts(
        lines, unit, length=lambda s: len(s.split())), "Chinese has no spaces between words")
    assert "BELLE's zh_seed_tasks.json" in message and "'median_instruction_length': 1" in message


def test_a_stub_is_not_done_yet(real_data):
    def stub(lines, unit="words"):
        raise NotImplementedError("write your solution here")
    with pytest.raises(NotDoneYet):
        lesson01.check_seed_facts(stub)
    with pytest.raises(NotDoneYet):
        lesson01.check_paired_by_name(stub)


def test_the_planted_answer_fails(real_data):
    namespace = {}
    exec(lesson01.PLANTED["l01-seed-facts"], namespace)
    fails_with_hint(lesson01.check_seed_facts, namespace["seed_facts"], "spaces or newlines")


def student_pairs(first, second, *, key=("id", "name"), order="second", swap=False):
    """A student's ``paired_by_name``; the keyword arguments plant one mistake each."""
    index = {tuple(getattr(t, k) for k in key): t for t in first}
    pairs = [(index[tuple(getattr(t, k) for k in key)], t) for t in second
             if tuple(getattr(t, k) for k in key) in index]
    if order == "first":
        pairs.sort(key=lambda p: [t.id for t in first].index(p[0].id))
    return [(b, a) for a, b in pairs] if swap else pairs


def test_pairs_by_hand():
    first, second = lesson01._hand_made_pairs()
    assert [(a.id, b.instruction) for a, b in student_pairs(first, second)] == [("t2", "说出一种鸟。"),
                                                                                 ("t0", "说出一种水果。")]


def test_real_pairs(real_data, capsys):
    pairs = student_pairs(read_seed_tasks(), read_seed_tasks("belle_seed_tasks"))
    assert len(pairs) == 170
    assert len(student_pairs(read_seed_tasks(), read_seed_tasks("belle_seed_tasks"), key=("id",))) == 171
    lesson01.check_paired_by_name(student_pairs, hidden=True)
    assert "all 4 cases match" in capsys.readouterr().out


@pytest.mark.parametrize(("mistake", "kwargs"), [
    (0, {"key": ("id",)}), (1, {"key": ("name",)}), (2, {"order": "first"}), (3, {"swap": True}),
])
def test_each_pairing_mistake_fails_with_its_hint(real_data, mistake, kwargs):
    fails_with_hint(lesson01.check_paired_by_name, lambda a, b: student_pairs(a, b, **kwargs),
           lesson01.MISTAKES_PAIRED[mistake].hint)
