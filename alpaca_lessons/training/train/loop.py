"""Alpaca's fine-tuning loop, ``train``: the same code in one process on a laptop CPU and under torchrun on 8 GPUs.

A step's loss is the mean over all its target tokens (see ``sft``); each process scales its token-loss sum by
``world_size / step_target_tokens`` because FSDP averages gradients over processes. ``train_step`` is one
optimizer step, ``Meter`` turns steps into log records, and ``train`` strings them together with setup,
checkpoints and the export around them.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

from alpaca_lessons.common.errors import SettingError
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.models.modeling import count_parameters, enable_activation_checkpointing, model_source
from alpaca_lessons.training import sft
from alpaca_lessons.training.train.checkpoint import (
    STATE_FILE,
    checkpoints,
    export,
    latest_checkpoint,
    load_optimizer_state,
    save_checkpoint,
)
from alpaca_lessons.training.train.config import (
    Schedule,
    TrainConfig,
    accumulation_steps,
    make_schedule,
    resolve_precision,
)
from alpaca_lessons.training.train.distributed import (
    Distributed,
    barrier,
    fsdp_units,
    setup_distributed,
    shard_fractions,
    shard_model,
)
from alpaca_lessons.training.train.run import (
    LOG_FILE,
    RUN_FILE,
    TrainResult,
    prepare,
    read_run,
    read_training_records,
    run_info,
)


def check_config(cfg: TrainConfig, rt: Distributed) -> None:
    """Refuse, before any work, the settings this process cannot train with."""
    if not cfg.is_preset:
        model_source(cfg.model, download=cfg.download)  # a hub id without --download: refused before any request
    if cfg.lora and rt.sharded:
        raise SettingError("LoRA runs on one process here, as alpaca-lora's single-GPU recipe; drop torchrun")
    if cfg.attention not in sft.ATTENTIONS:
        raise SettingError(f"attention must be one of {sft.ATTENTIONS}, not {cfg.attention!r}")
    if cfg.attention == "flex_attention" and rt.device.type != "cuda":
        raise SettingError("flex_attention trains on CUDA GPUs only (PyTorch has no CPU backward for it); "
                         "use --attention sdpa on a CPU, which isolates packed examples with a dense mask")
    if cfg.cpu_offload and not (rt.sharded and rt.device.type == "cuda"):
        raise SettingError("--cpu-offload moves FSDP shards from GPU to CPU memory: it needs torchrun on GPUs")
    if cfg.split not in ("all", "train"):
        raise SettingError(f"split must be all or train (the held-out side is for evaluation), not {cfg.split!r}")
    if cfg.objective not in sft.OBJECTIVES:
        raise SettingError(f"objective must be one of {', '.join(sft.OBJECTIVES)}, not {cfg.objective!r}")
    if cfg.collation not in sft.COLLATIONS:
        raise SettingError(f"collation must be one of {sorted(sft.COLLATIONS)}")


def place_model(model: torch.nn.Module, cfg: TrainConfig, rt: Distributed, dtype: torch.dtype) -> torch.nn.Module:
    """The model ready to train: no KV cache, activation checkpointing if asked, on its device, FSDP-sharded
    under torchrun."""
    model.config.use_cache = False
    if cfg.activation_checkpointing:
        enable_activation_checkpointing(model)
    if rt.sharded:
        if not cfg.cpu_offload:
            model.to(rt.device)
        return shard_model(model, dtype, cpu_offload=cfg.cpu_offload)
    return model.to(rt.device)


def optimizer_and_scheduler(model: torch.nn.Module, cfg: TrainConfig, total_steps: int, device: torch.device):
    """AdamW over the trainable parameters and the cosine schedule with warmup, as the Trainer builds them."""
    from transformers import get_cosine_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    # fused AdamW on GPUs: one kernel for all parameters; the same update as the Trainer's adamw_torch
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=cfg.weight_decay, fused=device.type == "cuda" and not cfg.cpu_offload)
    warmup = math.ceil(cfg.warmup_ratio * total_steps)  # as the Trainer rounds warmup_ratio
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)


@dataclass(frozen=True)
class StepResult:
    """What one optimizer step reports: the loss over all processes' target tokens, the gradient norm before
    clipping, and the learning rate the step used."""

    loss: float
    grad_norm: float
    lr: float


def train_step(model: torch.nn.Module, optimizer, scheduler, batches: list[dict[str, torch.Tensor]], scale: float,
               cfg: TrainConfig, rt: Distributed, autocast: AbstractContextManager) -> StepResult:
    """One optimizer step over this process's micro-batches; ``scale`` is ``world_size / step_target_tokens``."""
    loss_sum = torch.zeros((), device=rt.device)
    for batch in batches:
        batch = {key: value.to(rt.device) for key, value in batch.items()}
        with autocast:
            logits = model(**sft.model_inputs(batch, cfg.attention)).logits
        token_sum = sft.token_losses(logits, batch["labels"]).sum()
        (token_sum * scale).backward()
        loss_sum += token_sum.detach()
        del logits  # else this micro-batch's logits stay alive through the next one's forward
    grad_norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                               cfg.max_grad_norm)
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    if rt.sharded:
        dist.all_reduce(loss_sum)
    norm = grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm
    return StepResult(loss_sum.item() * scale / rt.world_size, float(norm), lr)


