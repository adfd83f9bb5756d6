"""The offline teacher for the Self-Instruct profile: real text where there is some, a stated rule where not.

No GPT-3 Self-Instruct generation is available offline (its 82K file is not in the data mirror), so this
model answers Self-Instruct's three prompts as follows, and says so in its description:

1. **Instructions**: REAL text-davinci-003 instructions from the released Alpaca 52K (shuffled once with the
   seed; draw ``w`` starts at position ``16w``), written as the list continuation from the prompt's next
   number (whitespace collapsed to one line each) until a stop sequence or ``max_tokens`` ends it.
   It does not read the 8 instructions in the prompt.
2. **Classification?**: a keyword RULE (``CLASSIFICATION_RULE``, below), not a model: " Yes" when it
   matches the instruction, else " No". Its agreement with the 175 seeds' labels is measured in lesson 03.
3. **Instances**: the Alpaca 52K's REAL instance (davinci-003's input and output) of the same instruction,
   in the prompt's layout (input-first or output-first): one instance per instruction, since the 52K has one.
   An instruction the 52K does not hold (a seed, or one another teacher wrote) gets an empty reply.

Usage is counted in GPT-3's r50k tokens; the context is GPT-3 davinci's 2,049 tokens (Self-Instruct's model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property

from alpaca_lessons.data import Record
from alpaca_lessons.generation.prompts import count_tokens, truncate_tokens
from alpaca_lessons.generation.self_instruct.prompts import (
    INSTRUCTIONS_HEADER,
    OUTPUT_FIRST_HEADER,
    QUESTION,
)
from alpaca_lessons.generation.teacher.base import (
    Completion,
    ContextLengthError,
    PromptError,
    Sampling,
    cut_at_stop,
    last_user_message,
)
from alpaca_lessons.generation.teacher.replay import seeded_records

SELF_INSTRUCT_REPLAY = "self-instruct-replay"
DAVINCI_CONTEXT = 2049  # GPT-3 davinci's window
WINDOW = 16  # instructions set aside per draw: more than a reply can hold before the stop at "16"
#: The rule that stands in for the model in step 2: words that ask to choose among a finite set of labels.
CLASSIFICATION_RULE = re.compile(
    r"\b(classify|classification|categori[sz]e|categor(y|ies)|true or false|yes or no|multiple[- ]choice|"
    r"one of the following|whether or not|positive or negative|"
    r"(tell|decide|determine|detect|identify|judge|check|predict)( me)? (whether|if))\b", re.IGNORECASE)
SELF_INSTRUCT_REPLAY_DESCRIPTION = (
    "Self-Instruct's steps answered offline: new instructions and their instances are REAL text-davinci-003 "
    "generations replayed from the Alpaca 52K (one instance per instruction, as the 52K has); 'is it "
    "classification?' is answered by a stated keyword rule, not by a model. It does not read the prompt's "
    "in-context examples; its keep rates and costs are not those of GPT-3 davinci, Self-Instruct's model.")


def looks_like_classification(instruction: str) -> bool:
    """The offline answer to step 2: whether ``CLASSIFICATION_RULE`` matches the instruction."""
    return CLASSIFICATION_RULE.search(instruction) is not None


def _key(instruction: str) -> str:
    return re.sub(r"\s+", " ", instruction).strip().lower()


class SelfInstructReplayModel:
    """Answers Self-Instruct's three prompts from the Alpaca 52K and a rule; deterministic for a seed and draw."""

    name = SELF_INSTRUCT_REPLAY
    description = SELF_INSTRUCT_REPLAY_DESCRIPTION
    context = DAVINCI_CONTEXT

    def __init__(self, seed: int = 0, records: Sequence[Record] | None = None) -> None:
        self.seed = seed
        self._given = records

    def __repr__(self) -> str:
        return f"SelfInstructReplayModel(seed={self.seed})"

    @cached_property
    def records(self) -> list[Record]:
        """The tasks, in the order fixed by the seed (the 52K are read on first use)."""
        return seeded_records(self._given, self.seed)

    @cached_property
    def by_instruction(self) -> dict[str, Record]:
        """Each task under its instruction, lowercased and whitespace-collapsed (step 1 capitalizes)."""
        return {_key(r.instruction): r for r in self.records}

    def count_tokens(self, text: str) -> int:
        """r50k tokens, GPT-3's tokenizer."""
        return count_tokens(text)

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """A chat request is answered like a completion of its last user message."""
        return last_user_message(messages)

    def reply(self, prompt: str, draw: int) -> str:
        """The full answer to one of the three prompts, before ``stop`` and ``max_tokens`` apply."""
        if prompt.rstrip().endswith(QUESTION):
            task = prompt.rstrip()[: -len(QUESTION)].rsplit("Task:", 1)[-1]
            return " Yes" if looks_like_classification(task) else " No"
        ending = re.search(r"\n(\d+)\.$", prompt)
        if prompt.startswith(INSTRUCTIONS_HEADER) and ending:
            number, start = int(ending.group(1)), draw * WINDOW
            lines = [" ".join(self.records[(start + i) % len(self.records)].instruction.split()) for i in range(WINDOW)]
            return " " + "".join(f"{line}\n{number + 1 + i}. " for i, line in enumerate(lines))
        if "Task:" in prompt and prompt.endswith("\n"):
            task = self.by_instruction.get(_key(prompt.rsplit("Task:", 1)[-1]))
            if task is None:
                return ""
            if prompt.startswith(OUTPUT_FIRST_HEADER):
                return f"Class label: {task.output}\n{task.input}\n\n".replace("\n\n\n", "\n\n")
            if task.input:
                return f"Example 1\n{task.input}\nOutput: {task.output}\n\n"
            return f"Output: {task.output}\n\n"
        raise PromptError(f"{self.name} answers only Self-Instruct's three prompts (instructions, classification, "
                          "instances)")

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """The reply cut at a stop sequence and at ``max_tokens``; 400 past davinci's 2,049-token window."""
        prompt_tokens = count_tokens(prompt)
        if prompt_tokens + sampling.max_tokens > self.context:
            raise ContextLengthError(self.context, prompt_tokens, sampling.max_tokens)
        text, stopped = cut_at_stop(self.reply(prompt, draw), sampling.stop)
        text, tokens = truncate_tokens(text, sampling.max_tokens)
        if tokens > sampling.max_tokens:
            return Completion(text, "length", sampling.max_tokens)
        return Completion(text, "stop", tokens)
