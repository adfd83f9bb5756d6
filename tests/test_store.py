"""The append-only store: nothing written is lost, a torn last line is reported and skipped."""

from __future__ import annotations

import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, JudgmentLog, text_hash, utc_now


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


# ------------------------------------------------------------------------------------------ judgment log
def test_text_hash_is_the_sha256_of_the_texts_as_json():
    import hashlib

    assert text_hash(["a", "é"]) == hashlib.sha256('["a", "é"]'.encode()).hexdigest()
    assert text_hash(["a", "é"], ensure_ascii=True, digits=16) == hashlib.sha256(
        b'["a", "\\u00e9"]').hexdigest()[:16]
    assert text_hash(["ab", ""]) != text_hash(["a", "b"])  # the boundaries between texts count


def test_utc_now_is_iso_to_the_second():
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", utc_now())


def make_log(path):
    return JudgmentLog(path, key="item", hash_field="h", clock=lambda: "2026-01-01T00:00:00+00:00")


def test_judgments_append_and_the_latest_wins(tmp_path):
    log = make_log(tmp_path / "j.jsonl")
    log.append({"item": "x", "h": "1", "v": "first", "at": log.clock()})
    log.append({"item": "y", "h": "2", "v": "only"})
    log.append({"item": "x", "h": "1", "v": "changed"})
    assert [r["v"] for r in log.read()] == ["first", "only", "changed"]  # the history stays
    assert {k: r["v"] for k, r in make_log(tmp_path / "j.jsonl").latest().items()} == {"x": "changed", "y": "only"}
    assert list(log.latest()) == ["x", "y"]  # in the order items were first judged
    assert log.read()[0]["at"] == "2026-01-01T00:00:00+00:00"
    assert [r["v"] for r in log.read(where=lambda r: r["item"] == "y")] == ["only"]
    with pytest.raises(ValueError, match="'item' and 'h'"):
        log.append({"item": "z"})


def test_judgments_are_checked_against_the_text_they_name(tmp_path):
    log = make_log(tmp_path / "j.jsonl")
    log.append({"item": "x", "h": "1"})
    assert log.latest({"x": "1"}.get) == {"x": {"item": "x", "h": "1"}}
    with pytest.raises(DataError, match="different text"):
        log.read({"x": "2"}.get)
    with pytest.raises(DataError, match="unknown item 'x'"):
        log.read({"y": "1"}.get)
    assert log.read({"y": "1"}.get, where=lambda r: r["item"] == "y") == []  # filtered out before the check
