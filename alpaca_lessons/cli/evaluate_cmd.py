"""``alpaca-lessons evaluate ...``: pairwise evaluation without a notebook.

``align`` and ``gpt4`` recompute the public numbers, ``stats`` summarises counts or an annotation file,
``blind`` judges pairs in a terminal (blind, appended at once, resumable; the GPT-4 pairs or any two
systems' outputs), ``judge`` runs an LLM judge on any OpenAI-compatible endpoint (one not on this machine
only with ``--real-judge``, checked before anything is sent; ``--max-cost`` caps the dollars; the length
baseline judge is served by ``alpaca-lessons teacher serve --model length-baseline``), and ``generate`` writes a
local model's outputs in AlpacaEval's format. ``instruct-following`` answers the held-out split with each
model (greedy, append-only per model, resumable) and writes the verifiable-checks table (``evaluation.if_table``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlparse

from alpaca_lessons.common.atomic import atomic_write, check_output
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.options import non_negative, positive, probability
from alpaca_lessons.common.prices import Prices
from alpaca_lessons.common.stats import comparisons_needed
from alpaca_lessons.evaluation.answers import MAX_NEW_TOKENS
from alpaca_lessons.evaluation.blind import (
    CHOICES,
    COURSE_SAMPLE_SIZE,
    COURSE_SEED,
    BlindSession,
    read_judgments,
    sample_pairs,
)
from alpaca_lessons.evaluation.llm_judge import PairwiseJudge, judge_pairs
from alpaca_lessons.evaluation.metrics import position_bias, verdict_agreement, win_rate, win_rate_of
from alpaca_lessons.evaluation.pairs import (
    INSTRUCTION_SETS,
    align,
    gpt4_judged_pairs,
    instruction_set,
    leaderboard_row,
    outputs_as_records,
    read_system_outputs,
    user_oriented_alignment,
)
from alpaca_lessons.generation.teacher import TeacherError, is_local


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` and its actions."""
    parser = subparsers.add_parser("evaluate", help="pairwise evaluation: statistics, blind judging, LLM judge")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("align", help="align AlpacaEval's Alpaca-7B with Self-Instruct's davinci-003 (252)") \
        .set_defaults(func=_align)
    actions.add_parser("gpt4", help="recompute AlpacaEval's Alpaca-7B win rate from GPT-4's verdicts") \
        .set_defaults(func=_gpt4)

    stats = actions.add_parser("stats", help="win rate, interval and sign test from counts or a judgment file")
    stats.add_argument("--counts", nargs=3, type=non_negative.parse(int), metavar=("WINS", "TIES", "LOSSES"))
    stats.add_argument("--file", type=Path, help="a blind-judgment JSONL file on the GPT-4 pairs")
    stats.add_argument("--power", type=probability.parse(float), metavar="WIN_RATE",
                       help="also: comparisons needed to detect this true win rate (ties at the observed rate)")
    stats.set_defaults(func=_stats)

    blind = actions.add_parser("blind", help="judge a seeded sample of the GPT-4 pairs blind, in a terminal")
    blind.add_argument("--store", type=Path, required=True, help="the JSONL file judgments are appended to")
    blind.add_argument("--annotator", required=True, help="who judges, truthfully (a person, or a model)")
    blind.add_argument("--sample", type=positive.parse(int), default=COURSE_SAMPLE_SIZE)
    blind.add_argument("--seed", type=non_negative.parse(int), default=COURSE_SEED)
    blind.add_argument("--systems", nargs=2, metavar=("FIRST", "SECOND"),
                       help="judge these two systems' outputs (registry names or JSON files) instead of the "
                            "GPT-4 pairs, matched by instruction")
    steps = blind.add_subparsers(dest="step", required=True)
    show = steps.add_parser("show", help="print the next pending items (instruction, answer A, answer B)")
    show.add_argument("--count", type=positive.parse(int), default=1)
    record = steps.add_parser("record", help="record a choice for a pair id")
    record.add_argument("pair_id")
    record.add_argument("choice", choices=CHOICES)
    record.add_argument("--reason", default="")
    steps.add_parser("status", help="progress; the result once every item is judged")
    blind.set_defaults(func=_blind)

    judge = actions.add_parser("judge", help="an LLM judge on the GPT-4 pairs, both orders, with cost")
    judge.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint ending in /v1")
    judge.add_argument("--model", required=True)
    judge.add_argument("--store", type=Path, required=True, help="JSONL file verdicts are appended to (resume)")
    judge.add_argument("--limit", type=positive.parse(int), help="only the first N pairs")
    judge.add_argument("--real-judge", action="store_true",
                       help="allow an endpoint not on this machine (it costs money; the key is $OPENAI_API_KEY)")
    judge.add_argument("--max-cost", type=non_negative.parse(float), metavar="USD",
                       help="refuse to start if the pairs could cost more (both orders, every reply at its "
                            "longest), and never send a request that could take this run's cost past it")
    judge.add_argument("--price-in", type=non_negative.parse(float), metavar="USD",
                       help="dollars per 1M prompt tokens (needed for a remote model the price table lacks)")
    judge.add_argument("--price-out", type=non_negative.parse(float), metavar="USD",
                       help="dollars per 1M completion tokens")
    judge.set_defaults(func=_judge)

    gen = actions.add_parser("generate", help="a local model's outputs on an instruction set (AlpacaEval format)")
    gen.add_argument("--model", type=Path, required=True, help="a local Hugging Face model folder")
    gen.add_argument("--instructions", choices=INSTRUCTION_SETS, default="user_oriented")
    gen.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    gen.add_argument("--name", help="the generator's name in the file (default: the folder's name)")
    gen.add_argument("--limit", type=positive.parse(int), help="only the first N instructions")
    gen.add_argument("--max-new-tokens", type=positive.parse(int), default=256)
    gen.add_argument("--batch-size", type=positive.parse(int), default=8)
    gen.add_argument("--device", default="cpu")
    gen.add_argument("--watermark", action="store_true", help="watermark the outputs (Kirchenbauer et al.)")
    gen.set_defaults(func=_generate)

    follow = actions.add_parser("instruct-following", help="verifiable checks, ROUGE-L and pairwise verdicts of "
                                "local models on the held-out split")
    follow.add_argument("models", nargs="+", type=Path, metavar="MODEL_DIR", help="local Hugging Face model folders "
                        "(each named by its folder: base, tuned, scratch)")
    follow.add_argument("--out", type=Path, required=True, help="folder for answers/<model>.jsonl and table.json/.txt")
    follow.add_argument("--limit", type=positive.parse(int), help="only the first N held-out records")
    follow.add_argument("--max-new-tokens", type=positive.parse(int), default=MAX_NEW_TOKENS)
    follow.add_argument("--batch-size", type=positive.parse(int), default=16)
    follow.add_argument("--device", default="cpu")
    follow.add_argument("--judge-base-url", help="an LLM judge's OpenAI-compatible endpoint (default: the length "
                        "baseline, no judge)")
    follow.add_argument("--judge-model", help="the judge model's name at that endpoint")
    follow.add_argument("--real-judge", action="store_true", help="allow a judge not on this machine (it costs money)")
    follow.add_argument("--max-cost", type=non_negative.parse(float), metavar="USD",
                        help="the most the judge may spend")
    follow.set_defaults(func=_instruct_following)


