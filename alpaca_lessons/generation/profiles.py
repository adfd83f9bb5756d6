"""Generation profiles: everything that changes between Alpaca's run, BELLE's, and the course's Chinese variant.

* ``alpaca``: Alpaca's ``generate_instruction.py``: its parser and rules, ROUGE-L 0.7 against the growing
  pool, 5 prompts a request, ``max_tokens=3072``.
* ``belle``: BELLE's ``data/1.5M/generate_instruction.py`` (``generation.belle``): its parser and rules,
  BM25 against an index of the seeds that never grows, rejected above 18, over ``jieba`` words (the
  course's stand-in for bloomz-7b1's tokenizer); 1 prompt a request, ``max_tokens=1024``; with the chat
  API, BELLE's system message.
* ``belle-rouge``: **the course's extension, not BELLE's**: BELLE's prompt, seeds and request settings, but
  Alpaca's parser and rules adapted to Chinese (``rules.BELLE_RULES``) and Alpaca's test, ROUGE-L 0.7
  against the growing pool, over characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpaca_lessons.common.text import Tokenizer, character_tokens, jieba_tokens, rouge_tokens
from alpaca_lessons.data import SeedTask, read_seed_tasks
from alpaca_lessons.generation.belle import CHAT_SYSTEM, screen_belle_reply
from alpaca_lessons.generation.novelty import NoveltyFilter
from alpaca_lessons.generation.novelty.bm25 import BELLE_THRESHOLD, BM25Filter
from alpaca_lessons.generation.prompts import generation_prompt
from alpaca_lessons.generation.rules import ALPACA_RULES, BELLE_RULES, Rules
from alpaca_lessons.generation.screening import Screening, screen_reply


@dataclass(frozen=True)
class Profile:
    """A prompt, its seed tasks, the post-processing, the novelty test and the request settings of one recipe."""

    name: str
    prompt: str  # a variant of prompts.generation_prompt
    seeds: str  # a registry name of seed tasks
    rules: Rules  # the request labels (``rules.fmt``) and, for Alpaca's parser, its rules
    tokenizer: Tokenizer
    unescape: bool = False  # BELLE's prompt file holds literal "\n"s, and BELLE sent them as they are
    novelty: str = "rouge-l"  # "rouge-l": ROUGE-L against the growing pool; "bm25": BELLE's frozen BM25 index
    threshold: float = 0.7  # the novelty test's: ROUGE-L F above it, or BM25 above it, is rejected
    request_batch_size: int = 5  # prompts per request
    max_tokens: int = 3072  # completion tokens per prompt
    system: str | None = None  # a system message the chat API sends before each prompt

    def header(self) -> str:
        """The teacher prompt every request starts with."""
        return generation_prompt(self.prompt, unescape=self.unescape)

    def seed_tasks(self) -> list[SeedTask]:
        """The human-written seed tasks requests draw their examples from."""
        return read_seed_tasks(self.seeds)

    def novelty_filter(self, seeds: Sequence[str], generated: Sequence[str], *, threshold: float,
                       mean: bool) -> NoveltyFilter | BM25Filter:
        """The test a run's candidates face, given the seed instructions and those already generated.

        ROUGE-L: a pool of both, growing. BM25: an index of the seeds only; BELLE's index never takes a
        kept instruction, so an uninterrupted run compares with the seeds alone, and a resumed one does the same
        to decide identically (BELLE's restarted script would also index the tasks it loaded, lines 141-156)."""
        if self.novelty == "bm25":
            return BM25Filter(seeds, threshold=threshold, tokenizer=self.tokenizer, mean=mean)
        return NoveltyFilter([*seeds, *generated], threshold=threshold, tokenizer=self.tokenizer, mean=mean)

    def screen(self, text: str, finish_reason: str, first_number: int,
               novelty: NoveltyFilter | BM25Filter) -> list[Screening]:
        """One reply's post-processing and novelty test, the profile's way."""
        if self.novelty == "bm25":
            return screen_belle_reply(text, finish_reason, first_number, novelty)
        return screen_reply(text, finish_reason, first_number, self.rules, novelty)


ALPACA = Profile("alpaca", "alpaca", "seed_tasks", ALPACA_RULES, rouge_tokens)
BELLE = Profile("belle", "belle", "belle_seed_tasks", BELLE_RULES, jieba_tokens, novelty="bm25",
                threshold=BELLE_THRESHOLD, request_batch_size=1, max_tokens=1024, system=CHAT_SYSTEM)
# rouge-score's tokenizer keeps only [a-z0-9]: every Chinese instruction would be empty and score 0 against
# everything, so nothing would ever be deduplicated. Characters are the tokens that make the test real.
BELLE_ROUGE = Profile("belle-rouge", "belle", "belle_seed_tasks", BELLE_RULES, character_tokens,
                      request_batch_size=1, max_tokens=1024, system=CHAT_SYSTEM)
PROFILES = {p.name: p for p in (ALPACA, BELLE, BELLE_ROUGE)}


def get_profile(name: str) -> Profile:
    """A profile by name ('alpaca', 'belle' or 'belle-rouge')."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]
