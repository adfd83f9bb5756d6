"""A LLaMA forward pass in NumPy from a GGUF file's tensors, computed the way llama.cpp lays them out.

It exists to check an exported file without llama.cpp: the logits it computes from the file's (dequantized)
tensors are compared with the Hugging Face model's. Everything a wrong export would break is on the path:
tensor names, the (out, in) orientation, the rotary pairs (adjacent dimensions 2i and 2i + 1 here, where
Hugging Face's layout pairs i and i + d/2), the tied output layer, the norms' epsilon and the rope base.
One sequence at a time, float64 throughout, no KV cache: clarity over speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alpaca_lessons.models.gguf_export import GGUFModel


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rotate_adjacent_pairs(x: np.ndarray, base: float) -> np.ndarray:
    """Rotary position embedding of ``x`` (positions, heads, head_dim), rotating dimensions (2i, 2i + 1) by
    angle ``position * base ** (-2i / head_dim)``: the original LLaMA's (and llama.cpp's) pairing."""
    positions, _, dim = x.shape
    angles = np.arange(positions)[:, None] * base ** (-np.arange(0, dim, 2) / dim)[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Causal attention of (positions, heads, dim) arrays; key/value heads shared by groups of query heads."""
    groups = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, groups, axis=1), np.repeat(v, groups, axis=1)
    scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(q.shape[-1])
    scores = scores + np.triu(np.full(scores.shape[-2:], -np.inf), k=1)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("hqk,khd->qhd", weights, v)


def gguf_logits(model: GGUFModel, token_ids: Sequence[int]) -> np.ndarray:
    """Logits (positions, vocab) of one token sequence, from a ``read_gguf`` model."""
    meta, t = model.metadata, {name: w.astype(np.float64) for name, w in model.tensors.items()}
    heads = meta["llama.attention.head_count"]
    kv_heads = meta.get("llama.attention.head_count_kv", heads)
    eps, base = meta["llama.attention.layer_norm_rms_epsilon"], meta.get("llama.rope.freq_base", 10000.0)
    x = t["token_embd.weight"][np.asarray(token_ids)]
    positions = len(token_ids)
    for layer in range(meta["llama.block_count"]):
        w = {name.split(".")[2]: value for name, value in t.items() if name.startswith(f"blk.{layer}.")}
        h = _rms_norm(x, w["attn_norm"], eps)
        q = rotate_adjacent_pairs((h @ w["attn_q"].T).reshape(positions, heads, -1), base)
        k = rotate_adjacent_pairs((h @ w["attn_k"].T).reshape(positions, kv_heads, -1), base)
        v = (h @ w["attn_v"].T).reshape(positions, kv_heads, -1)
        x = x + _attention(q, k, v).reshape(positions, -1) @ w["attn_output"].T
        h = _rms_norm(x, w["ffn_norm"], eps)
        gate = h @ w["ffn_gate"].T
        x = x + (gate / (1 + np.exp(-gate)) * (h @ w["ffn_up"].T)) @ w["ffn_down"].T
    output = t.get("output.weight", t["token_embd.weight"])  # tied: the embedding is the output layer
    return _rms_norm(x, t["output_norm.weight"], eps) @ output.T
