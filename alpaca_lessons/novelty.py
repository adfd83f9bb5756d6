"""The Self-Instruct novelty filter: keep a new instruction only if its ROUGE-L F-measure against every
instruction already in the pool is at most a threshold (0.7 in Alpaca).

Scores are rouge-score's ``rougeL`` F-measure (default tokenizer, no stemmer), the same function
Alpaca's ``generate_instruction.py`` calls. The tokenizer is pluggable: rouge-score's default keeps
only ``[a-z0-9]`` tokens, so Chinese text needs ``character_tokens``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rouge_score import rouge_scorer, tokenize

Tokenizer = Callable[[str], list[str]]


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokenization: lowercase, non-alphanumerics to spaces, no stemming."""
    return tokenize.tokenize(text, None)


def character_tokens(text: str) -> list[str]:
    """One token per non-space character, for Chinese (BELLE) instructions."""
    return [c for c in text if not c.isspace()]


def rouge_l(a: Sequence[str], b: Sequence[str]) -> float:
    """ROUGE-L F-measure of two token sequences, exactly as rouge-score computes it."""
    return rouge_scorer._score_lcs(list(a), list(b)).fmeasure


@dataclass(frozen=True)
class NoveltyResult:
    """The decision for one candidate and the evidence for it."""

    keep: bool
    max_score: float
    most_similar: list[tuple[str, float]] = field(default_factory=list)  # best first


class NoveltyFilter:
    """A growing pool of instructions and the ROUGE-L test a newcomer must pass to join it.

    Reference implementation: scores the candidate against the whole pool with rouge-score.
    """

    def __init__(self, pool: Iterable[str] = (), *, threshold: float = 0.7, tokenizer: Tokenizer = rouge_tokens,
                 top_k: int = 10) -> None:
        self.threshold = threshold
        self.tokenizer = tokenizer
        self.top_k = top_k
        self.instructions: list[str] = []
        self._tokens: list[list[str]] = []
        for instruction in pool:
            self.add(instruction)

    def __len__(self) -> int:
        return len(self.instructions)

    def add(self, instruction: str) -> None:
        """Put an instruction into the pool unconditionally (seeds, or a resumed run's kept tasks)."""
        self.instructions.append(instruction)
        self._tokens.append(self.tokenizer(instruction))

    def check(self, candidate: str) -> NoveltyResult:
        """Score ``candidate`` against the pool without adding it."""
        tokens = self.tokenizer(candidate)
        scores = [rouge_l(tokens, other) for other in self._tokens]
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: self.top_k]
        best = max(scores, default=0.0)
        return NoveltyResult(best <= self.threshold, best, [(self.instructions[i], scores[i]) for i in ranked])

    def consider(self, candidate: str) -> NoveltyResult:
        """Check ``candidate`` and, if it is novel enough, add it to the pool."""
        result = self.check(candidate)
        if result.keep:
            self.add(candidate)
        return result
