"""Lesson 09's implement-it exercises: a Q4_0 block, and the memory of running LLaMA-7B at a context length.

The student writes ``q4_0_block(x)`` (the scale ``d`` and the 32 stored 4-bit numbers of one block of 32 weights,
as ggml's reference quantizer computes them) and ``inference_bytes(parameters, layers, width, context,
bytes_per_weight, kv_bytes=2)`` (weights in a format plus the KV cache). They are checked against
``models.quantize.quantize_q4_0`` on blocks of the course model's real weights and hand-made blocks, and against
``training.memory.inference.cache_bytes`` on LLaMA-7B's shape; the known wrong answers (the absolute maximum
for the scale, dividing by 7 or +8, rounding to nearest instead of truncating after +8.5, no clip at 15, no
offset of 8; one of K and V, one layer, bits for bytes, a float32 cache) are recognised and named.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.models.quantize import quantize_q4_0
from alpaca_lessons.models.shapes import PRESETS
from alpaca_lessons.training.memory.inference import cache_bytes


def _unpack(packed: np.ndarray) -> tuple[float, list[int]]:
    """(d, the 32 stored numbers 0..15 in weight order) of one packed Q4_0 block."""
    d = float(packed[:2].copy().view(np.float16)[0])
    return d, [int(b) & 0x0F for b in packed[2:]] + [int(b) >> 4 for b in packed[2:]]


def reference_q4_0_block(x) -> tuple[float, list[int]]:
    """The course's answer: ``quantize_q4_0`` on the block, unpacked to (d as float16, 32 numbers 0..15)."""
    return _unpack(quantize_q4_0(np.asarray(x, dtype=np.float32)))


# ------------------------------------------------------------------ exercise 9.1: a Q4_0 block
def _wrong_block(x, scale: Callable[[np.ndarray], float], rounding: str = "trunc", clip: bool = True,
                 offset: int = 8) -> tuple[float, list[int]]:
    x = np.asarray(x, dtype=np.float32)
    d = np.float32(scale(x))
    inverse = np.float32(1) / d if d else np.float32(0)
    scaled = x * inverse
    if rounding == "trunc":
        q = np.trunc(scaled + np.float32(offset + 0.5)).astype(int)
    else:
        q = np.round(scaled).astype(int) + offset
    if clip:
        q = np.clip(q, 0, 15)
    return float(np.float16(d)), [int(v) for v in q]


def _signed_max(x: np.ndarray) -> np.float32:
    return x[np.abs(x).argmax()]


MISTAKES_Q4_0 = (
    Mistake(lambda x: _wrong_block(x, lambda b: np.abs(b).max() / np.float32(-8)),
            "with d from the largest |x| without its sign: ggml keeps the sign of the value of largest magnitude "
            "(d = max / -8), so that value lands exactly on -8, the one level 4 bits offer beyond +7."),
    Mistake(lambda x: _wrong_block(x, lambda b: _signed_max(b) / np.float32(8)),
            "with d = max / 8: it is max / -8, so the largest value maps to stored 0 (-8), not to 16, which does "
            "not fit in 4 bits."),
    Mistake(lambda x: _wrong_block(x, lambda b: _signed_max(b) / np.float32(-7)),
            "with d = max / -7: the levels run from -8 to +7, and ggml puts the largest value on -8."),
    Mistake(lambda x: _wrong_block(x, lambda b: _signed_max(b) / np.float32(-8), rounding="round"),
            "with x / d rounded to the nearest integer (halves to even) and then 8 added: ggml adds 8.5 and "
            "truncates, which rounds halves up."),
    Mistake(lambda x: _wrong_block(x, lambda b: _signed_max(b) / np.float32(-8), clip=False),
            "without the clip at 15: a value of the opposite sign to the maximum, nearly as large, comes out as 16, "
            "which does not fit in 4 bits."),
    Mistake(lambda x: _wrong_block(x, lambda b: _signed_max(b) / np.float32(-8), offset=0, clip=False),
            "without the offset: the stored number is x / d + 8, from 0 to 15, so that it fits in 4 unsigned bits."),
)


@lru_cache(maxsize=1)
def _real_blocks() -> np.ndarray:
    """Blocks of 32 weights of the course model: three of layer 0's q projection, two of the embedding."""
    import torch
    from safetensors.torch import load_file

    from alpaca_lessons.models.modeling import course_model_dir

    weights = load_file(str(course_model_dir() / "model.safetensors"))
    q = weights["model.layers.0.self_attn.q_proj.weight"].to(torch.float32).numpy()
    embedding = weights["model.embed_tokens.weight"].to(torch.float32).numpy()
    return np.concatenate([q.reshape(-1, 32)[:3], embedding.reshape(-1, 32)[1000:1002]])


