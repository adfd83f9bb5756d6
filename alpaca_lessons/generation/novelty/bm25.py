"""BELLE's novelty test: Okapi BM25 of a new instruction against an index built once, rejected above 18.

BELLE's ``data/1.5M/generate_instruction.py`` (LianjiaTech/BELLE @ 645084d) imports
``from gensim.summarization import bm25`` (line 25), tokenizes the seeds and the instructions already
generated with bloomz-7b1's tokenizer (lines 152-155), builds ``bm25.BM25(all_instruction_tokens)`` once
(line 156), scores each new instruction with ``get_scores`` (line 198) and drops it if
``max(scores) > 18`` (line 203). A kept instruction is appended to the token list (line 211), but the
BM25 object copied its statistics at construction, so **it never enters the index**: within a run, new
instructions are compared with the index of the start only, not with each other.

``BM25Index`` is the scoring of gensim 3.8's ``gensim.summarization.bm25.BM25`` (the module was removed
in gensim 4, and gensim is not installed here: this is written from that module's source). With ``N``
documents, ``df(t)`` of them holding token ``t``,
``idf(t) = ln(N - df + 0.5) - ln(df + 0.5)``, a negative idf replaced by ``0.25 x`` the mean idf, and

    score(q, d) = sum over the query's tokens t (repeats included) of
                  idf(t) * f(t, d) * (k1 + 1) / (f(t, d) + k1 * (1 - b + b * |d| / avgdl)),

with ``k1 = 1.5`` and ``b = 0.75``. Scores are unbounded sums, so 18 means something only for the
tokenizer it was tuned with (bloomz-7b1's); ``jieba_tokens`` is the course's stand-in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from alpaca_lessons.common.text import Tokenizer, jieba_tokens
from alpaca_lessons.generation.novelty.filter import NoveltyResult

K1 = 1.5  # gensim 3.8's PARAM_K1
B = 0.75  # gensim 3.8's PARAM_B
EPSILON = 0.25  # gensim 3.8's EPSILON: the floor of a negative idf, as a share of the mean idf
BELLE_THRESHOLD = 18.0  # generate_instruction.py line 203: ``if max(rouge_scores) > 18: continue``


class BM25Index:
    """Okapi BM25 over a fixed list of tokenized documents (gensim 3.8's arithmetic)."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = K1, b: float = B,
                 epsilon: float = EPSILON) -> None:
        if not documents:
            raise ValueError("a BM25 index needs at least one document")
        self.size = len(documents)
        self.k1 = k1
        self.frequencies = [Counter(doc) for doc in documents]
        average_length = sum(len(doc) for doc in documents) / self.size
        # the per-document constant of the denominator: k1 * (1 - b + b * |d| / avgdl)
        self.norms = [k1 * (1 - b + b * len(doc) / average_length) for doc in documents]
        document_counts = Counter(token for freq in self.frequencies for token in freq)
        self.idf = {t: math.log(self.size - n + 0.5) - math.log(n + 0.5) for t, n in document_counts.items()}
        floor = epsilon * sum(self.idf.values()) / len(self.idf)
        self.idf = {t: (floor if v < 0 else v) for t, v in self.idf.items()}
        self.postings: dict[str, list[int]] = {}
        for i, freq in enumerate(self.frequencies):
            for token in freq:
                self.postings.setdefault(token, []).append(i)

    def scores(self, query: Iterable[str]) -> list[float]:
        """The score of ``query`` against every document, in index order."""
        scores = [0.0] * self.size
        for token in query:
            for i in self.postings.get(token, ()):
                f = self.frequencies[i][token]
                scores[i] += self.idf[token] * f * (self.k1 + 1) / (f + self.norms[i])
        return scores


class BM25Filter:
    """BELLE's test: keep a candidate whose highest BM25 score against the index is at most ``threshold``.

    The index is built once from ``indexed`` (the seeds) and never grows, as in BELLE's script: kept
    candidates are listed in ``kept`` but not indexed. ``consider`` returns the same ``NoveltyResult`` the
    ROUGE-L filter does: the decision, the top score, the ``top_k`` most similar indexed instructions
    (ties in index order) and, with ``mean``, the mean score over the index (BELLE's avg_similarity_score).
    """

    metric = "BM25"

    def __init__(self, indexed: Iterable[str], *, threshold: float = BELLE_THRESHOLD,
                 tokenizer: Tokenizer = jieba_tokens, top_k: int = 10, mean: bool = True) -> None:
        self.instructions = list(indexed)
        self.threshold, self.tokenizer, self.top_k, self.mean = threshold, tokenizer, top_k, mean
        self.index = BM25Index([tokenizer(text) for text in self.instructions])
        self.kept: list[str] = []

    def __len__(self) -> int:
        return len(self.instructions)

    def check(self, candidate: str) -> NoveltyResult:
        """Score ``candidate`` against the index."""
        scores = self.index.scores(self.tokenizer(candidate))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[: self.top_k]
        best = max(scores)
        mean = sum(scores) / len(scores) if self.mean else None
        return NoveltyResult(best <= self.threshold, best, [(self.instructions[i], scores[i]) for i in order], mean)

    def consider(self, candidate: str) -> NoveltyResult:
        """Check ``candidate``; a kept one is remembered in ``kept`` (not indexed, as in BELLE)."""
        result = self.check(candidate)
        if result.keep:
            self.kept.append(candidate)
        return result
