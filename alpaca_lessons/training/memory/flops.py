"""What a training run costs: FLOPs (about 6 per parameter per token), model FLOPs utilisation (MFU), hours
and dollars."""

from __future__ import annotations

from dataclasses import dataclass

from alpaca_lessons.training.memory.estimate import GPU


@dataclass(frozen=True)
class Cost:
    """Time and money of a training run."""

    hours: float
    gpu_hours: float
    dollars: float


def training_flops(parameters: int, tokens: float) -> float:
    """Training FLOPs: about 6 per parameter per token (2 forward, 4 backward)."""
    return 6 * parameters * tokens


def throughput_from_mfu(parameters: int, mfu: float, gpu: GPU, gpus: int = 1) -> float:
    """Tokens per second that ``gpus`` GPUs reach at a model FLOPs utilisation ``mfu``."""
    return mfu * gpu.bf16_tflops * 1e12 * gpus / (6 * parameters)


def training_cost(tokens: float, tokens_per_second: float, gpus: int, dollars_per_gpu_hour: float) -> Cost:
    """Wall-clock hours, GPU-hours and dollars to train on ``tokens`` at a throughput (all GPUs together)."""
    hours = tokens / tokens_per_second / 3600
    return Cost(hours, hours * gpus, hours * gpus * dollars_per_gpu_hour)


def mfu(parameters: int, tokens_per_second: float, gpu: GPU, gpus: int = 1) -> float:
    """Model FLOPs utilisation: training FLOPs per second (6 per parameter per token) over the GPUs' bf16 peak."""
    return training_flops(parameters, tokens_per_second) / (gpus * gpu.bf16_tflops * 1e12)


def implied_mfu(parameters: int, tokens: float, hours: float, gpu: GPU, gpus: int) -> float:
    """The utilisation a reported run time implies (e.g. Alpaca's 3 hours on 8 A100s)."""
    return training_flops(parameters, tokens) / (hours * 3600 * gpus * gpu.bf16_tflops * 1e12)
