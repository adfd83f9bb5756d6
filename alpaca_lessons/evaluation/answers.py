"""A model's greedy answers to a list of instructions, written append-only and resumable.

Each answer is one JSON line the moment its batch is done: the record's position (``index``), a hash of its
instruction and input (``record_hash``: a rerun on other records is refused, not mixed in), the text,
whether generation ended with the end-of-sequence token (``ended``), the new tokens and the seconds per
answer (the batch's time shared out). A rerun skips what is on disk; a second writer on the same file is
refused (``common.store.WriterLock``). Prompts use Alpaca's template (``models.templates``) through
``models.infer``, greedy (temperature 0), so a rerun on the same machine gives the same text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from time import perf_counter
from typing import Any

from tqdm.auto import tqdm

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import Record

MAX_NEW_TOKENS = 128
_FIELDS: dict[str, type | tuple[type, ...]] = {"index": int, "record_hash": str, "answer": str, "ended": bool,
                                                "new_tokens": int, "seconds": (int, float)}


def record_hash(record: Record) -> str:
    """A short hash of a record's instruction and input: what an answer was an answer to."""
    return hashlib.sha256(f"{record.instruction}\n{record.input}".encode()).hexdigest()[:16]


def answer_store(folder: str | Path, model: str) -> AppendOnlyStore:
    """The answers file of ``model`` under ``folder``: ``<folder>/answers/<model>.jsonl``."""
    return AppendOnlyStore(Path(folder) / "answers" / f"{model}.jsonl")


def read_answers(store: AppendOnlyStore, records: Sequence[Record]) -> dict[int, dict[str, Any]]:
    """The stored answers by record index. A line with a missing or mistyped field, an index outside
    ``records`` or an answer to another record (its hash differs) is a DataError naming file, record and
    field; the last answer to an index wins."""
    answers = {}
    for k, answer in enumerate(store.read(), start=1):
        where = f"{store.path}: record {k}"
        for name, kind in _FIELDS.items():
            value = answer.get(name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise DataError(f"{where}: field {name!r} should be {getattr(kind, '__name__', 'a number')}, "
                                f"got {value!r}")
        index = answer["index"]
        if not 0 <= index < len(records):
            raise DataError(f"{where}: field 'index' is {index}, outside the {len(records)} records")
        if answer["record_hash"] != record_hash(records[index]):
            raise DataError(f"{where}: field 'record_hash' does not match record {index}'s instruction and "
                            "input: answers to other records (another split or order)")
        answers[index] = answer
    return answers


def generate_answers(model_dir: str | Path, records: Sequence[Record], store: AppendOnlyStore, *,
                     max_new_tokens: int = MAX_NEW_TOKENS, batch_size: int = 16, device: str = "cpu",
                     progress: bool = True) -> dict[int, dict[str, Any]]:
    """Greedy answers of the model in ``model_dir`` to every record not yet answered in ``store``, appended
    batch by batch under the store's writer lock; returns all answers by index. Nothing is loaded when
    every record already has its answer (nor imported: torch loads here, so reading answers and the command
    line's start stay light)."""
    from alpaca_lessons.models.infer import generate, load

    done = read_answers(store, records)
    if len(done) == len(records):
        return done
    with store.lock():
        done = read_answers(store, records)  # again under the lock: another run may have written meanwhile
        todo = [i for i in range(len(records)) if i not in done]
        model, tokenizer = load(model_dir, device)
        batches = [todo[s:s + batch_size] for s in range(0, len(todo), batch_size)]
        for batch in tqdm(batches, desc=f"answering ({Path(model_dir).name})", unit="batch", disable=not progress):
            start = perf_counter()
            outputs = generate(model, tokenizer, [records[i] for i in batch], batch_size=len(batch),
                               max_new_tokens=max_new_tokens, temperature=0, progress=False)
            seconds = (perf_counter() - start) / len(batch)
            rows = [{"index": i, "record_hash": record_hash(records[i]), "answer": out.text, "ended": out.ended,
                     "new_tokens": len(out.token_ids), "seconds": round(seconds, 4)}
                    for i, out in zip(batch, outputs, strict=True)]
            store.extend(rows)
            done.update((row["index"], row) for row in rows)
    return done


def side_by_side(folder: str | Path, models: Sequence[str], records: Sequence[Record], indices: Sequence[int],
                 *, width: int = 200) -> str:
    """The stored answers of ``models`` to the records at ``indices``, one block per record, for reading."""
    answers = {m: read_answers(answer_store(folder, m), records) for m in models}
    blocks = []
    for i in indices:
        record = records[i]
        lines = [f"[{i}] {record.instruction}" + (f"\n     input: {record.input}" if record.input else "")]
        for m in models:
            answer = answers[m].get(i)
            text = "(not answered)" if answer is None else (answer["answer"] or "(empty)")
            stop = "" if answer is None else ("  </s>" if answer["ended"] else "  ... (hit the token limit)")
            lines.append(f"  {m:>9}: {text[:width]!r}{stop}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