def _hand_blocks() -> list[tuple[np.ndarray, str]]:
    clipped = np.zeros(32, np.float32)
    clipped[:2] = [4.0, -3.9]  # d = 4 / -8 = -0.5: -3.9 / d + 8.5 = 16.3, past 15
    halves = np.zeros(32, np.float32)
    halves[:4] = [-8.0, 2.5, -2.5, 0.5]  # d = 1: exact halves show the rounding
    return [(clipped, "[4.0, -3.9, then 30 zeros]"), (halves, "[-8.0, 2.5, -2.5, 0.5, then 28 zeros]"),
            (np.zeros(32, np.float32), "32 zeros")]


def check_q4_0_block(fn: Callable[..., tuple[float, list[int]]], hidden: bool = False) -> None:
    """Check ``fn(x)`` (x: 32 float32 weights) -> ``(d, q)`` against ggml's Q4_0: hand-made blocks (exact halves,
    a value past the clip, all zeros) and blocks of the course model's real weights; with ``hidden``, more."""
    blocks = _real_blocks()
    cases = [Case((x,), label) for x, label in _hand_blocks()]
    cases += [Case((blocks[i].copy(),), f"block {i} of the course model's weights") for i in range(2)]
    if hidden:
        cases += [Case((blocks[i].copy(),), f"block {i} of the course model's weights") for i in range(2, 5)]

    def compare(got, expected) -> bool:
        try:
            d, q = got
            return float(np.float16(d)) == expected[0] and [int(v) for v in q] == expected[1]
        except (TypeError, ValueError):
            return False

    check_function(fn, reference_q4_0_block, cases, mistakes=MISTAKES_Q4_0, compare=compare,
                   name=getattr(fn, "__name__", "q4_0_block"))


# ------------------------------------------------------------------ exercise 9.2: inference memory
def reference_inference_bytes(parameters: int, layers: int, width: int, context: int, bytes_per_weight: float,
                              kv_bytes: int = 2) -> float:
    """Every parameter in the format, plus a key and a value of ``width`` values per layer and position."""
    return parameters * bytes_per_weight + cache_bytes(layers, context, width, kv_bytes)


MISTAKES_MEMORY = (
    Mistake(lambda p, n, w, c, b, kv=2: p * b + cache_bytes(n, c, w, kv) / 2,
            "with only one of K and V cached: each layer keeps a key AND a value for every position."),
    Mistake(lambda p, n, w, c, b, kv=2: p * b + cache_bytes(1, c, w, kv),
            "with the cache of one layer: every layer attends with its own keys and values."),
    Mistake(lambda p, n, w, c, b, kv=2: p * b * 8 + cache_bytes(n, c, w, kv),
            "with bits for bytes: 4.5 bits a weight is 4.5 / 8 bytes."),
    Mistake(lambda p, n, w, c, b, kv=2: p * b + cache_bytes(n, c, w, 4),
            "with a float32 cache: use the kv_bytes you are given (llama.cpp keeps f16 keys and values: 2)."),
    Mistake(lambda p, n, w, c, b, kv=2: p * b,
            "of the weights alone: the KV cache grows with the context and comes on top."),
    Mistake(lambda p, n, w, c, b, kv=2: p * b + cache_bytes(n, c * c, w, kv),
            "with the cache growing as the context squared: one key and one value per position, so linearly "
            "(the attention *scores* are quadratic, but they are not kept)."),
)


def check_inference_bytes(fn: Callable[..., float], hidden: bool = False) -> None:
    """Check ``fn(parameters, layers, width, context, bytes_per_weight, kv_bytes=2)`` on LLaMA-7B's shape in f16,
    Q8_0 and Q4_0 at 2,048 and 512 tokens, and on the course model's; with ``hidden``, a float32 cache too."""
    seven = (6_738_415_616, 32, 4096)
    cases = [Case((*seven, 2048, 2.0), "LLaMA-7B, 2048 tokens, f16 (2 bytes a weight)"),
             Case((*seven, 2048, 18 / 32), "LLaMA-7B, 2048 tokens, Q4_0 (18/32 bytes a weight)"),
             Case((*seven, 512, 34 / 32), "LLaMA-7B, 512 tokens, Q8_0 (34/32 bytes a weight)"),
             Case((PRESETS["course"].parameters, 4, 192, 512, 2.0), "the course model, 512 tokens, f16")]
    if hidden:
        cases += [Case((*seven, 1024, 18 / 32), "LLaMA-7B, 1024 tokens, Q4_0, a float32 cache", {"kv_bytes": 4})]
    check_function(fn, reference_inference_bytes, cases, mistakes=MISTAKES_MEMORY,
                   name=getattr(fn, "__name__", "inference_bytes"))


# A plausible wrong solution the instructor kit plants to prove that a wrong answer loses points.
PLANTED = {
    "l09-inference-bytes": '''def inference_bytes(parameters: int, layers: int, width: int, context: int,
                    bytes_per_weight: float, kv_bytes: int = 2) -> float:
    """Weights in the format, plus the KV cache."""
    return parameters * bytes_per_weight + layers * context * width * kv_bytes
''',
}
