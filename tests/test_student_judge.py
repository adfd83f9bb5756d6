"""Students judge the course's models: the seeded, balanced selection of 20 pairs, a session that resumes at the
first unjudged pair and never judges one twice, and the win rate and agreement cells' functions on hand-made
judgments."""

from __future__ import annotations

import math

import pytest
from lock_helpers import held_elsewhere

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, LockedError
from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.blind import blind_items
from alpaca_lessons.evaluation.pairs import Pair
from alpaca_lessons.evaluation.student_judge import (
    NO_JUDGMENTS,
    CoursePair,
    agreement_with_judges,
    checks_preference,
    course_pairs,
    judges_win_rates,
    open_session,
    student_win_rate,
    waiting,
)
from alpaca_lessons.ui import pairwise_judge


def answer(text: str, ended: bool = True) -> dict:
    return {"answer": text, "ended": ended}


def records_and_answers(n: int = 60) -> tuple[list[Record], dict[str, dict[int, dict]]]:
    """``n`` records; tuned answers short and ended, base answers long and cut off; every 5th pair identical,
    and base leaves record 1 unanswered."""
    records = [Record(f"Describe thing {i}.", "" if i % 3 else f"input {i}", f"ref {i}") for i in range(n)]
    tuned = {i: answer(f"Thing {i} is small.") for i in range(n)}
    base = {i: (tuned[i] if i % 5 == 0 else answer(f"thing {i} and more and more words", False))
            for i in range(n) if i != 1}
    return records, {"tuned": tuned, "base": base}


def test_the_selection_is_seeded_stable_and_never_an_identical_or_unanswered_pair():
    records, answers = records_and_answers()
    chosen = course_pairs(records, answers)
    indices = [p.index for p in chosen]
    assert len(chosen) == 20 and indices == sorted(set(indices))
    assert [p.index for p in course_pairs(records, answers)] == indices  # the same pairs every time
    assert not {i for i in indices if i % 5 == 0 or i == 1}  # 12 identical pairs and one unanswered: never drawn
    assert [p.index for p in course_pairs(records, answers, seed=16)] != indices
    first = chosen[0]
    i = first.index
    assert first.pair.id == f"tuned-vs-base/{i}" and (first.pair.system_1, first.pair.system_2) == ("tuned", "base")
    assert first.pair.output_1 == f"Thing {i} is small." and first.pair.output_2.startswith(f"thing {i} and")
    expected_instruction = records[i].instruction + (f"\n\ninput {i}" if i % 3 == 0 else "")
    assert first.pair.instruction == expected_instruction
    # tuned ended and base ran out of tokens: the checks prefer tuned; base is longer: the length baseline base
    assert {p.checks for p in chosen} == {1} and {p.length for p in chosen} == {2}
    with pytest.raises(DataError, match="only 47 records have different answers"):
        course_pairs(records, answers, k=48)


def test_the_sides_are_balanced_and_seeded():
    pairs = [Pair(f"p/{i}", f"Task {i}.", "one", "two", "x", "y") for i in range(21)]
    for n in (20, 21):
        items = blind_items(pairs[:n], seed=15, balanced=True)
        assert sum(item.swapped for item in items) == 10  # half, the odd one unswapped
        again = blind_items(pairs[:n], seed=15, balanced=True)
        assert [(i.pair.id, i.swapped) for i in items] == [(i.pair.id, i.swapped) for i in again]
    assert [i.swapped for i in blind_items(pairs, 15, balanced=True)] != \
        [i.swapped for i in blind_items(pairs, 16, balanced=True)]


def test_checks_preference_counts_the_checks_each_answer_passes():
    record = Record("List three colors.")
    assert checks_preference(record, answer("Red, green and blue."), answer("Red and blue.")) == 1  # list_n
    assert checks_preference(record, answer("Red and blue.", False), answer("Red and blue.")) == 2  # ends
    assert checks_preference(record, answer("Red, green, blue."), answer("1. red\n2. green\n3. blue")) == 0
    assert checks_preference(Record("Say hi."), answer("### Instruction: hi"), answer("Hi!")) == 2  # slot


def course(n: int = 20) -> list[CoursePair]:
    records, answers = records_and_answers(60)
    return course_pairs(records, answers, k=n)


