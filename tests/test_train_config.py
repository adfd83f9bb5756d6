"""train/config: Alpaca's defaults, the accumulation and the step plan."""

import pytest

from alpaca_lessons.training.train import TrainConfig, accumulation_steps
from alpaca_lessons.training.train.config import make_schedule


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