def _align(args: argparse.Namespace) -> int:
    print(user_oriented_alignment().summary())
    return 0


def _gpt4(args: argparse.Namespace) -> int:
    judged = gpt4_judged_pairs()
    rate = win_rate_of(judged.preferences)
    row = leaderboard_row("alpaca-7b")
    print(f"alpaca-7b vs text-davinci-003 (GPT-4 judge, {rate.n} pairs): {rate}")
    print(f"recomputed win rate {rate.rate:.4%}, leaderboard {float(row['win_rate']):.4f}%; standard error "
          f"{rate.standard_error * 100:.4f} vs {float(row['standard_error']):.4f}")
    print(f"AlpacaEval paid ${judged.cost:.2f} for these GPT-4 verdicts")
    return 0


def _stats(args: argparse.Namespace) -> int:
    if args.counts:
        rate = win_rate(*args.counts)
    elif args.file:
        pairs = gpt4_judged_pairs().pairs
        for annotator, records in read_judgments(args.file, pairs).items():
            print(f"{annotator}:\n  {win_rate_of([r['preference'] for r in records])}")
            print(f"  {position_bias(r['choice'] for r in records)}")
        return 0
    else:
        print("give --counts WINS TIES LOSSES or --file")
        return 2
    print(rate)
    if args.power:
        print(comparisons_needed(args.power, rate.ties / rate.n))
    return 0


def _blind(args: argparse.Namespace) -> int:
    if args.systems:
        first, second = (read_system_outputs(s) for s in args.systems)
        candidates = list(align(first, second).pairs)
    else:
        candidates = list(gpt4_judged_pairs().pairs)
    pairs = sample_pairs(candidates, min(args.sample, len(candidates)), args.seed)
    session = BlindSession(pairs, args.store, args.annotator, seed=args.seed)
    if args.step == "show":
        for item in session.pending()[: args.count]:
            print(f"##### pair {item.pair.id}\n{item.text()}\n")
    elif args.step == "record":
        record = session.record(args.pair_id, args.choice, args.reason)
        print(f"recorded {record['pair_id']}: {record['choice']} ({session.done}/{session.total})")
    print(f"progress: {session.done}/{session.total} judged")
    if session.finished and args.step == "status":
        for system, rate in session.reveal().items():
            print(f"{system}: {rate}")
    return 0


