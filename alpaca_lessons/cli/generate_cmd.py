"""``alpaca-lessons generate``: Alpaca's Self-Instruct generation, resumable, against any teacher.

Without ``--base-url`` it starts the offline replay teacher in-process. A remote endpoint (OpenAI
itself, or any server not on this machine) is used only with ``--real-teacher``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from alpaca_lessons.common.options import add_options, from_options, non_negative, positive
from alpaca_lessons.common.prices import Prices
from alpaca_lessons.generation import PROFILES, GenerationConfig, generate
from alpaca_lessons.generation.config import BAN_GPT3_ENDOFTEXT
from alpaca_lessons.generation.self_instruct.pipeline import SELF_INSTRUCT, SelfInstructConfig, generate_self_instruct
from alpaca_lessons.generation.teacher import ReplayModel, Teacher, TeacherError, TeacherServer
from alpaca_lessons.generation.teacher.self_instruct_replay import SelfInstructReplayModel

# Alpaca's recipe flags: Self-Instruct has its own recipe (generation.self_instruct), so they must stay unset.
ALPACA_ONLY = ("num_prompt_instructions", "n", "temperature", "top_p", "max_tokens", "avg_similarity", "concurrency")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``generate`` and its options: ``GenerationConfig``'s fields (but ``profile``, which has its own flag
    for its choices, and ``stop``, ``logit_bias`` and ``max_idle_requests``, which are not flags) and the
    teacher's and the run's own."""
    parser = subparsers.add_parser("generate", help="generate instruction data with a teacher (Self-Instruct)",
                                   description=__doc__)
    parser.add_argument("--output", required=True, help="tasks file (.jsonl); its request log sits beside it")
    add_options(parser, GenerationConfig, only=["num_tasks"])
    parser.add_argument("--profile", choices=sorted([*PROFILES, SELF_INSTRUCT]), default=GenerationConfig.profile,
                        help="recipe: alpaca, belle (BELLE's own: BM25 against the seeds; --api chat --model "
                             "gpt-3.5-turbo for ChatGPT, as BELLE's data was made), belle-rouge (the course's "
                             "Chinese variant of Alpaca's filter), or self-instruct (Wang et al. 2022's own "
                             "three-step pipeline, with its own recipe)")
    teacher = parser.add_argument_group("teacher")
    teacher.add_argument("--base-url", help="an OpenAI-compatible endpoint ending in /v1 (default: the offline "
                                            "replay teacher, started here)")
    teacher.add_argument("--model", help="model name (default: the server's first model)")
    teacher.add_argument("--api", choices=("completions", "chat"), default="completions")
    teacher.add_argument("--real-teacher", action="store_true",
                         help="allow an endpoint that is not on this machine (it may cost money); without "
                              "--base-url, OPENAI_BASE_URL or OpenAI's API is used")
    teacher.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="NAME",
                         help="environment variable holding the API key (default OPENAI_API_KEY)")
    teacher.add_argument("--timeout", type=positive.parse(float), default=120.0,
                         help="seconds per attempt (default 120)")
    teacher.add_argument("--max-attempts", type=positive.parse(int), default=8, help="attempts per request (default 8)")
    teacher.add_argument("--backoff", type=non_negative.parse(float), default=1.0,
                         help="first retry delay in seconds, doubling")
    recipe = parser.add_argument_group("recipe (the profile's values by default: Alpaca's, or BELLE's)")
    add_options(recipe, GenerationConfig,
                only=["num_prompt_instructions", "request_batch_size", "n", "temperature", "top_p", "max_tokens"])
    recipe.add_argument("--no-logit-bias", action="store_true",
                        help=f"do not send Alpaca's logit_bias {BAN_GPT3_ENDOFTEXT} (GPT-3's <|endoftext|>; other "
                             "tokenizers, e.g. a LLaMA served by vLLM, have no such token)")
    add_options(recipe, GenerationConfig, only=["threshold", "avg_similarity", "seed"])
    run = parser.add_argument_group("run")
    add_options(run, GenerationConfig, only=["concurrency", "max_cost"])
    run.add_argument("--price-in", type=non_negative.parse(float), metavar="USD", help="dollars per 1M prompt tokens")
    run.add_argument("--price-out", type=non_negative.parse(float), metavar="USD",
                     help="dollars per 1M completion tokens")
    add_options(run, GenerationConfig, only=["max_requests"])
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_generate)


