"""The Self-Instruct novelty (ROUGE-L) filter, in three modules:

* ``filter``: the public filter (``NoveltyFilter``, ``NoveltyResult``, ``NoveltyStats``) and ``dedup``;
* ``index``: the inverted index and bounded search that make the filter fast, and its exact arithmetic
  (``lcs_length``, ``f_measure``);
* ``reference``: the pair-by-pair filter Alpaca runs (``ReferenceNoveltyFilter``, ``rouge_l``), the
  ground truth the fast one is tested against.

Import the public names from here; the tokenizers live in ``alpaca_lessons.common.text``.
"""

from alpaca_lessons.generation.novelty.filter import DedupResult, NoveltyFilter, NoveltyResult, NoveltyStats, dedup
from alpaca_lessons.generation.novelty.index import f_measure, lcs_length
from alpaca_lessons.generation.novelty.reference import ReferenceNoveltyFilter, lcs_table_length, rouge_l

__all__ = [
    "DedupResult", "NoveltyFilter", "NoveltyResult", "NoveltyStats", "ReferenceNoveltyFilter", "dedup", "f_measure",
    "lcs_length", "lcs_table_length", "rouge_l",
]
