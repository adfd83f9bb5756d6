"""Sampling, the annotation store (append, resume, changed answers, a torn last line) and the statistics."""

import json
import math
import warnings

import pytest
from lock_helpers import held_elsewhere

from alpaca_lessons.analysis.validity import (
    ALL_VALID,
    Annotation,
    AnnotationSession,
    answer_changes,
    by_annotator,
    compare_with_published,
    kappa_by_question,
    latest,
    parse_quick_entry,
    read_annotations,
    record_sha256,
    sample_for_annotation,
    validity_summary,
)
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.paths import course_data_dir
from alpaca_lessons.common.store import LockedError
from alpaca_lessons.data import Record

# small for testing speed: 30 records, 3 of them repeating an instruction with another input
RECORDS = [Record(f"Task {i % 27}.", f"input {i}", f"output {i}") for i in range(30)]


def session(path, n=5, annotator="tester"):
    return AnnotationSession(path, sample_for_annotation(RECORDS, n, seed=3), RECORDS, annotator,
                             clock=lambda: "2026-01-01T00:00:00+00:00")


def test_sample_is_seeded_one_instance_per_instruction():
    sample = sample_for_annotation(RECORDS, 27, seed=7)
    assert sample == sample_for_annotation(RECORDS, 27, seed=7)
    assert sample != sample_for_annotation(RECORDS, 27, seed=8)
    instructions = [RECORDS[item.index].instruction for item in sample]
    assert len(set(instructions)) == 27  # every distinct instruction once, never two instances of one
    assert all(item.sha256 == record_sha256(RECORDS[item.index]) for item in sample)
    with pytest.raises(ValueError, match="27 distinct"):
        sample_for_annotation(RECORDS, 28)


def test_record_hash_depends_on_every_field():
    base = Record("a", "b", "c")
    assert len({record_sha256(r) for r in (base, Record("a", "b", "c "), Record("a", "bc", ""),
                                            Record("ab", "", "c"))}) == 4
    assert record_sha256(Record("a", "b", "c", {"id": 1})) == record_sha256(base)  # metadata is not text


def test_every_answer_is_on_disk_at_once_and_a_new_session_resumes(tmp_path):
    path = tmp_path / "ann.jsonl"
    first = session(path)
    assert (first.position, first.done()) == (0, 0)
    first.answer(True, True, False, "wrong sum")
    first.answer(True, False, True)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["note"] == "wrong sum"
    assert json.loads(lines[0])["annotator"] == "tester"

    resumed = session(path)  # a kernel restart
    assert resumed.done() == 2 and resumed.position == 2
    assert resumed.answer_at(0).answers() == (True, True, False)


def test_changing_an_answer_appends_and_the_latest_wins(tmp_path):
    path = tmp_path / "ann.jsonl"
    s = session(path)
    s.answer(True, True, True)
    s.answer(False, False, False)
    s.answer(True, True, False, "on second reading the date is wrong", position=0)
    assert s.position == 2  # back to the first record still open
    history = read_annotations(path, RECORDS)
    assert len(history) == 3 and answer_changes(history) == 1
    current = latest(history)
    assert current[s.sample[0].index].answers() == (True, True, False)
    assert [a.answers() for a in history][0] == (True, True, True)  # the first answer is still there


def test_a_torn_last_line_is_reported_skipped_and_nothing_else_is_lost(tmp_path):
    path = tmp_path / "ann.jsonl"
    s = session(path)
    for _ in range(3):
        s.answer(True, True, True)
    with path.open("a") as f:
        f.write('{"index": 4, "sha256": "ab')  # the kernel died mid-write
    with pytest.warns(UserWarning, match="incomplete last record"):
        resumed = session(path)
    assert resumed.done() == 3 and resumed.position == 3
    with pytest.warns(UserWarning, match="was moved to"):
        resumed.answer(False, True, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_annotations(path, RECORDS)) == 4


def test_annotations_made_on_other_data_are_refused(tmp_path):
    path = tmp_path / "ann.jsonl"
    session(path).answer(True, True, True)
    changed = list(RECORDS)
    first = session(path).sample[0].index
    changed[first] = Record(RECORDS[first].instruction, RECORDS[first].input, "edited output")
    with pytest.raises(DataError, match="sha256 mismatch"):
        read_annotations(path, changed)


def test_session_requires_an_annotator(tmp_path):
    with pytest.raises(ValueError, match="annotator"):
        session(tmp_path / "a.jsonl", annotator=" ")


