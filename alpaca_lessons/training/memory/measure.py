"""The estimate against measured peaks: a training step run in a fresh CPU process or on one GPU.

``CPU_CHECKS`` and ``GPU_CHECKS`` each stress a different term of the estimate; ``check_on_cpu`` and
``check_on_cuda`` compare prediction and measurement (``benchmarks/memory_cpu.py`` commits the CPU result).
``python -m alpaca_lessons.training.memory.measure '<json request>'`` is the measuring subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, replace

from alpaca_lessons.models.shapes import LLAMA_7B, ModelShape
from alpaca_lessons.training.lora import apply_lora
from alpaca_lessons.training.memory.estimate import Setup, estimate


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
    command = [sys.executable, "-m", "alpaca_lessons.training.memory.measure", request]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=600)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["bytes"])


def _build(shape: ModelShape, setup: Setup):
    """A randomly initialised float32 model of ``shape`` in training mode, as ``setup`` trains it (LoRA,
    activation checkpointing)."""
    from transformers import AutoModelForCausalLM

    from alpaca_lessons.models.modeling import enable_activation_checkpointing

    model = AutoModelForCausalLM.from_config(shape.to_config(), attn_implementation=setup.attention)
    if setup.lora_r:  # no dropout: its masks would add memory the estimate does not count
        model = apply_lora(model, setup.lora_r, dropout=0.0, targets=setup.lora_targets)
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
_WIDE = replace(LLAMA_7B, num_layers=2)  # 7B's layers, two of them: 0.67B parameters
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
    """``python -m alpaca_lessons.training.memory.measure '<json request>'``: the measuring subprocess."""
    request = json.loads(argv[0])
    fields = request["setup"]
    setup = Setup(**(fields | {"shape": ModelShape(**fields["shape"]), "lora_targets": tuple(fields["lora_targets"])}))
    print(json.dumps({"bytes": _measure_here(setup, request["steps"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
