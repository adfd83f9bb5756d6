"""A run's inputs and the files it leaves: the model and examples it trains on, ``run.json`` and the log.

A run folder holds ``run.json`` (command, date, machine, versions, configuration, data report, result),
``train_log.jsonl`` (one record per logged step) and, when done, the exported model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from alpaca_lessons.common.results import provenance
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import Record, read_records, read_text
from alpaca_lessons.data.splits import select_split
from alpaca_lessons.models.modeling import (
    add_pad_token,
    alpaca_texts,
    build_model,
    document_texts,
    llama_config,
    load_causal_lm,
    load_tokenizer,
    train_tokenizer,
)
from alpaca_lessons.training import sft
from alpaca_lessons.training.lora import apply_lora, load_lora
from alpaca_lessons.training.train.checkpoint import save_hf
from alpaca_lessons.training.train.config import TrainConfig
from alpaca_lessons.training.train.distributed import Distributed, barrier

LOG_FILE = "train_log.jsonl"
RUN_FILE = "run.json"


def read_training_records(cfg: TrainConfig) -> list[Record]:
    """The records to train on (the run's side of the held-out split, then ``cfg.limit`` of them drawn with the
    run's seed). Read before anything is
    written, so a bad data file ends the run with its one-line error and no output folder."""
    records = select_split(read_records(cfg.data), cfg.split)
    if cfg.limit is not None:
        order = torch.randperm(len(records), generator=torch.Generator().manual_seed(cfg.seed))
        records = [records[i] for i in order[:cfg.limit].tolist()]
    return records


def training_texts(cfg: TrainConfig, records: list[Record]) -> list[str]:
    """The texts a run learns from, which a preset's tokenizer is also trained on: the records in Alpaca's
    template (objective ``instruction``) or as plain documents (``documents``)."""
    return list(document_texts(records) if cfg.objective == "documents" else alpaca_texts(records))


def prepare(cfg: TrainConfig, rt: Distributed, checkpoint: Path | None, records: list[Record]):
    """Tokenizer, examples and the (unsharded) model for ``records``, from a checkpoint when resuming."""
    out = Path(cfg.output_dir)
    if cfg.lora:
        base = out / "base_model" if cfg.is_preset else cfg.model
        if cfg.is_preset and not (base / "config.json").is_file():
            tokenizer = train_tokenizer(training_texts(cfg, records), cfg.vocab_size)
            model = build_model(llama_config(cfg.model, len(tokenizer), max_position_embeddings=cfg.max_length),
                                seed=cfg.seed)
            save_hf(model.state_dict(), model.config, tokenizer, base, torch.float32)
        download = cfg.download and not cfg.is_preset
        tokenizer = load_tokenizer(base, download=download)
        model = load_causal_lm(base, attn_implementation=cfg.attention, download=download)
        add_pad_token(tokenizer, model)
        if checkpoint is not None:
            model = load_lora(model, checkpoint / "adapter")
        else:
            model = apply_lora(model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_targets)
    elif checkpoint is not None:
        tokenizer, model = load_tokenizer(checkpoint), load_causal_lm(checkpoint, attn_implementation=cfg.attention)
    elif cfg.is_preset:
        # one tokenizer for all processes: rank 0 trains it and saves it where the final model will be
        if rt.is_main:
            train_tokenizer(training_texts(cfg, records), cfg.vocab_size).save_pretrained(out)
        barrier(rt)
        tokenizer = load_tokenizer(out)
        model = build_model(llama_config(cfg.model, len(tokenizer), max_position_embeddings=cfg.max_length),
                            seed=cfg.seed, attn_implementation=cfg.attention)
    else:
        tokenizer = load_tokenizer(cfg.model, download=cfg.download)
        model = load_causal_lm(cfg.model, attn_implementation=cfg.attention, download=cfg.download)
        add_pad_token(tokenizer, model)
    if cfg.objective == "documents":
        examples, report = sft.tokenize_documents(training_texts(cfg, records), tokenizer, cfg.max_length)
    else:
        examples, report = sft.tokenize_records(records, tokenizer, cfg.max_length)
    return tokenizer, model, examples, report


def run_info(cfg: TrainConfig, rt: Distributed, dtype: torch.dtype) -> dict:
    """What a result file must say: ``results.provenance`` (the machine with its device, processes, FSDP and
    torch threads), then the precision and configuration."""
    device = torch.cuda.get_device_name(0) if rt.device.type == "cuda" else rt.device.type.upper()
    return provenance(" ".join(cfg.command) or None, ("torch", "transformers", "peft"), device=device,
                      processes=rt.world_size, fsdp=rt.sharded, torch_threads=torch.get_num_threads()) | {
        "precision": str(dtype).removeprefix("torch."), "config": asdict(cfg)}


def read_log(folder: str | Path) -> list[dict]:
    """The training log of a run folder, one record per step (a resumed run's replayed steps: the last wins)."""
    by_step = {r["step"]: r for r in AppendOnlyStore(Path(folder) / LOG_FILE).read()}
    return [by_step[k] for k in sorted(by_step)]


def read_run(folder: str | Path) -> dict:
    """A run folder's ``run.json``: command, date, machine, versions, configuration, data report, result."""
    return json.loads(read_text(Path(folder) / RUN_FILE))


@dataclass
class TrainResult:
    """Where a finished run left its model and log, and its headline numbers."""

    output_dir: Path
    steps: int
    final_loss: float
    seconds: float
    parameters: int
    trainable_parameters: int
    resumed_from: int