def test_quick_entry():
    assert parse_quick_entry("yyn wrong year") == ((True, True, False), "wrong year")
    assert parse_quick_entry(" NYY ") == ((False, True, True), "")
    for bad in ("yy", "yyx", "", "yes"):
        with pytest.raises(ValueError):
            parse_quick_entry(bad)


def judged(answers):
    return [Annotation(i, "h", *a, annotator="x") for i, a in enumerate(answers)]


def test_summary_shares_and_wilson_intervals():
    # 10 records: instruction yes 9, input yes 8, output yes 5, all three yes 4
    answers = ([(True, True, True)] * 4 + [(True, True, False)] * 4 + [(True, False, True)]
               + [(False, False, False)])
    summary = validity_summary(judged(answers))
    assert [summary[q].successes for q in ("instruction_valid", "input_appropriate", "output_correct", ALL_VALID)] \
        == [9, 8, 5, 4]
    assert summary["input_appropriate"].low == pytest.approx(0.4901625, abs=1e-7)  # Wilson 8/10, see test_stats
    rows = compare_with_published(summary)
    assert rows[0]["Self-Instruct"] == "92%" and rows[3]["Self-Instruct"] == "54%"
    assert rows[0]["inside 95% CI"] == "yes"


def test_kappa_by_question_uses_common_records_and_latest_answers():
    a = judged([(True, True, True), (True, False, True), (False, True, True), (True, True, False)])
    b = judged([(True, True, True), (True, True, True), (False, True, True)])
    b.append(Annotation(1, "h", True, False, True, annotator="x"))  # b changed its mind on record 1
    result = kappa_by_question(a, b)
    assert result["instruction_valid"] == (3, 1.0)
    assert result["input_appropriate"] == (3, 1.0)
    n, kappa = result["output_correct"]
    assert n == 3 and math.isnan(kappa)  # everyone said yes: kappa undefined


def test_a_last_answer_without_its_newline_is_kept_when_the_next_is_appended(tmp_path):
    path = tmp_path / "ann.jsonl"
    s = session(path)
    for _ in range(3):
        s.answer(True, True, True)
    path.write_bytes(path.read_bytes()[:-1])  # the file was saved by an editor that drops the final newline
    resumed = session(path)
    assert resumed.done() == 3
    resumed.answer(False, True, True)
    assert [a.answers()[0] for a in read_annotations(path, RECORDS)] == [True, True, True, False]
    assert not (tmp_path / "ann.jsonl.torn").exists()


# ------------------------------------------------------------------------------------------ one person per file
def test_a_file_with_another_annotators_answers_is_refused(tmp_path):
    path = tmp_path / "ann.jsonl"
    first = session(path, annotator="ann")
    for _ in range(3):
        first.answer(True, True, True)
    first.close()
    with pytest.raises(DataError, match=r"ann\.jsonl: holds answers by 'ann', not 'bob': one annotator per file"):
        session(path, annotator="bob")
    assert session(path, annotator="ann").done() == 3  # its own annotator resumes it
    with pytest.raises(RuntimeError, match="closed"):
        first.answer(True, True, True)
    assert len(path.read_text().splitlines()) == 3


def test_latest_and_the_statistics_never_merge_two_people(tmp_path):
    ann = [Annotation(0, "h", True, True, True, "ann"), Annotation(1, "h", True, True, True, "ann")]
    bob = [Annotation(0, "h", False, False, False, "bob")]
    mixed = [ann[0], bob[0], ann[1]]  # a file two people wrote into
    with pytest.raises(ValueError, match=r"2 annotators \('ann', 'bob'\): split them with by_annotator"):
        latest(mixed)
    with pytest.raises(ValueError, match="2 annotators"):
        validity_summary(mixed)
    with pytest.raises(ValueError, match="2 annotators"):
        kappa_by_question(mixed, ann)
    assert by_annotator(mixed) == {"ann": ann, "bob": bob}
    assert validity_summary(latest(by_annotator(mixed)["bob"]).values())[ALL_VALID].successes == 0
    assert kappa_by_question(ann, bob)["instruction_valid"][0] == 1  # one record in common


def test_the_shipped_annotations_are_one_annotators():
    history = read_annotations(course_data_dir() / "annotations" / "validity_claude.jsonl")
    assert len(by_annotator(history)) == 1 and history[0].annotator.startswith("Claude (Anthropic AI model)")
    assert len(latest(history)) == 200


def test_a_session_holds_the_file_against_other_processes(tmp_path):
    path = tmp_path / "ann.jsonl"
    with held_elsewhere(path) as holder:
        with pytest.raises(LockedError, match=rf"ann\.jsonl is being written by pid {holder.pid} "):
            session(path)
    session(path).answer(True, True, True)
