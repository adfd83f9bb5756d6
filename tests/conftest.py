"""Shared fixtures: the data mirror the tests read, and a tiny mirror written by hand."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from alpaca_lessons.data import registry


def _shared_data() -> Path | None:
    value = os.environ.get(registry.MIRROR_ENV)
    if value and Path(value).is_dir():
        return Path(value)
    beside = Path(__file__).resolve().parents[2] / "shared" / "data"
    return beside if beside.is_dir() else None


# Found once, before any test module is imported, so that module-level and module-scoped readers of the real
# data (which run before the function-scoped `real_data` fixture could) see the same mirror.
if _shared_data() is not None:
    os.environ[registry.MIRROR_ENV] = str(_shared_data())


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty user cache, so nothing leaks in from a previous run."""
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
    registry._verified.clear()


@pytest.fixture
def real_data(monkeypatch) -> Path:
    """The offline mirror of the real public data (``$ALPACA_LESSONS_DATA`` or ../shared/data)."""
    mirror = _shared_data()
    if mirror is None:
        pytest.skip("no data mirror: set ALPACA_LESSONS_DATA")
    monkeypatch.setenv(registry.MIRROR_ENV, str(mirror))
    return mirror


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tiny_dataset(tmp_path, monkeypatch):
    """A one-file mirror holding a 2-record JSONL file registered under the name 'tiny'."""
    content = b'{"instruction": "Say hi.", "input": "", "output": "Hi."}\n' \
              b'{"instruction": "Add 2 and 3.", "input": "", "output": "5"}\n'
    mirror = tmp_path / "mirror"
    (mirror / "tiny").mkdir(parents=True)
    (mirror / "tiny" / "tiny.jsonl").write_bytes(content)
    dataset = registry.Dataset("tiny", "tiny/tiny.jsonl", "someone/tiny", "0" * 40, "tiny.jsonl", sha256(content),
                               "MIT", 2, "two hand-written records")
    monkeypatch.setitem(registry._BY_NAME, "tiny", dataset)
    monkeypatch.setenv(registry.MIRROR_ENV, str(mirror))
    return dataset, mirror, content


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    """64 tiny records (``finetune_fixtures.tiny_records``) as an Alpaca-format JSON file, once per test module."""
    from finetune_fixtures import tiny_records

    from alpaca_lessons.data import write_records

    return write_records(tiny_records(64), tmp_path_factory.mktemp("data") / "tiny.json")
