"""How much memory fine-tuning needs, why Alpaca sharded a 7B model over 4-8 80GB GPUs, and what it costs.

The peak memory of a training step is the larger of two moments:

* the start of the backward pass: weights, optimizer state (after the first step), gradients (if an
  earlier micro-batch of the step left some), every activation saved by the forward pass, and the logits
  with their gradients;
* the optimizer step: weights, gradients and optimizer state together, plus a temporary or two.

Full fine-tuning with AdamW keeps 16 bytes per parameter: float32 weights (the master copy that bfloat16
training still needs, since updates of 2e-5 x a weight vanish in bfloat16), float32 gradients and Adam's two
float32 moments. Alpaca's README puts it as "7 x 4 x 4 = 112 GB" for LLaMA-7B. FSDP's full sharding divides
those 16 bytes by the number of GPUs; activations are not divided (each GPU runs its own micro-batch).

Activations are counted tensor by tensor from what LLaMA's layers (Hugging Face, transformers 5) save for
backward, per token of the micro-batch, per layer, with ``h`` the hidden size, ``kv`` the key/value width,
``i`` the MLP width and ``a`` the heads:

* float32: 32h + 8kv + 16i + 4a + 8 bytes; with bfloat16 weights (FSDP mixed precision): 20h + 4kv + 8i + 4a + 8
  (RMSNorm computes in float32 either way); under ``torch.autocast`` over float32 weights (bf16 on one GPU)
  10h more: the residual stream stays float32, so each projection casts its own bfloat16 copy of its input
  (q, k and v three copies, gate and up two) and each RMSNorm keeps a float32 input and output;
* eager attention keeps the a x s attention matrix per token instead of SDPA's log-sum-exp (4a): 4 bytes
  in float32, 6 in bfloat16 (the float32 softmax and its bfloat16 copy); the LLaMA code of March 2023
  (transformers 4.27, what Alpaca's users ran) also kept the scores for a ``torch.max`` clamp: 2 more;
* activation checkpointing keeps only each layer's input (h values) and recomputes one layer at a time.

With FSDP, the weights a layer computes with are gathered in bfloat16 just before it runs: FSDP2 (and FSDP1
since torch 2.1's all-gather rate limiter) holds about two layers at once; FSDP1 before it let the CPU
issue all-gathers far ahead of the GPU, up to every layer at once (``fsdp_gathered_layers``).

The logits add 16 bytes per token per vocabulary entry in float32 (the logits, their log-softmax, and two
gradients alive at once at the start of backward), 14 with bfloat16 logits. These counts match
``torch.autograd.graph.saved_tensors_hooks`` exactly on this CPU; ``measure_peak_cpu`` checks whole-step
peaks against the resident memory of a real run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, replace

GIB = 2**30


@dataclass(frozen=True)
class ModelShape:
    """The sizes of a LLaMA-architecture model that memory depends on."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int | None = None  # None: as many as query heads (LLaMA-1)
    tied: bool = False

    @property
    def kv_size(self) -> int:
        """Width of the key and value projections (smaller than hidden with grouped-query attention)."""
        return self.hidden_size * (self.num_kv_heads or self.num_heads) // self.num_heads

    @property
    def layer_parameters(self) -> int:
        """Parameters of one decoder layer: q, k, v, o, gate, up, down and two RMSNorm weights."""
        h, kv, i = self.hidden_size, self.kv_size, self.intermediate_size
        return 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h

    @property
    def embedding_parameters(self) -> int:
        """Input embeddings plus the output layer (once when tied) plus the final norm."""
        return self.vocab_size * self.hidden_size * (1 if self.tied else 2) + self.hidden_size

    @property
    def parameters(self) -> int:
        """All parameters."""
        return self.embedding_parameters + self.num_layers * self.layer_parameters

    @classmethod
    def from_config(cls, config) -> ModelShape:
        """The shape of a Hugging Face ``LlamaConfig``."""
        return cls(config.vocab_size, config.hidden_size, config.intermediate_size, config.num_hidden_layers,
                   config.num_attention_heads, config.num_key_value_heads, bool(config.tie_word_embeddings))

    def to_config(self):
        """A ``LlamaConfig`` of this shape (to build it, or to measure it)."""
        from transformers import LlamaConfig

        return LlamaConfig(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                           intermediate_size=self.intermediate_size, num_hidden_layers=self.num_layers,
                           num_attention_heads=self.num_heads, num_key_value_heads=self.num_kv_heads or self.num_heads,
                           tie_word_embeddings=self.tied, max_position_embeddings=4096)


