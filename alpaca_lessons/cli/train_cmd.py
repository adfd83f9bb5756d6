"""``alpaca-lessons train ...``: the same options as ``python -m alpaca_lessons.training.train`` (see ``--help``).

Under ``torchrun`` launch the module form (``torchrun --nproc_per_node=8 -m alpaca_lessons.training.train ...``);
torch and transformers are imported only when this command runs, so the rest of the CLI stays fast.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train``; its options are parsed by ``alpaca_lessons.training.train.launch``."""
    parser = subparsers.add_parser("train", add_help=False, prefix_chars="\0",
                                   help="fine-tune with Alpaca's recipe: FSDP under torchrun, LoRA, checkpoints "
                                        "(alpaca-lessons train --help)")
    parser.add_argument("options", nargs=argparse.REMAINDER)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from alpaca_lessons.training.train.launch import main

    return main(args.options, prog="alpaca-lessons train")
