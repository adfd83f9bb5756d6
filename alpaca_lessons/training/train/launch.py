"""Launching a run: the command line of ``python -m alpaca_lessons.training.train`` (and ``alpaca-lessons
train``), ``torchrun`` from Python, and the 8-GPU command with what each of its parts does.

The options are the fields of ``TrainConfig`` (``common.options`` derives them, with each field's help).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import torch.distributed as dist

from alpaca_lessons.common.options import OneLineParser, add_options, command_line, from_options
from alpaca_lessons.training.train.config import TrainConfig
from alpaca_lessons.training.train.hf_recipe import train_with_hf_trainer
from alpaca_lessons.training.train.loop import train

ENTRY = "alpaca_lessons.training.train"  # the module torchrun runs (``-m``)
DESCRIPTION = "Alpaca's fine-tuning loop: one script from a laptop CPU to 8 GPUs."


# What each part of the 8-GPU launch does (``launch_command``).
LAUNCH_FLAGS: dict[str, str] = {
    "torchrun --nproc_per_node=8": "one process per GPU on this node; torchrun sets RANK, WORLD_SIZE and LOCAL_RANK, "
                                   "and the script joins an NCCL process group",
    "-m alpaca_lessons.training.train": "the same script as on a laptop: FSDP2 shards each LlamaDecoderLayer, "
                                        "then the model",
    "--model PATH": "a local Hugging Face LLaMA-7B folder (never a hub download); [PAD] is added as Alpaca did",
    "--micro-batch-size 4": "examples per GPU per forward pass (Alpaca's per_device_train_batch_size)",
    "--effective-batch-size 128": "examples per optimizer step: 4 per GPU x 4 accumulation steps x 8 GPUs",
    "--learning-rate 2e-5 --epochs 3": "Alpaca's schedule: cosine decay after 3% warmup, no weight decay (defaults)",
    "--precision auto": "bfloat16 compute with float32 master weights and float32 gradient reduction on A100s",
    "--save-steps 200": "a full Hugging Face checkpoint plus the sharded optimizer every 200 steps, to resume",
    "--activation-checkpointing": "optional: recompute each layer in backward (about a third more compute, "
                                  "a fraction of the activation memory)",
    "--cpu-offload": "optional: keep sharded weights, gradients and Adam state in CPU memory (slower steps)",
}


def launch_command(model: str = "/models/llama-7b", gpus: int = 8, *, micro_batch_size: int = 4,
                   output_dir: str = "work/alpaca-7b", save_steps: int = 200) -> str:
    """The command that runs Alpaca's recipe with this script on ``gpus`` GPUs of one node."""
    return (f"torchrun --nproc_per_node={gpus} -m alpaca_lessons.training.train --model {model} --data alpaca_data "
            f"--output-dir {output_dir} --micro-batch-size {micro_batch_size} --effective-batch-size 128 "
            f"--learning-rate 2e-5 --epochs 3 --precision auto --save-steps {save_steps}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``alpaca-lessons train`` and ``python -m alpaca_lessons.training.train``: one per
    ``TrainConfig`` field."""
    add_options(parser, TrainConfig, skip=("command",))


def config_from_args(args: argparse.Namespace, command: Sequence[str]) -> TrainConfig:
    """A ``TrainConfig`` from parsed options, remembering the command line."""
    return from_options(TrainConfig, args, command=list(command))


def run_torchrun(cfg: TrainConfig, processes: int = 2) -> None:
    """Train ``cfg`` in ``processes`` processes on this machine with ``torchrun`` (FSDP), and wait for it.

    torchrun gives each process one thread unless ``OMP_NUM_THREADS`` says otherwise; a failure raises with
    the processes' last output.
    """
    import subprocess

    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
               "-m", ENTRY, *command_line(cfg, skip=("command",))]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"torchrun failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def run_from_args(args: argparse.Namespace, command: Sequence[str]) -> int:
    """Train from parsed options; 0 when done. Leaves the process group when there is one."""
    cfg = config_from_args(args, command)
    try:
        result = train_with_hf_trainer(cfg) if cfg.backend == "hf-trainer" else train(cfg)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"done: {result.steps} steps, final loss {result.final_loss:.4f}, model in {result.output_dir}")
    return 0


def main(argv: Sequence[str] | None = None, prog: str = f"python -m {ENTRY}") -> int:
    """``python -m alpaca_lessons.training.train`` (and ``alpaca-lessons train``): parse options, train, return 0."""
    parser = OneLineParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(parser.parse_args(argv), [*prog.split(), *argv])
