"""The reference novelty filter: every candidate scored against the whole pool, pair by pair, as Alpaca's
``generate_instruction.py`` does with rouge-score.

``rouge_l`` is rouge-score's ``rougeL`` F-measure written out: the same dynamic-programming LCS table
as rouge-score (so the same cost, about 20 us a pair: 7.8 hours for Alpaca's 52K) and the same float
operations, so its scores are float-equal to ``RougeScorer(["rougeL"]).score`` (a test pins them on real
instructions). It is the ground truth the fast ``NoveltyFilter`` is tested and benchmarked against, and
shares none of its LCS code (only rouge-score's F formula, ``index.f_measure``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from alpaca_lessons.common.text import Tokenizer, rouge_tokens
from alpaca_lessons.generation.novelty.filter import NoveltyResult
from alpaca_lessons.generation.novelty.index import f_measure


def lcs_table_length(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the longest common subsequence of two sequences, from the full ``len(a) x len(b)`` table,
    built cell by cell as rouge-score builds it (so the reference costs what Alpaca's filter cost)."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def rouge_l(a: Sequence[str], b: Sequence[str]) -> float:
    """ROUGE-L F-measure of two token sequences, exactly as rouge-score computes it (``a`` is the
    target, ``b`` the prediction; the value is symmetric)."""
    if not a or not b:
        return 0.0
    return f_measure(lcs_table_length(a, b), len(b), len(a))


class ReferenceNoveltyFilter:
    """A growing pool of instructions and the ROUGE-L test a newcomer must pass to join it.

    Reference implementation: scores the candidate against the whole pool, as Alpaca does. Quadratic;
    kept as the ground truth the fast ``NoveltyFilter`` is tested against.
    """

    def __init__(self, pool: Iterable[str] = (), *, threshold: float = 0.7, tokenizer: Tokenizer = rouge_tokens,
                 top_k: int = 10, mean: bool = False) -> None:
        self.threshold = threshold
        self.tokenizer = tokenizer
        self.top_k = top_k
        self.mean = mean
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
        keep = best <= self.threshold
        mean = float(np.mean(scores)) if self.mean and keep and scores else None  # as Alpaca computes it
        return NoveltyResult(keep, best, [(self.instructions[i], scores[i]) for i in ranked], mean)

    def consider(self, candidate: str) -> NoveltyResult:
        """Check ``candidate`` and, if it is novel enough, add it to the pool."""
        result = self.check(candidate)
        if result.keep:
            self.add(candidate)
        return result
