"""Typed records and the readers that make them, with errors that name the file, line and field.

One record format runs through the course: Alpaca's ``{instruction, input, output}`` plus optional
metadata. Every reader takes a registry name or a path to ``.json`` (a list), ``.jsonl`` (one object a
line), either of them gzipped; a ``.json`` file that holds JSON Lines (BELLE's seeds do) is read as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alpaca_lessons.common.atomic import atomic_write
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.data.registry import _BY_NAME, gunzip, locate, open_bytes


@dataclass(frozen=True)
class Row:
    """One raw JSON object and where it came from (``file:line``)."""

    where: str
    data: dict[str, Any]

    def get(self, name: str, kind: type | tuple[type, ...] = str, *, optional: bool = False) -> Any:
        """The field ``name`` checked against ``kind``; a missing or mistyped field is a DataError."""
        if name not in self.data:
            if optional:
                return None
            raise DataError(f"{self.where}: field {name!r} is missing")
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise DataError(f"{self.where}: field {name!r} should be {wanted}, got {type(value).__name__}")
        return value


@dataclass(frozen=True)
class Record:
    """An instruction-following example in Alpaca's format, with any extra fields kept in ``meta``."""

    instruction: str
    input: str = ""
    output: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Alpaca's JSON form: the three fields first, then the metadata."""
        return {"instruction": self.instruction, "input": self.input, "output": self.output, **self.meta}


@dataclass(frozen=True)
class Instance:
    """One input/output example of a seed task."""

    input: str
    output: str


@dataclass(frozen=True)
class SeedTask:
    """A human-written Self-Instruct (or BELLE) seed task."""

    id: str
    name: str
    instruction: str
    instances: tuple[Instance, ...]
    is_classification: bool

    def to_record(self) -> Record:
        """The task as Alpaca used it: its first instance, as in ``generate_instruction.py``."""
        first = self.instances[0]
        return Record(self.instruction, first.input, first.output, {"id": self.id, "name": self.name})


def _source_text(source: str | Path) -> tuple[str, str]:
    """(display name, text) for a registry name or a path; gzip is undone either way. Bytes that are not
    UTF-8 (or a damaged gzip stream) are a DataError naming the file and line."""
    if isinstance(source, str) and source in _BY_NAME:
        where, raw = str(locate(source)), open_bytes(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise DataError(f"{path}: is a directory, not a data file")
        if not path.is_file():
            raise DataError(f"{path}: no such file (and not a registry name)")
        where, raw = str(path), path.read_bytes()
        if path.suffix == ".gz":
            raw = gunzip(raw, where)
    try:
        return where, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = 1 + raw.count(b"\n", 0, exc.start)
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start:exc.end].hex(" ")
        raise DataError(f"{where}:{line}: not UTF-8 text (byte {bad} at column {column})") from None


def _list_items(text: str, where: str) -> list[Row]:
    """Parse a top-level JSON list item by item, so each row knows the line it starts on."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    line = 1 + text.count("\n", 0, pos)
    rows: list[Row] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            line += text[pos] == "\n"
            pos += 1
        if pos >= len(text):
            raise DataError(f"{where}:{line}: malformed JSON: the list is not closed with ']'")
        if text[pos] == "]":
            rest = text[pos + 1:]
            if rest.strip():
                after = line + rest[: len(rest) - len(rest.lstrip())].count("\n")
                raise DataError(f"{where}:{after}: malformed JSON: text after the closing ']' of the list")
            return rows
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}:{exc.lineno}: malformed JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(item, dict):
            raise DataError(f"{where}:{line}: item {len(rows)} should be an object, got {type(item).__name__}")
        rows.append(Row(f"{where}:{line}", item))
        line += text.count("\n", pos, end)
        pos = end


def _line_rows(lines: list[str], where: str) -> list[Row]:
    """One object per non-blank line (JSON Lines), each tagged with ``where:line``."""
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}:{number}: malformed JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(item, dict):
            raise DataError(f"{where}:{number}: should be a JSON object, got {type(item).__name__}")
        rows.append(Row(f"{where}:{number}", item))
    return rows


def read_rows(source: str | Path) -> list[Row]:
    """Every JSON object in a data file, each tagged with ``file:line`` for error messages.

    A file without a single record (empty, blank, or an empty list) is a DataError: no command has
    anything to do with it, and a count over it would divide by zero."""
    where, text = _source_text(source)
    if not text.strip():
        raise DataError(f"{where}: the file is empty: no records")
    if text.lstrip().startswith("["):
        rows = _list_items(text, where)
        if not rows:
            raise DataError(f"{where}: the list is empty: no records")
        return rows
    return _line_rows(text.splitlines(), where)


def read_records(source: str | Path) -> list[Record]:
    """Alpaca-format records; ``instruction`` and ``output`` are required, ``input`` defaults to ''."""
    records = []
    for row in read_rows(source):
        instruction, output = row.get("instruction"), row.get("output")
        text_input = row.get("input", optional=True) or ""
        if not isinstance(text_input, str):
            row.get("input")  # raises the typed error
        meta = {k: v for k, v in row.data.items() if k not in ("instruction", "input", "output")}
        records.append(Record(instruction, text_input, output, meta))
    return records


def _seed_task(row: Row) -> SeedTask:
    """One Self-Instruct-format task, its fields and every instance checked."""
    instances = []
    for j, inst in enumerate(row.get("instances", list)):
        sub = Row(f"{row.where}: instances[{j}]", inst) if isinstance(inst, dict) else None
        if sub is None:
            raise DataError(f"{row.where}: field 'instances[{j}]' should be an object")
        instances.append(Instance(sub.get("input"), sub.get("output")))
    if not instances:
        raise DataError(f"{row.where}: field 'instances' is empty")
    return SeedTask(row.get("id"), row.get("name"), row.get("instruction"), tuple(instances),
                    row.get("is_classification", bool))


def read_seed_tasks(source: str | Path = "seed_tasks") -> list[SeedTask]:
    """Self-Instruct-format seed tasks (``seed_tasks`` or ``belle_seed_tasks``, or a path)."""
    return [_seed_task(row) for row in read_rows(source)]


def parse_seed_tasks(lines: list[str], where: str = "<lines>") -> list[SeedTask]:
    """Seed tasks from JSON Lines already in memory (one task a line, blank lines skipped), checked as
    ``read_seed_tasks`` checks a file; errors name ``where`` and the line."""
    return [_seed_task(row) for row in _line_rows(list(lines), where)]


def read_text(name: str | Path) -> str:
    """A text file (a prompt, a license) exactly as stored: no newline is added or removed."""
    return _source_text(name)[1]


def write_records(records: list[Record], path: str | Path) -> Path:
    """Write records as ``.json`` (an indented list, as Alpaca's ``jdump``) or ``.jsonl``, gzipped when the
    name ends in ``.gz`` (``x.jsonl.gz``); the file appears whole or not at all (``common.atomic``)."""
    path = Path(path)
    dicts = [r.to_dict() for r in records]
    if path.name.removesuffix(".gz").endswith(".jsonl"):
        text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dicts)
    else:
        text = json.dumps(dicts, indent=4, ensure_ascii=False)
    return atomic_write(path, text)
