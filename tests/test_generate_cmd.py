"""``alpaca-lessons generate``'s flags: GenerationConfig's fields and defaults, never re-typed."""

from __future__ import annotations

import argparse

from alpaca_lessons.cli import generate_cmd
from alpaca_lessons.generation import ALPACA_STOP, GenerationConfig


def parse(*flags: str) -> GenerationConfig:
    parser = argparse.ArgumentParser()
    generate_cmd.register(parser.add_subparsers())
    return generate_cmd._config(parser.parse_args(["generate", "--output", "t.jsonl", *flags]))


def test_no_flags_give_alpacas_recipe():
    config = parse()
    assert config == GenerationConfig()
    # Alpaca's values, written out here: 3 seed tasks, 5 prompts a request, 3072 tokens, <|endoftext|> banned
    assert (config.num_tasks, config.num_prompt_instructions, config.request_batch_size, config.max_tokens) == (
        100, 3, 5, 3072)
    assert config.logit_bias == {"50256": -100} and config.stop == ("\n20", "20.", "20.") == ALPACA_STOP
    assert config.threshold == 0.7 and config.avg_similarity and config.max_cost is None


def test_each_flag_sets_its_field():
    config = parse("--num-tasks", "7", "--profile", "belle", "--num-prompt-instructions", "2",
                   "--request-batch-size", "1", "--n", "3", "--temperature", "0.5", "--top-p", "0.9",
                   "--max-tokens", "100", "--threshold", "0.6", "--no-avg-similarity", "--seed", "4",
                   "--concurrency", "8", "--max-cost", "1.5", "--max-requests", "9", "--no-logit-bias")
    assert config == GenerationConfig(num_tasks=7, profile="belle", num_prompt_instructions=2, request_batch_size=1,
                                      n=3, temperature=0.5, top_p=0.9, max_tokens=100, threshold=0.6,
                                      avg_similarity=False, seed=4, concurrency=8, max_cost=1.5, max_requests=9,
                                      logit_bias=None)


def test_the_belle_profile_brings_belles_request_settings_unless_a_flag_overrides_them():
    config = parse("--profile", "belle")
    # generate_instruction.py: request_batch_size=1 (line 124), max_tokens=1024 (line 171), BM25 > 18 (line 203)
    assert (config.request_batch_size, config.max_tokens, config.threshold) == (1, 1024, 18.0)
    assert config.stop == ALPACA_STOP and config.logit_bias == {"50256": -100}  # lines 173 and 182: Alpaca's
    assert parse("--profile", "belle", "--max-tokens", "600").max_tokens == 600
    assert parse("--profile", "belle-rouge").threshold == 0.7
