"""ggml block quantization: the bytes against hand-worked blocks and against the ``gguf`` package's own
implementation (llama.cpp's Python library, a separate code base), and the error bounds the formats promise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alpaca_lessons.models.quantize import FORMATS, decode, encode, quantize_q4_0, quantized_model, round_trip


def _hand_block() -> np.ndarray:
    """One block worked by hand: 0.5, -0.25 and zeros, and -1.0 (the largest magnitude, negative) at index 20."""
    x = np.zeros(32, np.float32)
    x[0], x[1], x[20] = 0.5, -0.25, -1.0
    return x


def test_q4_0_block_worked_by_hand():
    packed = quantize_q4_0(_hand_block())
    # d = max-with-sign / -8 = -1 / -8 = 0.125, stored as float16 0x3000 (little-endian 00 30)
    assert packed.shape == (18,) and packed[:2].tolist() == [0x00, 0x30]
    # q = trunc(x / d + 8.5): 0.5 -> 12, -0.25 -> 6, 0 -> 8, -1.0 -> 0; element j in the low nibble of byte j,
    # element 16 + j in the high nibble
    nibbles = packed[2:]
    assert nibbles[0] == (8 << 4) | 12 and nibbles[1] == (8 << 4) | 6 and nibbles[4] == (0 << 4) | 8
    assert all(b == 0x88 for i, b in enumerate(nibbles) if i not in (0, 1, 4))
    assert decode(packed, "q4_0").tolist() == _hand_block().tolist()  # all exact multiples of 0.125


def test_q4_0_positive_maximum_is_clipped_to_15():
    x = np.zeros(32, np.float32)
    x[3] = 2.0  # d = 2 / -8 = -0.25: the maximum maps to -8 -> stored 0; the nibble range is 0..15
    x[4] = -2.0 + 0.01  # -1.99 / -0.25 + 8.5 = 16.46 -> clipped to 15, read back as 7 * -0.25 = -1.75
    back = round_trip(x, "q4_0")
    assert back[3] == 2.0 and back[4] == -1.75


def test_q8_0_rounds_halves_away_from_zero_as_c_roundf():
    x = np.zeros(32, np.float32)
    x[0], x[1], x[2] = 127.0, 2.5, -2.5  # d = 127 / 127 = 1: 2.5 -> 3 and -2.5 -> -3 (NumPy's round gives 2, -2)
    assert encode(x, "q8_0")[2:5].view(np.int8).tolist() == [127, 3, -3]


@pytest.mark.parametrize("fmt", ["q8_0", "q4_0", "bf16", "f16"])
def test_bytes_match_the_gguf_package(fmt):
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize, quantize

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((16, 256)) * 0.05).astype(np.float32)
    x[0, :32] = 0  # an all-zero block: scale 0
    x[1, 5], x[1, 6] = -0.3, 0.3  # a tie in magnitude: the first one sets the sign
    qtype = getattr(GGMLQuantizationType, fmt.upper())
    theirs = quantize(x, qtype)
    ours = encode(x, fmt)
    assert ours.view(np.uint8).tobytes() == theirs.view(np.uint8).tobytes()
    assert np.array_equal(decode(ours, fmt).reshape(x.shape), dequantize(theirs, qtype).reshape(x.shape))


def test_bf16_rounds_as_torch():
    x = np.random.default_rng(1).standard_normal(4096).astype(np.float32)
    assert np.array_equal(round_trip(x, "bf16"), torch.from_numpy(x).bfloat16().float().numpy())


@pytest.mark.parametrize(("fmt", "levels", "steps"), [("q8_0", 127, 0.5), ("q4_0", 8, 1.0)])
def test_error_bound_per_block(fmt, levels, steps):
    """|error| <= half a step |d| (Q8_0), a whole step for Q4_0 (the level +8 does not exist, so values of the
    opposite sign to the block's maximum are clipped), plus the scale's float16 rounding (relative 2**-11)
    times the largest level."""
    x = np.random.default_rng(2).standard_normal((8, 64)).astype(np.float32)
    step = np.abs(x.reshape(-1, 32)).max(axis=1, keepdims=True) / levels
    error = np.abs(round_trip(x, fmt).reshape(-1, 32) - x.reshape(-1, 32))
    assert np.all(error <= step * (steps + levels * 2**-11))
    assert error.max() > step.min() * steps * 0.5  # and the bound is not vacuous


def test_bits_per_weight():
    assert FORMATS["q4_0"].bits_per_weight == 4.5 and FORMATS["q8_0"].bits_per_weight == 8.5
    assert FORMATS["f16"].bits_per_weight == 16


def test_rows_must_split_into_blocks():
    with pytest.raises(ValueError, match="blocks of 32"):
        encode(np.zeros((2, 40), np.float32), "q4_0")


def test_quantized_model_changes_matrices_not_norms(tiny_model):  # noqa: F811
    model, _ = tiny_model
    clone = quantized_model(model, "q4_0")
    original = dict(model.named_parameters())
    for name, parameter in clone.named_parameters():
        if parameter.dim() == 1:
            assert torch.equal(parameter, original[name])
        else:
            assert torch.equal(parameter, torch.from_numpy(round_trip(original[name].detach().numpy(), "q4_0")))


from model_fixtures import tiny_model  # noqa: E402, F401  (a fixture)
