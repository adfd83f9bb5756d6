"""Language profiles: everything that changes between Alpaca's English run and BELLE's Chinese one."""

from __future__ import annotations

from dataclasses import dataclass

from alpaca_lessons.common.text import Tokenizer, character_tokens, rouge_tokens
from alpaca_lessons.data import SeedTask, read_seed_tasks
from alpaca_lessons.generation.prompts import generation_prompt
from alpaca_lessons.generation.rules import ALPACA_RULES, BELLE_RULES, Rules


@dataclass(frozen=True)
class Profile:
    """A prompt, its seed tasks, the post-processing rules, and the tokens the novelty filter compares."""

    name: str
    prompt: str  # a variant of prompts.generation_prompt
    seeds: str  # a registry name of seed tasks
    rules: Rules
    tokenizer: Tokenizer
    unescape: bool = False  # BELLE's prompt file holds literal "\n"s, and BELLE sent them as they are

    def header(self) -> str:
        """The teacher prompt every request starts with."""
        return generation_prompt(self.prompt, unescape=self.unescape)

    def seed_tasks(self) -> list[SeedTask]:
        """The human-written seed tasks requests draw their examples from."""
        return read_seed_tasks(self.seeds)


ALPACA = Profile("alpaca", "alpaca", "seed_tasks", ALPACA_RULES, rouge_tokens)
# rouge-score's tokenizer keeps only [a-z0-9]: every Chinese instruction would be empty and score 0 against
# everything, so nothing would ever be deduplicated. Characters are the tokens that make the test real.
BELLE = Profile("belle", "belle", "belle_seed_tasks", BELLE_RULES, character_tokens)
PROFILES = {p.name: p for p in (ALPACA, BELLE)}


def get_profile(name: str) -> Profile:
    """A profile by name ('alpaca' or 'belle')."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]
