"""memory/estimate: activation bytes tensor by tensor, LoRA counts, the bytes per parameter, the OOMs
users reported, and the exercises built on it."""

from dataclasses import replace

import pytest
import torch
from finetune_fixtures import one_thread  # noqa: F401 (an autouse fixture)

from alpaca_lessons.models.modeling import build_model, count_parameters
from alpaca_lessons.models.shapes import LLAMA_7B, ModelShape
from alpaca_lessons.training.memory.estimate import (
    GPUS,
    Setup,
    activation_bytes_per_token,
    estimate,
    lora_parameters,
    smallest_fit,
    state_bytes_per_gpu,
)

SMALL = ModelShape(512, 64, 172, 2, 4, tied=True)  # small for testing efficiency


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("precision", ["fp32", "bf16", "bf16 autocast"])
def test_activation_bytes_equal_what_a_layer_saves_for_backward(attention, precision):
    autocast = precision == "bf16 autocast"  # float32 weights and residual stream, bfloat16 matrix products
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    model = build_model(SMALL.to_config(), attn_implementation=attention).to(dtype)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def saved_bytes(batch: int, length: int = 32) -> int:
        seen = {}

        def pack(t):
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        hidden = torch.randn(batch, length, SMALL.hidden_size, dtype=dtype, requires_grad=True)
        positions = torch.arange(length)[None]
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            model.model.layers[0](hidden, position_embeddings=model.model.rotary_emb(hidden, positions),
                                  attention_mask=None, position_ids=positions)
        return sum(n for ptr, n in seen.items() if ptr not in params)

    per_token = (saved_bytes(4) - saved_bytes(2)) / (2 * 32)  # the slope: bytes per extra token
    assert per_token == activation_bytes_per_token(SMALL, precision.split()[0], attention, 32, autocast)



@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing:FutureWarning")  # peft 0.21 on transformers 5.23
def test_lora_parameter_count_matches_peft():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(build_model(SMALL.to_config()), LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
    assert lora_parameters(SMALL, 8, ("q_proj", "v_proj")) == count_parameters(model)[1] == 2 * 2 * 8 * (64 + 64)
    assert lora_parameters(LLAMA_7B, 8, ("q_proj", "v_proj")) == 4_194_304  # alpaca-lora's 0.06%



def test_full_fine_tuning_keeps_16_bytes_per_parameter_divided_by_fsdp():
    one = estimate(Setup(LLAMA_7B))
    assert one.weights + one.gradients + one.optimizer == 16 * LLAMA_7B.parameters  # Alpaca's "7 x 4 x 4"
    eight = estimate(Setup(LLAMA_7B, gpus=8, sharded=True))
    assert eight.weights + eight.gradients + eight.optimizer == pytest.approx(16 * LLAMA_7B.parameters / 8)
    # each GPU still runs its own micro-batch: sharding over 8 divides no activation
    assert eight.activations == estimate(Setup(LLAMA_7B, gpus=1, sharded=True)).activations
    assert one.activations > eight.activations  # autocast's float32 residual stream and per-projection casts



def test_state_bytes_per_gpu_is_16_per_parameter_sharded_only_by_fsdp():
    assert state_bytes_per_gpu(1_000) == 16_000  # 4 + 4 + 4 + 4 bytes: weights, gradients, two moments
    assert state_bytes_per_gpu(1_000, gpus=8, sharded=True) == 2_000
    assert state_bytes_per_gpu(1_000, gpus=8, sharded=False) == 16_000  # data parallelism replicates it
    for gpus, sharded in ((1, False), (4, True), (8, True)):  # the same sum as the calculator's parts
        e = estimate(Setup(LLAMA_7B, gpus=gpus, sharded=sharded))
        assert state_bytes_per_gpu(LLAMA_7B.parameters, gpus, sharded) == pytest.approx(
            e.weights + e.gradients + e.optimizer)


def test_the_ooms_users_reported_and_the_setups_that_worked():
    a10, a100_40, a100_80 = GPUS["A10-24GB"], GPUS["A100-40GB"], GPUS["A100-80GB"]
    # stanford_alpaca#56, #220: one A100 80GB; #46: 4 x A10 at batch size 1
    assert not estimate(Setup(LLAMA_7B)).fits(a100_80)
    assert not estimate(Setup(LLAMA_7B, micro_batch=1, gpus=4, sharded=True)).fits(a10)
    assert not estimate(Setup(LLAMA_7B, micro_batch=1)).fits(a10)
    # #46: 8 x A100 40GB, micro-batch 4, ran one step and then ran out of memory (2023 software)
    then = estimate(Setup(LLAMA_7B, gpus=8, sharded=True, attention="eager-2023", fsdp_gathered_layers=32))
    assert not then.fits(a100_40) and then.first_step_peak < then.peak
    # the same recipe today (SDPA, FSDP2) fits; FSDP CPU offload (#280) and Alpaca's 4 x A100 80GB fit too
    assert estimate(Setup(LLAMA_7B, gpus=8, sharded=True)).fits(a100_40)
    assert estimate(Setup(LLAMA_7B, gpus=8, sharded=True, cpu_offload=True, attention="eager-2023")).fits(a100_40)
    assert estimate(Setup(LLAMA_7B, gpus=4, sharded=True, attention="eager-2023", accumulation=8)).fits(a100_80)
    assert smallest_fit(Setup(LLAMA_7B), a100_80) == 2



def test_checkpointing_and_lora_save_memory():
    base = Setup(LLAMA_7B, gpus=8, sharded=True)
    assert estimate(replace(base, activation_checkpointing=True)).activations < estimate(base).activations / 10
    lora = estimate(Setup(LLAMA_7B, lora_r=8, lora_base_bytes=1))
    assert lora.optimizer == 8 * lora.trainable and lora.peak < estimate(Setup(LLAMA_7B)).peak / 5



def test_memory_figure_and_exercises(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from alpaca_lessons.common.plots import save_figure, stacked_bars, training_curves
    from alpaca_lessons.course.exercises import EXERCISES

    monkeypatch.setenv("ALPACA_LESSONS_FIGURES", str(tmp_path))
    save_figure(stacked_bars({"a": {"weights": 1.0, "activations": 2.0}}, limits={"a": 2.5}), "bars")
    save_figure(training_curves({"run": [{"step": 1, "loss": 2.0, "lr": 0.1}, {"step": 2, "loss": 1.0, "lr": 0.0}]}),
                "curve")
    assert (tmp_path / "bars.png").is_file() and (tmp_path / "curve.png").is_file()
    plt.close("all")
    assert EXERCISES["06b.fewest_a100_40"].solve() == 4