# LLaMA-7B as Alpaca fine-tuned it: 6,738,415,616 parameters
LLAMA_7B = ModelShape(32000, 4096, 11008, 32, 32)


@dataclass(frozen=True)
class GPU:
    """A GPU's memory as torch reports its total capacity, and its dense bf16 peak."""

    name: str
    memory_gib: float
    bf16_tflops: float


# Capacities as CUDA reports them in users' out-of-memory messages (an "80GB" card has about 79 GiB);
# peaks are NVIDIA's dense bf16 figures.
GPUS = {
    "A10-24GB": GPU("A10 24GB", 23.69, 125.0),
    "A100-40GB": GPU("A100 40GB", 39.39, 312.0),
    "A100-80GB": GPU("A100 80GB", 79.15, 312.0),
    "H100-80GB": GPU("H100 80GB SXM", 79.11, 989.0),
    "RTX4090-24GB": GPU("RTX 4090 24GB", 23.65, 165.2),
}
# Memory a GPU loses before the first tensor: CUDA context, NCCL buffers, allocator fragmentation.
RESERVED_GIB = 1.0


@dataclass(frozen=True)
class Setup:
    """One training configuration to estimate, per GPU (or for the CPU)."""

    shape: ModelShape
    micro_batch: int = 4  # Alpaca: per_device_train_batch_size 4
    seq_len: int = 512  # worst case: a micro-batch padded to the max length
    gpus: int = 1
    sharded: bool = False  # FSDP full shard over ``gpus``
    precision: str = "bf16"  # bf16: float32 master weights, bfloat16 compute (FSDP mixed precision); or fp32
    attention: str = "sdpa"  # sdpa (flash kernels), eager (materialised attention matrix) or eager-2023
    fsdp_gathered_layers: int = 2  # decoder layers gathered at once: 2 today; up to all with FSDP1 before torch 2.1
    activation_checkpointing: bool = False
    cpu_offload: bool = False  # FSDP CPUOffloadPolicy: sharded weights, grads, optimizer state in CPU memory
    accumulation: int = 1  # micro-batches per step; >1 keeps gradients alive through later forwards
    lora_r: int = 0  # 0: full fine-tuning
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")
    lora_base_bytes: float = 2.0  # bytes per frozen base weight: 2 in bf16, 1 in int8 (alpaca-lora), 4 in fp32

    @property
    def autocast(self) -> bool:
        """bfloat16 compute over float32 weights in one process (``torch.autocast``), rather than FSDP's
        bfloat16 copies of the weights or a base model stored in bfloat16."""
        return self.precision == "bf16" and not self.sharded and (not self.lora_r or self.lora_base_bytes == 4)


@dataclass(frozen=True)
class Estimate:
    """Bytes per GPU (or CPU) at the peak, by part; ``peak`` is what must fit."""

    parameters: int
    trainable: int
    weights: float
    gradients: float
    optimizer: float
    working: float  # bf16 copies of weights being computed with (FSDP: gathered layers and their grads)
    activations: float
    logits: float
    step_temporary: float
    forward_backward_peak: float
    step_peak: float
    cpu_offloaded: float  # in CPU memory instead of GPU memory (cpu_offload)

    @property
    def peak(self) -> float:
        """The higher of the two moments."""
        return max(self.forward_backward_peak, self.step_peak)

    @property
    def first_step_peak(self) -> float:
        """The forward and backward of the very first step, before AdamW has created its state: why a run can
        log one step and then run out of memory."""
        return self.forward_backward_peak - self.optimizer

    def fits(self, gpu: GPU, reserved_gib: float = RESERVED_GIB) -> bool:
        """Whether the peak fits in the GPU's memory after CUDA's own share."""
        return self.peak <= (gpu.memory_gib - reserved_gib) * GIB

    def rows(self) -> list[tuple[str, float]]:
        """(part, GiB) for a table: every part, then the peak (not their sum: gradients and activations do
        not peak at the same moment)."""
        parts = ("weights", "gradients", "optimizer", "working", "activations", "logits")
        return [(p, getattr(self, p) / GIB) for p in parts] + [("peak", self.peak / GIB)]

    def at_peak(self) -> dict[str, float]:
        """GiB of each part alive at the peak moment; they add up to ``peak``."""
        if self.step_peak > self.forward_backward_peak:
            parts = {"weights": self.weights, "gradients": self.gradients, "optimizer": self.optimizer,
                     "temporary": self.step_temporary}
        else:
            live_gradients = self.forward_backward_peak - (self.weights + self.optimizer + self.working +
                                                          self.activations + self.logits)
            parts = {"weights": self.weights, "gradients": live_gradients, "optimizer": self.optimizer,
                     "working": self.working, "activations": self.activations, "logits": self.logits}
        return {name: value / GIB for name, value in parts.items()}


