"""memory/flops: training FLOPs, MFU, hours and dollars."""

import pytest

from alpaca_lessons.models.shapes import LLAMA_7B, PRESETS
from alpaca_lessons.training.memory.estimate import GPUS
from alpaca_lessons.training.memory.flops import implied_mfu, mfu, throughput_from_mfu, training_cost


def test_cost_and_utilisation():
    cost = training_cost(tokens=36e6, tokens_per_second=2000, gpus=8, dollars_per_gpu_hour=2.0)
    assert (cost.hours, cost.gpu_hours, cost.dollars) == (5.0, 40.0, 80.0)
    rate = throughput_from_mfu(LLAMA_7B.parameters, 0.5, GPUS["H100-80GB"])
    assert rate == pytest.approx(0.5 * 989e12 / (6 * LLAMA_7B.parameters))
    hours = 1e6 / rate / 3600
    assert implied_mfu(LLAMA_7B.parameters, 1e6, hours, GPUS["H100-80GB"], 1) == pytest.approx(0.5)


def test_mfu_reproduces_the_reference_h100_numbers():
    wide = PRESETS["7b-width"]  # 1.88B parameters
    # ENVIRONMENT.md's H100 reference: 37,200 useful tokens/s on that model is 42.5% MFU
    assert mfu(wide.parameters, 37_200, GPUS["H100-80GB"]) == pytest.approx(0.425, abs=0.002)
