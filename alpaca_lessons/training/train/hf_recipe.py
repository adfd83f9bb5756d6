"""Alpaca's own way, for comparison: the Hugging Face Trainer with FSDP ``full_shard auto_wrap``, on CUDA GPUs.

``recipe_trainer_arguments`` spells Alpaca's ``train.py`` flags as ``TrainingArguments``; ``train_with_hf_trainer``
runs them on the same data, tokenization and padded collation as ``loop.train``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import torch

from alpaca_lessons.models.modeling import count_parameters
from alpaca_lessons.training import sft
from alpaca_lessons.training.train.config import TrainConfig
from alpaca_lessons.training.train.distributed import fsdp_units, setup_distributed
from alpaca_lessons.training.train.run import RUN_FILE, TrainResult, prepare, read_training_records, run_info

# Alpaca's --fsdp "full_shard auto_wrap" --fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer, as transformers 5
# spells it (the string form is deprecated and goes in 5.20): FSDP2, parameters resharded after each forward
# (full_shard), one unit per LlamaDecoderLayer (auto_wrap).
RECIPE_FSDP = {"fsdp": True, "fsdp_config": {"version": 2, "reshard_after_forward": True,
                                             "transformer_layer_cls_to_wrap": ["LlamaDecoderLayer"]}}


def recipe_trainer_arguments(output_dir: str, *, world_size: int = 4, micro_batch_size: int = 4) -> dict:
    """Alpaca's ``train.py`` flags as ``TrainingArguments`` keyword arguments (transformers 5).

    The README's command: ``torchrun --nproc_per_node=4 train.py --bf16 True --num_train_epochs 3
    --per_device_train_batch_size 4 --gradient_accumulation_steps 8 --save_strategy steps --save_steps 2000
    --save_total_limit 1 --learning_rate 2e-5 --weight_decay 0. --warmup_ratio 0.03 --lr_scheduler_type cosine
    --logging_steps 1 --fsdp "full_shard auto_wrap" --fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer
    --tf32 True``. On a CPU the Trainer silently falls back to DDP instead of sharding, so this path is for
    GPUs only; ``train`` is the FSDP path that runs everywhere.
    """
    from transformers import TrainingArguments

    # transformers 5 folded warmup_ratio into warmup_steps (a float below 1 is a ratio); older 5.x kept it
    names = {f.name for f in fields(TrainingArguments)}
    warmup = {"warmup_ratio": 0.03} if "warmup_ratio" in names else {"warmup_steps": 0.03}
    return {"output_dir": output_dir, "num_train_epochs": 3, "per_device_train_batch_size": micro_batch_size,
            "gradient_accumulation_steps": 128 // (micro_batch_size * world_size), "eval_strategy": "no",
            "save_strategy": "steps", "save_steps": 2000, "save_total_limit": 1, "learning_rate": 2e-5,
            "weight_decay": 0.0, **warmup, "lr_scheduler_type": "cosine", "logging_steps": 1, "bf16": True,
            "tf32": True, **RECIPE_FSDP,
            "report_to": "none", "remove_unused_columns": False, "seed": 42}


def train_with_hf_trainer(cfg: TrainConfig):
    """Alpaca's own way: the Hugging Face Trainer with FSDP ``full_shard auto_wrap``, on CUDA GPUs.

    Same data, tokenization and padded collation as ``train``; the Trainer normalizes the loss by the
    target tokens of the whole accumulated step (``num_items_in_batch``), as ``train`` does.
    """
    if not torch.cuda.is_available():
        raise RuntimeError("the Trainer + FSDP recipe needs CUDA GPUs (on a CPU it would not shard); "
                           "use the default backend, which runs FSDP2 on CPUs too")
    from transformers import Trainer, TrainingArguments

    rt = setup_distributed()
    records = read_training_records(cfg)
    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    tokenizer, model, examples, report = prepare(cfg, rt, None, records)
    kwargs = recipe_trainer_arguments(cfg.output_dir, world_size=rt.world_size,
                                      micro_batch_size=cfg.micro_batch_size)
    kwargs |= {"num_train_epochs": cfg.epochs, "learning_rate": cfg.learning_rate,
               "max_steps": cfg.max_steps or -1, "disable_tqdm": not cfg.progress}

    def collate(items):
        batch = sft.pad_collate(items, tokenizer.pad_token_id)
        return {k: batch[k] for k in ("input_ids", "attention_mask", "labels")}

    trainer = Trainer(model=model, args=TrainingArguments(**kwargs), train_dataset=examples, data_collator=collate)
    output = trainer.train()
    trainer.save_model(cfg.output_dir)
    if rt.is_main:
        tokenizer.save_pretrained(cfg.output_dir)
        info = run_info(cfg, rt, torch.bfloat16) | {
            "fsdp_enabled": trainer.is_fsdp_enabled, "fsdp_units": fsdp_units(trainer.model_wrapped),
            "examples": asdict(report), "trainer_log": trainer.state.log_history}
        (Path(cfg.output_dir) / RUN_FILE).write_text(json.dumps(info, indent=1))
    return TrainResult(Path(cfg.output_dir), output.global_step, output.training_loss, output.metrics["train_runtime"],
                       *count_parameters(model), 0)
