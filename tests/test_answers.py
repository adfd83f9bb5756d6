"""Answers written append-only per model: resumed, refused to a second writer, checked against their records;
and the ``evaluate instruct-following`` command end to end on a tiny model."""

from __future__ import annotations

import json

import pytest
from lock_helpers import held_elsewhere
from model_fixtures import tiny_model  # noqa: F401  (a fixture)

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import LockedError
from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.answers import (
    answer_store,
    generate_answers,
    read_answers,
    record_hash,
    side_by_side,
)

RECORDS = [Record("Name three colors."), Record("Write a short poem about the sea.", "calm"), Record("Say hi.")]


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory):  # noqa: F811
    model, tokenizer = tiny_model
    folder = tmp_path_factory.mktemp("models") / "tiny"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_answers_resume_and_match_a_fresh_run(model_dir, tmp_path):
    store = answer_store(tmp_path, "tiny")
    first = generate_answers(model_dir, RECORDS[:2], store, max_new_tokens=4, batch_size=2, progress=False)
    assert sorted(first) == [0, 1] and len(store) == 2
    resumed = generate_answers(model_dir, RECORDS, store, max_new_tokens=4, batch_size=2, progress=False)
    assert len(store) == 3  # only the third record was answered
    fresh = generate_answers(model_dir, RECORDS, answer_store(tmp_path / "fresh", "tiny"), max_new_tokens=4,
                             batch_size=2, progress=False)
    assert [resumed[i]["answer"] for i in range(3)] == [fresh[i]["answer"] for i in range(3)]  # greedy
    assert all(a["new_tokens"] == 4 or a["ended"] for a in fresh.values())  # shorter than the limit: it ended


def test_a_second_writer_is_refused(model_dir, tmp_path):
    store = answer_store(tmp_path, "tiny")
    with held_elsewhere(store.path), pytest.raises(LockedError):
        generate_answers(model_dir, RECORDS, store, max_new_tokens=2, progress=False)
    assert not store.path.exists()


def test_answers_to_other_records_or_with_a_bad_field_are_named(tmp_path):
    store = answer_store(tmp_path, "tiny")
    row = {"index": 0, "record_hash": record_hash(RECORDS[0]), "answer": "red", "ended": True, "new_tokens": 2,
           "seconds": 0.1}
    store.append(row)
    assert read_answers(store, RECORDS)[0]["answer"] == "red"
    with pytest.raises(DataError, match="record 1: field 'record_hash'"):
        read_answers(store, RECORDS[1:])
    store.append({**row, "ended": "yes"})
    with pytest.raises(DataError, match=r"tiny.jsonl: record 2: field 'ended' should be bool"):
        read_answers(store, RECORDS)


def test_cli_instruct_following_end_to_end(model_dir, tmp_path, real_data, capsys):
    from alpaca_lessons.cli import main
    from alpaca_lessons.evaluation.if_table import load_table

    out = tmp_path / "out"
    argv = ["evaluate", "instruct-following", str(model_dir), "--out", str(out), "--limit", "4",
            "--max-new-tokens", "3", "--batch-size", "2"]
    assert main(argv) == 0
    table = load_table(out / "table.json")
    assert table["records"] == 4 and table["models"]["tiny"]["answered"] == 4
    assert table["models"]["tiny"]["checks"]["ends"]["n"] == 4 and table["versions"]["transformers"]
    assert [(c["first"], c["second"]) for c in table["comparisons"]] == [("tiny", "reference")]
    assert (out / "table.txt").read_text().startswith("4 held-out records")
    lines = (out / "answers" / "tiny.jsonl").read_text().splitlines()
    assert [json.loads(line)["index"] for line in lines] == [0, 1, 2, 3]
    assert main(argv) == 0 and len((out / "answers" / "tiny.jsonl").read_text().splitlines()) == 4  # resumed


def test_cli_refuses_bad_input_with_one_line_and_writes_nothing(model_dir, tmp_path, capsys):
    from alpaca_lessons.cli import main

    out = tmp_path / "out"
    assert main(["evaluate", "instruct-following", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("missing: not a model folder (no config.json)")
    assert main(["evaluate", "instruct-following", str(model_dir), "--out", str(out),
                 "--judge-base-url", "https://api.example.com/v1", "--judge-model", "gpt-4"]) == 2
    assert "--real-judge" in capsys.readouterr().err
    assert not out.exists()


def test_side_by_side_shows_each_models_answer_and_how_it_stopped(tmp_path):
    records = [Record("Name a colour.", ""), Record("Add them.", "2 and 3")]
    for model, texts in (("base", ["# The colour", "# The"]), ("tuned", ["Blue.", "5"])):
        store = answer_store(tmp_path, model)
        for i, (record, text) in enumerate(zip(records, texts, strict=True)):
            store.append({"index": i, "record_hash": record_hash(record), "answer": text, "ended": model == "tuned",
                          "new_tokens": 3, "seconds": 0.1})
    assert side_by_side(tmp_path, ["base", "tuned"], records, [1]) == (
        "[1] Add them.\n     input: 2 and 3\n"
        "       base: '# The'  ... (hit the token limit)\n"
        "      tuned: '5'  </s>")
    assert "(not answered)" in side_by_side(tmp_path, ["base", "scratch"], records, [0])
