"""``alpaca-lessons memory``: the memory a fine-tuning setup needs per GPU, and whether it fits.

The setup's options are the fields of ``memory.estimate.Setup`` (their defaults are Alpaca's 7B recipe).
"""

from __future__ import annotations

import argparse

from alpaca_lessons.common.options import add_options, from_options, positive
from alpaca_lessons.models.shapes import PRESETS, ModelShape
from alpaca_lessons.training.memory.estimate import GPUS, Setup, estimate, smallest_fit

SETUP_OPTIONS = ("micro_batch", "seq_len", "gpus", "precision", "attention", "activation_checkpointing",
                 "cpu_offload", "lora_r")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``memory`` and its options (Alpaca's 7B recipe by default)."""
    parser = subparsers.add_parser("memory", help="estimate fine-tuning memory per GPU and whether it fits")
    parser.add_argument("--model", default="llama-7b", type=_shape,
                        help=f"a preset ({', '.join(PRESETS)}), or a shape vocab,hidden,intermediate,layers,heads "
                             "(e.g. 4096,192,512,4,6)")
    parser.add_argument("--gpu", default="A100-80GB", choices=sorted(GPUS))
    add_options(parser, Setup, only=SETUP_OPTIONS)
    parser.set_defaults(func=_run)


def _shape(text: str) -> ModelShape:
    """An argparse type: a preset's name, or five positive whole numbers vocab,hidden,intermediate,layers,heads."""
    if text in PRESETS:
        return PRESETS[text]
    words = text.split(",")
    if len(words) != 5:
        raise argparse.ArgumentTypeError(f"must be a preset or vocab,hidden,intermediate,layers,heads, got {text}")
    return ModelShape(*(positive.parse(int)(word) for word in words))


def _run(args: argparse.Namespace) -> int:
    setup = from_options(Setup, args, shape=args.model, sharded=args.gpus > 1)
    result, gpu = estimate(setup), GPUS[args.gpu]
    print(f"{result.parameters:,} parameters, {result.trainable:,} trainable; per GPU:")
    for part, gib in result.rows():
        print(f"  {part:<12} {gib:8.2f} GiB")
    verdict = "fits" if result.fits(gpu) else "does NOT fit"
    print(f"{verdict} on {args.gpus} x {gpu.name} ({gpu.memory_gib:.1f} GiB each, 1 GiB kept for CUDA)")
    if result.cpu_offloaded:
        print(f"CPU memory for offloaded state: {result.cpu_offloaded / 2**30:.1f} GiB per GPU process")
    fewest = smallest_fit(setup, gpu)
    print(f"fewest {gpu.name} GPUs with FSDP: {fewest if fewest else 'more than 64'}")
    return 0
