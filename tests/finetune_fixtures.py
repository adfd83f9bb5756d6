"""Tiny hand-made Alpaca-format records for the fine-tuning tests (public data stays out of the repo).

Arithmetic and word tasks in both templates (with and without input), short enough for a 0.1M-parameter
model to train on in a second, varied enough that a step's examples differ in length.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from alpaca_lessons.data import Record
from alpaca_lessons.models.modeling import alpaca_texts, train_tokenizer
from alpaca_lessons.training.train import TrainConfig, weight_differences

WORDS = ["apple", "river", "cloud", "stone", "music", "garden", "window", "candle", "forest", "bridge"]


def tiny_records(n: int = 64, seed: int = 0) -> list[Record]:
    """``n`` records, half with an input, answers from one word to a few sentences."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        words = rng.sample(WORDS, rng.randint(2, 6))
        if i % 4 == 0:
            records.append(Record("Add the two numbers.", f"{a} and {b}", str(a + b)))
        elif i % 4 == 1:
            records.append(Record("Sort these words alphabetically.", ", ".join(words), ", ".join(sorted(words))))
        elif i % 4 == 2:
            records.append(Record(f"Write a sentence about a {words[0]}.", "",
                                  " ".join(f"The {w} is near the {words[0]}." for w in words)))
        else:
            records.append(Record(f"What is {a} times {b}?", "", f"{a} times {b} is {a * b}."))
    return records


def tiny_tokenizer(records: list[Record] | None = None, vocab_size: int = 300):
    """A byte-level BPE tokenizer trained on the tiny records (a few hundred tokens)."""
    return train_tokenizer(alpaca_texts(records or tiny_records()), vocab_size)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and a shared 2-core machine makes a second thread spin-wait
    (a 12-step run took 36 s with 2 threads beside another job, 1.5 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def subprocess_env(root: Path) -> dict[str, str]:
    """Environment for a training subprocess: this checkout first on the path, one thread per process."""
    return os.environ | {"PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}


ROOT = Path(__file__).resolve().parents[1]


def tiny_config(data_file: Path, output_dir: Path, **overrides) -> TrainConfig:
    """The tiny preset's run: a few seconds on one CPU thread."""
    # small for testing efficiency: 0.1M parameters, 16 examples a step, a learning rate a tiny model needs
    settings = {"model": "tiny", "data": str(data_file), "output_dir": str(output_dir), "vocab_size": 300,
                "effective_batch_size": 16, "micro_batch_size": 4, "learning_rate": 1e-3, "max_steps": 4,
                "progress": False} | overrides
    return TrainConfig(**settings)


def as_args(cfg: TrainConfig) -> list[str]:
    """Command-line options for ``cfg``, written out by hand (not by the code under test)."""
    args = []
    for key in ("model", "data", "output_dir", "vocab_size", "effective_batch_size", "micro_batch_size",
                "learning_rate", "max_steps", "save_steps", "collation"):
        args += ["--" + key.replace("_", "-"), str(getattr(cfg, key))]
    return args + ["--no-progress"]


def weights(folder: Path) -> dict[str, torch.Tensor]:
    """The tensors of a saved model folder."""
    return load_file(folder / "model.safetensors")


def max_difference(folder_a: Path, folder_b: Path) -> float:
    """The largest absolute difference between two saved models' tensors."""
    return max(weight_differences(folder_a, folder_b).values())
