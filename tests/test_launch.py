"""train/launch: the 8-GPU command parses and needs accumulation 4; a config survives the command line."""

import argparse
import shlex

from finetune_fixtures import tiny_config

from alpaca_lessons.common.options import command_line
from alpaca_lessons.training.train import LAUNCH_FLAGS, accumulation_steps, launch_command
from alpaca_lessons.training.train.launch import add_arguments, config_from_args


def test_the_eight_gpu_launch_command_parses_and_needs_accumulation_4():
    command = shlex.split(launch_command("/models/llama-7b", gpus=8))
    assert command[:3] == ["torchrun", "--nproc_per_node=8", "-m"]
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(command[4:]), command)
    assert accumulation_steps(cfg, world_size=8) == 4 and cfg.model == "/models/llama-7b"
    required = [flag for flag, what in LAUNCH_FLAGS.items() if not what.startswith("optional")]
    assert all(flag.split()[0] in command for flag in required)


def test_command_line_round_trips_a_config(data_file, tmp_path):
    cfg = tiny_config(data_file, tmp_path, lora=True, lora_targets=("q_proj", "k_proj"), collation="packed")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(command_line(cfg, skip=("command",))), []) == cfg
