"""Inference memory: weights in a storage format plus the KV cache, worked out by hand for LLaMA-7B."""

from __future__ import annotations

import pytest

from alpaca_lessons.models.shapes import LLAMA_7B, PRESETS
from alpaca_lessons.training.memory.inference import (
    GIB,
    device_table,
    inference_memory,
    kv_cache_bytes,
    weight_bytes,
)

# LLaMA-7B: 6,738,415,616 parameters, of which 4096 x (1 + 2 x 32) = 266,240 are norm weights (kept in f32)
MATRICES, VECTORS = 6_738_415_616 - 266_240, 266_240


def test_weights_by_format():
    assert weight_bytes(LLAMA_7B, "f16") == 2 * MATRICES + 4 * VECTORS
    assert weight_bytes(LLAMA_7B, "q4_0") == MATRICES // 32 * 18 + 4 * VECTORS == 3_791_273_984  # 3.53 GiB
    assert weight_bytes(LLAMA_7B, "q8_0") == MATRICES // 32 * 34 + 4 * VECTORS
    # March 2023's Q4_0 (a float32 scale: 20 bytes a block): 4.21 GB, 3.92 GiB
    assert weight_bytes(LLAMA_7B, "q4_0-2023") == MATRICES // 32 * 20 + 4 * VECTORS == 4_212_408_320


def test_kv_cache_of_llama_7b():
    # 2 (k and v) x 32 layers x 2048 positions x 4096 values x 2 bytes = exactly 1 GiB
    assert kv_cache_bytes(LLAMA_7B, 2048) == GIB
    assert kv_cache_bytes(LLAMA_7B, 512, batch=2) == GIB // 2
    # grouped-query attention shrinks the cache by heads / kv heads
    gqa = PRESETS["llama-7b"].__class__(32000, 4096, 11008, 32, 32, num_kv_heads=8)
    assert kv_cache_bytes(gqa, 2048) == GIB // 4


def test_what_fits_where():
    rows = {r["format"]: r for r in device_table(LLAMA_7B, context=2048)}
    assert rows["f16"]["fits"] == ["laptop (16 GB)"]
    assert rows["q4_0"]["total_gib"] == pytest.approx(3_791_273_984 / GIB + 1.0)
    assert "Raspberry Pi 4 (4 GB)" not in rows["q4_0"]["fits"] and "Raspberry Pi 4 (8 GB)" in rows["q4_0"]["fits"]
    assert inference_memory(LLAMA_7B, "q4_0", 512).fits(8.0)
