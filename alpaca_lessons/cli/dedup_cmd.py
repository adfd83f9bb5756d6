"""``alpaca-lessons dedup IN --seeds seed_tasks --threshold 0.7 --out OUT.jsonl``: the novelty filter
over a data file, in file order, the pool starting from the seed tasks."""

from __future__ import annotations

import argparse
import sys

from alpaca_lessons.common.atomic import check_output
from alpaca_lessons.common.options import non_negative, unit_interval
from alpaca_lessons.common.text import character_tokens, is_cjk, rouge_tokens
from alpaca_lessons.data import read_records, read_seed_tasks, write_records
from alpaca_lessons.generation.novelty import dedup

TOKENIZERS = {"rouge": rouge_tokens, "characters": character_tokens}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dedup``."""
    parser = subparsers.add_parser(
        "dedup", help="keep the instructions whose ROUGE-L against the pool is at most a threshold",
        description="Run the Self-Instruct/Alpaca novelty filter over IN in file order: an instruction is "
                    "kept when its ROUGE-L F against the seeds and every instruction kept before it is at "
                    "most THRESHOLD. Scores and decisions equal rouge-score's.")
    parser.add_argument("input", metavar="IN", help="Alpaca-format records: a registry name or a .json/.jsonl path")
    parser.add_argument("--seeds", default="seed_tasks",
                        help="seed tasks that start the pool: a registry name or a path (default: seed_tasks)")
    parser.add_argument("--threshold", type=unit_interval.parse(float), default=0.7,
                        help="reject above this ROUGE-L F (default: 0.7)")
    parser.add_argument("--top-k", type=non_negative.parse(int), default=10,
                        help="most similar pool instructions to record per kept one; 0 records none and is "
                             "faster (default: 10)")
    parser.add_argument("--tokenizer", choices=["auto", *sorted(TOKENIZERS)], default="auto",
                        help="rouge: rouge-score's default (English); characters: one token per character "
                             "(Chinese); auto (default): characters when most instructions are Chinese, Japanese "
                             "or Korean, else rouge")
    parser.add_argument("--avg-similarity", action="store_true",
                        help="also write Alpaca's avg_similarity_score, the mean ROUGE-L against the whole pool "
                             "(an LCS with every instruction sharing a word: minutes at 52K instead of seconds)")
    parser.add_argument("--out", required=True,
                        help="where to write the kept records: .jsonl or .json, gzipped when it ends in .gz; "
                             "never the input itself")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    check_output(args.out, inputs=[args.input, args.seeds])  # before the work, not after it
    records = read_records(args.input)
    seeds = [task.instruction for task in read_seed_tasks(args.seeds)]
    tokenizer = _tokenizer(args.tokenizer, [r.instruction for r in records])
    result = dedup(records, seeds, threshold=args.threshold, top_k=args.top_k, tokenizer=TOKENIZERS[tokenizer],
                   mean=args.avg_similarity, progress=not args.no_progress)
    path = write_records(result.kept, args.out)
    stats = result.stats
    share = stats.without_lcs / stats.pairs if stats.pairs else 1.0
    print(f"kept {len(result.kept)}, rejected {result.rejected} of {len(records)} in {result.seconds:.1f} s "
          f"(pool from {len(seeds)} seeds; {stats.pairs:,} pairs, {share:.2%} decided without an LCS)")
    print(f"wrote {path}")
    return 0


def _tokenizer(asked: str, instructions: list[str]) -> str:
    """The tokenizer to use: ``auto`` picks by the instructions' script; rouge on mostly-CJK text warns, since
    rouge-score's tokens drop every Chinese character and exact duplicates would then be kept."""
    cjk = sum(map(is_cjk, instructions)) / max(len(instructions), 1)
    if asked == "auto":
        chosen = "characters" if cjk >= 0.5 else "rouge"
        print(f"tokenizer: {chosen} ({cjk:.0%} of instructions are Chinese, Japanese or Korean)")
        return chosen
    if asked == "rouge" and cjk >= 0.5:
        print(f"alpaca-lessons: warning: {cjk:.0%} of instructions are Chinese, Japanese or Korean, which "
              "rouge-score's tokens drop entirely: use --tokenizer characters", file=sys.stderr)
    return asked
