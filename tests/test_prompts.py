"""Prompts: Alpaca's request encoding reproduced exactly, BELLE's variant, token budget."""

from __future__ import annotations

import random

import pytest

from alpaca_lessons.data import Record, read_seed_tasks
from alpaca_lessons.generation.prompts import (
    CHINESE,
    TokenBudget,
    build_request,
    count_tokens,
    count_tokens_p50k,
    encode_request,
    generation_prompt,
    max_tokens_after_cuts,
    sample_examples,
    space_run_excess,
    tasks_per_reply,
    tasks_per_request,
    token_budget,
)

EXAMPLES = [
    Record("Give  three tips\nfor staying healthy:", "", "1. Eat well.\n2. Sleep."),
    Record("Classify the sentiment.", "I loved it!", "Positive"),
]

# Written out by hand from Alpaca's generate_instruction.py: header + "\n", whitespace in the
# instruction collapsed and its trailing colon dropped, "" -> <noinput>, ending at the next number.
EXPECTED = """HEADER
###
1. Instruction: Give three tips for staying healthy
1. Input:
<noinput>
1. Output:
1. Eat well.
2. Sleep.
###
2. Instruction: Classify the sentiment.
2. Input:
I loved it!
2. Output:
Positive
###
3. Instruction:"""


def test_encoding_matches_the_hand_checked_string():
    assert encode_request("HEADER", EXAMPLES) == EXPECTED


def test_chinese_labels_and_no_input_marker():
    text = encode_request("头", [Record("写一首诗", "", "春眠不觉晓")], CHINESE)
    assert text == "头\n###\n1. 指令: 写一首诗\n1. 输入:\n<无输入>\n1. 输出:\n春眠不觉晓\n###\n2. 指令:"


def test_an_empty_request_is_refused():
    with pytest.raises(ValueError, match="at least one example"):
        encode_request("H", [])


def test_sampling_draws_like_alpacas_random_sample(real_data):
    seeds = read_seed_tasks()
    records = [t.to_record() for t in seeds]
    random.seed(42)
    alpaca_draw = random.sample(records, 3)  # what generate_instruction.py does after a seed
    assert sample_examples(seeds, 3, random.Random(42)) == alpaca_draw


def test_real_request_structure(real_data):
    seeds = read_seed_tasks()
    request = build_request(seeds, seed=7)
    assert request.startswith(generation_prompt("alpaca") + "\n###\n1. Instruction: ")
    assert request.endswith("\n###\n4. Instruction:")
    assert request.count("\n###\n") == 4
    assert build_request(seeds, seed=7) == request and build_request(seeds, seed=8) != request


def test_prompt_quirks_are_kept(real_data):
    alpaca = generation_prompt("alpaca")
    assert not alpaca.endswith("\n") and alpaca.endswith("List of 20 tasks:")
    numbers = [line.split(".")[0] for line in alpaca.splitlines() if line[:1].isdigit()]
    assert numbers == ["1", "2", "3", "2", "3", "4", "5", "6", "7"]
    fixed = [line.split(".")[0] for line in generation_prompt("alpaca_pr24").splitlines() if line[:1].isdigit()]
    assert fixed == [str(i) for i in range(1, 10)]
    belle = generation_prompt("belle")
    assert "\n" not in belle.rstrip("\n"), "upstream stores it on one line with literal \\n escapes"
    assert belle.count("\\n") > 5 and "\\n" not in generation_prompt("belle", unescape=True)


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown prompt variant"):
        generation_prompt("gpt5")


def test_gpt3_token_counts_are_real_bpe():
    assert count_tokens("Hello world") == 2  # GPT-2/3 ids 15496, 995
    assert count_tokens("List of 20 tasks:") == 5
    assert count_tokens("") == 0


def test_token_budget():
    assert TokenBudget(1025, 3072, 4097).fits and not TokenBudget(1026, 3072, 4097).fits
    budget = token_budget("Hello world", max_tokens=10, context=12)
    assert (budget.prompt_tokens, budget.completion_room, budget.fits) == (2, 10, True)
    assert "fits" in budget.summary()


def test_tasks_per_reply_and_request():
    # 3 tasks shown, the reply opens task 4; the stop sequence "20." ends it when task 20 is numbered:
    # tasks 4..19 are complete, 16 per reply, and 5 prompts per request give 80.
    assert tasks_per_reply() == 16 and tasks_per_request() == 80
    assert tasks_per_reply(shown=2, listed=10, stop_at=11) == 8  # a 10-task list stopped at "11."
    with pytest.raises(ValueError):
        tasks_per_reply(shown=19)


def test_space_runs_cost_fewer_tokens_in_p50k():
    # "a    b" splits into "a", three spaces, " b": r50k spends a token per space (5 in all), p50k one
    # token on the three-space run (3 in all).
    assert count_tokens("a    b") == 5 and space_run_excess("a    b") == 2 and count_tokens_p50k("a    b") == 3
    assert space_run_excess("no runs here.") == 0 and space_run_excess("a b  c") == 0  # "  c": one space + " c"
    assert space_run_excess("x\n     y") == 3  # newline then four spaces as one piece, " y" after
    assert space_run_excess(" " * 31 + "z") == 30 - 2  # 30 spaces: two p50k tokens (25 + 5)


def test_max_tokens_after_alpacas_cuts_by_hand():
    # 3072 -> int(3072 * 0.8) = 2457 -> int(2457 * 0.8) = 1965 -> 1572 -> 1257 -> 1005 (worked by hand)
    assert max_tokens_after_cuts([1025]) == 3072  # 1025 + 3072 = 4097: fits exactly, no cut
    assert max_tokens_after_cuts([1026]) == 2457  # one token over: one cut
    assert max_tokens_after_cuts([100, 2052, 300]) == 1965  # the longest prompt decides: 2052 + 2457 > 4097
    assert max_tokens_after_cuts([3000]) == 1005  # 3000 + 1257 > 4097, 3000 + 1005 = 4005
    # 100 -> 80 -> 64 -> 51 -> 40 -> 32 -> 25 -> 20 -> 16 -> 12 -> 9: the first that fits 10 tokens of room
    assert max_tokens_after_cuts([90], max_tokens=100, context=100) == 9
    with pytest.raises(ValueError, match="no room"):
        max_tokens_after_cuts([4097])
