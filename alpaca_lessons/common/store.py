"""An append-only JSON Lines store: every record is flushed to disk the moment it is written.

Generation, annotation and judging all write through it, so a crash, a kernel restart or a killed
job loses at most the record being written, and a rerun resumes from what is on disk. A torn last
line (the process died mid-write: it does not parse, or is cut inside a UTF-8 character) is reported
and skipped; any other malformed line is an error that names the file and line, because silently
dropping data in the middle of a file would hide a bug. The next append moves a torn line to
``<file>.torn`` (kept as evidence, never parsed) so that the store itself holds only complete records;
a complete last record that only lacks its newline (a file edited by hand) is kept: the append writes
the newline first.

``WriterLock`` makes a writer the only one: a run or a session holds it on its file for as long as it
lives, so a second process writing the same file is refused with a message naming the first.

``JudgmentLog`` is the one way the course keeps resumable judgments (validity annotations, blind
pairwise choices, an LLM judge's verdicts) in such a store: each record names the item it judges and a
hash of the text it was made on (``text_hash``), is timestamped by one clock (``utc_now``), and the
latest judgment of an item wins while the history stays in the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from alpaca_lessons.common.atomic import check_output
from alpaca_lessons.common.errors import DataError

try:
    import fcntl
except ImportError:  # Windows: no flock (see WriterLock)
    fcntl = None


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
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a directory, not a JSON Lines file")
        lines = self.path.read_bytes().split(b"\n")
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = _parse(line)
            except ValueError as exc:
                if number == len(lines):  # no newline after it: a write that never finished
                    warnings.warn(f"{self.path}:{number}: incomplete last record skipped ({_why(exc)})",
                                  stacklevel=2)
                    continue
                raise DataError(f"{self.path}:{number}: malformed JSON line: {_why(exc)}") from None
            if not isinstance(record, dict):
                raise DataError(f"{self.path}:{number}: a record should be a JSON object")
            records.append(record)
        return records

    def lock(self) -> WriterLock:
        """Take the writer lock on this file (see :class:`WriterLock`): hold it while writing."""
        return WriterLock(self.path)

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
        """If the file ends mid-line, end the line when it is a complete record (``read`` counts it) and
        otherwise (a crash during a write) move that fragment to ``.torn``."""
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
        try:
            _parse(fragment)
        except ValueError:
            pass
        else:
            f.write(b"\n")
            return
        with open(f"{self.path}.torn", "ab") as torn:
            torn.write(fragment + b"\n")
        f.truncate(start)
        warnings.warn(f"{self.path}: an incomplete last record ({len(fragment)} bytes) was moved to "
                      f"{self.path}.torn before appending", stacklevel=3)


def _parse(line: bytes) -> Any:
    """One stored line as JSON; a ValueError when it is not UTF-8 or not JSON."""
    return json.loads(line.decode("utf-8"))


def _why(exc: ValueError) -> str:
    """What is wrong with a line, in a few words."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return f"not UTF-8 ({exc.reason})" if isinstance(exc, UnicodeDecodeError) else str(exc)


class LockedError(DataError):
    """The file is being written by another process."""


# Locks this process holds: the lock file's resolved path -> [its open file, how many holders share it].
_held: dict[Path, list[Any]] = {}
_held_guard = threading.Lock()


class WriterLock:
    """The right to write ``path``, exclusive between processes, taken when made and held until
    :meth:`release` (or the end of a ``with`` block, or until the lock is dropped, or the process ends).

    It is an ``fcntl.flock`` on ``<path>.lock``, a file that names the holder (pid and command) while it
    is held and is removed on release. The kernel drops the lock when its process dies, even by ``kill
    -9``, so a ``.lock`` file left by a crash locks nothing: the next writer takes it over. A process
    that finds the lock taken gets a :class:`LockedError` naming the holder; it does not wait.

    Holders in one process share the lock (a notebook that runs a cell again opens a second session on
    the file while the first is still alive, and one process writes a whole line at a time): the lock is
    released when the last of them releases it. ``flock`` exists on Linux and macOS; on a platform without
    ``fcntl`` (Windows) no lock is taken, and a warning says that two processes are not kept apart.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = check_output(path)  # a folder, or a path under a file, is refused before anything is made
        self.lock_path = Path(f"{self.path}.lock")
        key = self.lock_path.resolve()
        _acquire(key, self.path)
        self._release = weakref.finalize(self, _release, key)

    def __repr__(self) -> str:
        return f"WriterLock({str(self.path)!r}, {'held' if self.held else 'released'})"

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @property
    def held(self) -> bool:
        """Whether this holder still holds the lock."""
        return self._release.alive

    def release(self) -> None:
        """Give the lock up (once; releasing again does nothing)."""
        self._release()


def _holder() -> str:
    """Who holds a lock, as the lock file records it: this process's id and its command line."""
    command = " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])
    return f"pid {os.getpid()} ({command[:200]})"


def _acquire(key: Path, path: Path) -> None:
    """Take the lock file ``key`` for ``path``, or join this process's hold on it."""
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            return
        if fcntl is None:
            warnings.warn(f"{path}: this platform has no fcntl file locks: nothing keeps a second process from "
                          "writing the same file", stacklevel=4)
            _held[key] = [None, 1]
            return
        key.parent.mkdir(parents=True, exist_ok=True)
        while True:
            f = _open_locked(key, path)
            try:  # a holder that released (and removed the file) between our open and our flock: try again
                if os.path.samestat(os.fstat(f.fileno()), os.stat(key)):
                    break
            except FileNotFoundError:
                pass
            f.close()
        f.truncate(0)
        f.write(_holder() + "\n")
        f.flush()
        _held[key] = [f, 1]


def _open_locked(key: Path, path: Path) -> IO[str]:
    """``key`` opened and locked, or a LockedError naming the process that holds it."""
    try:
        f = open(key, "a+", encoding="utf-8")  # noqa: SIM115 (held open while the lock is)
    except OSError as exc:
        raise DataError(f"{path}: cannot create its lock file {key.name} ({exc.strerror})") from None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        f.close()
        raise LockedError(f"{path} is being written by {holder}; let it finish or stop it first") from None
    return f


def _release(key: Path) -> None:
    """Leave this process's hold on ``key``; the last holder removes the file and unlocks it."""
    with _held_guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1]:
            return
        del _held[key]
        if entry[0] is not None:
            key.unlink(missing_ok=True)  # removed while still locked: a waiting opener sees a new file
            entry[0].close()


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
