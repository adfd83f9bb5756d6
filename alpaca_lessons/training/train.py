"""Alpaca's fine-tuning loop: one script from a laptop CPU to 8 GPUs.

    python -m alpaca_lessons.training.train --model course --output-dir work/run            # one process
    torchrun --nproc_per_node=8 -m alpaca_lessons.training.train --model /models/llama-7b \\
        --output-dir work/alpaca-7b                                                # FSDP over 8 GPUs

(``alpaca-lessons train ...`` takes the same options.) Under ``torchrun`` (one process or many) each process
holds a shard of the model with FSDP2 (``torch.distributed.fsdp.fully_shard``): one FSDP unit per
``LlamaDecoderLayer``, then the whole model (embeddings, final norm, output layer), which is what Alpaca's
``--fsdp "full_shard auto_wrap" --fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer`` asked of the Hugging
Face Trainer. The backend is gloo on CPU and NCCL on GPUs; nothing else changes.

The defaults are Alpaca's: effective batch 128 examples (micro-batch x accumulation x processes), learning
rate 2e-5, 3 epochs, cosine schedule with 3% warmup, no weight decay, AdamW (betas 0.9/0.999, as the
Trainer), gradient clipping at 1.0 (the Trainer's default, which Alpaca kept), max length 512, bfloat16
where the hardware supports it (CUDA GPUs with bf16), float32 elsewhere.

Every optimizer step sees ``effective_batch_size`` examples of a seeded per-epoch shuffle; the last
incomplete step of an epoch is dropped (at most 127 examples, different ones each epoch) so that every
process runs the same number of micro-batches, which FSDP's collectives require. The step's loss is the
mean over all its target tokens (see ``sft``); each process scales its token-loss sum by
``world_size / step_target_tokens`` because FSDP averages gradients over processes.

Checkpoints (every ``--save-steps``) hold the full model in Hugging Face format, loadable
with ``from_pretrained``, plus the optimizer state, sharded with ``torch.distributed.checkpoint``; a
checkpoint is written under a temporary name and renamed when complete, so a run killed at any moment
resumes (``--resume``, on by default) from its last complete checkpoint with the same data order. When
the run ends, the model is exported to ``output_dir`` (``--save-dtype``, LoRA merged) and the checkpoints,
whose only use was resuming, are deleted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist

from alpaca_lessons.common.results import provenance
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import read_records, read_text
from alpaca_lessons.models.modeling import (
    PRESETS,
    add_pad_token,
    alpaca_texts,
    build_model,
    count_parameters,
    enable_activation_checkpointing,
    llama_config,
    load_causal_lm,
    load_tokenizer,
    quiet_progress,
    train_tokenizer,
)
from alpaca_lessons.training import sft

LOG_FILE = "train_log.jsonl"
RUN_FILE = "run.json"
STATE_FILE = "trainer_state.json"
# alpaca-lora's choices: r=8 with q_proj/v_proj in its first release; later r=16 on all four projections
LORA_TARGETS = ("q_proj", "v_proj")


@dataclass
class TrainConfig:
    """Everything a run depends on; the defaults are Alpaca's recipe."""

    model: str = "course"  # a preset (tiny, course) built from scratch, or a local Hugging Face model folder
    data: str = "alpaca_data"  # a registry name or a path to Alpaca-format JSON/JSONL
    output_dir: str = "work/train"
    limit: int | None = None  # train on this many records of a seeded shuffle (None: all)
    vocab_size: int = 4096  # tokenizer trained for a preset model: 4K byte-level BPE suits 52K English examples
    effective_batch_size: int = 128  # Alpaca: 4 per GPU x 8 accumulation x 4 GPUs
    micro_batch_size: int = 4
    learning_rate: float = 2e-5
    epochs: float = 3.0
    max_steps: int | None = None  # overrides epochs
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_length: int = sft.MAX_LENGTH
    collation: str = "padded"  # padded (the original recipe) or packed (no padding, per-example attention)
    attention: str = "sdpa"  # the attention kernel: sdpa, flex_attention (packed rows on GPUs) or eager
    precision: str = "auto"  # auto: bf16 on CUDA GPUs that support it, else fp32
    activation_checkpointing: bool = False
    cpu_offload: bool = False  # FSDP's CPUOffloadPolicy: params, grads and optimizer states in CPU memory
    seed: int = 42  # the Trainer's default seed, which Alpaca kept
    save_steps: int = 0  # 0: no checkpoints, only the final export
    save_total_limit: int = 1
    resume: bool = True
    log_steps: int = 1
    save_dtype: str = "float32"  # dtype of the final exported model (checkpoints are always float32)
    export: bool = True  # write the final model (benchmark runs that only time steps skip it)
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = LORA_TARGETS
    backend: str = "fsdp2"  # fsdp2 (this loop, CPU or GPU) or hf-trainer (Alpaca's Trainer + FSDP, GPUs only)
    progress: bool = True
    command: list[str] = field(default_factory=list)  # the command line, recorded in run.json

    @property
    def is_preset(self) -> bool:
        """Whether ``model`` names a size to build from scratch rather than a folder to load."""
        return self.model in PRESETS