@dataclass
class Meter:
    """Throughput between two log records: useful tokens of all processes (padding not counted), and this
    process's useful and computed (padded) tokens, for the share of padding."""

    began: float = field(default_factory=time.perf_counter)
    since: float = field(default_factory=time.perf_counter)
    tokens: int = 0
    useful_here: int = 0
    computed_here: int = 0

    def add(self, step_examples: list, mine: list, batches: list[dict[str, torch.Tensor]]) -> None:
        """Count one step's tokens."""
        self.tokens += sum(len(e) for e in step_examples)
        self.useful_here += sum(len(e) for e in mine)
        self.computed_here += sum(batch["input_ids"].numel() for batch in batches)

    def record(self, step: int, epoch: float, result: StepResult) -> dict:
        """The log record of ``step``; the counts restart."""
        now = time.perf_counter()
        record = {"step": step, "epoch": round(epoch, 4), "loss": round(result.loss, 5),
                  "lr": float(f"{result.lr:.6g}"), "grad_norm": round(result.grad_norm, 5),
                  "tokens_per_s": round(self.tokens / (now - self.since), 1),
                  "pad_share": round(1 - self.useful_here / self.computed_here, 4),
                  "elapsed_s": round(now - self.began, 2)}
        self.since, self.tokens, self.useful_here, self.computed_here = now, 0, 0, 0
        return record


def _resume(model, optimizer, scheduler, checkpoint: Path | None) -> int:
    """Restore the optimizer and schedule from ``checkpoint``; the step to start from (0 for a fresh run)."""
    if checkpoint is None:
        return 0
    state = json.loads((checkpoint / STATE_FILE).read_text())
    load_optimizer_state(model, optimizer, checkpoint)
    scheduler.load_state_dict(state["scheduler"])
    return state["step"]


def _start_run(cfg: TrainConfig, rt: Distributed, model, dtype: torch.dtype, facts: dict, data_summary: str) -> None:
    """Write ``run.json`` (every process's shard fractions gathered) and start the log, then say what runs."""
    fractions = shard_fractions(model)
    if rt.sharded:
        gathered: list[list[float]] = [[] for _ in range(rt.world_size)]
        dist.all_gather_object(gathered, fractions)
    else:
        gathered = [fractions]
    if not rt.is_main:
        return
    out = Path(cfg.output_dir)
    if facts["resumed_from"] == 0:  # a fresh run, not a resumed one: its log starts empty
        (out / LOG_FILE).unlink(missing_ok=True)
    info = run_info(cfg, rt, dtype) | facts | {"shard_fractions": gathered, "fsdp_units": fsdp_units(model)}
    (out / RUN_FILE).write_text(json.dumps(info, indent=1))
    start = facts["resumed_from"]
    print(f"{facts['parameters']:,} parameters ({facts['trainable_parameters']:,} trainable); "
          f"{data_summary}; {facts['total_steps']} steps of {cfg.effective_batch_size} = "
          f"{cfg.micro_batch_size} x {facts['accumulation_steps']} x {rt.world_size} process(es); "
          f"{str(dtype).removeprefix('torch.')}" + (f"; resuming after step {start}" if start else ""), flush=True)


