"""An append-only JSON Lines store: every record is flushed to disk the moment it is written.

Generation, annotation and judging all write through it, so a crash, a kernel restart or a killed
job loses at most the record being written, and a rerun resumes from what is on disk. A torn last
line (the process died mid-write) is reported and skipped; any other malformed line is an error that
names the file and line, because silently dropping data in the middle of a file would hide a bug.
The next append moves a torn line to ``<file>.torn`` (kept as evidence, never parsed) so that the
store itself holds only complete records.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
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
