"""Checkpoints to resume from, and the final export: both plain Hugging Face model folders.

Checkpoints (every ``--save-steps``) hold the full model in Hugging Face format, loadable with
``from_pretrained``, plus the optimizer state, sharded with ``torch.distributed.checkpoint``; a checkpoint is
written under a temporary name and renamed when complete, so a run killed at any moment resumes (``--resume``,
on by default) from its last complete checkpoint with the same data order. When the run ends, the model is
exported to ``output_dir`` (``--save-dtype``, LoRA merged) and the checkpoints, whose only use was resuming,
are deleted.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import torch

from alpaca_lessons.models.modeling import quiet_progress
from alpaca_lessons.training.train.config import TrainConfig
from alpaca_lessons.training.train.distributed import Distributed, barrier

STATE_FILE = "trainer_state.json"


def checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, by step (a ``.tmp`` one was interrupted while being written)."""
    done = [p for p in output_dir.glob("checkpoint-*")
            if p.name.removeprefix("checkpoint-").isdigit() and (p / STATE_FILE).is_file()]
    return sorted(done, key=lambda p: int(p.name.removeprefix("checkpoint-")))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The complete checkpoint with the highest step in ``output_dir``, if any."""
    found = checkpoints(Path(output_dir))
    return found[-1] if found else None


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The unsharded state dict on rank 0's CPU (empty on other ranks); every rank must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def save_hf(state_dict: dict[str, torch.Tensor], config, tokenizer, folder: Path, dtype: torch.dtype) -> None:
    """Write a state dict as a Hugging Face model folder (``from_pretrained`` loads it), with its tokenizer.

    The weights go into a model built on the meta device, so no second copy is allocated and the saved
    ``architectures`` is the plain class, not FSDP's wrapper.
    """
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        shell = AutoModelForCausalLM.from_config(config)
    missing, unexpected = shell.load_state_dict({k: v.to(dtype) for k, v in state_dict.items()}, strict=False,
                                                assign=True)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise RuntimeError(f"state dict does not fit the config: missing {missing}, unexpected {unexpected}")
    shell.tie_weights()
    shell.config.dtype = dtype
    shell.config.use_cache = True  # training turned the KV cache off; generation wants it back
    with quiet_progress():
        shell.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def save_checkpoint(model, optimizer, scheduler, tokenizer, config, step: int, cfg: TrainConfig,
                    rt: Distributed, log: dict) -> Path:
    """Model (HF format, or the LoRA adapter), sharded optimizer state and trainer state, atomically."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    final = Path(cfg.output_dir) / f"checkpoint-{step}"
    tmp = final.with_name(final.name + ".tmp")
    if rt.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier(rt)
    if cfg.lora:  # one process (checked at start): the adapter is the only trained part
        model.save_pretrained(tmp / "adapter")
    else:
        weights = full_state_dict(model)
        if rt.is_main:
            save_hf(weights, config, tokenizer, tmp, torch.float32)
    with warnings.catch_warnings():  # one process: DCP warns that it saves without a process group, as meant
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        dcp.save({"optimizer": get_optimizer_state_dict(model, optimizer)}, checkpoint_id=tmp / "optimizer")
    if rt.is_main:
        state = {"step": step, "scheduler": scheduler.state_dict(), "world_size": rt.world_size, "last_log": log}
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for old in checkpoints(Path(cfg.output_dir))[:-cfg.save_total_limit]:
            shutil.rmtree(old)
    barrier(rt)
    return final


def load_optimizer_state(model, optimizer, checkpoint: Path) -> None:
    """Restore the sharded optimizer state saved by ``save_checkpoint`` (any number of processes)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

    state = {"optimizer": get_optimizer_state_dict(model, optimizer)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        dcp.load(state, checkpoint_id=checkpoint / "optimizer")
    set_optimizer_state_dict(model, optimizer, state["optimizer"])


def export(model, tokenizer, cfg: TrainConfig, rt: Distributed) -> None:
    """The final model as a plain Hugging Face folder in ``output_dir`` (LoRA merged into the base)."""
    dtype = getattr(torch, cfg.save_dtype)
    out = Path(cfg.output_dir)
    if cfg.lora:
        model.save_pretrained(out / "adapter")
        plain = model.merge_and_unload()
        save_hf(plain.state_dict(), plain.config, tokenizer, out, dtype)
        return
    weights = full_state_dict(model)
    if rt.is_main:
        save_hf(weights, model.config, tokenizer, out, dtype)


def weight_differences(folder_a: str | Path, folder_b: str | Path) -> dict[str, float]:
    """Largest absolute difference of each tensor between two saved models (same names required)."""
    from safetensors.torch import load_file

    a, b = load_file(Path(folder_a) / "model.safetensors"), load_file(Path(folder_b) / "model.safetensors")
    if a.keys() != b.keys():
        raise ValueError("the two models have different tensors")
    return {k: float((a[k].float() - b[k].float()).abs().max()) for k in sorted(a)}
