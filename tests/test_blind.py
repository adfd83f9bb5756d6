"""Blind judging: seeded sides, choices mapped back, a session appended at once, resumed and revealed at the end."""

from __future__ import annotations

import json

import pytest
from lock_helpers import held_elsewhere

from alpaca_lessons.cli import main
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, LockedError
from alpaca_lessons.evaluation.blind import CHOICES, BlindItem, BlindSession, blind_items, read_judgments
from alpaca_lessons.evaluation.pairs import Pair


def pairs(n: int) -> list[Pair]:
    return [Pair(f"p/{i}", f"Task {i}.", f"first answer {i}", f"second answer, longer {i}", "sys-one", "sys-two")
            for i in range(n)]


def test_blind_sides_are_seeded_reproducible_and_hidden():
    items = blind_items(pairs(200), seed=3)
    again = blind_items(pairs(200), seed=3)
    assert [(i.pair.id, i.swapped) for i in items] == [(i.pair.id, i.swapped) for i in again]
    other = blind_items(pairs(200), seed=4)
    assert [i.swapped for i in items] != [i.swapped for i in other]
    assert 70 < sum(i.swapped for i in items) < 130  # a fair coin per pair
    sides = {i.pair.id: i.swapped for i in items}
    subset = blind_items(pairs(200)[::7], seed=3)  # a pair's side does not depend on the others
    assert all(sides[i.pair.id] == i.swapped for i in subset)
    assert all("sys-" not in i.text() for i in items)  # no system names in what the judge reads


def test_blind_choice_maps_back_to_the_outputs():
    pair = pairs(1)[0]
    kept, swapped = BlindItem(pair, False), BlindItem(pair, True)
    assert (kept.answer_a, swapped.answer_a) == (pair.output_1, pair.output_2)
    assert [kept.preference(c) for c in CHOICES] == [1, 2, 0]
    assert [swapped.preference(c) for c in CHOICES] == [2, 1, 0]
    with pytest.raises(ValueError):
        kept.preference("left")


def test_session_appends_at_once_resumes_and_reveals_only_at_the_end(tmp_path):
    path = tmp_path / "j.jsonl"
    session = BlindSession(pairs(3), path, "tester (a person)", seed=1)
    first = session.current()
    session.record(first.pair.id, "A", " clearer ")
    assert len(path.read_text().splitlines()) == 1  # on disk before anything else happens
    with pytest.raises(RuntimeError, match="2 items left"):
        session.reveal()
    resumed = BlindSession(pairs(3), path, "tester (a person)", seed=1)
    assert resumed.done == 1 and resumed.current().pair.id != first.pair.id
    assert resumed.judgments()[0]["reason"] == "clearer"
    for item in resumed.pending():
        resumed.record(item.pair.id, "B" if item.swapped else "A")  # always the first output
    result = resumed.reveal()
    assert result["sys-one"].wins == 2 + (not first.swapped) and result["sys-two"].wins == int(first.swapped)


def test_session_skips_a_torn_last_line_and_rejudges_that_item(tmp_path):
    path = tmp_path / "j.jsonl"
    session = BlindSession(pairs(3), path, "t", seed=0)
    a, b = session.pending()[:2]
    session.record(a.pair.id, "tie")
    session.record(b.pair.id, "A")
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # the process died while writing the second judgment
    with pytest.warns(UserWarning, match="incomplete last record skipped"):
        resumed = BlindSession(pairs(3), path, "t", seed=0)
    assert resumed.done == 1 and resumed.current().pair.id == b.pair.id
    with pytest.warns(UserWarning, match="moved to"):
        resumed.record(b.pair.id, "B")
    assert [r["choice"] for r in AppendOnlyStore(path).read()] == ["tie", "B"]


def test_several_annotators_share_a_store_and_changed_text_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    one, two = BlindSession(pairs(2), path, "one", seed=0), BlindSession(pairs(2), path, "two", seed=0)
    one.record("p/0", "A")
    two.record("p/0", "B")
    two.record("p/0", "tie")  # a change of mind: the last judgment counts
    by_annotator = read_judgments(path, pairs(2))
    assert {k: [r["choice"] for r in v] for k, v in by_annotator.items()} == {"one": ["A"], "two": ["tie"]}
    assert BlindSession(pairs(2), path, "two", seed=0).done == 1
    changed = [Pair("p/0", "Task 0.", "edited", "x", "a", "b")]
    with pytest.raises(DataError, match="different text"):
        BlindSession(changed, path, "one", seed=0)
    with pytest.raises(DataError, match="hash"):
        read_judgments(path, changed)
    with pytest.raises(ValueError):
        BlindSession(pairs(2), path, "  ")


def test_a_last_judgment_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    session = BlindSession(pairs(3), path, "t", seed=0)
    a, b = session.pending()[:2]
    session.record(a.pair.id, "tie")
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # saved by an editor that drops the final newline
    resumed = BlindSession(pairs(3), path, "t", seed=0)
    assert resumed.done == 1
    resumed.record(b.pair.id, "A")
    assert [r["choice"] for r in AppendOnlyStore(path).read()] == ["tie", "A"]
    assert not (tmp_path / "j.jsonl.torn").exists()


def test_a_session_holds_the_store_against_other_processes(tmp_path):
    path = tmp_path / "j.jsonl"
    with held_elsewhere(path) as holder:
        with pytest.raises(LockedError, match=rf"j\.jsonl is being written by pid {holder.pid} "):
            BlindSession(pairs(2), path, "t", seed=0)
    session = BlindSession(pairs(2), path, "t", seed=0)
    session.record("p/0", "A")
    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        session.record("p/1", "A")
    assert len(path.read_text().splitlines()) == 1


def test_the_command_line_refuses_a_store_another_process_writes(tmp_path, capsys):
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    first.write_text(json.dumps([{"instruction": f"Task {i}.", "output": f"one {i}"} for i in range(2)]))
    second.write_text(json.dumps([{"instruction": f"Task {i}.", "output": f"two {i}"} for i in range(2)]))
    store = tmp_path / "j.jsonl"
    with held_elsewhere(store) as holder:
        code = main(["evaluate", "blind", "--store", str(store), "--annotator", "me", "--systems", str(first),
                     str(second), "--sample", "2", "status"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"alpaca-lessons: error: {store} is being written by pid {holder.pid} (-c {store}); let it " \
        "finish or stop it first\n"
    assert not store.exists()
