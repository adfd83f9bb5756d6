"""The ``alpaca-lessons`` command: one subcommand per stage, each a thin call into the package.

A subcommand lives in its own module here and exposes ``register(subparsers)``, which adds its parser
and sets ``func`` to the function that runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alpaca_lessons.cli import (
    audit_cmd,
    course_cmd,
    data_cmd,
    dedup_cmd,
    diversity_cmd,
    evaluate_cmd,
    export_cmd,
    generate_cmd,
    memory_cmd,
    teacher_cmd,
    train_cmd,
)
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.options import OneLineParser

COMMANDS = (data_cmd, teacher_cmd, generate_cmd, dedup_cmd, diversity_cmd, audit_cmd, train_cmd, memory_cmd,
            evaluate_cmd, export_cmd, course_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = OneLineParser(prog="alpaca-lessons", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input ends with its message on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"alpaca-lessons: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
