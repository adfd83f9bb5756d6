"""Splitting text into tokens and counting its length: one home for the counters every stage uses.

``rouge_tokens`` and ``character_tokens`` are the two tokenizers the ROUGE-L novelty filter compares
(English with rouge-score's, Chinese by character); ``words`` and ``characters`` are the two length
units the lessons report and the post-processing rules enforce.
"""

from __future__ import annotations

from collections.abc import Callable

from rouge_score import tokenize

Tokenizer = Callable[[str], list[str]]


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokenization: lowercase, non-alphanumerics to spaces, no stemming."""
    return tokenize.tokenize(text, None)


def character_tokens(text: str) -> list[str]:
    """One token per non-space character, for Chinese (BELLE) instructions."""
    return [c for c in text if not c.isspace()]


def words(text: str) -> int:
    """Length in whitespace-separated words (English)."""
    return len(text.split())


def characters(text: str) -> int:
    """Length in non-space characters (Chinese has no spaces between words)."""
    return sum(not c.isspace() for c in text)
