"""Models that answer by a rule over the prompt's text, such as lesson 08's baseline judge.

The rule is any callable from the prompt to the reply; the command line builds lesson 08's from
``evaluation.llm_judge.LengthJudge`` (``alpaca-lessons teacher serve --model length-baseline``).

A rule is a function from the prompt to the reply: no network and no sampling, so ``draw`` changes
nothing. Tokens are whitespace-separated words: a rule bills nothing, and the count only feeds the
client's usage accounting. A chat conversation is read as its messages' contents one after another
(the system message included); ``stop`` and ``max_tokens`` end a reply as they do for any model here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from alpaca_lessons.generation.teacher.base import Completion, PromptError, Sampling, cut_at_stop

_WORD = re.compile(r"\S+")


class RuleModel:
    """``rule(prompt) -> reply`` served as the model ``name``; a ValueError from the rule is a 400."""

    context = 2**31 - 1  # a rule reads a prompt of any length: no window to run out of

    def __init__(self, name: str, description: str, rule: Callable[[str], str]) -> None:
        self.name, self.description, self.rule = name, description, rule

    def __repr__(self) -> str:
        return f"RuleModel({self.name!r})"

    def count_tokens(self, text: str) -> int:
        """Whitespace-separated words."""
        return len(text.split())

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The messages' contents, one after another, a blank line apart."""
        return "\n\n".join(str(m.get("content") or "") for m in messages)

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """The rule's reply, cut at the first stop sequence, then after ``max_tokens`` words ("length")."""
        try:
            reply = self.rule(prompt)
        except ValueError as exc:
            raise PromptError(f"{self.name}: {exc}") from None
        text, _ = cut_at_stop(reply, sampling.stop)
        words = list(_WORD.finditer(text))
        if len(words) > sampling.max_tokens:
            return Completion(text[: words[sampling.max_tokens - 1].end()], "length", sampling.max_tokens)
        return Completion(text, "stop", len(words))

