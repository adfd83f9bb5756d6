"""Alpaca's fine-tuning loop: one script from a laptop CPU to 8 GPUs.

    python -m alpaca_lessons.training.train --model course --output-dir work/run            # one process
    torchrun --nproc_per_node=8 -m alpaca_lessons.training.train --model /models/llama-7b \\
        --output-dir work/alpaca-7b                                                # FSDP over 8 GPUs

(``alpaca-lessons train ...`` takes the same options.) The modules, in the order a run uses them:

* ``config``: ``TrainConfig`` (Alpaca's recipe by default), precision, accumulation, the step plan;
* ``distributed``: the process's place in a torchrun launch, FSDP2 sharding one unit per decoder layer;
* ``run``: the model and examples a run trains on, ``run.json`` and the log it leaves;
* ``loop``: ``train`` and its optimizer step;
* ``checkpoint``: checkpoints to resume from, and the final export;
* ``hf_recipe``: Alpaca's own Trainer + FSDP recipe (GPUs only), for comparison;
* ``launch``: the command line, ``torchrun`` from Python, the 8-GPU command.

A lesson imports the names below from here; the rest from their module.
"""

from alpaca_lessons.training.train.checkpoint import weight_differences
from alpaca_lessons.training.train.config import TrainConfig, accumulation_steps
from alpaca_lessons.training.train.hf_recipe import recipe_trainer_arguments
from alpaca_lessons.training.train.launch import LAUNCH_FLAGS, launch_command, run_torchrun
from alpaca_lessons.training.train.loop import train
from alpaca_lessons.training.train.run import TrainResult, read_log, read_run

__all__ = ["LAUNCH_FLAGS", "TrainConfig", "TrainResult", "accumulation_steps", "launch_command", "read_log",
           "read_run", "recipe_trainer_arguments", "run_torchrun", "train", "weight_differences"]