@dataclass(frozen=True)
class Distributed:
    """Where this process sits: rank, world size, device, and whether torchrun launched it."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    launched: bool = False  # by torchrun: a process group exists (NCCL or gloo) and the model is FSDP-sharded

    @property
    def is_main(self) -> bool:
        """Rank 0 writes files and shows the progress bar."""
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        """Whether the model is sharded with FSDP: under torchrun, even a world of one process runs the FSDP
        path (one shard per process, the same collectives) so that one GPU tests what eight will run."""
        return self.launched


def setup_distributed() -> Distributed:
    """Join the process group when launched by torchrun (gloo on CPU, NCCL on GPUs); else a lone process."""
    cuda = torch.cuda.is_available()
    if "WORLD_SIZE" not in os.environ:
        return Distributed(device=torch.device("cuda" if cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    return Distributed(dist.get_rank(), dist.get_world_size(), device, launched=True)


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


def _optimizer_and_scheduler(model: torch.nn.Module, cfg: TrainConfig, total_steps: int, device: torch.device):
    from transformers import get_cosine_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    # fused AdamW on GPUs: one kernel for all parameters; the same update as the Trainer's adamw_torch
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=cfg.weight_decay, fused=device.type == "cuda" and not cfg.cpu_offload)
    warmup = math.ceil(cfg.warmup_ratio * total_steps)  # as the Trainer rounds warmup_ratio
    return optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)


def shard_model(model: torch.nn.Module, dtype: torch.dtype, *, cpu_offload: bool = False) -> torch.nn.Module:
    """FSDP2 full sharding: one unit per ``LlamaDecoderLayer`` (any ``model.model.layers``), then the model.

    Each parameter is split along its first dimension over the processes; a layer's full weights exist
    only while that layer runs (gathered in ``param_dtype``), and gradients are reduced in float32.
    """
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy, fully_shard

    mesh = init_device_mesh("cuda" if torch.cuda.is_available() else "cpu", (dist.get_world_size(),))
    options = {"mesh": mesh, "mp_policy": MixedPrecisionPolicy(param_dtype=dtype, reduce_dtype=torch.float32),
               "offload_policy": CPUOffloadPolicy() if cpu_offload else OffloadPolicy()}
    for layer in decoder_layers(model):
        fully_shard(layer, **options)
    fully_shard(model, **options)
    return model


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The transformer blocks (``LlamaDecoderLayer`` for LLaMA), with or without a peft wrapper."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return list(inner.model.layers)


def shard_fractions(model: torch.nn.Module) -> list[float]:
    """For each decoder layer, the share of its parameters this process holds (1.0 when not sharded)."""
    fractions = []
    for layer in decoder_layers(model):
        local = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in layer.parameters())
        fractions.append(local / sum(p.numel() for p in layer.parameters()))
    return fractions


def apply_lora(model: torch.nn.Module, cfg: TrainConfig) -> torch.nn.Module:
    """Wrap ``model`` with peft LoRA adapters (alpaca-lora's settings by default); the base stays frozen."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                        target_modules=list(cfg.lora_targets), bias="none", task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft 0.21 still calls a method transformers 5.23 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


# ---------------------------------------------------------------------------------------------- checkpoints

def _checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, by step (a ``.tmp`` one was interrupted while being written)."""
    done = [p for p in output_dir.glob("checkpoint-*")
            if p.name.removeprefix("checkpoint-").isdigit() and (p / STATE_FILE).is_file()]
    return sorted(done, key=lambda p: int(p.name.removeprefix("checkpoint-")))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The complete checkpoint with the highest step in ``output_dir``, if any."""
    found = _checkpoints(Path(output_dir))
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
    _barrier(rt)
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
        for old in _checkpoints(Path(cfg.output_dir))[:-cfg.save_total_limit]:
            shutil.rmtree(old)
    _barrier(rt)
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


def _barrier(rt: Distributed) -> None:
    if rt.sharded:
        dist.barrier()


# -------------------------------------------------------------------------------------------------- the run

def _prepare(cfg: TrainConfig, rt: Distributed, checkpoint: Path | None):
    """Records, tokenizer, examples and the (unsharded) model, from a checkpoint when resuming."""
    records = read_records(cfg.data)
    if cfg.limit is not None:
        order = torch.randperm(len(records), generator=torch.Generator().manual_seed(cfg.seed))
        records = [records[i] for i in order[:cfg.limit].tolist()]
    out = Path(cfg.output_dir)
    if cfg.lora:
        base = out / "base_model" if cfg.is_preset else Path(cfg.model)
        if cfg.is_preset and not (base / "config.json").is_file():
            tokenizer = train_tokenizer(alpaca_texts(records), cfg.vocab_size)
            model = build_model(llama_config(cfg.model, len(tokenizer), max_position_embeddings=cfg.max_length),
                                seed=cfg.seed)
            save_hf(model.state_dict(), model.config, tokenizer, base, torch.float32)
        tokenizer, model = load_tokenizer(base), load_causal_lm(base, attn_implementation=cfg.attention)
        add_pad_token(tokenizer, model)
        if checkpoint is not None:
            from peft import PeftModel

            with warnings.catch_warnings():  # as in apply_lora
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
                model = PeftModel.from_pretrained(model, checkpoint / "adapter", is_trainable=True)
        else:
            model = apply_lora(model, cfg)
    elif checkpoint is not None:
        tokenizer, model = load_tokenizer(checkpoint), load_causal_lm(checkpoint, attn_implementation=cfg.attention)
    elif cfg.is_preset:
        # one tokenizer for all processes: rank 0 trains it and saves it where the final model will be
        if rt.is_main:
            train_tokenizer(alpaca_texts(records), cfg.vocab_size).save_pretrained(out)
        _barrier(rt)
        tokenizer = load_tokenizer(out)
        model = build_model(llama_config(cfg.model, len(tokenizer), max_position_embeddings=cfg.max_length),
                            seed=cfg.seed, attn_implementation=cfg.attention)
    else:
        tokenizer, model = load_tokenizer(cfg.model), load_causal_lm(cfg.model, attn_implementation=cfg.attention)
        add_pad_token(tokenizer, model)
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


def train(cfg: TrainConfig) -> TrainResult:
    """Run (or resume) training as configured; every process of a torchrun launch calls this."""
    from tqdm.auto import tqdm

    rt = setup_distributed()
    if cfg.lora and rt.sharded:
        raise ValueError("LoRA runs on one process here, as alpaca-lora's single-GPU recipe; drop torchrun")
    if cfg.attention not in sft.ATTENTIONS:
        raise ValueError(f"attention must be one of {sft.ATTENTIONS}, not {cfg.attention!r}")
    if cfg.attention == "flex_attention" and rt.device.type != "cuda":
        raise ValueError("flex_attention trains on CUDA GPUs only (PyTorch has no CPU backward for it); "
                         "use --attention sdpa on a CPU, which isolates packed examples with a dense mask")
    if cfg.cpu_offload and not (rt.sharded and rt.device.type == "cuda"):
        raise ValueError("--cpu-offload moves FSDP shards from GPU to CPU memory: it needs torchrun on GPUs")
    if cfg.collation not in sft.COLLATIONS:
        raise ValueError(f"collation must be one of {sorted(sft.COLLATIONS)}")
    dtype = resolve_precision(cfg.precision, rt.device)
    accum = accumulation_steps(cfg, rt.world_size)
    out = Path(cfg.output_dir)
    if rt.is_main:
        out.mkdir(parents=True, exist_ok=True)
    _barrier(rt)
    checkpoint = latest_checkpoint(out) if cfg.resume else None
    tokenizer, model, examples, report = _prepare(cfg, rt, checkpoint)
    schedule = make_schedule(cfg, len(examples))
    parameters, trainable = count_parameters(model)
    model.config.use_cache = False
    if cfg.activation_checkpointing:
        enable_activation_checkpointing(model)
    if rt.sharded:
        if not cfg.cpu_offload:
            model.to(rt.device)
        model = shard_model(model, dtype, cpu_offload=cfg.cpu_offload)
    else:
        model.to(rt.device)
    # one process: autocast does bf16 compute over float32 weights (FSDP's MixedPrecisionPolicy does it sharded)
    autocast = (torch.autocast(rt.device.type, dtype=dtype) if dtype != torch.float32 and not rt.sharded
                else nullcontext())
    optimizer, scheduler = _optimizer_and_scheduler(model, cfg, schedule.total_steps, rt.device)
    start = 0
    if checkpoint is not None:
        state = json.loads((checkpoint / STATE_FILE).read_text())
        load_optimizer_state(model, optimizer, checkpoint)
        scheduler.load_state_dict(state["scheduler"])
        start = state["step"]
    fractions = shard_fractions(model)
    if rt.sharded:
        gathered: list[list[float]] = [[] for _ in range(rt.world_size)]
        dist.all_gather_object(gathered, fractions)
    else:
        gathered = [fractions]
    log = AppendOnlyStore(out / LOG_FILE)
    if rt.is_main and start == 0:  # a fresh run, not a resumed one: its log starts empty
        (out / LOG_FILE).unlink(missing_ok=True)
    if rt.is_main:
        info = run_info(cfg, rt, dtype) | {
            "parameters": parameters, "trainable_parameters": trainable, "examples": asdict(report),
            "steps_per_epoch": schedule.steps_per_epoch, "total_steps": schedule.total_steps,
            "accumulation_steps": accum, "shard_fractions": gathered, "fsdp_units": fsdp_units(model),
            "resumed_from": start}
        (out / RUN_FILE).write_text(json.dumps(info, indent=1))
        print(f"{parameters:,} parameters ({trainable:,} trainable); {report.summary()}; "
              f"{schedule.total_steps} steps of {cfg.effective_batch_size} = {cfg.micro_batch_size} x {accum} "
              f"x {rt.world_size} process(es); {str(dtype).removeprefix('torch.')}" +
              (f"; resuming after step {start}" if start else ""), flush=True)
    collate = sft.COLLATIONS[cfg.collation]
    per_rank = cfg.effective_batch_size // rt.world_size
    bar = tqdm(total=schedule.total_steps, initial=start, disable=not (rt.is_main and cfg.progress),
               desc="training", unit="step")
    model.train()
    began, last_time, last = time.perf_counter(), time.perf_counter(), {}
    tokens_since = useful_here = computed_here = 0  # all processes' example tokens; this process's, and padded
    for step in range(start, schedule.total_steps):
        torch.manual_seed(cfg.seed + step * rt.world_size + rt.rank)  # dropout (LoRA) replays on resume
        step_examples = [examples[i] for i in schedule.step_indices(step)]
        scale = rt.world_size / sft.step_target_tokens(step_examples)
        mine = step_examples[rt.rank * per_rank:(rt.rank + 1) * per_rank]
        loss_sum = torch.zeros((), device=rt.device)
        for k in range(accum):
            batch = collate(mine[k * cfg.micro_batch_size:(k + 1) * cfg.micro_batch_size], tokenizer.pad_token_id)
            computed_here += batch["input_ids"].numel()
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
        loss = loss_sum.item() * scale / rt.world_size
        tokens_since += sum(len(e) for e in step_examples)  # useful tokens: padding is not counted
        useful_here += sum(len(e) for e in mine)
        done = step + 1
        if done % cfg.log_steps == 0 or done == schedule.total_steps:
            norm = grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm
            now = time.perf_counter()
            last = {"step": done, "epoch": round(schedule.epoch(done), 4), "loss": round(loss, 5),
                    "lr": float(f"{lr:.6g}"), "grad_norm": round(float(norm), 5),
                    "tokens_per_s": round(tokens_since / (now - last_time), 1),
                    "pad_share": round(1 - useful_here / computed_here, 4),
                    "elapsed_s": round(now - began, 2)}
            last_time, tokens_since, useful_here, computed_here = now, 0, 0, 0
            if rt.is_main:
                log.append(last)
                bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{last['tokens_per_s']:.0f}")
        bar.update(1)
        if cfg.save_steps and done % cfg.save_steps == 0 and done < schedule.total_steps:
            save_checkpoint(model, optimizer, scheduler, tokenizer, model.config, done, cfg, rt, last)
    bar.close()
    seconds = time.perf_counter() - began
    if cfg.export:
        _export(model, tokenizer, cfg, rt)
    if rt.is_main:  # checkpoints exist to resume an unfinished run; the exported model is the result
        for old in _checkpoints(out):
            shutil.rmtree(old)
    final_loss = last.get("loss", float("nan"))
    if rt.is_main:
        info = read_run(out)
        info["result"] = {"steps": schedule.total_steps, "final_loss": final_loss,
                          "seconds_this_run": round(seconds, 1)}
        (out / RUN_FILE).write_text(json.dumps(info, indent=1))
    _barrier(rt)
    return TrainResult(out, schedule.total_steps, final_loss, seconds, parameters, trainable, start)


def _export(model, tokenizer, cfg: TrainConfig, rt: Distributed) -> None:
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


# ------------------------------------------------------------------------- the original recipe (GPU only)

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
    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    tokenizer, model, examples, report = _prepare(cfg, rt, None)
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


def fsdp_units(model: torch.nn.Module) -> dict[str, int]:
    """How many modules of each class FSDP wrapped (FSDP1's ``FullyShardedDataParallel``, or FSDP2's
    ``FSDP<Class>``): evidence that ``auto_wrap`` made one unit per ``LlamaDecoderLayer``."""
    units: dict[str, int] = {}
    for module in model.modules():
        name = type(module).__name__
        if name == "FullyShardedDataParallel":
            name = type(module.module).__name__
        elif name.startswith("FSDP"):
            name = name.removeprefix("FSDP")
        else:
            continue
        units[name] = units.get(name, 0) + 1
    return units


# ------------------------------------------------------------------------------------ launching at scale

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


# ----------------------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``alpaca-lessons train`` and ``python -m alpaca_lessons.training.train``.

    One option per config field."""
    defaults = TrainConfig()
    helps = {
        "model": f"a preset built from scratch ({', '.join(p for p in PRESETS if p != 'llama-7b')}) "
                 "or a local Hugging Face model folder",
        "data": "registry name or path of Alpaca-format records", "limit": "use this many records (seeded sample)",
        "collation": "padded (the original recipe) or packed (one row per micro-batch, per-example attention)",
        "precision": "auto (bf16 on capable GPUs, else fp32), bf16 or fp32",
        "save_steps": "checkpoint every N optimizer steps to resume from (0: none)",
        "lora_targets": "comma-separated module names", "max_steps": "overrides --epochs",
    }
    for f in fields(TrainConfig):
        if f.name == "command":
            continue
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=helps.get(f.name))
        elif isinstance(value, tuple):
            parser.add_argument(flag, type=lambda s: tuple(s.split(",")), default=value, help=helps.get(f.name))
        else:
            kind = {"limit": int, "max_steps": int}.get(f.name, type(value))
            parser.add_argument(flag, type=kind, default=value, help=helps.get(f.name))


def command_line(cfg: TrainConfig) -> list[str]:
    """The options that reproduce ``cfg`` on the command line (for ``torchrun -m alpaca_lessons.training.train``)."""
    defaults, options = TrainConfig(), []
    for f in fields(TrainConfig):
        value = getattr(cfg, f.name)
        if f.name == "command" or value == getattr(defaults, f.name):
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            options.append(flag if value else "--no-" + flag[2:])
        else:
            options += [flag, ",".join(value) if isinstance(value, tuple) else str(value)]
    return options


def run_torchrun(cfg: TrainConfig, processes: int = 2) -> None:
    """Train ``cfg`` in ``processes`` processes on this machine with ``torchrun`` (FSDP), and wait for it.

    torchrun gives each process one thread unless ``OMP_NUM_THREADS`` says otherwise; a failure raises with
    the processes' last output.
    """
    import subprocess

    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
               "-m", "alpaca_lessons.training.train", *command_line(cfg)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"torchrun failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def weight_differences(folder_a: str | Path, folder_b: str | Path) -> dict[str, float]:
    """Largest absolute difference of each tensor between two saved models (same names required)."""
    from safetensors.torch import load_file

    a, b = load_file(Path(folder_a) / "model.safetensors"), load_file(Path(folder_b) / "model.safetensors")
    if a.keys() != b.keys():
        raise ValueError("the two models have different tensors")
    return {k: float((a[k].float() - b[k].float()).abs().max()) for k in sorted(a)}


def config_from_args(args: argparse.Namespace, command: Sequence[str]) -> TrainConfig:
    """A ``TrainConfig`` from parsed options, remembering the command line."""
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "command"}
    return TrainConfig(**values, command=list(command))


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


def main(argv: Sequence[str] | None = None, prog: str = "python -m alpaca_lessons.training.train") -> int:
    """``python -m alpaca_lessons.training.train`` (and ``alpaca-lessons train``): parse options, train, return 0."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(parser.parse_args(argv), [*prog.split(), *argv])


if __name__ == "__main__":
    sys.exit(main())
