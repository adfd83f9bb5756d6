"""The data registry: mirror, cache, download with checksum, and the errors when none works."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.data import get_dataset, locate, read_records, registry, verify_all


@pytest.fixture
def http_folder(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_entry_is_complete_and_unique():
    names = [d.name for d in registry.DATASETS]
    assert len(names) == len(set(names)) == 23
    for d in registry.DATASETS:
        assert len(d.sha256) == 64 and len(d.commit) == 40, d.name
        assert d.url.startswith(f"https://raw.githubusercontent.com/{d.repo}/{d.commit}/"), d.name


def test_unknown_name_lists_known_ones():
    with pytest.raises(DataError, match="unknown data set 'nope'.*seed_tasks"):
        get_dataset("nope")


def test_mirror_is_used_and_verified(tiny_dataset):
    dataset, mirror, _ = tiny_dataset
    assert locate("tiny") == mirror / "tiny" / "tiny.jsonl"
    assert [r.output for r in read_records("tiny")] == ["Hi.", "5"]


def test_mirror_checksum_mismatch_is_refused(tiny_dataset):
    dataset, mirror, content = tiny_dataset
    (mirror / "tiny" / "tiny.jsonl").write_bytes(content.replace(b"5", b"6"))
    with pytest.raises(DataError, match=r"tiny\.jsonl: sha256 .* does not match .* 'tiny'; the file was not used"):
        locate("tiny")


def test_cache_is_used_when_no_mirror(tiny_dataset, monkeypatch, tmp_path):
    dataset, _, content = tiny_dataset
    monkeypatch.delenv(registry.MIRROR_ENV)
    cached = registry.cache_dir() / "tiny" / "tiny.jsonl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content)
    assert locate("tiny", download=False) == cached


def test_offline_error_names_dataset_url_and_mirror(tiny_dataset, monkeypatch):
    dataset, _, _ = tiny_dataset
    monkeypatch.delenv(registry.MIRROR_ENV)
    monkeypatch.setattr(registry.Dataset, "url", property(lambda self: "http://127.0.0.1:9/tiny.jsonl"))
    with pytest.raises(DataError) as error:
        locate("tiny", timeout=2)
    message = str(error.value)
    assert "'tiny'" in message and "http://127.0.0.1:9/tiny.jsonl" in message
    assert "ALPACA_LESSONS_DATA" in message and "tiny/tiny.jsonl" in message
    assert not any(p.is_file() for p in registry.cache_dir().rglob("*")), "a failed download leaves no file"


def test_download_verifies_then_caches(tiny_dataset, monkeypatch, http_folder):
    dataset, _, content = tiny_dataset
    folder, base = http_folder
    monkeypatch.delenv(registry.MIRROR_ENV)
    monkeypatch.setattr(registry.Dataset, "url", property(lambda self: f"{base}/{self.upstream_path}"))
    (folder / "tiny.jsonl").write_bytes(content)
    path = locate("tiny")
    assert path == registry.cache_dir() / "tiny" / "tiny.jsonl" and path.read_bytes() == content
    (folder / "tiny.jsonl").unlink()  # the second call must not need the network
    assert locate("tiny") == path


def test_download_with_wrong_checksum_is_discarded(tiny_dataset, monkeypatch, http_folder):
    dataset, _, content = tiny_dataset
    folder, base = http_folder
    monkeypatch.delenv(registry.MIRROR_ENV)
    monkeypatch.setattr(registry.Dataset, "url", property(lambda self: f"{base}/{self.upstream_path}"))
    (folder / "tiny.jsonl").write_bytes(content + b"tampered\n")
    with pytest.raises(DataError, match="does not match"):
        locate("tiny")
    assert not any(p.is_file() for p in registry.cache_dir().rglob("*")), "the bad file must not be kept"


def test_real_mirror_verifies_completely(real_data):
    report = verify_all()
    assert all(v.startswith("ok") for v in report.values()), report


def test_real_counts_match_registry(real_data):
    for name in ("seed_tasks", "belle_seed_tasks", "user_oriented_instructions", "predictions/text-davinci-003"):
        from alpaca_lessons.data import read_rows

        assert len(read_rows(name)) == get_dataset(name).records, name
    records = read_records("alpaca_data")  # stored gzipped in the mirror, verified by its own checksum
    assert len(records) == 52002 == get_dataset("alpaca_data").records
    assert sum(bool(r.input) for r in records) == 20679  # SOURCES.md: 20,679 with a non-empty input
