"""The offline teacher: real text-davinci-003 generations from the released Alpaca 52K, replayed.

Alpaca's 52,002 tasks are what text-davinci-003 wrote when asked Alpaca's generation prompt (and then
survived the filters). This model answers a generation request with some of those real tasks,
formatted exactly as davinci-003 continued the prompt: the first task right after the prompt's
trailing ``N. Instruction:``, then ``###`` and the next number, until a stop sequence or ``max_tokens``
ends the reply (``finish_reason`` "stop" or "length"). Usage is counted in GPT-3's r50k tokens.

What it is not: it does not read the seed tasks in the prompt (only the number the prompt ends on), and
it does not sample new text. Which real tasks a reply holds is fixed by ``draw``: the 52K are shuffled
once with the server's seed, and draw ``w`` gets the tasks at positions ``20w, 20w+1, ...``. Its keep
rate and cost per kept task are therefore not a live teacher's: every task it replays already passed
Alpaca's filters once.

Asked in Chinese (a prompt that ends on BELLE's ``N. 指令:``), it answers with the same **English** tasks
under BELLE's Chinese labels: no Chinese teacher output is available offline to replay (BELLE's released
data is not among the course's sources). A Chinese run against it exercises BELLE's parser, rules,
BM25 test and accounting on real davinci-003 text, not BELLE's data.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import cached_property

from alpaca_lessons.data import Record, get_dataset, read_records
from alpaca_lessons.generation.prompts import CHINESE, DAVINCI_003_CONTEXT, ENGLISH, count_tokens, truncate_tokens
from alpaca_lessons.generation.teacher.base import (
    Completion,
    ContextLengthError,
    Sampling,
    cut_at_stop,
    last_user_message,
)

REPLAY_MODEL = "alpaca-52k-replay"
REPLAY_DESCRIPTION = (
    "Replays REAL text-davinci-003 generations from the released Alpaca 52K (Taori et al. 2023, "
    f"{get_dataset('alpaca_data').license}), formatted as davinci-003 continued Alpaca's generation prompt. "
    "It does not read the seed tasks in the prompt and writes no new text; its keep rate and cost per "
    "kept task are not those of a live teacher. Asked in Chinese (BELLE's labels), it replays the same ENGLISH "
    "tasks under the Chinese labels: no Chinese teacher output is available offline.")
WINDOW = 20  # tasks set aside per draw: more than any reply can hold before the stop at "20."
_ENDING = re.compile(r"(\d+)\.\s*(\S+?)[:：]\s*$")


def seeded_records(given: Sequence[Record] | None, seed: int) -> list[Record]:
    """``given`` (the Alpaca 52K when None) in the order ``seed`` fixes: what a replay model draws from."""
    records = list(given if given is not None else read_records("alpaca_data"))
    random.Random(seed).shuffle(records)
    return records


class ReplayModel:
    """Answers generation prompts with real Alpaca 52K tasks; deterministic for a given ``seed`` and draw."""

    name = REPLAY_MODEL
    description = REPLAY_DESCRIPTION
    context = DAVINCI_003_CONTEXT

    def __init__(self, seed: int = 0, records: Sequence[Record] | None = None) -> None:
        self.seed = seed
        self._given = records

    def __repr__(self) -> str:
        return f"ReplayModel(seed={self.seed})"

    @cached_property
    def records(self) -> list[Record]:
        """The tasks, in the order fixed by the seed (the 52K are read on first use)."""
        return seeded_records(self._given, self.seed)

    def count_tokens(self, text: str) -> int:
        """r50k tokens, the tokenizer of GPT-3 (davinci-003 billed by p50k: equal on these texts)."""
        return count_tokens(text)

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """A chat request is answered like a completion of its last user message."""
        return last_user_message(messages)

    def continuation(self, prompt: str, draw: int, stop: Sequence[str], max_chars: int) -> tuple[str, bool]:
        """The reply before ``max_tokens`` applies: blocks from the prompt's next number, cut at a stop."""
        match = _ENDING.search(prompt[-200:])
        number = int(match.group(1)) if match else 1
        fmt = CHINESE if match and match.group(2) == CHINESE.instruction else ENGLISH
        text, start = "", draw * WINDOW
        for offset in range(len(self.records)):
            task = self.records[(start + offset) % len(self.records)]
            head = f"{number}. {fmt.instruction}: " if offset else " "
            text += (f"{head}{task.instruction}\n{number}. {fmt.input}:\n{task.input or fmt.no_input}\n"
                     f"{number}. {fmt.output}:\n{task.output}\n###\n")
            number += 1
            cut, stopped = cut_at_stop(text + f"{number}. {fmt.instruction}:", stop)
            if stopped or len(cut) > max_chars:
                return cut, stopped
        return text, False

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """The replayed reply; 400 (ContextLengthError) when prompt + max_tokens exceeds davinci-003's 4097."""
        prompt_tokens = count_tokens(prompt)
        if prompt_tokens + sampling.max_tokens > self.context:
            raise ContextLengthError(self.context, prompt_tokens, sampling.max_tokens)
        # A token is at least one character, so 8 characters a token is far past any real cut.
        text, stopped = self.continuation(prompt, draw, sampling.stop, max_chars=8 * sampling.max_tokens + 64)
        text, tokens = truncate_tokens(text, sampling.max_tokens)
        if tokens > sampling.max_tokens:
            return Completion(text, "length", sampling.max_tokens)
        return Completion(text, "stop" if stopped else "length", tokens)
