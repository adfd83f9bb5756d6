"""Data validity as Self-Instruct measured it: a seeded sample of 200 records, three yes/no questions per
record, shares of "yes" with 95% Wilson intervals, and Cohen's kappa between two annotators.

Annotations are appended to a JSON Lines file through ``common.store.JudgmentLog`` the moment they are
given: one line per answer, so a kernel restart loses nothing, the next session resumes at the first
unanswered record, and changing an earlier answer appends a new line (the latest wins; the history
stays). Records are referred to by their index in the data and a sha256 of their text, so an
annotation file never copies the data and notices when the data it was made on has changed.

One annotator per file: a session refuses a file that holds someone else's answers, and a session holds
the file's writer lock while it lives, so a second process cannot write it. ``latest`` and the
statistics refuse a history that mixes annotators (split it with ``by_annotator``) rather than merge
two people's answers into one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.stats import Proportion, cohen_kappa, proportion
from alpaca_lessons.common.store import JudgmentLog, WriterLock, text_hash, utc_now
from alpaca_lessons.data import Record

QUESTIONS: dict[str, str] = {
    "instruction_valid": "Does the instruction describe a valid task?",
    "input_appropriate": "Is the input appropriate for the instruction?",
    "output_correct": "Is the output a correct and acceptable response to the instruction and input?",
}
ALL_VALID = "all_valid"

# Self-Instruct (Wang et al., 2023), Table 2: 200 sampled instructions, one random instance each,
# judged by an expert author of the paper.
PUBLISHED: dict[str, float] = {"instruction_valid": 0.92, "input_appropriate": 0.79, "output_correct": 0.58,
                               ALL_VALID: 0.54}

RUBRIC_VERSION = "v1"
RUBRIC = """\
Rubric v1 for the three validity questions (answer each yes or no; add a note when unsure or when the answer
is no).

1. Does the instruction describe a valid task?
   yes: a person could understand what is asked, and a text-only language model could in principle do it.
   no:  unintelligible or self-contradictory; asks for a non-text output or an action (draw, design a logo,
        compose audio, browse a live site, set a reminder); needs real-time information (today's price);
        or is not a task at all (a fragment, an answer instead of a question).
   The instruction is judged on its own: a missing input is a question-2 problem.

2. Is the input appropriate for the instruction?
   yes: the input supplies the content the instruction refers to, is realistic and of the right kind;
        or the input is empty and the instruction is self-contained.
   no:  the instruction refers to content ("the following text", "this article") that neither the
        instruction nor the input contains; the input is a placeholder other than an empty field ("No
        input", "<noinput>." , "N/A"); it is a link or file the model cannot open; or it does not fit
        (wrong kind, contradicts the instruction).

3. Is the output a correct and acceptable response to the instruction and input?
   yes: it does what was asked, completely, with no factual or arithmetic error the annotator can find,
        and respects stated constraints (number of items, length, format, language). Style need not be
        perfect.
   no:  wrong answer or fact; ignores or breaks a constraint; truncated; empty or a placeholder
        ("<nooutput>"); answers a different task; for an impossible task, pretends to have done it.
   Facts are judged as of the data's creation (early 2023). A fact the annotator cannot check is judged
   on plausibility and flagged "unsure" in the note.
"""


def record_sha256(record: Record) -> str:
    """sha256 of a record's three fields as canonical JSON: identifies the text without copying it."""
    return text_hash([record.instruction, record.input, record.output])


@dataclass(frozen=True)
class SampleItem:
    """One record chosen for annotation: its index in the data and the hash of its text."""

    index: int
    sha256: str


def sample_for_annotation(records: Sequence[Record], n: int = 200, seed: int = 0) -> list[SampleItem]:
    """Self-Instruct's protocol: ``n`` distinct instructions drawn at random, one random instance each.

    Deterministic for a given seed and data: instructions are taken in the order they first occur, then
    sampled with ``random.Random(seed)``.
    """
    by_instruction: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        by_instruction.setdefault(record.instruction, []).append(i)
    if n > len(by_instruction):
        raise ValueError(f"asked for {n} instructions, the data has {len(by_instruction)} distinct ones")
    rng = random.Random(seed)
    chosen = rng.sample(list(by_instruction.values()), n)
    return [SampleItem(index, record_sha256(records[index])) for index in (rng.choice(group) for group in chosen)]


@dataclass(frozen=True)
class Annotation:
    """One judgment of one record, as stored (one JSON line)."""

    index: int
    sha256: str
    instruction_valid: bool
    input_appropriate: bool
    output_correct: bool
    annotator: str
    note: str = ""
    rubric: str = RUBRIC_VERSION
    time: str = ""

    @property
    def all_valid(self) -> bool:
        """Yes to all three questions."""
        return self.instruction_valid and self.input_appropriate and self.output_correct

    def answers(self) -> tuple[bool, bool, bool]:
        """The three answers in the order of ``QUESTIONS``."""
        return self.instruction_valid, self.input_appropriate, self.output_correct

    @classmethod
    def from_dict(cls, row: dict[str, Any], where: str = "") -> Annotation:
        """Parse a stored line; a missing or mistyped field is a DataError naming where."""
        try:
            annotation = cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})
        except TypeError as exc:
            raise DataError(f"{where}: not an annotation ({exc})") from None
        if not all(isinstance(a, bool) for a in annotation.answers()) or not isinstance(annotation.index, int):
            raise DataError(f"{where}: answers must be true/false and index an integer")
        return annotation