def test_a_restart_resumes_at_the_first_unjudged_pair_and_nothing_is_judged_twice(tmp_path):
    pairs, path = course(), tmp_path / "mine.jsonl"
    session = open_session(pairs, "tester (a person)", path)
    assert sum(item.swapped for item in session.items) == 10
    panel = pairwise_judge(session)
    buttons = panel.children[2].children
    order = [item.pair.id for item in session.items]
    for _ in range(7):
        buttons[0].click()  # A is better
    session.close()  # the kernel restarts
    with held_elsewhere(path):  # another process writing the file: refused, nothing written
        with pytest.raises(LockedError, match="is being written by"):
            open_session(pairs, "tester (a person)", path)
    resumed = open_session(pairs, "tester (a person)", path)
    assert resumed.done == 7 and resumed.current().pair.id == order[7]
    buttons = pairwise_judge(resumed).children[2].children
    while not resumed.finished:
        buttons[2].click()  # tie
    buttons[0].click()  # a click after the last pair records nothing
    lines = AppendOnlyStore(path).read()
    assert [r["pair_id"] for r in lines] == order and [r["choice"] for r in lines] == ["A"] * 7 + ["tie"] * 13
    assert {r["preference"] for r in lines[:7]} == {1, 2}  # "A" is tuned or base, by the side draw


def judgment(pair: CoursePair, preference: int) -> dict:
    return {"pair_id": pair.pair.id, "preference": preference}


def hand_made() -> list[CoursePair]:
    """Four pairs whose automatic verdicts are set by hand: length baseline 1, 2, 2, 0; checks 1, 1, 0, 0."""
    pairs = [Pair(f"tuned-vs-base/{i}", f"Task {i}.", "a", "b", "tuned", "base") for i in range(4)]
    return [CoursePair(p, i, checks, length) for i, (p, checks, length)
            in enumerate(zip(pairs, (1, 1, 0, 0), (1, 2, 2, 0), strict=True))]


def test_win_rate_and_agreement_of_hand_made_judgments():
    pairs = hand_made()
    judged = [judgment(p, pref) for p, pref in zip(pairs, (1, 1, 2, 0), strict=True)]
    rate = student_win_rate(pairs, judged)
    assert (rate.wins, rate.ties, rate.losses, rate.rate) == (2, 1, 1, 0.625)
    z, n, p = 1.959963984540054, 4, 2.5 / 4  # Wilson's interval on 2.5 successes of 4, by its formula
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert rate.low == pytest.approx(centre - half) and rate.high == pytest.approx(centre + half)
    length, checks = agreement_with_judges(pairs, judged).values()
    # length baseline 1,2,2,0 against 1,1,2,0: same on 3 of 4; 2 of the 3 pairs without a tie have the same winner
    assert (length.n, length.same, length.decisive, length.same_decisive) == (4, 3, 3, 2)
    assert length.kappa == pytest.approx((3 / 4 - 5 / 16) / (1 - 5 / 16))  # chance agreement (2*1+1*2+1*1)/16
    # checks 1,1,0,0: the same winner on both pairs the checks decided ("did you prefer the one that passed?")
    assert (checks.same, checks.decisive, checks.same_decisive) == (3, 2, 2)
    automatic = judges_win_rates(pairs)
    assert (automatic["length baseline"].wins, automatic["length baseline"].losses) == (1, 2)
    assert (automatic["verifiable checks"].wins, automatic["verifiable checks"].ties) == (2, 2)


def test_no_judgments_yet_is_a_state_not_an_error():
    pairs = hand_made()
    assert student_win_rate(pairs, []) is None and agreement_with_judges(pairs, []) == {}
    assert "no judgments yet" in NO_JUDGMENTS
    with pytest.raises(DataError, match="not the course's"):
        student_win_rate(pairs, [{"pair_id": "gpt4/3", "preference": 1}])


def test_results_wait_until_every_pair_is_judged(tmp_path):
    pairs = course(3)
    session = open_session(pairs, "t", tmp_path / "mine.jsonl")
    assert waiting(session) == NO_JUDGMENTS
    session.record(session.current().pair.id, "A")
    assert waiting(session).startswith("1 of 3 judged: judge the rest")
    while session.current() is not None:
        session.record(session.current().pair.id, "B")
    assert waiting(session) is None and student_win_rate(pairs, session.judgments()).n == 3
