"""Blind pairwise judging: a seeded sample of pairs, each shown as answer A and answer B in a seeded
left/right order with the systems hidden, every choice appended to a :class:`JudgmentLog` the moment it
is made, and the systems revealed only when every item is judged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, WriterLock, utc_now
from alpaca_lessons.evaluation.metrics import WinRate, win_rate_of
from alpaca_lessons.evaluation.pairs import FIRST, SECOND, TIE, Pair, pair_hashes, pair_log

# The course's shipped blind judgments: this many of the 805 GPT-4 pairs, drawn with this seed, which
# also seeds the side order (data/annotations/pairwise_<annotator>.jsonl).
COURSE_SAMPLE_SIZE, COURSE_SEED = 60, 0

RUBRIC_VERSION = "v1"
RUBRIC_V1 = """\
Rubric v1 for blind pairwise judgments. Read the instruction, then answer A and answer B in full.
Prefer the answer that
  1. does what the instruction asks: the task, its constraints, and the given input;
  2. is correct: no factual, arithmetic or logical errors, nothing invented;
  3. is complete and useful to the person who asked, without padding (length is no merit in itself);
  4. is clear and well organised.
The criteria are applied in order: a clear difference on an earlier one decides. Choose "tie" when
neither answer is better on any criterion, or both fail the task equally. Judge the text alone: the
systems are hidden, and their identity is not to be guessed."""



CHOICES = ("A", "B", "tie")


@dataclass(frozen=True)
class BlindItem:
    """A pair as a judge sees it: the instruction and two answers, A (left) and B (right), no names.

    ``swapped`` records the seeded side draw: when True, A shows ``output_2``."""

    pair: Pair
    swapped: bool

    @property
    def answer_a(self) -> str:
        """The text shown on the left."""
        return self.pair.output_2 if self.swapped else self.pair.output_1

    @property
    def answer_b(self) -> str:
        """The text shown on the right."""
        return self.pair.output_1 if self.swapped else self.pair.output_2

    def preference(self, choice: str) -> int:
        """Turn a blind choice (A, B, tie) into a preference for output 1 or 2 (0 for a tie)."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}, got {choice!r}")
        if choice == "tie":
            return TIE
        return (SECOND if self.swapped else FIRST) if choice == "A" else (FIRST if self.swapped else SECOND)

    def text(self) -> str:
        """The item exactly as a judge reads it (no system names)."""
        return (f"INSTRUCTION\n{self.pair.instruction}\n\n=== ANSWER A ===\n{self.answer_a}\n\n"
                f"=== ANSWER B ===\n{self.answer_b}")


