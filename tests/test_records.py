"""Readers: every format the course accepts, and errors that name file, line and field."""

from __future__ import annotations

import gzip
import json

import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.data import Record, parse_seed_tasks, read_records, read_seed_tasks, read_text, write_records

RECORDS = [{"instruction": "Name a color.", "input": "", "output": "Blue."},
           {"instruction": "Translate.", "input": "chat", "output": "cat", "source": "hand-written"}]


@pytest.mark.parametrize("name", ["d.json", "d.jsonl", "d.json.gz", "d.jsonl.gz"])
def test_every_format_reads_the_same_records(tmp_path, name):
    if ".jsonl" in name:
        text = "".join(json.dumps(r) + "\n" for r in RECORDS)
    else:
        text = json.dumps(RECORDS, indent=4)
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    records = read_records(path)
    assert records == [Record("Name a color.", "", "Blue."), Record("Translate.", "chat", "cat",
                                                                    {"source": "hand-written"})]


def test_json_lines_in_a_json_file_are_read(tmp_path):  # BELLE's zh_seed_tasks.json is such a file
    path = tmp_path / "seeds.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    assert len(read_records(path)) == 2


def test_missing_field_names_file_line_and_field_in_jsonl(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n\n" + json.dumps({"instruction": "x", "input": ""}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:3: field 'output' is missing"):
        read_records(path)


def test_missing_field_names_the_line_inside_a_json_list(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([RECORDS[0], {"instruction": "x", "output": 3}], indent=4))
    # the second object starts on line 7 of the indented file
    with pytest.raises(DataError, match=r"bad\.json:7: field 'output' should be str, got int"):
        read_records(path)


def test_malformed_json_line_is_reported(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n{\"instruction\": \"x\",\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: malformed JSON"):
        read_records(path)


def test_malformed_json_list_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c" "output": "d"}\n]')
    with pytest.raises(DataError, match=r"bad\.json:3: malformed JSON"):
        read_records(path)


def test_non_object_item_is_reported(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"instruction": "a", "output": "b"},\n  "oops"\n]')
    with pytest.raises(DataError, match=r"bad\.json:3: item 1 should be an object"):
        read_records(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_records(tmp_path / "nope.json")


def test_seed_task_fields_are_checked(tmp_path):
    task = {"id": "t1", "name": "n", "instruction": "Do it.", "instances": [{"input": "", "output": "ok"}],
            "is_classification": "no"}
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps(task) + "\n")
    with pytest.raises(DataError, match=r"seeds\.jsonl:1: field 'is_classification' should be bool, got str"):
        read_seed_tasks(path)
    task["is_classification"], task["instances"] = False, [{"input": ""}]
    path.write_text(json.dumps(task) + "\n")
    with pytest.raises(DataError, match=r"seeds\.jsonl:1: instances\[0\]: field 'output' is missing"):
        read_seed_tasks(path)


def test_write_then_read_round_trips(tmp_path):
    records = [Record("Name a color.", "", "Blue."), Record("Say hi", "in French", "Salut", {"id": 7})]
    for name in ("out.json", "out.jsonl"):
        assert read_records(write_records(records, tmp_path / name)) == records


def test_real_seed_tasks(real_data):
    seeds = read_seed_tasks()
    assert len(seeds) == 175 and sum(t.is_classification for t in seeds) == 26
    assert seeds[0].id == "seed_task_0" and seeds[0].to_record().input == ""
    belle = read_seed_tasks("belle_seed_tasks")
    assert len(belle) == 175 and sum(t.is_classification for t in belle) == 26


def test_seed_tasks_parsed_from_lines_in_memory():
    lines = ['{"id": "a", "name": "n", "instruction": "Do it.", "instances": [{"input": "", "output": "ok"}], '
             '"is_classification": false}', "", '{"id": "b", "name": "m"}']
    first = parse_seed_tasks(lines[:2])
    assert [(t.id, t.instruction, t.instances[0].output, t.is_classification) for t in first] == \
        [("a", "Do it.", "ok", False)]
    with pytest.raises(DataError, match=r"<lines>:3: field 'instances' is missing"):
        parse_seed_tasks(lines)


def test_parsed_lines_equal_the_read_file(real_data):
    from alpaca_lessons.data import locate

    assert parse_seed_tasks(locate("seed_tasks").read_text(encoding="utf-8").splitlines()) == read_seed_tasks()


def test_prompt_text_is_read_byte_exact(real_data):
    text = read_text("alpaca_prompt")
    assert text.endswith("List of 20 tasks:") and len(text.encode()) == 1749
