"""An append-only JSON Lines store: every record is flushed to disk the moment it is written.

Generation, annotation and judging all write through it, so a crash, a kernel restart or a killed
job loses at most the record being written, and a rerun resumes from what is on disk. A torn last
line (the process died mid-write) is reported and skipped; any other malformed line is an error that
names the file and line, because silently dropping data in the middle of a file would hide a bug.
The next append moves a torn line to ``<file>.torn`` (kept as evidence, never parsed) so that the
store itself holds only complete records.

``JudgmentLog`` is the one way the course keeps resumable judgments (validity annotations, blind
pairwise choices, an LLM judge's verdicts) in such a store: each record names the item it judges and a
hash of the text it was made on (``text_hash``), is timestamped by one clock (``utc_now``), and the
latest judgment of an item wins while the history stays in the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError


class AppendOnlyStore:
    """A JSONL file that is only ever appended to; reading it returns every complete record."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"AppendOnlyStore({str(self.path)!r}, {len(self)} records)"

    def __len__(self) -> int:
        return len(self.read())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.read())

    def read(self) -> list[dict[str, Any]]:
        """All complete records in file order; a torn final line is warned about and skipped."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").split("\n")
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):  # no newline after it: a write that never finished
                    warnings.warn(f"{self.path}:{number}: incomplete last record skipped ({exc.msg})",
                                  stacklevel=2)
                    continue
                raise DataError(f"{self.path}:{number}: malformed JSON line: {exc.msg}") from None
            if not isinstance(record, dict):
                raise DataError(f"{self.path}:{number}: a record should be a JSON object")
            records.append(record)
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a line and flush it (and fsync it when asked) before returning."""
        self.extend([record])

    def extend(self, records: list[dict[str, Any]]) -> None:
        """Append several records, each on its own line, flushed together."""
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        with self.path.open("a+b") as f:
            self._set_torn_line_aside(f)
            f.write(text.encode("utf-8"))
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())

    def _set_torn_line_aside(self, f) -> None:
        """If the file ends mid-line (a crash during a write), move that fragment to ``.torn``."""
        end = f.seek(0, os.SEEK_END)
        if end == 0:
            return
        f.seek(end - 1)
        if f.read(1) == b"\n":
            return
        start = end
        while start > 0:  # walk back to the last newline, a block at a time
            block = min(start, 1 << 16)
            f.seek(start - block)
            cut = f.read(block).rfind(b"\n")
            if cut >= 0:
                start = start - block + cut + 1
                break
            start -= block
        f.seek(start)
        fragment = f.read()
        with open(f"{self.path}.torn", "ab") as torn:
            torn.write(fragment + b"\n")
        f.truncate(start)
        warnings.warn(f"{self.path}: an incomplete last record ({len(fragment)} bytes) was moved to "
                      f"{self.path}.torn before appending", stacklevel=3)


def text_hash(texts: Sequence[str], *, ensure_ascii: bool = False, digits: int = 64) -> str:
    """The sha256 of ``texts`` as a JSON list, in hex (its first ``digits``): names a text without copying it.

    ``ensure_ascii`` is ``json.dumps``'s option: the hash of a text with non-ASCII characters depends on
    it, so each kind of record keeps the setting its files were written with."""
    payload = json.dumps(list(texts), ensure_ascii=ensure_ascii)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:digits]


def utc_now() -> str:
    """The time a judgment is made: UTC, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JudgmentLog:
    """Resumable judgments in an :class:`AppendOnlyStore`: one record per judgment, appended the moment it
    is made; judging an item again appends a new record, and the latest one counts.

    Each record names its item in the field ``key`` and the hash of the item's text in ``hash_field``.
    Reading checks every record against the text it claims to judge, so a file can never silently refer
    to different text. ``clock`` stamps the judgments (tests pass a fixed one)."""

    def __init__(self, store: AppendOnlyStore | str | Path, *, key: str, hash_field: str,
                 clock: Callable[[], str] = utc_now) -> None:
        self.store = store if isinstance(store, AppendOnlyStore) else AppendOnlyStore(store)
        self.key, self.hash_field, self.clock = key, hash_field, clock

    def __repr__(self) -> str:
        return f"JudgmentLog({str(self.store.path)!r}, key={self.key!r})"

    @property
    def path(self) -> Path:
        """The JSONL file."""
        return self.store.path

    def read(self, expected_hash: Callable[[Any], str | None] | None = None, *,
             where: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        """The records ``where`` admits (all by default), in file order: the history, changes included.

        With ``expected_hash`` (an item's key -> the hash of its text, or None for an unknown item), a
        record of an unknown item or with another hash is a DataError."""
        records = [r for r in self.store.read() if where is None or where(r)]
        if expected_hash is not None:
            for record in records:
                self._check(record, expected_hash(record.get(self.key)))
        return records

    def latest(self, expected_hash: Callable[[Any], str | None] | None = None, *,
               where: Callable[[dict[str, Any]], bool] | None = None) -> dict[Any, dict[str, Any]]:
        """The current judgment of each judged item, by key (the last one written wins), in the order
        the items were first judged."""
        return {r[self.key]: r for r in self.read(expected_hash, where=where)}

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write one judgment (flushed before returning) and return it."""
        if self.key not in record or self.hash_field not in record:
            raise ValueError(f"a judgment needs the fields {self.key!r} and {self.hash_field!r}")
        self.store.append(record)
        return record

    def _check(self, record: dict[str, Any], expected: str | None) -> None:
        item = record.get(self.key)
        if expected is None:
            raise DataError(f"{self.path}: judgment of unknown {self.key} {item!r}")
        if record.get(self.hash_field) != expected:
            raise DataError(f"{self.path}: the judgment of {self.key} {item!r} was made on a different text "
                            f"({self.hash_field} mismatch: {record.get(self.hash_field)} != {expected}): wrong "
                            "data file or changed data")
