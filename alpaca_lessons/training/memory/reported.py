"""Setups users (and the authors) ran in 2023, what happened, and where they said so: the estimate's test cases."""

from __future__ import annotations

from dataclasses import dataclass

from alpaca_lessons.models.shapes import LLAMA_7B
from alpaca_lessons.training.memory.estimate import GPUS, Estimate, Setup, estimate


@dataclass(frozen=True)
class Reported:
    """A setup users (or the authors) ran, what happened, and where they said so."""

    label: str
    short: str  # for a chart
    setup: Setup
    gpu: str  # a key of GPUS
    outcome: str  # "out of memory" or "worked"
    source: str

    @property
    def estimate(self) -> Estimate:
        """The calculator's estimate for this setup."""
        return estimate(self.setup)

    @property
    def predicted(self) -> str:
        """The calculator's verdict in the same words as ``outcome``."""
        return "worked" if self.estimate.fits(GPUS[self.gpu]) else "out of memory"


_ISSUES = "https://github.com/tatsu-lab/stanford_alpaca/issues/"
# 2023 software: transformers 4.27's eager LLaMA attention and FSDP1 without its rate limiter (worst case: every
# layer gathered at once). alpaca-lora loaded the base in int8 and cut examples at 256 tokens by default.
_THEN = {"attention": "eager-2023", "fsdp_gathered_layers": 32}
REPORTED: tuple[Reported, ...] = (
    Reported("7B full, 1 x A100 80GB, micro-batch 4", "1 x A100 80GB",
             Setup(LLAMA_7B, attention="eager-2023"), "A100-80GB", "out of memory", _ISSUES + "56"),
    Reported("7B full, 4 x A10 24GB FSDP, micro-batch 1", "4 x A10 24GB",
             Setup(LLAMA_7B, micro_batch=1, gpus=4, sharded=True, **_THEN), "A10-24GB", "out of memory",
             _ISSUES + "46"),
    Reported("7B full, 8 x A100 40GB FSDP, micro-batch 4", "8 x A100 40GB",
             Setup(LLAMA_7B, gpus=8, sharded=True, **_THEN), "A100-40GB", "out of memory", _ISSUES + "46"),
    Reported("7B full, 8 x A100 40GB FSDP + CPU offload", "8 x A100 40GB, offload",
             Setup(LLAMA_7B, gpus=8, sharded=True, cpu_offload=True, **_THEN), "A100-40GB", "worked",
             _ISSUES + "280"),
    Reported("7B full, 4 x A100 80GB FSDP, micro-batch 4 (Alpaca)", "4 x A100 80GB (Alpaca)",
             Setup(LLAMA_7B, gpus=4, sharded=True, accumulation=8, **_THEN), "A100-80GB", "worked",
             "https://github.com/tatsu-lab/stanford_alpaca#fine-tuning"),
    Reported("7B LoRA r=8 int8, 1 x RTX 4090, micro-batch 4, 256 tokens (alpaca-lora)", "LoRA, 1 x RTX 4090",
             Setup(LLAMA_7B, seq_len=256, lora_r=8, lora_base_bytes=1, attention="eager-2023"), "RTX4090-24GB",
             "worked", "https://github.com/tloen/alpaca-lora#readme"),
    Reported("7B LoRA r=16 q,k,v,o int8, 1 x A100 40GB, micro-batch 8, 512 tokens", "LoRA, 1 x A100 40GB",
             Setup(LLAMA_7B, micro_batch=8, lora_r=16, lora_targets=("q_proj", "k_proj", "v_proj", "o_proj"),
                   lora_base_bytes=1, attention="eager-2023"), "A100-40GB", "out of memory",
             "https://github.com/tloen/alpaca-lora/issues/329"),
)