def read_annotations(path: str | Path, records: Sequence[Record] | None = None) -> list[Annotation]:
    """Every stored judgment in file order (the history, answer changes included).

    With ``records``, each judgment's hash is checked against the record at its index: an annotation
    made on different data is a DataError, never silently matched to the wrong record.
    """
    return [Annotation.from_dict(row, f"{path}: record {k + 1}")
            for k, row in enumerate(_log(path).read(None if records is None else _expected_hash(records)))]


def _log(path: str | Path, clock: Callable[[], str] = utc_now) -> JudgmentLog:
    """Where annotations live: judgments keyed by the record's index, checked by its sha256."""
    return JudgmentLog(path, key="index", hash_field="sha256", clock=clock)


def _expected_hash(records: Sequence[Record]) -> Callable[[Any], str | None]:
    """A record's index -> the hash of its text (None outside the data), computed only for judged records."""
    def expected(index: Any) -> str | None:
        ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(records)
        return record_sha256(records[index]) if ok else None
    return expected


def by_annotator(history: Sequence[Annotation]) -> dict[str, list[Annotation]]:
    """Each annotator's judgments, in file order, by annotator (in the order they first appear)."""
    split: dict[str, list[Annotation]] = {}
    for annotation in history:
        split.setdefault(annotation.annotator, []).append(annotation)
    return split


def _one_annotator(annotations: Iterable[Annotation]) -> None:
    """Refuse judgments by more than one person: their answers are never merged silently."""
    people = list(dict.fromkeys(a.annotator for a in annotations))
    if len(people) > 1:
        raise ValueError(f"annotations by {len(people)} annotators ({', '.join(map(repr, people))}): split them "
                         "with by_annotator() and use one person's at a time")


def latest(history: Sequence[Annotation]) -> dict[int, Annotation]:
    """The current answer for each record: the last judgment given wins. One annotator's history only
    (a ValueError otherwise)."""
    _one_annotator(history)
    return {a.index: a for a in history}


def answer_changes(history: Sequence[Annotation]) -> int:
    """How many judgments replaced an earlier judgment of the same record."""
    return len(history) - len(latest(history))


def parse_quick_entry(text: str) -> tuple[tuple[bool, bool, bool], str]:
    """Keyboard entry for the annotator: three y/n letters, then an optional note ("yyn wrong year")."""
    code, _, note = text.strip().partition(" ")
    code = code.lower()
    if len(code) != 3 or set(code) - {"y", "n"}:
        raise ValueError(f"type three letters y or n (instruction, input, output), then a note: got {text!r}")
    y = tuple(c == "y" for c in code)
    return (y[0], y[1], y[2]), note.strip()


