"""``common.atomic``: outputs checked before the work, and written whole (temporary file + rename), gzipped
when the name says .gz."""

from __future__ import annotations

import gzip
import os
from unittest import mock

import pytest

from alpaca_lessons.common import atomic
from alpaca_lessons.common.atomic import atomic_write, check_output
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.data import Record, read_records, write_records


def test_atomic_write_writes_text_and_bytes_and_makes_folders(tmp_path):
    assert atomic_write(tmp_path / "a" / "b.txt", "héllo\n") == tmp_path / "a" / "b.txt"
    assert (tmp_path / "a" / "b.txt").read_bytes() == "héllo\n".encode()
    atomic_write(tmp_path / "c.bin", b"\x00\xff")
    assert (tmp_path / "c.bin").read_bytes() == b"\x00\xff"
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "c.bin").stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c.bin"]  # no temporary file left


def test_a_gz_name_gets_gzip_bytes(tmp_path):
    atomic_write(tmp_path / "x.jsonl.gz", '{"a": 1}\n')
    raw = (tmp_path / "x.jsonl.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == b'{"a": 1}\n'
    atomic_write(tmp_path / "y.jsonl.gz", '{"a": 1}\n')
    assert (tmp_path / "y.jsonl.gz").read_bytes() == raw  # no timestamp inside: equal data, equal bytes


def test_write_records_round_trips_gzipped_json_and_jsonl(tmp_path):
    records = [Record("Name a fruit.", "", "Apple.", {"id": 1}), Record("Sort.", "3 1 2", "1 2 3")]
    for name in ("r.jsonl.gz", "r.json.gz"):
        path = write_records(records, tmp_path / name)
        assert gzip.decompress(path.read_bytes())[:1] == (b"{" if ".jsonl" in name else b"[")
        assert read_records(path) == records


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with mock.patch.object(atomic.os, "replace", side_effect=OSError(28, "No space left on device")):
        with pytest.raises(DataError, match=r"out.json: cannot be written: No space left on device"):
            atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_check_output_refuses_folders_paths_under_files_and_inputs(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match=r"folder: is a directory"):
        check_output(tmp_path / "folder")
    with pytest.raises(DataError, match=r"file/deep/x.json: cannot be written: .*file is a file, not a folder"):
        check_output(tmp_path / "file" / "deep" / "x.json")
    with pytest.raises(DataError, match=r"file: is also the input"):
        check_output(tmp_path / "folder" / ".." / "file", inputs=["seed_tasks", tmp_path / "file"])
    assert check_output(tmp_path / "new" / "x.json", inputs=["seed_tasks"]) == tmp_path / "new" / "x.json"
    assert not (tmp_path / "new").exists()  # checking makes nothing