def lora_parameters(shape: ModelShape, r: int, targets: tuple[str, ...]) -> int:
    """Trainable LoRA parameters: r x (in + out) for each adapted projection of every layer."""
    h, kv, i = shape.hidden_size, shape.kv_size, shape.intermediate_size
    sizes = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h), "gate_proj": (h, i),
             "up_proj": (h, i), "down_proj": (i, h)}
    return shape.num_layers * sum(r * sum(sizes[t]) for t in targets)


def activation_bytes_per_token(shape: ModelShape, precision: str, attention: str, seq_len: int,
                               autocast: bool = False) -> float:
    """Bytes one decoder layer saves for backward per token of the micro-batch (see the module docstring);
    ``autocast``: bfloat16 compute over float32 weights."""
    h, kv, i, a = shape.hidden_size, shape.kv_size, shape.intermediate_size, shape.num_heads
    if precision == "fp32":
        saved, matrix, scores = 32 * h + 8 * kv + 16 * i + 8, 4, 4
    else:
        saved, matrix, scores = (30 if autocast else 20) * h + 4 * kv + 8 * i + 8, 6, 2
    if attention not in ("sdpa", "eager", "eager-2023"):
        raise ValueError(f"attention must be sdpa, eager or eager-2023, not {attention!r}")
    if attention == "sdpa":
        return saved + 4 * a
    return saved + (matrix + (scores if attention == "eager-2023" else 0)) * a * seq_len


def estimate(setup: Setup) -> Estimate:
    """The memory of one configuration, by part, at its peak."""
    shape = setup.shape
    compute = 4 if setup.precision == "fp32" else 2
    shards = setup.gpus if setup.sharded else 1
    total = shape.parameters
    tokens = setup.micro_batch * setup.seq_len
    if setup.lora_r:
        trainable = lora_parameters(shape, setup.lora_r, setup.lora_targets)
        weights = total * setup.lora_base_bytes + trainable * 4
        working = 0.0
        largest = trainable * 4 / shape.num_layers
    else:
        trainable = total
        weights = 4 * total / shards
        largest = 4 * max(shape.vocab_size * shape.hidden_size, shape.hidden_size * shape.intermediate_size)
        if setup.precision == "fp32":
            working = 0.0
        elif setup.sharded:  # the root unit and the gathered layers, with their unsharded float32 gradients
            working = (shape.embedding_parameters + setup.fsdp_gathered_layers * shape.layer_parameters) * compute \
                + (shape.embedding_parameters + 2 * shape.layer_parameters) * 4
            largest /= shards
        else:  # autocast keeps a bf16 copy of every weight it has used
            working = compute * total
    gradients = 4 * trainable / (1 if setup.lora_r else shards)
    optimizer = 8 * trainable / (1 if setup.lora_r else shards)
    offloaded = weights + gradients + optimizer if setup.cpu_offload else 0.0
    if setup.cpu_offload:
        weights = gradients = optimizer = 0.0
    per_layer = activation_bytes_per_token(shape, setup.precision, setup.attention, setup.seq_len,
                                           setup.autocast) * tokens
    final_norm = (12 if compute == 4 else 8) * shape.hidden_size * tokens
    logits_peak = (16 if compute == 4 else 14) * shape.vocab_size * tokens
    logits_held = compute * shape.vocab_size * tokens  # the caller still holds them while layers backprop
    if setup.activation_checkpointing:
        residual = 4 if setup.autocast else compute  # each layer's input: the residual stream
        kept = residual * shape.hidden_size * tokens * shape.num_layers + final_norm
        activations = kept + max(0.0, per_layer + logits_held - logits_peak)
    else:
        activations = per_layer * shape.num_layers + final_norm
    live_gradients = gradients if setup.accumulation > 1 else 0.0
    forward_backward = weights + optimizer + live_gradients + working + activations + logits_peak
    temporary = 2 * largest  # AdamW's sqrt and division temporaries for the largest tensor
    step = weights + gradients + optimizer + temporary
    return Estimate(total, trainable, weights, gradients, optimizer, working, activations, logits_peak, temporary,
                    forward_backward, step, offloaded)