def _config(args: argparse.Namespace) -> GenerationConfig:
    """The run's settings from the flags (``stop`` and ``max_idle_requests`` keep their defaults)."""
    return from_options(GenerationConfig, args, **({"logit_bias": None} if args.no_logit_bias else {}))


def _self_instruct_config(args: argparse.Namespace) -> SelfInstructConfig:
    """Self-Instruct's settings from the flags it shares with Alpaca's; Alpaca's recipe flags are refused."""
    changed = [name for name in ALPACA_ONLY if getattr(args, name) != getattr(GenerationConfig, name)]
    if changed or args.no_logit_bias:
        raise ValueError(f"--profile {SELF_INSTRUCT} follows Self-Instruct's own recipe; these flags belong to "
                         f"Alpaca's: {', '.join('--' + n.replace('_', '-') for n in changed) or '--no-logit-bias'}")
    given = {name: getattr(args, name) for name in ("request_batch_size", "threshold")
             if getattr(args, name) is not None}  # not given: Self-Instruct's own default
    return SelfInstructConfig(num_tasks=args.num_tasks, seed=args.seed, max_cost=args.max_cost,
                              max_requests=args.max_requests, **given)


def _prices(args: argparse.Namespace) -> Prices | None:
    if (args.price_in is None) != (args.price_out is None):
        raise ValueError("give both --price-in and --price-out, or neither")
    return None if args.price_in is None else Prices(args.price_in, args.price_out, "prices given on the command line")


def _teacher(args: argparse.Namespace, base_url: str) -> Teacher:
    if args.real_teacher and not args.model:
        raise ValueError("--real-teacher needs --model: name the model you mean to pay for")
    options = {"api": args.api, "timeout": args.timeout, "max_attempts": args.max_attempts, "backoff": args.backoff}
    model = args.model or _first_model(base_url, os.environ.get(args.api_key_env))
    return Teacher(base_url, model, api_key=os.environ.get(args.api_key_env), allow_remote=args.real_teacher,
                   **options)


def _first_model(base_url: str, key: str | None) -> str:
    models = Teacher(base_url, "", api_key=key, timeout=30).models()
    if not models:
        raise TeacherError(f"{base_url} lists no model; pass --model")
    return models[0]


def _generate(args: argparse.Namespace) -> int:
    try:
        si = args.profile == SELF_INSTRUCT
        config = _self_instruct_config(args) if si else _config(args)
        prices = _prices(args)
        with contextlib.ExitStack() as stack:
            base_url = args.base_url or (os.environ.get("OPENAI_BASE_URL") if args.real_teacher else None)
            if args.real_teacher and not base_url:
                base_url = "https://api.openai.com/v1"
            if base_url is None:
                server = stack.enter_context(TeacherServer(SelfInstructReplayModel() if si else ReplayModel()))
                base_url = server.base_url
                model = server.model
                print(f"teacher: {model.name}, started here (no --base-url)\n         {model.description}")
            teacher = _teacher(args, base_url)
            if si:
                result = generate_self_instruct(args.output, teacher, config, prices=prices)
            else:
                result = generate(args.output, teacher, config, prices=prices, progress=not args.no_progress)
    except (TeacherError, ValueError) as exc:
        print(f"alpaca-lessons: error: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    print(f"tasks: {result.output}\nlog:   {result.log}")
    return 0 if result.status == "done" else 1
