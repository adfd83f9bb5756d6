"""What a run depends on: ``TrainConfig`` (Alpaca's recipe by default), the precision, the accumulation and the
step plan.

The defaults are Alpaca's: effective batch 128 examples (micro-batch x accumulation x processes), learning
rate 2e-5, 3 epochs, cosine schedule with 3% warmup, no weight decay, AdamW (betas 0.9/0.999, as the
Trainer), gradient clipping at 1.0 (the Trainer's default, which Alpaca kept), max length 512, bfloat16
where the hardware supports it (CUDA GPUs with bf16), float32 elsewhere.

Every optimizer step sees ``effective_batch_size`` examples of a seeded per-epoch shuffle; the last
incomplete step of an epoch is dropped (at most 127 examples, different ones each epoch) so that every
process runs the same number of micro-batches, which FSDP's collectives require.

Each field's ``help`` and ``check`` are its command-line option's (``common.options`` derives the flags from the
fields); a ``TrainConfig`` built in Python meets the same checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from alpaca_lessons.common.options import check_fields, non_negative, option, positive, unit_interval
from alpaca_lessons.models.shapes import PRESETS
from alpaca_lessons.training import sft
from alpaca_lessons.training.lora import LORA_ALPHA, LORA_DROPOUT, LORA_R, LORA_TARGETS

_BUILT = ", ".join(name for name in PRESETS if name != "llama-7b")


@dataclass
class TrainConfig:
    """Everything a run depends on; the defaults are Alpaca's recipe."""

    model: str = option("course", help=f"a preset built from scratch ({_BUILT}) or a local Hugging Face model folder")
    download: bool = option(False, help="let --model be a Hugging Face hub id to download (a request leaves this "
                                         "machine); without it only presets and local folders are accepted")
    data: str = option("alpaca_data", help="registry name or path of Alpaca-format records (JSON or JSONL)")
    split: str = option("all", help="all records, or the train side of the course's held-out split "
                                    "(data/splits.py: the held-out 5%% is never trained on)")
    objective: str = option("instruction", help="instruction (Alpaca's template, prompt masked from the loss) or "
                                                "documents (plain language modelling: each instruction, input and "
                                                "output a document of its own, every token learned; the course's "
                                                "base model)")
    output_dir: str = "work/train"
    limit: int | None = option(None, help="use this many records of a seeded shuffle (default: all)", check=positive)
    vocab_size: int = option(4096, help="tokenizer trained for a preset model: 4K byte-level BPE suits 52K English "
                                        "examples", check=positive)
    effective_batch_size: int = option(128, help="examples per optimizer step (Alpaca: 4 per GPU x 8 accumulation x "
                                                 "4 GPUs)", check=positive)
    micro_batch_size: int = option(4, check=positive)
    learning_rate: float = option(2e-5, check=positive)
    epochs: float = option(3.0, check=positive)
    max_steps: int | None = option(None, help="overrides --epochs", check=positive)
    warmup_ratio: float = option(0.03, check=unit_interval)
    weight_decay: float = option(0.0, check=non_negative)
    max_grad_norm: float = option(1.0, check=positive)
    max_length: int = option(sft.MAX_LENGTH, check=positive)
    collation: str = option("padded", help="padded (the original recipe) or packed (one row per micro-batch, "
                                           "per-example attention)")
    attention: str = option("sdpa", help="the attention kernel: sdpa, flex_attention (packed rows on GPUs) or eager")
    precision: str = option("auto", help="auto (bf16 on capable GPUs, else fp32), bf16 or fp32")
    activation_checkpointing: bool = False
    cpu_offload: bool = option(False, help="FSDP's CPUOffloadPolicy: params, grads and optimizer states in CPU "
                                           "memory")
    seed: int = option(42, help="the Trainer's default seed, which Alpaca kept", check=non_negative)
    save_steps: int = option(0, help="checkpoint every N optimizer steps to resume from (0: none)",
                             check=non_negative)
    save_total_limit: int = option(1, check=positive)
    resume: bool = True
    log_steps: int = option(1, check=positive)
    save_dtype: str = option("float32", help="dtype of the final exported model (checkpoints are always float32)")
    export: bool = option(True, help="write the final model (benchmark runs that only time steps skip it)")
    lora: bool = False
    lora_r: int = option(LORA_R, check=positive)
    lora_alpha: int = option(LORA_ALPHA, check=positive)
    lora_dropout: float = option(LORA_DROPOUT, check=unit_interval)
    lora_targets: tuple[str, ...] = option(LORA_TARGETS, help="comma-separated module names")
    backend: str = option("fsdp2", help="fsdp2 (this loop, CPU or GPU) or hf-trainer (Alpaca's Trainer + FSDP, GPUs "
                                        "only)")
    progress: bool = True
    command: list[str] = field(default_factory=list)  # the command line, recorded in run.json

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def is_preset(self) -> bool:
        """Whether ``model`` names a size to build from scratch rather than a folder to load."""
        return self.model in PRESETS


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype: bfloat16 on GPUs that support it ("auto"), else float32.

    CPUs run bfloat16 matmuls slower than float32 unless they have AMX, and float32 keeps CPU runs exact
    enough to compare a sharded run with a single-process one.
    """
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.bfloat16 if bf16 else torch.float32


def accumulation_steps(cfg: TrainConfig, world_size: int) -> int:
    """Micro-batches per process per optimizer step: effective batch / (micro-batch x processes)."""
    per_step = cfg.micro_batch_size * world_size
    if cfg.effective_batch_size % per_step:
        raise ValueError(f"effective batch {cfg.effective_batch_size} is not a multiple of micro-batch "
                         f"{cfg.micro_batch_size} x {world_size} processes")
    return cfg.effective_batch_size // per_step


@dataclass(frozen=True)
class Schedule:
    """Which examples each optimizer step trains on: a seeded shuffle per epoch, incomplete steps dropped."""

    num_examples: int
    batch_size: int
    seed: int
    total_steps: int

    @property
    def steps_per_epoch(self) -> int:
        """Complete optimizer steps in one pass over the examples."""
        return self.num_examples // self.batch_size

    def step_indices(self, step: int) -> list[int]:
        """Example indices of optimizer step ``step`` (0-based), over all processes."""
        epoch, i = divmod(step, self.steps_per_epoch)
        order = torch.randperm(self.num_examples, generator=torch.Generator().manual_seed(self.seed + epoch))
        return order[i * self.batch_size:(i + 1) * self.batch_size].tolist()

    def epoch(self, step: int) -> float:
        """Epochs completed after ``step`` steps."""
        return step / self.steps_per_epoch


def make_schedule(cfg: TrainConfig, num_examples: int) -> Schedule:
    """The run's step plan: ``max_steps`` if given, else ``epochs`` passes (a fraction is allowed)."""
    steps_per_epoch = num_examples // cfg.effective_batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{num_examples} examples do not fill one step of {cfg.effective_batch_size}")
    total = cfg.max_steps if cfg.max_steps is not None else math.ceil(cfg.epochs * steps_per_epoch)
    return Schedule(num_examples, cfg.effective_batch_size, cfg.seed, total)
