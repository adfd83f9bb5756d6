"""train/loop: a single-process run learns (its first-step loss pinned), logs and exports; both
collations train alike; LoRA; the settings refused; the GPU-only checks."""

import json

import pytest
import torch
from finetune_fixtures import (  # noqa: F401 (one_thread: an autouse fixture)
    ROOT,
    as_args,
    max_difference,
    one_thread,
    subprocess_env,
    tiny_config,
    weights,
)
from transformers import AutoModelForCausalLM

from alpaca_lessons.training.train import read_log, train
from alpaca_lessons.training.train.checkpoint import latest_checkpoint


def test_the_tiny_presets_first_step_loss_is_pinned_and_the_loss_falls(data_file, tmp_path):
    # Golden number, computed once with this repository's code (before and after the package split, identical):
    # tiny preset, tokenizer of 300 tokens, finetune_fixtures.tiny_records(64) (seed 0), TrainConfig seed 42,
    # effective batch 16 = 4 x 4, learning rate 1e-3, float32 on one CPU thread. ln(300) = 5.704 is the loss of
    # a uniform guess, which a freshly initialised model is close to.
    train(tiny_config(data_file, tmp_path, max_steps=4))
    losses = [r["loss"] for r in read_log(tmp_path)]
    assert losses[0] == pytest.approx(5.70011, abs=1e-4)
    assert all(losses[i + 1] < losses[i] for i in range(len(losses) - 1))  # falls at every step
    assert losses[-1] == pytest.approx(5.45519, abs=1e-4)


def test_a_single_process_run_learns_logs_and_saves_a_loadable_model(data_file, tmp_path):
    result = train(tiny_config(data_file, tmp_path, max_steps=12))
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 13))
    assert log[-1]["loss"] < log[0]["loss"] - 0.5 and result.final_loss == log[-1]["loss"]
    assert log[0]["lr"] == 0.0 and log[1]["lr"] == pytest.approx(1e-3)  # warmup: ceil(0.03 x 12) = 1 step
    assert all(r["tokens_per_s"] > 0 and r["grad_norm"] > 0 for r in log)
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["examples"]["kept"] == 64 and run["shard_fractions"] == [[1.0, 1.0]] and run["result"]["steps"] == 12
    assert run["command"] is None and run["precision"] == "float32" and run["config"]["max_steps"] == 12
    assert run["machine"] | {"device": "CPU", "processes": 1, "fsdp": False, "torch_threads": 1} == run["machine"]
    assert run["versions"]["torch"] == torch.__version__ and "alpaca_lessons_commit" in run["versions"]
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert torch.equal(model.lm_head.weight, model.model.embed_tokens.weight)  # ties survive the export
    assert latest_checkpoint(tmp_path) is None  # checkpoints are gone once the run is exported


def test_packed_and_padded_runs_train_alike(data_file, tmp_path):
    from alpaca_lessons import cli  # here, not above: the GPU machine runs this file without rouge-score or openai

    train(tiny_config(data_file, tmp_path / "padded", collation="padded"))
    assert cli.main(["train", *as_args(tiny_config(data_file, tmp_path / "packed", collation="packed"))]) == 0
    assert max_difference(tmp_path / "padded", tmp_path / "packed") < 1e-5
    pad_shares = {name: [r["pad_share"] for r in read_log(tmp_path / name)] for name in ("padded", "packed")}
    assert all(share > 0 for share in pad_shares["padded"]) and set(pad_shares["packed"]) == {0.0}


def test_a_timing_run_can_skip_the_export_and_flex_attention_is_refused_on_a_cpu(data_file, tmp_path):
    train(tiny_config(data_file, tmp_path / "timed", export=False, max_steps=1))
    assert len(read_log(tmp_path / "timed")) == 1 and not (tmp_path / "timed" / "model.safetensors").exists()
    with pytest.raises(ValueError, match="flex_attention trains on CUDA GPUs only"):
        train(tiny_config(data_file, tmp_path / "flex", attention="flex_attention", collation="packed"))


