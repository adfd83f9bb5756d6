"""The append-only store: nothing written is lost, a torn last line is reported and skipped; the writer lock."""

from __future__ import annotations

import os
import warnings

import pytest
from lock_helpers import held_elsewhere

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, JudgmentLog, LockedError, WriterLock, text_hash, utc_now


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


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"n": 1}\n{"n": 2}')  # a file edited by hand: the last record is whole, its newline missing
    store = AppendOnlyStore(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.read() == [{"n": 1}, {"n": 2}]
        store.append({"n": 3})
    assert path.read_text() == '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
    assert not (tmp_path / "s.jsonl.torn").exists()


def test_a_last_line_cut_inside_a_utf8_character_is_torn_not_a_crash(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes('{"n": 1}\n{"t": "é'.encode()[:-1])  # died between the two bytes of "é"
    store = AppendOnlyStore(path)
    with pytest.warns(UserWarning, match=r"s\.jsonl:2: incomplete last record skipped \(not UTF-8"):
        assert store.read() == [{"n": 1}]
    with pytest.warns(UserWarning, match="moved to"):
        store.append({"t": "é"})
    assert store.read() == [{"n": 1}, {"t": "é"}]
    assert (tmp_path / "s.jsonl.torn").read_bytes() == b'{"t": "\xc3\n'
    path.write_bytes(b'{"n": 1}\n{"t": "\xc3"}\n{"n": 3}\n')
    with pytest.raises(DataError, match=r"s\.jsonl:2: malformed JSON line: not UTF-8"):
        store.read()


# ------------------------------------------------------------------------------------------ writer lock
def test_a_second_process_is_refused_with_the_holders_pid_and_command(tmp_path):
    path = tmp_path / "s.jsonl"
    with held_elsewhere(path) as holder:
        assert (tmp_path / "s.jsonl.lock").read_text() == f"pid {holder.pid} (-c {path})\n"
        with pytest.raises(LockedError) as refused:
            WriterLock(path)
        assert str(refused.value) == f"{path} is being written by pid {holder.pid} (-c {path}); let it finish or " \
            "stop it first"
        assert isinstance(refused.value, DataError)  # the command line reports it in one line, exit code 2
    # killed with SIGKILL: its .lock file stays behind, but the kernel dropped the lock with the process
    assert (tmp_path / "s.jsonl.lock").exists()
    with WriterLock(path) as lock:
        assert lock.held and (tmp_path / "s.jsonl.lock").read_text().startswith(f"pid {os.getpid()} (")
    assert not lock.held and not (tmp_path / "s.jsonl.lock").exists()


def test_holders_in_one_process_share_the_lock_until_the_last_releases_it(tmp_path):
    path = tmp_path / "sub" / "s.jsonl"
    first, second = WriterLock(path), WriterLock(path)  # e.g. a notebook cell run twice
    first.release()
    first.release()  # once only: it does not release the second holder's share
    assert (tmp_path / "sub" / "s.jsonl.lock").exists() and second.held
    del second  # a dropped holder releases its share
    assert not (tmp_path / "sub" / "s.jsonl.lock").exists()
