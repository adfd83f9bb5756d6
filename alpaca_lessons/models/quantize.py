"""ggml's block quantization, in NumPy, byte for byte as llama.cpp lays it out: Q8_0 and Q4_0.

A weight matrix is cut, row by row, into **blocks** of 32 consecutive weights; each block keeps one scale
``d`` (a float16, 2 bytes) and 32 small integers ``q``, and is read back as ``d * q``:

* **Q8_0**: ``d = max|x| / 127``, ``q = round(x / d)`` (rounding half away from zero, as C's ``roundf``),
  one signed byte each: 2 + 32 = 34 bytes a block, 8.5 bits per weight.
* **Q4_0**: ``d = m / -8`` where ``m`` is the block's value of largest magnitude *with its sign*, so that
  ``m`` itself maps to -8 exactly; ``q = min(15, trunc(x / d + 8.5))`` stored as a 4-bit number offset by 8
  (0..15 stands for -8..7); two per byte, the block's first 16 weights in the low nibbles of its 16 bytes and
  the last 16 in the high nibbles: 2 + 16 = 18 bytes a block, 4.5 bits per weight.

The arithmetic is float32 as in ggml's reference C (``quantize_row_q8_0_ref``, ``quantize_row_q4_0_ref`` in
``ggml-quants.c``): the integers are computed with the float32 scale, and only the stored scale is rounded to
float16. ``tests/test_quantize.py`` checks the bytes against the ``gguf`` package's own implementation.
``f16``, ``bf16`` and ``f32`` are the unquantized formats a GGUF file can also hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCK = 32  # weights per block, for both Q8_0 and Q4_0


@dataclass(frozen=True)
class Format:
    """A weight format: how many weights a block holds and how many bytes it takes."""

    name: str
    block: int
    block_bytes: int

    @property
    def bits_per_weight(self) -> float:
        """Storage bits per weight, the scale included (4.5 for Q4_0)."""
        return 8 * self.block_bytes / self.block

    @property
    def bytes_per_weight(self) -> float:
        """Storage bytes per weight."""
        return self.block_bytes / self.block


FORMATS: dict[str, Format] = {
    "f32": Format("f32", 1, 4),
    "f16": Format("f16", 1, 2),
    "bf16": Format("bf16", 1, 2),
    "q8_0": Format("q8_0", BLOCK, 2 + BLOCK),
    "q4_0": Format("q4_0", BLOCK, 2 + BLOCK // 2),
}
QUANTIZED = ("q8_0", "q4_0")


def _blocks(x: np.ndarray) -> np.ndarray:
    """``x`` as float32 rows of 32 (its last axis must be a multiple of 32)."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] % BLOCK:
        raise ValueError(f"rows of {x.shape[-1]} weights do not split into blocks of {BLOCK}")
    return x.reshape(-1, BLOCK)


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """C's ``roundf``: halves go away from zero (NumPy's ``round`` sends them to the even neighbour).

    Done in float64, where ``|x| + 0.5`` is exact for any float32 ``x``."""
    x64 = x.astype(np.float64)
    return np.sign(x64) * np.floor(np.abs(x64) + 0.5)


def _scale_and_inverse(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        inverse = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    return d.astype(np.float32), inverse


def quantize_q8_0(x: np.ndarray) -> np.ndarray:
    """Q8_0 blocks of ``x`` (last axis a multiple of 32): bytes, shape (..., row length / 32 * 34)."""
    blocks = _blocks(x)
    d, inverse = _scale_and_inverse(np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127))
    q = _round_half_away(blocks * inverse).astype(np.int8)
    packed = np.concatenate([d.astype(np.float16).view(np.uint8), q.view(np.uint8)], axis=1)
    return packed.reshape(*np.shape(x)[:-1], -1)


def dequantize_q8_0(data: np.ndarray) -> np.ndarray:
    """Float32 weights from Q8_0 bytes (last axis a multiple of 34)."""
    blocks = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
    return (d * q).reshape(*data.shape[:-1], -1)


def quantize_q4_0(x: np.ndarray) -> np.ndarray:
    """Q4_0 blocks of ``x`` (last axis a multiple of 32): bytes, shape (..., row length / 32 * 18)."""
    blocks = _blocks(x)
    signed_max = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=1)[:, None], axis=1)  # first largest |x|
    d, inverse = _scale_and_inverse(signed_max / np.float32(-8))
    q = np.minimum(15, np.trunc(blocks * inverse + np.float32(8.5)).astype(np.int8)).astype(np.uint8)
    nibbles = q[:, : BLOCK // 2] | (q[:, BLOCK // 2:] << 4)
    packed = np.concatenate([d.astype(np.float16).view(np.uint8), nibbles], axis=1)
    return packed.reshape(*np.shape(x)[:-1], -1)


def dequantize_q4_0(data: np.ndarray) -> np.ndarray:
    """Float32 weights from Q4_0 bytes (last axis a multiple of 18)."""
    blocks = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    low, high = blocks[:, 2:] & 0x0F, blocks[:, 2:] >> 4
    q = np.concatenate([low, high], axis=1).astype(np.int8) - 8
    return (d * q.astype(np.float32)).reshape(*data.shape[:-1], -1)


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) of float32 ``x``, rounded to nearest even as torch rounds (finite values)."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    """Float32 values of bfloat16 bit patterns."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _as_float32(data: np.ndarray) -> np.ndarray:
    return np.asarray(data).astype(np.float32)


# Each format's (encode, decode) pair.
_CODECS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "f32": (lambda x: np.asarray(x, dtype=np.float32), _as_float32),
    "f16": (lambda x: np.asarray(x, dtype=np.float32).astype(np.float16), _as_float32),
    "bf16": (to_bf16_bits, from_bf16_bits),
    "q8_0": (quantize_q8_0, dequantize_q8_0),
    "q4_0": (quantize_q4_0, dequantize_q4_0),
}


def check_format(fmt: str) -> None:
    """Raise ``ValueError`` naming the choices unless ``fmt`` is one of ``FORMATS``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown weight format {fmt!r}; choose one of {', '.join(FORMATS)}")


def encode(x: np.ndarray, fmt: str) -> np.ndarray:
    """``x`` stored in format ``fmt``: float32/float16 values, bf16 bit patterns, or Q8_0/Q4_0 bytes."""
    check_format(fmt)
    return _CODECS[fmt][0](x)


def decode(data: np.ndarray, fmt: str) -> np.ndarray:
    """Float32 weights back from ``encode``'s output."""
    check_format(fmt)
    return _CODECS[fmt][1](data)


def round_trip(x: np.ndarray, fmt: str) -> np.ndarray:
    """What a weight matrix becomes after being stored as ``fmt`` and read back (float32, same shape)."""
    return decode(encode(x, fmt), fmt).reshape(np.shape(x))


def quantized_model(model, fmt: str):
    """A copy of a causal LM whose 2-D weight matrices (embeddings included) went through ``fmt`` and back.

    Norm weights stay float32, as llama.cpp keeps them. The copy computes in float32: it shows the error of
    the stored weights alone, not of llama.cpp's kernels (which also round activations to 8 bits)."""
    import copy

    import torch

    clone = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in {id(p): p for p in clone.parameters()}.values():  # tied weights once
            if parameter.dim() == 2:
                values = round_trip(parameter.detach().float().cpu().numpy(), fmt)
                parameter.copy_(torch.from_numpy(values))
    return clone
