"""train/hf_recipe: Alpaca's Trainer flags, and the Trainer + FSDP recipe on a GPU."""

import json
import subprocess
import sys

import pytest
import torch
from finetune_fixtures import ROOT, as_args, one_thread, subprocess_env, tiny_config  # noqa: F401
from transformers import AutoModelForCausalLM

from alpaca_lessons.training.train import recipe_trainer_arguments


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