def test_lora_trains_only_the_adapters_and_merges_into_a_plain_model(data_file, tmp_path):
    cfg = tiny_config(data_file, tmp_path, lora=True, lora_r=8, lora_alpha=16, max_steps=3, learning_rate=1e-2)
    result = train(cfg)
    # r x (in + out) per adapted matrix: q_proj and v_proj (64 x 64) in 2 layers
    assert result.trainable_parameters == 2 * 2 * 8 * (64 + 64)
    base, merged = weights(tmp_path / "base_model"), weights(tmp_path)
    assert not any("lora" in k for k in merged)
    changed = {k for k in base if not torch.equal(base[k], merged[k])}
    assert changed == {f"model.layers.{i}.self_attn.{p}_proj.weight" for i in range(2) for p in "qv"}
    assert type(AutoModelForCausalLM.from_pretrained(tmp_path)).__name__ == "LlamaForCausalLM"


def test_activation_checkpointing_changes_memory_not_the_result(data_file, tmp_path):
    train(tiny_config(data_file, tmp_path / "plain", max_steps=3))
    train(tiny_config(data_file, tmp_path / "checkpointed", max_steps=3, activation_checkpointing=True))
    assert max_difference(tmp_path / "plain", tmp_path / "checkpointed") < 1e-6


def test_cpu_offload_is_refused_without_gpus(data_file, tmp_path):
    with pytest.raises(ValueError, match="needs torchrun on GPUs"):
        train(tiny_config(data_file, tmp_path, cpu_offload=True))


def test_any_local_model_folder_trains_and_gets_alpacas_pad_token(data_file, tmp_path):
    from finetune_fixtures import tiny_tokenizer
    from transformers import PreTrainedTokenizerFast

    from alpaca_lessons.models.modeling import build_model, llama_config, load_tokenizer

    bare = PreTrainedTokenizerFast(tokenizer_object=tiny_tokenizer().backend_tokenizer, bos_token="<s>",
                                   eos_token="</s>")  # like LLaMA's: no pad token
    build_model(llama_config("tiny", len(bare)), seed=0).save_pretrained(tmp_path / "base")
    bare.save_pretrained(tmp_path / "base")
    result = train(tiny_config(data_file, tmp_path / "tuned", model=str(tmp_path / "base"), max_steps=2))
    tuned = AutoModelForCausalLM.from_pretrained(tmp_path / "tuned")
    assert tuned.get_input_embeddings().weight.shape[0] == tuned.config.vocab_size == len(bare) + 1
    assert load_tokenizer(tmp_path / "tuned").pad_token == "[PAD]" and result.final_loss > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_loop_trains_in_bfloat16_on_a_gpu(data_file, tmp_path):  # checked by the GPU issue
    result = train(tiny_config(data_file, tmp_path, max_steps=12))
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["precision"] == "bfloat16" and run["machine"]["device"] == torch.cuda.get_device_name(0)
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert result.final_loss < log[0]["loss"] - 0.5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_packed_rows_on_flex_attention_train_like_padded_batches_on_a_gpu(data_file, tmp_path):
    train(tiny_config(data_file, tmp_path / "padded", precision="fp32"))
    train(tiny_config(data_file, tmp_path / "flex", precision="fp32", collation="packed", attention="flex_attention"))
    assert max_difference(tmp_path / "padded", tmp_path / "flex") < 1e-4


def test_a_diverged_run_stops_at_the_first_non_finite_loss_and_says_how_to_go_on(data_file, tmp_path):
    # learning rate 1e9: step 1 is the warmup's (learning rate 0), step 2's update blows the weights up, so
    # step 3's loss is no longer a number
    with pytest.raises(FloatingPointError, match=r"step 3: the loss is nan \(diverged\); lower --learning-rate"):
        train(tiny_config(data_file, tmp_path, max_steps=6, learning_rate=1e9))
    assert [r["step"] for r in read_log(tmp_path)] == [1, 2]  # nothing from the divergence was logged
