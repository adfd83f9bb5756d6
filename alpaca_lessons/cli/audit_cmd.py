"""``alpaca-lessons audit DATA``: the artifact audit of an instruction data set, as lesson 05 prints it."""

from __future__ import annotations

import argparse

from alpaca_lessons.analysis.audit import audit, format_report
from alpaca_lessons.common.options import non_negative
from alpaca_lessons.data import read_records


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``audit``."""
    parser = subparsers.add_parser("audit", help="count known artifacts (empty or cut outputs, placeholder "
                                                 "inputs, duplicates, other languages, ...) in a data set")
    parser.add_argument("data", help="a registry name (alpaca_data) or a .json/.jsonl file of records")
    parser.add_argument("--examples", type=non_negative.parse(int), default=3,
                        help="examples printed per check (default 3)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    records = read_records(args.data)
    print(format_report(audit(records), len(records), examples=args.examples))
    return 0
