"""How much memory *running* a model needs: its weights in a storage format, plus the KV cache at a context length.

Inference keeps no gradients, no optimizer state and (one token at a time) almost no activations. What stays:

* the weights: every 2-D matrix in the chosen format (``models.quantize.FORMATS``: 2 bytes a weight in f16,
  34/32 in Q8_0, 18/32 in Q4_0) and the norm vectors in f32, as llama.cpp stores them;
* the **KV cache**: for every layer and every position of the context, the key and the value vectors
  (``kv`` values each, the key/value width), kept so that each new token attends to the earlier ones without
  recomputing them: ``2 x layers x context x kv x bytes``, f16 (2 bytes) by default as in llama.cpp.

Compute buffers (a few hundred MB for a 7B model in llama.cpp) and the operating system come on top: a device
"fits" a model here when weights plus cache leave ``OS_RESERVE_GIB`` of its memory free (an assumption, not a
measurement).
"""

from __future__ import annotations

from dataclasses import dataclass

from alpaca_lessons.models.quantize import FORMATS, Format
from alpaca_lessons.models.shapes import ModelShape

GIB = 2**30
OS_RESERVE_GIB = 1.0  # assumed: left for the operating system and llama.cpp's compute buffers
KV_BYTES = 2  # f16 keys and values, llama.cpp's default cache type

# The storage formats weights can be counted in: the GGUF ones, and Q4_0 as ggml stored it in March 2023, when
# alpaca.cpp shipped: the block's scale was a float32 (older ggml sources: ``float d; uint8_t qs[16];``),
# 20 bytes a block; ggml moved to float16 scales later (18 bytes).
STORAGE: dict[str, Format] = {**FORMATS, "q4_0-2023": Format("q4_0-2023", 32, 4 + 16)}

# Memory as sold (GB on the box = GiB of RAM for these devices' LPDDR/DDR modules).
DEVICES: dict[str, float] = {
    "Raspberry Pi 4 (4 GB)": 4.0,
    "Raspberry Pi 4 (8 GB)": 8.0,
    "laptop (8 GB)": 8.0,
    "laptop (16 GB)": 16.0,
}


@dataclass(frozen=True)
class InferenceMemory:
    """Bytes of a model's weights and KV cache for one setup."""

    weights: int
    kv_cache: int

    @property
    def total(self) -> int:
        """Weights plus KV cache, in bytes."""
        return self.weights + self.kv_cache

    def fits(self, memory_gib: float) -> bool:
        """Whether weights and cache fit in ``memory_gib`` with ``OS_RESERVE_GIB`` left over."""
        return self.total <= (memory_gib - OS_RESERVE_GIB) * GIB


def weight_bytes(shape: ModelShape, fmt: str) -> int:
    """Bytes of a model's weights with every 2-D matrix in ``fmt`` (a key of ``STORAGE``) and the norms in f32."""
    vectors = shape.hidden_size * (1 + 2 * shape.num_layers)  # final norm + two norms per layer
    matrices = shape.parameters - vectors
    spec = STORAGE[fmt]
    if matrices % spec.block:
        raise ValueError(f"{matrices} weights do not split into blocks of {spec.block}")
    return matrices // spec.block * spec.block_bytes + 4 * vectors


def cache_bytes(layers: int, context: int, width: int, value_bytes: int = KV_BYTES, batch: int = 1) -> int:
    """Bytes of a KV cache: a key and a value of ``width`` values for every layer, position and sequence."""
    return 2 * layers * context * width * value_bytes * batch


def kv_cache_bytes(shape: ModelShape, context: int, *, kv_bytes: int = KV_BYTES, batch: int = 1) -> int:
    """Bytes of a model's KV cache (its key/value width: smaller than hidden with grouped-query attention)."""
    return cache_bytes(shape.num_layers, context, shape.kv_size, kv_bytes, batch)


def inference_memory(shape: ModelShape, fmt: str = "f16", context: int = 2048, *, kv_bytes: int = KV_BYTES,
                     batch: int = 1) -> InferenceMemory:
    """Weights in ``fmt`` plus the KV cache of ``batch`` sequences of ``context`` tokens."""
    return InferenceMemory(weight_bytes(shape, fmt), kv_cache_bytes(shape, context, kv_bytes=kv_bytes, batch=batch))


def device_table(shape: ModelShape, formats: tuple[str, ...] = ("f16", "q8_0", "q4_0"),
                 context: int = 2048) -> list[dict]:
    """For each format: weights, cache and total in GiB, and which ``DEVICES`` it fits."""
    rows = []
    for fmt in formats:
        memory = inference_memory(shape, fmt, context)
        rows.append({"format": fmt, "weights_gib": memory.weights / GIB, "kv_cache_gib": memory.kv_cache / GIB,
                     "total_gib": memory.total / GIB,
                     "fits": [name for name, gib in DEVICES.items() if memory.fits(gib)]})
    return rows
