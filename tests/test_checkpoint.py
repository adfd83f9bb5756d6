"""train/checkpoint: a run killed at any moment resumes from its last complete checkpoint, exactly."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from finetune_fixtures import (  # noqa: F401 (one_thread: an autouse fixture)
    ROOT,
    as_args,
    max_difference,
    one_thread,
    subprocess_env,
    tiny_config,
)
from transformers import AutoModelForCausalLM

from alpaca_lessons.training.train import train
from alpaca_lessons.training.train.checkpoint import latest_checkpoint


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
