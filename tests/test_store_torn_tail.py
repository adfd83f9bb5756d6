"""A crash mid-write leaves a torn last line: reading skips it, and appending after it keeps the file readable."""

import json
import warnings

import pytest

from alpaca_lessons.store import AppendOnlyStore


def test_append_after_a_torn_line_drops_only_the_torn_record(tmp_path):
    store = AppendOnlyStore(tmp_path / "s.jsonl")
    store.extend([{"i": 0}, {"i": 1}])
    with store.path.open("ab") as f:
        f.write(b'{"i": 2, "half')  # the process died here
    with pytest.warns(UserWarning, match="incomplete last record"):
        assert store.read() == [{"i": 0}, {"i": 1}]
    with pytest.warns(UserWarning, match="dropped an incomplete last record"):
        store.append({"i": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing torn is left, so reading is silent
        assert store.read() == [{"i": 0}, {"i": 1}, {"i": 3}]


def test_a_complete_last_record_without_newline_is_kept(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"i": 0}))  # written by hand, no trailing newline
    store = AppendOnlyStore(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.append({"i": 1})
    assert store.read() == [{"i": 0}, {"i": 1}]
