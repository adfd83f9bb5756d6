"""train: Alpaca's defaults, the step plan, FSDP2 on 2 CPU processes against one process, checkpoints and resume
after a kill, both collations training alike, LoRA, and the GPU-only Trainer recipe."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from finetune_fixtures import one_thread, subprocess_env, tiny_records  # noqa: F401 (one_thread: an autouse fixture)
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from alpaca_lessons.data import write_records
from alpaca_lessons.training.train import (
    TrainConfig,
    accumulation_steps,
    latest_checkpoint,
    make_schedule,
    read_log,
    recipe_trainer_arguments,
    run_torchrun,
    train,
    weight_differences,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    return write_records(tiny_records(64), tmp_path_factory.mktemp("data") / "tiny.json")


def tiny_config(data_file: Path, output_dir: Path, **overrides) -> TrainConfig:
    # small for testing efficiency: 0.1M parameters, 16 examples a step, a learning rate a tiny model needs
    settings = {"model": "tiny", "data": str(data_file), "output_dir": str(output_dir), "vocab_size": 300,
                "effective_batch_size": 16, "micro_batch_size": 4, "learning_rate": 1e-3, "max_steps": 4,
                "progress": False} | overrides
    return TrainConfig(**settings)


def as_args(cfg: TrainConfig) -> list[str]:
    args = []
    for key in ("model", "data", "output_dir", "vocab_size", "effective_batch_size", "micro_batch_size",
                "learning_rate", "max_steps", "save_steps", "collation"):
        args += ["--" + key.replace("_", "-"), str(getattr(cfg, key))]
    return args + ["--no-progress"]


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def max_difference(folder_a: Path, folder_b: Path) -> float:
    return max(weight_differences(folder_a, folder_b).values())


def test_defaults_are_alpacas_recipe():
    cfg = TrainConfig()
    assert (cfg.effective_batch_size, cfg.learning_rate, cfg.epochs, cfg.warmup_ratio, cfg.weight_decay,
            cfg.max_length, cfg.precision) == (128, 2e-5, 3.0, 0.03, 0.0, 512, "auto")
    assert accumulation_steps(cfg, world_size=4) == 8  # Alpaca: 4 per GPU x 8 x 4 GPUs
    assert accumulation_steps(cfg, world_size=1) == 32
    with pytest.raises(ValueError, match="not a multiple"):
        accumulation_steps(TrainConfig(micro_batch_size=3), world_size=1)


def test_schedule_shuffles_each_epoch_and_drops_the_incomplete_step():
    schedule = make_schedule(TrainConfig(), 52_002 - 100)  # Alpaca's 52K minus a few dropped examples
    assert schedule.steps_per_epoch == 405 and schedule.total_steps == 3 * 405
    epoch0 = [i for s in range(405) for i in schedule.step_indices(s)]
    assert len(set(epoch0)) == 405 * 128 and schedule.step_indices(405) != schedule.step_indices(0)
    assert schedule.step_indices(7) == make_schedule(TrainConfig(), 52_002 - 100).step_indices(7)


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


@pytest.mark.slow
def test_torchrun_with_one_process_takes_the_fsdp_path_and_matches_a_plain_process(data_file, tmp_path,
                                                                                   monkeypatch):
    train(tiny_config(data_file, tmp_path / "plain"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    run_torchrun(tiny_config(data_file, tmp_path / "fsdp"), processes=1)  # what the one-GPU check launches
    run = json.loads((tmp_path / "fsdp" / "run.json").read_text())
    assert run["machine"]["fsdp"] and run["machine"]["processes"] == 1 and run["shard_fractions"] == [[1.0, 1.0]]
    assert run["fsdp_units"] == {"LlamaDecoderLayer": 2, "LlamaForCausalLM": 1}  # auto_wrap's units, and the root
    assert not json.loads((tmp_path / "plain" / "run.json").read_text())["machine"]["fsdp"]
    assert max_difference(tmp_path / "plain", tmp_path / "fsdp") < 1e-5


@pytest.mark.slow
def test_fsdp_on_two_cpu_processes_shards_each_layer_and_matches_one_process(data_file, tmp_path, monkeypatch):
    single = tiny_config(data_file, tmp_path / "one")
    sharded = tiny_config(data_file, tmp_path / "two")
    train(single)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    run_torchrun(sharded, processes=2)
    run = json.loads((tmp_path / "two" / "run.json").read_text())
    assert run["machine"]["processes"] == 2 and run["accumulation_steps"] == 2
    for rank in run["shard_fractions"]:  # each rank holds half of every decoder layer
        assert len(rank) == 2 and all(abs(f - 0.5) < 0.02 for f in rank)
    assert max_difference(tmp_path / "one", tmp_path / "two") < 1e-6


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_checkpoint_exactly(data_file, tmp_path):
    reference = tiny_config(data_file, tmp_path / "straight", max_steps=30)
    train(reference)
    killed = tiny_config(data_file, tmp_path / "killed", max_steps=30, save_steps=2)
    command = [sys.executable, "-m", "alpaca_lessons.training.train", *as_args(killed)]
    process = subprocess.Popen(command, env=subprocess_env(ROOT), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while latest_checkpoint(killed.output_dir) is None and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped_at = int(latest_checkpoint(killed.output_dir).name.split("-")[1])
    assert AutoModelForCausalLM.from_pretrained(latest_checkpoint(killed.output_dir)).config.model_type == "llama"
    result = train(killed)
    assert 0 < result.resumed_from == stopped_at < 30
    assert max_difference(Path(reference.output_dir), Path(killed.output_dir)) < 1e-6


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


def test_the_original_trainer_recipe_flags():
    args = recipe_trainer_arguments("out", world_size=4)
    assert args["gradient_accumulation_steps"] * args["per_device_train_batch_size"] * 4 == 128
    assert args["fsdp"] is True and args["fsdp_config"]["reshard_after_forward"]  # full_shard
    assert args["fsdp_config"]["transformer_layer_cls_to_wrap"] == ["LlamaDecoderLayer"]  # auto_wrap
    from transformers import TrainingArguments

    plugin = TrainingArguments(**args | {"bf16": False, "tf32": False}).fsdp_plugin_args  # what accelerate gets
    assert (plugin["auto_wrap_policy"], plugin["transformer_cls_names_to_wrap"]) == \
        ("TRANSFORMER_BASED_WRAP", "LlamaDecoderLayer")
    assert (args["learning_rate"], args["num_train_epochs"], args["lr_scheduler_type"], args["bf16"]) == \
        (2e-5, 3, "cosine", True)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_trainer_recipe_runs_on_a_gpu(data_file, tmp_path):  # checked by the GPU issue
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1",
               "-m", "alpaca_lessons.training.train",
               *as_args(tiny_config(data_file, tmp_path)), "--backend", "hf-trainer"]
    subprocess.run(command, check=True, env=subprocess_env(ROOT), cwd=tmp_path, timeout=600)
    assert AutoModelForCausalLM.from_pretrained(tmp_path).config.model_type == "llama"
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["fsdp_enabled"] and run["fsdp_units"].get("LlamaDecoderLayer") == 2  # auto_wrap: one unit a layer


def test_the_log_keeps_the_last_record_of_a_replayed_step(tmp_path):
    from alpaca_lessons.common.store import AppendOnlyStore
    from alpaca_lessons.training.train import read_log

    store = AppendOnlyStore(tmp_path / "train_log.jsonl")
    for step, loss in ((1, 5.0), (2, 4.0), (3, 3.5), (2, 4.1), (3, 3.6), (4, 3.0)):  # killed after 3, resumed at 1
        store.append({"step": step, "loss": loss})
    assert [(r["step"], r["loss"]) for r in read_log(tmp_path)] == [(1, 5.0), (2, 4.1), (3, 3.6), (4, 3.0)]


def test_the_eight_gpu_launch_command_parses_and_needs_accumulation_4():
    import argparse
    import shlex

    from alpaca_lessons.training.train import LAUNCH_FLAGS, add_arguments, config_from_args, launch_command

    command = shlex.split(launch_command("/models/llama-7b", gpus=8))
    assert command[:3] == ["torchrun", "--nproc_per_node=8", "-m"]
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(command[4:]), command)
    assert accumulation_steps(cfg, world_size=8) == 4 and cfg.model == "/models/llama-7b"
    required = [flag for flag, what in LAUNCH_FLAGS.items() if not what.startswith("optional")]
    assert all(flag.split()[0] in command for flag in required)


def test_command_line_round_trips_a_config(data_file, tmp_path):
    import argparse

    from alpaca_lessons.training.train import add_arguments, command_line, config_from_args

    cfg = tiny_config(data_file, tmp_path, lora=True, lora_targets=("q_proj", "k_proj"), collation="packed")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(command_line(cfg)), []) == cfg


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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fsdp2_on_nccl_trains_alike_with_and_without_cpu_offload(data_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    for name, offload in (("gpu", False), ("offload", True)):
        run_torchrun(tiny_config(data_file, tmp_path / name, precision="fp32", cpu_offload=offload), processes=1)
        run = json.loads((tmp_path / name / "run.json").read_text())
        assert run["machine"]["fsdp"] and run["fsdp_units"]["LlamaDecoderLayer"] == 2
    assert max_difference(tmp_path / "gpu", tmp_path / "offload") < 1e-5


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
