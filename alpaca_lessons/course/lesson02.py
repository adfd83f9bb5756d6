"""Lesson 02's implement-it exercises: Alpaca's ``encode_prompt`` byte for byte, and the ``max_tokens`` a
batch of requests ran with after Alpaca's 20% cuts.

The references are the package's tested functions (``generation.prompts.encode_request``, checked against a
request written out by hand from Alpaca's ``generate_instruction.py``, and
``generation.prompts.max_tokens_after_cuts``, after Alpaca's ``utils.openai_completion``); the cases are real
seed tasks under the real ``prompt.txt``, real batches of sampled requests, and hand-made edge cases.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from functools import lru_cache, partial

from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import Record, read_seed_tasks
from alpaca_lessons.generation.prompts import (
    encode_request,
    generation_prompt,
    max_tokens_after_cuts,
    request_token_counts,
    sample_examples,
)

# ---- Exercise 2.1: Alpaca's encode_prompt ------------------------------------------------------------------

# Seeds whose quirks the encoder must handle: a trailing colon (4), a colon after a newline (88), runs of
# newlines (135), an empty input (0), runs of spaces in the output (10: indented code).
QUIRKY_SEEDS = ("seed_task_4", "seed_task_88", "seed_task_135", "seed_task_0", "seed_task_10")
HAND_MADE = [Record("  Sort these\n  words:  ", "", "a b"), Record("Add the numbers.", "1 +  2", "3")]


def _variant(header: str, examples: Sequence[Record], *, after_header: str = "\n", collapse: bool = True,
             colon: bool = True, no_input: bool = True, first: int = 1, next_number: int = 1,
             ending: str = "{n}. Instruction:", collapse_all: bool = False) -> str:
    """Alpaca's encoding with one step changed: each keyword turns one step off or shifts it."""
    def clean(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip() if collapse_all else text
    prompt = header + after_header
    for number, example in enumerate(examples, start=first):
        instruction = re.sub(r"\s+", " ", example.instruction) if collapse else example.instruction
        instruction = instruction.strip().rstrip(":") if colon else instruction.strip()
        text_input = "<noinput>" if no_input and example.input == "" else example.input
        prompt += (f"###\n{number}. Instruction: {instruction}\n{number}. Input:\n{clean(text_input)}\n"
                   f"{number}. Output:\n{clean(example.output)}\n")
    return prompt + "###\n" + ending.format(n=first + len(examples) - 1 + next_number)


MISTAKES_ENCODE = [
    Mistake(partial(_variant, after_header=""), "of prompt.txt with no newline added: the file ends with "
            "'List of 20 tasks:' and no newline, so the first '###' would sit on that line."),
    Mistake(partial(_variant, collapse=False), "of an instruction whose whitespace is not collapsed: Alpaca turns "
            "every run of spaces and newlines in the instruction into one space."),
    Mistake(partial(_variant, colon=False), "of an instruction that keeps its trailing colon: Alpaca strips it, "
            "after stripping the whitespace."),
    Mistake(partial(_variant, no_input=False), "of an empty input left empty: Alpaca writes '<noinput>' there."),
    Mistake(partial(_variant, first=0), "of numbering from 0: the tasks are numbered from 1."),
    Mistake(partial(_variant, next_number=0), "of ending with the last example's number: the request ends with "
            "the NEXT number's 'Instruction:', the task the teacher is to write."),
    Mistake(partial(_variant, ending=""), "of a request that stops after the last '###': it must end with the "
            "next number's 'Instruction:' so the teacher continues the list."),
    Mistake(partial(_variant, ending="{n}. Instruction: "), "of a request that ends in a space: it ends right "
            "after the colon (a trailing space changes the tokens the teacher continues from)."),
    Mistake(partial(_variant, ending="{n}. Instruction:\n"), "of a request that ends in a newline: it ends "
            "right after the colon."),
    Mistake(partial(_variant, collapse_all=True), "of inputs and outputs whose whitespace is collapsed too: only "
            "the instruction is; inputs and outputs go as written (indented code, lists)."),
]


def check_encode_prompt(fn: Callable[[str, Sequence[Record]], str], hidden: bool = False) -> None:
    """Check ``encode_prompt(header, examples)`` against Alpaca's exact request text."""
    seeds = read_seed_tasks()
    by_id = {t.id: t for t in seeds}
    header = generation_prompt("alpaca")
    cases = [Case((header, sample_examples(seeds, 3, random.Random(0))),
                  "prompt.txt, the 3 seeds random.Random(0) draws"),
             Case((header, [by_id[i].to_record() for i in QUIRKY_SEEDS]), f"prompt.txt, seeds {QUIRKY_SEEDS}"),
             Case(("Header.", HAND_MADE), "'Header.', the 2 records in alpaca_lessons.course.lesson02.HAND_MADE")]
    if hidden:
        cases += [Case((generation_prompt("alpaca_pr24"), sample_examples(seeds, 5, random.Random(1))),
                       "PR 24's prompt, 5 seeds from random.Random(1)"),
                  Case((header, [by_id["seed_task_1"].to_record()]), "prompt.txt, one seed")]
    check_function(fn, encode_request, cases, mistakes=MISTAKES_ENCODE, name="encode_prompt")


# ---- Exercise 2.2: the max_tokens a batch ran with -----------------------------------------------------------

def _truncate(max_tokens: float, original: float) -> float:
    return int(max_tokens * 0.8)


def _cuts(prompt_tokens: Sequence[int], max_tokens: int = 3072, context: int = 4097, *,
          longest: Callable[[Sequence[int]], float] = max, step: Callable[[float, float], float] = _truncate,
          exact_fits: bool = True, once: bool = False) -> float:
    """Alpaca's loop with one step changed."""
    original, prompt = max_tokens, longest(prompt_tokens)
    while prompt + max_tokens > context or (not exact_fits and prompt + max_tokens == context):
        max_tokens = step(max_tokens, original)
        if once:
            break
    return max_tokens


MISTAKES_CUTS = [
    Mistake(partial(_cuts, longest=lambda p: p[0]), "of looking at the first prompt only: the whole batch shares "
            "one max_tokens, refused while ANY prompt overflows, so the longest prompt decides."),
    Mistake(partial(_cuts, longest=lambda p: sum(p) / len(p)), "of the batch's mean prompt: the longest prompt "
            "decides."),
    Mistake(partial(_cuts, once=True), "of a single cut: Alpaca retried, cutting again, until the request fit."),
    Mistake(partial(_cuts, exact_fits=False), "of refusing an exact fit: prompt + max_tokens may "
            "EQUAL the window."),
    Mistake(lambda p, m=3072, c=4097: min(m, c - max(p)), "of the exact room left (window minus the prompt): "
            "Alpaca did not compute it, it cut max_tokens by 20% at each refusal."),
    Mistake(partial(_cuts, step=lambda m, original: m - int(original * 0.2)), "of cutting 20% of the ORIGINAL "
            "max_tokens each time: each cut is 20% of the current value."),
    Mistake(partial(_cuts, step=lambda m, _: round(m * 0.8)), "of rounding: Alpaca truncated, int(max_tokens * "
            "0.8)."),
    Mistake(partial(_cuts, step=lambda m, _: m * 0.8), "of a fractional max_tokens: the API takes a whole number; "
            "Alpaca truncated with int()."),
]

# Hand-made batches: an exact fit, a prompt long enough for five cuts (3072 -> 2457 -> 1965 -> 1572 -> 1257 ->
# 1005), one token over, and a batch whose longest prompt is not the first one. The order matters: each
# plausible mistake first fails on a batch where no other mistake gives the same answer.
HAND_MADE_BATCHES = ([1025], [3000], [1026], [1100, 3000, 2500])


def sampled_batches(n: int = 200, size: int = 5, seed: int = 0) -> list[list[int]]:
    """Prompt tokens of ``n`` requests sampled as Alpaca did (``request_token_counts``), in batches of
    ``size`` (Alpaca's ``request_batch_size=5``)."""
    return [list(batch) for batch in _batches(n, size, seed)]


@lru_cache(maxsize=4)
def _batches(n: int, size: int, seed: int) -> tuple[tuple[int, ...], ...]:
    counts = request_token_counts(read_seed_tasks(), n=n, seed=seed)  # tokenizing 200 requests: once
    return tuple(tuple(counts[i:i + size]) for i in range(0, n, size))


def check_alpaca_max_tokens(fn: Callable[..., int], hidden: bool = False) -> None:
    """Check ``alpaca_max_tokens(prompt_tokens)`` on hand-made batches and real batches of sampled requests."""
    batches = sampled_batches()
    cases = [Case((batch,), f"prompt_tokens={batch}") for batch in HAND_MADE_BATCHES]
    cases += [Case((batches[i],), f"batch {i} of the 200 sampled requests, prompt_tokens={batches[i]}")
              for i in (0, 2, 3)]
    if hidden:
        cases += [Case((batch,), f"batch {i} of the 200 sampled requests") for i, batch in enumerate(batches)]
        cases += [Case(([90],), "prompt_tokens=[90], max_tokens=100, context=100",
                       {"max_tokens": 100, "context": 100})]
    check_function(fn, max_tokens_after_cuts, cases, mistakes=MISTAKES_CUTS, name="alpaca_max_tokens")


# The instructor kit plants this wrong answer in the solution cell to prove that it loses points.
PLANTED = {
    "l02-encode-prompt": '''def encode_prompt(header: str, examples: list[Record]) -> str:
    """Alpaca's request: the header, each example as a numbered block between '###' lines, then the next
    number's 'Instruction:'."""
    import re

    prompt = header + "\\n"
    for number, example in enumerate(examples, start=1):
        instruction = re.sub(r"\\s+", " ", example.instruction).strip().rstrip(":")
        prompt += f"###\\n{number}. Instruction: {instruction}\\n{number}. Input:\\n{example.input}\\n"
        prompt += f"{number}. Output:\\n{example.output}\\n"
    return prompt + f"###\\n{len(examples) + 1}. Instruction:"
''',
}
