"""The Self-Instruct novelty filter: keep a new instruction only if its ROUGE-L F-measure against every
instruction already in the pool is at most a threshold (0.7 in Alpaca).

Scores are rouge-score's ``rougeL`` F-measure (default tokenizer, no stemmer), the same function
Alpaca's ``generate_instruction.py`` calls. The tokenizer is pluggable: rouge-score's default keeps
only ``[a-z0-9]`` tokens, so Chinese text needs ``character_tokens`` (both in ``common.text``).

``NoveltyFilter`` finds the same decisions, maximum scores and top-k lists as the pair-by-pair
``ReferenceNoveltyFilter`` (``novelty.reference``) while computing very few LCS, through the inverted
index and score bounds of ``novelty.index``. ``top_k=0`` (decision and maximum only) prunes harder
than ``top_k=10``: the bar is the best score rather than the tenth best. The benchmark
(``benchmarks/novelty_benchmark.py``) times both.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from alpaca_lessons.common.text import Tokenizer, rouge_tokens
from alpaca_lessons.data import Record
from alpaca_lessons.generation.novelty.index import PoolIndex


@dataclass(frozen=True)
class NoveltyResult:
    """The decision for one candidate and the evidence for it."""

    keep: bool
    max_score: float
    most_similar: list[tuple[str, float]] = field(default_factory=list)  # best first
    mean_score: float | None = None  # over the whole pool (Alpaca's avg_similarity_score), when asked for


@dataclass
class NoveltyStats:
    """Where the fast filter's work went, counted in (candidate, pool entry) pairs."""

    candidates: int = 0
    pairs: int = 0  # every pair the reference would score
    overlaps: int = 0  # pairs whose token overlap was counted (the rest were ruled out by the index)
    lcs: int = 0  # pairs whose LCS was computed

    @property
    def without_lcs(self) -> int:
        """Pairs decided from the index and the bounds alone."""
        return self.pairs - self.lcs


class NoveltyFilter:
    """A growing pool of instructions and the ROUGE-L test a newcomer must pass to join it.

    Same interface and float-equal results as ``ReferenceNoveltyFilter`` (decisions, ``max_score``,
    the exact ``top_k`` with ties in pool order), found with an inverted index and overlap bounds so
    that most pairs never need an LCS. ``top_k=0`` returns no list and is faster still: only the
    decision and the maximum must be exact. ``stats`` counts the pairs that needed work.

    ``mean=True`` also gives each kept candidate its mean score over the whole pool (Alpaca's
    ``avg_similarity_score``). No bound helps there: every entry that shares a token needs its LCS, so it
    costs far more than the decision (fine for thousands of instructions, minutes at 52K).
    """

    def __init__(self, pool: Iterable[str] = (), *, threshold: float = 0.7, tokenizer: Tokenizer = rouge_tokens,
                 top_k: int = 10, mean: bool = False) -> None:
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        self.threshold = threshold
        self.tokenizer = tokenizer
        self.top_k = top_k
        self.mean = mean
        self.instructions: list[str] = []
        self._index = PoolIndex()
        self._candidates = 0
        self._pairs = 0
        self._last: tuple[str, list[str]] | None = None  # consider() = check() + add(): tokenize once
        for instruction in pool:
            self.add(instruction)

    def __len__(self) -> int:
        return len(self.instructions)

    @property
    def stats(self) -> NoveltyStats:
        """The work done so far, over every candidate checked."""
        return NoveltyStats(self._candidates, self._pairs, self._index.overlaps_counted, self._index.lcs_computed)

    def add(self, instruction: str) -> None:
        """Put an instruction into the pool unconditionally (seeds, or a resumed run's kept tasks)."""
        self.instructions.append(instruction)
        self._index.add(self._tokenize(instruction))

    def check(self, candidate: str) -> NoveltyResult:
        """Score ``candidate`` against the pool without adding it."""
        tokens = self._tokenize(candidate)
        self._candidates += 1
        self._pairs += len(self.instructions)
        entries, scores = self._index.top(tokens, max(self.top_k, 1))
        best = float(scores[0]) if len(scores) else 0.0
        similar = [(self.instructions[i], float(s)) for i, s in zip(entries.tolist(), scores.tolist(), strict=True)]
        keep = best <= self.threshold
        mean = self._index.total_score(tokens) / len(self) if self.mean and keep and self.instructions else None
        return NoveltyResult(keep, best, similar[: self.top_k], mean)

    def consider(self, candidate: str) -> NoveltyResult:
        """Check ``candidate`` and, if it is novel enough, add it to the pool."""
        result = self.check(candidate)
        if result.keep:
            self.add(candidate)
        return result

    def _tokenize(self, text: str) -> list[str]:
        if self._last is not None and self._last[0] == text:
            return self._last[1]
        tokens = self.tokenizer(text)
        self._last = (text, tokens)
        return tokens


@dataclass
class DedupResult:
    """What ``dedup`` kept, with the evidence, and how long it took."""

    kept: list[Record]
    rejected: int
    seconds: float
    stats: NoveltyStats


def dedup(records: Iterable[Record], seeds: Iterable[str], *, threshold: float = 0.7, top_k: int = 10,
          tokenizer: Tokenizer = rouge_tokens, mean: bool = False, progress: bool = False) -> DedupResult:
    """Run the novelty filter over ``records`` in order, the pool starting from ``seeds``.

    Each kept record gains Alpaca's ``most_similar_instructions`` (instruction -> score, best first;
    empty with ``top_k=0``) and ``max_similarity``, the fields the generation pipeline writes, and with
    ``mean`` Alpaca's ``avg_similarity_score``. ``progress`` shows a tqdm bar.
    """
    records = list(records)
    novelty = NoveltyFilter(seeds, threshold=threshold, tokenizer=tokenizer, top_k=top_k, mean=mean)
    kept: list[Record] = []
    start = time.perf_counter()
    for record in tqdm(records, desc="dedup", unit="instr", mininterval=0.5, disable=not progress):
        result = novelty.consider(record.instruction)
        if result.keep:
            evidence = {"most_similar_instructions": dict(result.most_similar),
                        **({"avg_similarity_score": result.mean_score} if result.mean_score is not None else {}),
                        "max_similarity": result.max_score}
            kept.append(Record(record.instruction, record.input, record.output, {**record.meta, **evidence}))
    return DedupResult(kept, len(records) - len(kept), time.perf_counter() - start, novelty.stats)
