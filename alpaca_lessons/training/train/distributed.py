"""Where a process sits in a torchrun launch, and FSDP2 full sharding of the model.

Under ``torchrun`` (one process or many) each process holds a shard of the model with FSDP2
(``torch.distributed.fsdp.fully_shard``): one FSDP unit per ``LlamaDecoderLayer``, then the whole model
(embeddings, final norm, output layer), which is what Alpaca's ``--fsdp "full_shard auto_wrap"
--fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer`` asked of the Hugging Face Trainer. The backend is
gloo on CPU and NCCL on GPUs; nothing else changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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


def barrier(rt: Distributed) -> None:
    """Wait for every process (a no-op in a lone process)."""
    if rt.sharded:
        dist.barrier()


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