def smallest_fit(setup: Setup, gpu: GPU, max_gpus: int = 64) -> int | None:
    """The fewest GPUs (FSDP full shard) on which ``setup`` fits, or None up to ``max_gpus``."""
    for n in range(1, max_gpus + 1):
        if estimate(replace(setup, gpus=n, sharded=n > 1)).fits(gpu):
            return n
    return None


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


# ------------------------------------------------------------------------------------------------ cost

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


# ------------------------------------------------------------------------------------ measured on a CPU

@dataclass(frozen=True)
class Measurement:
    """Predicted and measured peak of one configuration run on this CPU or GPU."""

    name: str
    setup: Setup
    predicted: float
    measured: float

    @property
    def error(self) -> float:
        """(predicted - measured) / measured."""
        return (self.predicted - self.measured) / self.measured

    def to_dict(self) -> dict:
        """JSON-ready, sizes in MiB."""
        return {"name": self.name, "setup": asdict(self.setup), "predicted_mib": round(self.predicted / 2**20, 1),
                "measured_mib": round(self.measured / 2**20, 1), "error": round(self.error, 4)}


def measure_peak_cpu(setup: Setup, steps: int = 2) -> float:
    """Peak memory (bytes) of ``steps`` training steps of ``setup`` in a fresh CPU process (float32, or bfloat16
    compute under ``torch.autocast`` for ``precision="bf16"``).

    Method: a subprocess imports torch and transformers, warms up (a tiny model's forward, backward and
    AdamW step, so libraries and thread pools are loaded), resets the kernel's resident-set high-water mark
    (``/proc/self/clear_refs``), reads its resident set size, then builds the model and trains on random
    tokens (no padding) with the course's loss. The high-water mark (``VmHWM``) minus that baseline is the
    training's memory. ``MALLOC_MMAP_THRESHOLD_=65536`` makes glibc map every large tensor on its own, so
    freed memory leaves the resident set at once instead of lingering in the heap and inflating the peak.

    Why not ``resource.getrusage(...).ru_maxrss``: Linux carries the parent's resident size at fork into the
    child's ``ru_maxrss``, so a small run started from a big parent (a test session that has loaded the 52K)
    reports the parent's size, not its own.
    """
    if setup.sharded or setup.cpu_offload:
        raise ValueError("measure_peak_cpu runs one process on the CPU")
    env = os.environ | {"MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    request = json.dumps({"setup": asdict(setup), "steps": steps})
    done = subprocess.run([sys.executable, "-m", "alpaca_lessons.training.memory", request], env=env, check=True,
                          capture_output=True, text=True, timeout=600)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["bytes"])


def _build(shape: ModelShape, setup: Setup):
    """A randomly initialised float32 model of ``shape`` in training mode, as ``setup`` trains it (LoRA,
    activation checkpointing)."""
    from transformers import AutoModelForCausalLM

    from alpaca_lessons.models.modeling import enable_activation_checkpointing

    model = AutoModelForCausalLM.from_config(shape.to_config(), attn_implementation=setup.attention)
    if setup.lora_r:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=setup.lora_r, lora_alpha=16, lora_dropout=0.0,
                                                 target_modules=list(setup.lora_targets)))
    if setup.activation_checkpointing:
        enable_activation_checkpointing(model)
    model.config.use_cache = False
    return model.train()


def _train_steps(model, setup: Setup, shape: ModelShape, batch: int, length: int, steps: int) -> None:
    """``steps`` AdamW steps of ``setup.accumulation`` micro-batches of random tokens (no padding), with the
    course's loss, on the model's device; bfloat16 compute under autocast when ``setup.precision`` asks."""
    import torch

    from alpaca_lessons.training.sft import token_losses

    device = next(model.parameters()).device
    bf16 = setup.precision != "fp32"
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    for _ in range(steps):
        ids = torch.randint(0, shape.vocab_size, (batch, length), device=device)
        for _ in range(setup.accumulation):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(input_ids=ids).logits
            token_losses(logits, ids).mean().backward()
            del logits
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def _measure_here(setup: Setup, steps: int) -> float:
    """The body of ``measure_peak_cpu``, run inside the fresh process."""
    import gc

    import torch

    def status_bytes(field: str) -> int:  # VmRSS (now) or VmHWM (the high-water mark), reported in kB
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    torch.manual_seed(0)
    warm = ModelShape(128, 32, 64, 1, 2, tied=setup.shape.tied)
    _train_steps(_build(warm, setup), setup, warm, 2, 16, steps)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the high-water mark restarts from the current resident size
    baseline = status_bytes("VmRSS")
    _train_steps(_build(setup.shape, setup), setup, setup.shape, setup.micro_batch, setup.seq_len, steps)
    return status_bytes("VmHWM") - baseline


