"""Splitting text into tokens and counting its length: one home for the counters every stage uses.

``rouge_tokens`` and ``character_tokens`` are the two tokenizers the ROUGE-L novelty filter compares
(English with rouge-score's, Chinese by character); ``jieba_tokens`` are the Chinese words the BELLE
profile's BM25 filter compares (the course's stand-in for bloomz-7b1's tokenizer, which cannot be
downloaded here); ``words`` and ``characters`` are the two length units the lessons report and the
post-processing rules enforce.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from rouge_score import tokenize

Tokenizer = Callable[[str], list[str]]


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokenization: lowercase, non-alphanumerics to spaces, no stemming."""
    return tokenize.tokenize(text, None)


def character_tokens(text: str) -> list[str]:
    """One token per non-space character, for Chinese (BELLE) instructions."""
    return [c for c in text if not c.isspace()]


@lru_cache(maxsize=1)
def _jieba():
    """jieba's default segmenter, its dictionary (shipped inside the package) loaded once and quietly."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces "Building prefix dict ..." on stderr otherwise
    jieba.initialize()
    return jieba


def jieba_tokens(text: str) -> list[str]:
    """Chinese words by jieba's default segmentation (dictionary + HMM), whitespace tokens dropped.

    Punctuation and ASCII words stay tokens, as they do in a subword tokenizer such as bloomz's."""
    return [token for token in _jieba().lcut(text) if not token.isspace()]


_CJK_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def is_cjk(text: str) -> bool:
    """Whether at least half of the text's letters are Chinese, Japanese or Korean (rouge-score's tokens drop
    every one of them, so such text needs ``character_tokens``)."""
    if text.isascii():
        return False
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(unicodedata.name(c, "").startswith(_CJK_SCRIPTS) for c in letters) >= len(letters) / 2


def words(text: str) -> int:
    """Length in whitespace-separated words (English)."""
    return len(text.split())


def characters(text: str) -> int:
    """Length in non-space characters (Chinese has no spaces between words)."""
    return sum(not c.isspace() for c in text)