def _finish(model, tokenizer, cfg: TrainConfig, rt: Distributed, steps: int, final_loss: float,
            seconds: float) -> None:
    """Export the model, delete the checkpoints (they exist to resume an unfinished run) and record the result."""
    if cfg.export:
        export(model, tokenizer, cfg, rt)
    out = Path(cfg.output_dir)
    if rt.is_main:
        for old in checkpoints(out):
            shutil.rmtree(old)
        info = read_run(out)
        info["result"] = {"steps": steps, "final_loss": final_loss, "seconds_this_run": round(seconds, 1)}
        (out / RUN_FILE).write_text(json.dumps(info, indent=1))
    barrier(rt)


def train(cfg: TrainConfig) -> TrainResult:
    """Run (or resume) training as configured; every process of a torchrun launch calls this."""
    from tqdm.auto import tqdm

    rt = setup_distributed()
    check_config(cfg, rt)
    dtype = resolve_precision(cfg.precision, rt.device)
    accum = accumulation_steps(cfg, rt.world_size)
    records = read_training_records(cfg)
    out = Path(cfg.output_dir)
    if rt.is_main:
        out.mkdir(parents=True, exist_ok=True)
    barrier(rt)
    checkpoint = latest_checkpoint(out) if cfg.resume else None
    tokenizer, model, examples, report = prepare(cfg, rt, checkpoint, records)
    schedule: Schedule = make_schedule(cfg, len(examples))
    parameters, trainable = count_parameters(model)
    model = place_model(model, cfg, rt, dtype)
    # one process: autocast does bf16 compute over float32 weights (FSDP's MixedPrecisionPolicy does it sharded)
    autocast = (torch.autocast(rt.device.type, dtype=dtype) if dtype != torch.float32 and not rt.sharded
                else nullcontext())
    optimizer, scheduler = optimizer_and_scheduler(model, cfg, schedule.total_steps, rt.device)
    start = _resume(model, optimizer, scheduler, checkpoint)
    _start_run(cfg, rt, model, dtype, {
        "parameters": parameters, "trainable_parameters": trainable, "examples": asdict(report),
        "steps_per_epoch": schedule.steps_per_epoch, "total_steps": schedule.total_steps,
        "accumulation_steps": accum, "resumed_from": start}, report.summary())
    log = AppendOnlyStore(out / LOG_FILE)
    collate = sft.COLLATIONS[cfg.collation]
    per_rank, micro = cfg.effective_batch_size // rt.world_size, cfg.micro_batch_size
    bar = tqdm(total=schedule.total_steps, initial=start, disable=not (rt.is_main and cfg.progress),
               desc="training", unit="step")
    model.train()
    meter, last = Meter(), {}
    for step in range(start, schedule.total_steps):
        torch.manual_seed(cfg.seed + step * rt.world_size + rt.rank)  # dropout (LoRA) replays on resume
        step_examples = [examples[i] for i in schedule.step_indices(step)]
        scale = rt.world_size / sft.step_target_tokens(step_examples)
        mine = step_examples[rt.rank * per_rank:(rt.rank + 1) * per_rank]
        batches = [collate(mine[k * micro:(k + 1) * micro], tokenizer.pad_token_id) for k in range(accum)]
        result = train_step(model, optimizer, scheduler, batches, scale, cfg, rt, autocast)
        if not math.isfinite(result.loss):  # every process sees the same all-reduced loss, so all stop here
            raise FloatingPointError(f"{cfg.output_dir}: step {step + 1}: the loss is {result.loss} (diverged); "
                                     f"lower --learning-rate or use --precision fp32, and resume from a checkpoint")
        meter.add(step_examples, mine, batches)
        done = step + 1
        if done % cfg.log_steps == 0 or done == schedule.total_steps:
            last = meter.record(done, schedule.epoch(done), result)
            if rt.is_main:
                log.append(last)
                bar.set_postfix(loss=f"{result.loss:.3f}", lr=f"{result.lr:.2e}", tok_s=f"{last['tokens_per_s']:.0f}")
        bar.update(1)
        if cfg.save_steps and done % cfg.save_steps == 0 and done < schedule.total_steps:
            save_checkpoint(model, optimizer, scheduler, tokenizer, model.config, done, cfg, rt, last)
    bar.close()
    seconds = time.perf_counter() - meter.began
    final_loss = last.get("loss", float("nan"))
    _finish(model, tokenizer, cfg, rt, schedule.total_steps, final_loss, seconds)
    return TrainResult(out, schedule.total_steps, final_loss, seconds, parameters, trainable, start)