def blind_items(pairs: Sequence[Pair], seed: int, *, balanced: bool = False) -> list[BlindItem]:
    """The pairs in a seeded random order, each with a seeded left/right draw.

    Each pair's side depends only on ``seed`` and its id, so it stays the same when the list of pairs
    grows or is reordered; the order of presentation is one shuffle of the list. With ``balanced`` the
    sides are instead a seeded shuffle of exactly half the pairs swapped (one more unswapped when the count
    is odd): on 20 pairs a coin per pair leaves one system on the left 14 times or more in about 1 draw in
    9, which a judge's position bias would turn into a system preference. Each side then depends on the
    whole list of pairs, which must stay fixed."""
    if balanced:
        sides = [i < len(pairs) // 2 for i in range(len(pairs))]
        random.Random(f"{seed}:sides").shuffle(sides)
    else:
        sides = [random.Random(f"{seed}:side:{p.id}").random() < 0.5 for p in pairs]
    items = [BlindItem(p, swapped) for p, swapped in zip(pairs, sides, strict=True)]
    random.Random(f"{seed}:order").shuffle(items)
    return items


def sample_pairs(pairs: Sequence[Pair], k: int, seed: int) -> list[Pair]:
    """``k`` distinct pairs drawn with ``random.Random(seed)``, in the order drawn."""
    return random.Random(seed).sample(list(pairs), k)


class BlindSession:
    """One annotator's blind judging of a set of pairs, appended to a :class:`JudgmentLog` the moment each
    judgment is made.

    The store may hold several annotators' judgments; a session sees only its own. A restarted session
    resumes with the first item not yet judged; judging a pair again replaces the earlier verdict (the old
    line stays in the file, the last one counts). System names stay hidden until every item is judged.
    The session holds the store's :class:`WriterLock` until :meth:`close` (or until it is dropped): another
    process opening the store gets a ``LockedError`` naming this one. ``balanced`` swaps exactly half the
    pairs (see :func:`blind_items`).
    """

    def __init__(self, pairs: Sequence[Pair], store: AppendOnlyStore | str | Path, annotator: str, *,
                 seed: int = 0, balanced: bool = False, rubric: str = RUBRIC_VERSION,
                 clock: Callable[[], str] = utc_now) -> None:
        if not annotator.strip():
            raise ValueError("say who judges: the annotator may not be empty")
        self.items = blind_items(pairs, seed, balanced=balanced)
        self.log = pair_log(store, clock)
        self.annotator, self.seed, self.rubric = annotator, seed, rubric
        self._by_id = {item.pair.id: item for item in self.items}
        self.lock = WriterLock(self.log.path)
        try:
            self._done = self._resume(pairs)
        except BaseException:
            self.lock.release()
            raise

    def _resume(self, pairs: Sequence[Pair]) -> dict[str, dict[str, Any]]:
        """This annotator's latest judgment of each pair in the store, checked against the session's pairs."""
        annotator = self.annotator
        mine = self.log.read(pair_hashes(pairs), where=lambda r: r.get("annotator") == annotator
                             and r.get("pair_id") in self._by_id)
        for record in mine:
            if record.get("swapped") != self._by_id[record["pair_id"]].swapped:
                raise DataError(f"{self.log.path}: {record['pair_id']} was shown with the other side order; "
                                "the session's seed differs from the one the judgments were made with")
        return {record["pair_id"]: record for record in mine}

    def close(self) -> None:
        """Release the store for other processes; recording afterwards is refused."""
        self.lock.release()

    @property
    def done(self) -> int:
        """Items judged so far."""
        return len(self._done)

    @property
    def total(self) -> int:
        """Items in the session."""
        return len(self.items)

    @property
    def finished(self) -> bool:
        """Whether every item has a judgment."""
        return self.done == self.total

    def pending(self) -> list[BlindItem]:
        """Items not judged yet, in presentation order."""
        return [item for item in self.items if item.pair.id not in self._done]

    def current(self) -> BlindItem | None:
        """The next item to judge, or None when finished."""
        pending = self.pending()
        return pending[0] if pending else None

    def record(self, pair_id: str, choice: str, reason: str = "") -> dict[str, Any]:
        """Record a blind choice for ``pair_id`` and append it to the log before returning it."""
        if not self.lock.held:
            raise RuntimeError(f"the session on {self.log.path} is closed: open a new one to judge")
        item = self._by_id.get(pair_id)
        if item is None:
            raise DataError(f"{self.log.path}: unknown pair id {pair_id!r}: not one of this session's "
                            f"{self.total} pairs (`show` lists the pending ones)")
        record = {
            "pair_id": pair_id, "pair_hash": item.pair.text_hash, "annotator": self.annotator,
            "rubric": self.rubric, "seed": self.seed, "swapped": item.swapped, "choice": choice,
            "preference": item.preference(choice), "reason": reason.strip(), "judged_at": self.log.clock(),
        }
        self._done[pair_id] = self.log.append(record)
        return record

    def judgments(self) -> list[dict[str, Any]]:
        """This annotator's latest judgment of each judged pair, in presentation order."""
        return [self._done[item.pair.id] for item in self.items if item.pair.id in self._done]

    def reveal(self) -> dict[str, WinRate]:
        """The win rate of each system, by name; refused until every item is judged (blind until the end)."""
        if not self.finished:
            raise RuntimeError(f"{self.total - self.done} items left: system names stay hidden until the end")
        prefs = [j["preference"] for j in self.judgments()]
        first = self.items[0].pair
        return {first.system_2: win_rate_of(prefs, SECOND), first.system_1: win_rate_of(prefs, FIRST)}


def read_judgments(path: str | Path, pairs: Sequence[Pair]) -> dict[str, list[dict[str, Any]]]:
    """Judgments in a store, by annotator (each annotator's latest per pair), checked against the pairs'
    text hashes so a file can never silently refer to different text."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for record in pair_log(path).read(pair_hashes(pairs)):
        found.setdefault(record["annotator"], {})[record["pair_id"]] = record
    return {annotator: list(records.values()) for annotator, records in found.items()}
