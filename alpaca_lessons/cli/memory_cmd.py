"""``alpaca-lessons memory``: the memory a fine-tuning setup needs per GPU, and whether it fits."""

from __future__ import annotations

import argparse

from alpaca_lessons.training.memory import GPUS, LLAMA_7B, ModelShape, Setup, estimate, smallest_fit

SHAPES = {"llama-7b": LLAMA_7B}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``memory`` and its options (Alpaca's 7B recipe by default)."""
    parser = subparsers.add_parser("memory", help="estimate fine-tuning memory per GPU and whether it fits")
    parser.add_argument("--model", default="llama-7b",
                        help="llama-7b, or a shape vocab,hidden,intermediate,layers,heads (e.g. 4096,192,512,4,6)")
    parser.add_argument("--gpu", default="A100-80GB", choices=sorted(GPUS))
    parser.add_argument("--gpus", type=int, default=1, help="GPUs; more than one means FSDP full sharding")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "eager", "eager-2023"])
    parser.add_argument("--activation-checkpointing", action="store_true")
    parser.add_argument("--cpu-offload", action="store_true")
    parser.add_argument("--lora-r", type=int, default=0, help="LoRA rank (0: full fine-tuning)")
    parser.set_defaults(func=_run)


def _shape(text: str) -> ModelShape:
    if text in SHAPES:
        return SHAPES[text]
    vocab, hidden, intermediate, layers, heads = (int(x) for x in text.split(","))
    return ModelShape(vocab, hidden, intermediate, layers, heads)


def _run(args: argparse.Namespace) -> int:
    setup = Setup(_shape(args.model), micro_batch=args.micro_batch, seq_len=args.seq_len, gpus=args.gpus,
                  sharded=args.gpus > 1, precision=args.precision, attention=args.attention,
                  activation_checkpointing=args.activation_checkpointing, cpu_offload=args.cpu_offload,
                  lora_r=args.lora_r)
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
