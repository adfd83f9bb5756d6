"""The append-only store: nothing written is lost, a torn last line is reported and skipped."""

from __future__ import annotations

import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore


def test_append_and_read_back(tmp_path):
    store = AppendOnlyStore(tmp_path / "sub" / "s.jsonl")
    assert store.read() == []
    store.append({"a": 1})
    store.extend([{"a": 2}, {"b": "é"}])
    assert store.read() == [{"a": 1}, {"a": 2}, {"b": "é"}]
    assert len(AppendOnlyStore(tmp_path / "sub" / "s.jsonl")) == 3  # a new handle sees the same file


def test_each_append_is_on_disk_before_it_returns(tmp_path):
    path = tmp_path / "s.jsonl"
    store = AppendOnlyStore(path, fsync=True)
    store.append({"n": 1})
    assert path.read_text() == '{"n": 1}\n'


def test_torn_last_line_is_warned_about_skipped_and_set_aside(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"n": 1}\n{"n": 2}\n{"n": 3, "tex')  # the process died mid-write
    store = AppendOnlyStore(path)
    with pytest.warns(UserWarning, match=r"s\.jsonl:3: incomplete last record skipped"):
        assert store.read() == [{"n": 1}, {"n": 2}]
    with pytest.warns(UserWarning, match=r"moved to .*s\.jsonl\.torn"):
        store.append({"n": 4})
    assert store.read() == [{"n": 1}, {"n": 2}, {"n": 4}]
    assert (tmp_path / "s.jsonl.torn").read_text() == '{"n": 3, "tex\n'  # kept as evidence


def test_corrupt_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"n": 1}\nnot json\n{"n": 3}\n')
    with pytest.raises(DataError, match=r"s\.jsonl:2: malformed JSON line"):
        AppendOnlyStore(path).read()
