"""The append-only store: records survive, a torn last line is skipped and then cut before appending."""

import json

import pytest

from alpaca_lessons.data import DataError
from alpaca_lessons.store import AppendOnlyStore


def test_append_and_read_back_in_order(tmp_path):
    store = AppendOnlyStore(tmp_path / "a.jsonl")
    store.append({"i": 1})
    store.extend([{"i": 2}, {"i": 3, "text": "中文"}])
    assert store.read() == [{"i": 1}, {"i": 2}, {"i": 3, "text": "中文"}]
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8").count("\n") == 3


def test_torn_last_line_is_skipped_then_cut_before_the_next_append(tmp_path):
    path = tmp_path / "a.jsonl"
    store = AppendOnlyStore(path)
    store.extend([{"i": 1}, {"i": 2}])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"i": 3, "tex')  # a writer killed mid-line
    with pytest.warns(UserWarning, match="incomplete last record"):
        assert store.read() == [{"i": 1}, {"i": 2}]
    with pytest.warns(UserWarning, match="torn last record"):
        store.append({"i": 4})
    assert store.read() == [{"i": 1}, {"i": 2}, {"i": 4}]
    assert path.read_text(encoding="utf-8") == "".join(json.dumps({"i": i}) + "\n" for i in (1, 2, 4))


def test_a_file_that_is_one_torn_line_becomes_empty_then_appends(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"i": 1')
    with pytest.warns(UserWarning, match="torn last record"):
        AppendOnlyStore(path).append({"i": 2})
    assert AppendOnlyStore(path).read() == [{"i": 2}]


def test_malformed_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"i": 1}\nnot json\n{"i": 3}\n')
    with pytest.raises(DataError, match=r"a\.jsonl:2: malformed JSON line"):
        AppendOnlyStore(path).read()