class AnnotationSession:
    """Annotating a sample, one record at a time, appending every answer to a JSONL file.

    Opening a session on an existing file resumes it: ``position`` is the first record of the sample
    without an answer. A torn last line from a crash is reported (a warning) and skipped. The file is one
    annotator's: one with another annotator's answers is refused (a DataError). The session holds the
    file's :class:`WriterLock` until :meth:`close` (or until it is dropped): another process opening the
    file gets a ``LockedError`` naming this one.
    """

    def __init__(self, path: str | Path, sample: Sequence[SampleItem], records: Sequence[Record], annotator: str,
                 *, rubric: str = RUBRIC_VERSION, clock: Callable[[], str] = utc_now) -> None:
        if not annotator.strip():
            raise ValueError("say who annotates: the annotator field is required")
        self.log = _log(path, clock)
        self.sample = list(sample)
        self.records = records
        self.annotator = annotator
        self.rubric = rubric
        for item in self.sample:
            if record_sha256(records[item.index]) != item.sha256:
                raise DataError(f"sample item {item.index} does not match the data (sha256 mismatch)")
        self.lock = WriterLock(path)
        try:
            self.history = read_annotations(path, records)
            others = list(dict.fromkeys(a.annotator for a in self.history if a.annotator != annotator))
            if others:
                raise DataError(f"{path}: holds answers by {', '.join(map(repr, others))}, not {annotator!r}: "
                                "one annotator per file, so give yours its own file")
        except BaseException:
            self.lock.release()
            raise
        self.current = latest(self.history)
        first_open = self.next_unanswered(0)
        self.position = 0 if first_open is None else first_open

    def __len__(self) -> int:
        return len(self.sample)

    def close(self) -> None:
        """Release the file for other processes; answering afterwards is refused."""
        self.lock.release()

    def record(self, position: int | None = None) -> Record:
        """The record at ``position`` (default: the current one)."""
        return self.records[self.sample[self.position if position is None else position].index]

    def answer_at(self, position: int | None = None) -> Annotation | None:
        """The latest judgment of the record at ``position``, or None."""
        return self.current.get(self.sample[self.position if position is None else position].index)

    def done(self) -> int:
        """How many records of the sample have an answer."""
        return sum(item.index in self.current for item in self.sample)

    def next_unanswered(self, start: int) -> int | None:
        """The first position at or after ``start`` (wrapping round) without an answer; None when all are done."""
        for step in range(len(self.sample)):
            position = (start + step) % len(self.sample)
            if self.sample[position].index not in self.current:
                return position
        return None

    def goto(self, position: int) -> None:
        """Show another record (to review or change its answer)."""
        if not 0 <= position < len(self.sample):
            raise IndexError(f"position {position} outside the sample of {len(self.sample)}")
        self.position = position

    def answer(self, instruction_valid: bool, input_appropriate: bool, output_correct: bool, note: str = "",
               position: int | None = None) -> Annotation:
        """Record a judgment (appended and flushed at once), then move to the next unanswered record."""
        if not self.lock.held:
            raise RuntimeError(f"the session on {self.log.path} is closed: open a new one to annotate")
        position = self.position if position is None else position
        item = self.sample[position]
        annotation = Annotation(item.index, item.sha256, bool(instruction_valid), bool(input_appropriate),
                                bool(output_correct), self.annotator, note.strip(), self.rubric, self.log.clock())
        self.log.append(asdict(annotation))
        self.history.append(annotation)
        self.current[item.index] = annotation
        following = self.next_unanswered(position + 1)
        self.position = position if following is None else following
        return annotation


def validity_summary(annotations: Sequence[Annotation], confidence: float = 0.95) -> dict[str, Proportion]:
    """Share of "yes" for each question and for all three, with Wilson intervals (one judgment per record:
    pass ``latest(history).values()``; one annotator's, a ValueError otherwise)."""
    if not annotations:
        raise ValueError("no annotations to summarize")
    _one_annotator(annotations)
    n = len(annotations)
    summary = {q: proportion(sum(getattr(a, q) for a in annotations), n, confidence) for q in QUESTIONS}
    summary[ALL_VALID] = proportion(sum(a.all_valid for a in annotations), n, confidence)
    return summary


def compare_with_published(summary: dict[str, Proportion]) -> list[dict[str, str]]:
    """Rows for a table: each question, the measured share with its interval, Self-Instruct's figure, and
    whether the published figure lies inside the interval."""
    rows = []
    for key, p in summary.items():
        published = PUBLISHED[key]
        rows.append({"question": QUESTIONS.get(key, "All three fields valid"), "measured": str(p),
                     "Self-Instruct": f"{published:.0%}",
                     "inside 95% CI": "yes" if p.low <= published <= p.high else "no"})
    return rows


def kappa_by_question(a: Sequence[Annotation], b: Sequence[Annotation]) -> dict[str, tuple[int, float]]:
    """Cohen's kappa between two annotators on the records both judged (latest answers), per question
    and for "all valid": question -> (records in common, kappa). Each of ``a`` and ``b`` is one annotator's
    (a ValueError otherwise); they may be one person annotating twice."""
    first, second = latest(a), latest(b)
    common = sorted(first.keys() & second.keys())
    if not common:
        raise ValueError("the two annotation files share no record")
    result = {}
    for q in (*QUESTIONS, ALL_VALID):
        result[q] = len(common), cohen_kappa([getattr(first[i], q) for i in common],
                                             [getattr(second[i], q) for i in common])
    return result
