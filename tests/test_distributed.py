"""train/distributed: FSDP2 under torchrun (one process, two CPU processes, NCCL with CPU offload) trains
like one plain process, one unit per decoder layer."""

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

from alpaca_lessons.training.train import run_torchrun, train


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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fsdp2_on_nccl_trains_alike_with_and_without_cpu_offload(data_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    for name, offload in (("gpu", False), ("offload", True)):
        run_torchrun(tiny_config(data_file, tmp_path / name, precision="fp32", cpu_offload=offload), processes=1)
        run = json.loads((tmp_path / name / "run.json").read_text())
        assert run["machine"]["fsdp"] and run["fsdp_units"]["LlamaDecoderLayer"] == 2
    assert max_difference(tmp_path / "gpu", tmp_path / "offload") < 1e-5
