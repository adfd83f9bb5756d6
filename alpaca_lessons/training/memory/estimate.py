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
``torch.autograd.graph.saved_tensors_hooks`` exactly on this CPU; ``measure.measure_peak_cpu`` checks
whole-step peaks against the resident memory of a real run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

from alpaca_lessons.common.options import check_fields, non_negative, option, positive
from alpaca_lessons.models.shapes import ModelShape
from alpaca_lessons.training.lora import LORA_R, LORA_TARGETS

GIB = 2**30


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


Precision = Literal["bf16", "fp32"]
Attention = Literal["sdpa", "eager", "eager-2023"]
ATTENTIONS: tuple[str, ...] = get_args(Attention)


@dataclass(frozen=True)
class Setup:
    """One training configuration to estimate, per GPU (or for the CPU). The ``help`` and ``check`` of a field
    are its ``alpaca-lessons memory`` option's."""

    shape: ModelShape
    micro_batch: int = option(4, check=positive)  # Alpaca: per_device_train_batch_size 4
    seq_len: int = option(512, check=positive)  # worst case: a micro-batch padded to the max length
    gpus: int = option(1, help="GPUs; more than one means FSDP full sharding", check=positive)
    sharded: bool = False  # FSDP full shard over ``gpus``
    # bf16: float32 master weights, bfloat16 compute (FSDP mixed precision); or fp32
    precision: Precision = "bf16"
    # sdpa (flash kernels), eager (materialised attention matrix) or eager-2023 (transformers 4.27's LLaMA)
    attention: Attention = "sdpa"
    # decoder layers gathered at once: 2 today; up to all with FSDP1 before torch 2.1
    fsdp_gathered_layers: int = option(2, check=positive)
    activation_checkpointing: bool = False
    cpu_offload: bool = False  # FSDP CPUOffloadPolicy: sharded weights, grads, optimizer state in CPU memory
    # micro-batches per step; >1 keeps gradients alive through later forwards
    accumulation: int = option(1, check=positive)
    lora_r: int = option(0, help=f"LoRA rank (0: full fine-tuning; LoRA runs use {LORA_R})", check=non_negative)
    lora_targets: tuple[str, ...] = LORA_TARGETS
    # bytes per frozen base weight: 2 in bf16, 1 in int8 (alpaca-lora), 4 in fp32
    lora_base_bytes: float = option(2.0, check=positive)

    def __post_init__(self) -> None:
        check_fields(self)

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


def state_bytes_per_gpu(parameters: int, gpus: int = 1, sharded: bool = False) -> float:
    """Bytes of the training state one GPU holds in full fine-tuning with AdamW: float32 weights (4 per
    parameter), float32 gradients (4) and Adam's two float32 moments (8), 16 bytes per parameter, split over
    the GPUs by FSDP's full sharding and replicated on every GPU by plain data parallelism."""
    return (4 + 4 + 8) * parameters / (gpus if sharded else 1)


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
    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, not {attention!r}")
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
