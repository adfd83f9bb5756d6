"""An append-only JSON Lines store: every record is flushed to disk the moment it is written.

Generation, annotation and judging all write through it, so a crash, a kernel restart or a killed
job loses at most the record being written, and a rerun resumes from what is on disk. A torn last
line (the process died mid-write) is reported and skipped when reading, and cut off before the next
append, so a resumed job never buries it mid-file; any other malformed line is an error that names the
file and line, because silently dropping data in the middle of a file would hide a bug.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .data.registry import DataError


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
        with self.path.open("r+b" if self.path.exists() else "w+b") as f:
            self._drop_torn_tail(f)
            f.seek(0, os.SEEK_END)
            f.write(text.encode("utf-8"))
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())

    def _drop_torn_tail(self, f) -> None:
        """Cut a torn last line (a write that never finished) before appending after it.

        Gluing new records onto it, or starting a fresh line after it, would leave a malformed line in
        the middle of the file, which ``read`` rightly refuses; the torn record was never complete, so
        dropping it loses nothing that was ever stored.
        """
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        position, chunk = size, b""
        while position > 0 and b"\n" not in chunk:
            step = min(65536, position)
            position -= step
            f.seek(position)
            chunk = f.read(step)
        keep = position + chunk.rfind(b"\n") + 1 if b"\n" in chunk else 0
        warnings.warn(f"{self.path}: torn last record ({size - keep} bytes, no newline) dropped before appending",
                      stacklevel=3)
        f.truncate(keep)