def measure_peak_cuda(setup: Setup, steps: int = 2) -> float:
    """Peak CUDA memory (bytes) that ``steps`` training steps of ``setup`` allocate on one GPU, in this process:
    ``torch.cuda.max_memory_allocated`` minus what was allocated before the model was moved there. For the
    GPU check of the estimate (one process: ``sharded`` and ``cpu_offload`` are not measured here)."""
    import gc

    import torch

    if setup.sharded or setup.cpu_offload or not torch.cuda.is_available():
        raise ValueError("measure_peak_cuda runs one process on a CUDA GPU")
    torch.manual_seed(0)
    model = _build(setup.shape, setup)
    gc.collect()
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    model.cuda()
    _train_steps(model, setup, setup.shape, setup.micro_batch, setup.seq_len, steps)
    peak = torch.cuda.max_memory_allocated() - before
    del model
    gc.collect()
    torch.cuda.empty_cache()
    return float(peak)


# Configurations checked on the CPU: each stresses a different term of the estimate.
CPU_CHECKS: dict[str, Setup] = {
    "weights and optimizer (27M params, 64 tokens)":
        Setup(ModelShape(4096, 512, 1376, 8, 16, tied=True), micro_batch=1, seq_len=64, precision="fp32"),
    "activations (4M params, 4 x 512 tokens)":
        Setup(ModelShape(4096, 256, 688, 4, 8, tied=True), micro_batch=4, seq_len=512, precision="fp32"),
    "activation checkpointing (same)":
        Setup(ModelShape(4096, 256, 688, 4, 8, tied=True), micro_batch=4, seq_len=512, precision="fp32",
              activation_checkpointing=True),
    "eager attention (4 x 512 tokens)":
        Setup(ModelShape(4096, 256, 688, 4, 8, tied=True), micro_batch=4, seq_len=512, precision="fp32",
              attention="eager"),
    "logits (32K vocabulary, 2 x 256 tokens)":
        Setup(ModelShape(32000, 128, 344, 2, 4, tied=True), micro_batch=2, seq_len=256, precision="fp32"),
    "LoRA r=8 q,v (27M params, base frozen)":
        Setup(ModelShape(4096, 512, 1376, 8, 16, tied=True), micro_batch=1, seq_len=64, precision="fp32",
              lora_r=8, lora_base_bytes=4),
}


def check_on_cpu(names: list[str] | None = None) -> list[Measurement]:
    """Predicted against measured peaks for the ``CPU_CHECKS`` (or those named)."""
    chosen = {n: s for n, s in CPU_CHECKS.items() if names is None or n in names}
    return [Measurement(n, s, estimate(s).peak, measure_peak_cpu(s)) for n, s in chosen.items()]


# Configurations checked on one GPU, at LLaMA-7B's width (so CUDA's allocator rounding is noise): each moves
# a different term of the estimate to the front.
_WIDE = ModelShape(32000, 4096, 11008, 2, 32)  # 7B's layers, two of them: 0.67B parameters
GPU_CHECKS: dict[str, Setup] = {
    "fp32, 4 x 512 tokens (the optimizer step is the peak)": Setup(_WIDE, 4, 512, precision="fp32"),
    "fp32, 16 x 512 tokens (activations and logits)": Setup(_WIDE, 16, 512, precision="fp32"),
    "bf16 autocast, 16 x 512 tokens": Setup(_WIDE, 16, 512, precision="bf16"),
    "bf16, activation checkpointing, 16 x 512 tokens": Setup(_WIDE, 16, 512, activation_checkpointing=True),
    "bf16, eager attention, 16 x 512 tokens": Setup(_WIDE, 16, 512, attention="eager"),
}


def check_on_cuda(names: list[str] | None = None) -> list[Measurement]:
    """Predicted against measured peaks for the ``GPU_CHECKS`` (or those named), one after another on this GPU."""
    chosen = {n: s for n, s in GPU_CHECKS.items() if names is None or n in names}
    return [Measurement(n, s, estimate(s).peak, measure_peak_cuda(s)) for n, s in chosen.items()]


def main(argv: list[str]) -> int:
    """``python -m alpaca_lessons.training.memory '<json request>'``: the measuring subprocess."""
    request = json.loads(argv[0])
    fields = request["setup"]
    setup = Setup(**(fields | {"shape": ModelShape(**fields["shape"]), "lora_targets": tuple(fields["lora_targets"])}))
    print(json.dumps({"bytes": _measure_here(setup, request["steps"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
