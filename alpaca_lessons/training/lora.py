"""LoRA as alpaca-lora ran it: the default settings (one home for them) and peft's wrapper around a model.

alpaca-lora's first release adapted ``q_proj`` and ``v_proj`` with rank 8, alpha 16 and dropout 0.05; later
versions used r=16 on all four attention projections. The base model stays frozen; only the adapters train.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads only when a model is wrapped: the memory calculator reads the defaults alone
    import torch

LORA_R = 8
LORA_ALPHA = 16
LORA_DROPOUT = 0.05
LORA_TARGETS: tuple[str, ...] = ("q_proj", "v_proj")


def apply_lora(model: torch.nn.Module, r: int = LORA_R, alpha: int = LORA_ALPHA, dropout: float = LORA_DROPOUT,
               targets: tuple[str, ...] = LORA_TARGETS) -> torch.nn.Module:
    """Wrap ``model`` with peft LoRA adapters on the ``targets`` projections; the base stays frozen."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(targets), bias="none",
                        task_type="CAUSAL_LM")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def load_lora(model: torch.nn.Module, folder: Path) -> torch.nn.Module:
    """``model`` with the trainable adapter saved in ``folder`` (``save_pretrained`` of a LoRA model)."""
    from peft import PeftModel

    with warnings.catch_warnings():  # as in apply_lora
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return PeftModel.from_pretrained(model, folder, is_trainable=True)