def _judge(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    def error(message: str) -> int:
        print(f"alpaca-lessons: error: {message}", file=sys.stderr)
        return 2

    # Checked here, before anything is built, so that the message names this command's flag.
    if not args.real_judge and not is_local(args.base_url):
        return error(f"{urlparse(args.base_url).hostname} is not this machine: a real judge costs money, so opt in "
                     "explicitly with --real-judge (the key is $OPENAI_API_KEY)")
    if (args.price_in is None) != (args.price_out is None):
        return error("give both --price-in and --price-out, or neither")
    prices = None if args.price_in is None else Prices(args.price_in, args.price_out,
                                                       "prices given on the command line")
    try:
        judge = PairwiseJudge.connect(args.base_url, args.model, allow_remote=args.real_judge, prices=prices,
                                      max_cost=args.max_cost)
        judged = gpt4_judged_pairs()
        pairs = judged.pairs[: args.limit] if args.limit else judged.pairs
        records = judge_pairs(judge, pairs, args.store, progress=tqdm)
    except (TeacherError, ValueError) as exc:
        return error(str(exc))
    verdicts = [r["preference"] for r in records]
    print(f"{args.model} on {len(pairs)} pairs: alpaca-7b {win_rate_of(verdicts)}")
    print(f"agreement with GPT-4: {verdict_agreement(verdicts, judged.preferences[: len(pairs)])}")
    print(f"this run: {judge.cost}")
    print(json.dumps({"store": str(args.store), "judged": len(records)}))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from alpaca_lessons.data import write_records
    from alpaca_lessons.evaluation.watermark import WatermarkLogitsProcessor
    from alpaca_lessons.models.infer import generate, load

    check_output(args.out)  # before the model is loaded, not after the outputs are made
    records = instruction_set(args.instructions)[: args.limit]
    model, tokenizer = load(args.model, args.device)
    processors = [WatermarkLogitsProcessor()] if args.watermark else []
    results = generate(model, tokenizer, records, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                       processors=processors)
    name = args.name or args.model.name
    write_records(outputs_as_records(records, [r.text for r in results], name), args.out)
    print(f"wrote {len(results)} outputs of {name} to {args.out}")
    return 0


def _instruct_following(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from alpaca_lessons.common.results import write_result
    from alpaca_lessons.data import read_records
    from alpaca_lessons.data.splits import split_records
    from alpaca_lessons.evaluation.answers import answer_store, generate_answers
    from alpaca_lessons.evaluation.if_table import REFERENCE, build_table, text_table

    names = [folder.name for folder in args.models]
    for folder in args.models:  # every input checked before any model is loaded
        if not (folder / "config.json").is_file():
            raise DataError(f"{folder}: not a model folder (no config.json)")
    if len(set(names)) != len(names) or REFERENCE in names:
        raise DataError(f"model folders must have distinct names other than {REFERENCE!r}: got {names}")
    if (args.judge_base_url is None) != (args.judge_model is None):
        raise DataError("give both --judge-base-url and --judge-model, or neither (the length baseline)")
    table_json, table_txt = check_output(args.out / "table.json"), check_output(args.out / "table.txt")
    judge = None
    if args.judge_base_url:
        if not args.real_judge and not is_local(args.judge_base_url):
            raise DataError(f"{urlparse(args.judge_base_url).hostname} is not this machine: a real judge costs "
                            "money, so opt in explicitly with --real-judge (the key is $OPENAI_API_KEY)")
        try:
            judge = PairwiseJudge.connect(args.judge_base_url, args.judge_model, allow_remote=args.real_judge,
                                          max_cost=args.max_cost)
        except (TeacherError, ValueError) as exc:
            raise DataError(str(exc)) from None
    records = split_records(read_records("alpaca_data")).heldout[: args.limit]
    answers = {name: generate_answers(folder, records, answer_store(args.out, name),
                                      max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                                      device=args.device)
               for name, folder in zip(names, args.models, strict=True)}
    try:
        table = build_table(records, answers, judge=judge, judge_store=args.out / "judgments.jsonl", progress=tqdm)
    except TeacherError as exc:
        raise DataError(str(exc)) from None
    table["settings"] = {"max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
                         "device": args.device, "limit": args.limit, "models": [str(f) for f in args.models]}
    command = "alpaca-lessons " + " ".join(sys.argv[1:]) if sys.argv[1:] else None
    write_result(table_json, table, command, ("torch", "transformers", "rouge-score"))
    atomic_write(table_txt, text_table(table) + "\n")
    print(text_table(table))
    print(f"wrote {table_json} and {table_txt}")
    return 0
