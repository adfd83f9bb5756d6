"""The course's three small models, one recipe: ``make course-models`` (``python -m
alpaca_lessons.training.course_models``).

* **base**: the course's LLaMA-architecture model pretrained as a plain language model on the training side
  of the held-out split, each instruction, input and output a document of its own. It has read the
  language of the 52K but never an instruction followed by its answer: the stand-in for LLaMA-7B.
* **tuned**: the base fine-tuned with Alpaca's recipe (template, prompt masked from the loss) on 12,800
  training-side records: the stand-in for Alpaca-7B.
* **scratch**: the same 12,800 records and recipe from random weights, with no pretraining: what the
  course had before it had a base model, kept to show what pretraining adds.

Each stage is an ordinary ``alpaca-lessons train`` run (its command is in its ``run.json``); a finished stage
is skipped, an interrupted one resumes from its last checkpoint. The ``course`` size is what the lessons
load (about 2.6M parameters each; all three in about two hours on one thread of a laptop CPU); ``large``
(about 11M parameters, trained longer, on the whole training side) is an optional stronger pair for a GPU,
which no lesson depends on; ``smoke`` is the recipe in a few seconds, for tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from alpaca_lessons.common.options import command_line
from alpaca_lessons.common.paths import course_data_dir
from alpaca_lessons.models.modeling import COURSE_MODELS, course_model_dir
from alpaca_lessons.training.train.config import TrainConfig

STAGES = COURSE_MODELS
SIZES = ("course", "large", "smoke")


def default_dir(size: str = "course") -> Path:
    """Where a size's models live: ``data/course_models`` (committed), ``data/course_models_large``
    (committed where a GPU trained it) or ``work/course_models_smoke``."""
    if size == "smoke":
        return Path("work/course_models_smoke")
    folder = course_model_dir().parent
    return folder if size == "course" else course_data_dir() / f"{folder.name}_{size}"


def stage_configs(out: Path, size: str = "course") -> dict[str, TrainConfig]:
    """The three runs of ``size`` writing under ``out``, in the order they must run (tuned loads base)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    common = dict(split="train", collation="packed", save_dtype="bfloat16", seed=42)
    if size == "large":  # a GPU's size: bf16 compute, the whole training side, more epochs
        shared = dict(common, model="course-large", precision="auto", save_steps=200)
        base = TrainConfig(**shared, objective="documents", epochs=2, effective_batch_size=128,
                           micro_batch_size=64, learning_rate=2e-3, warmup_ratio=0.02)
        sft = dict(shared, epochs=2, effective_batch_size=64, micro_batch_size=32, warmup_ratio=0.03)
        tuned = TrainConfig(**sft | {"model": str(out / "base")}, learning_rate=5e-4)
        scratch = TrainConfig(**sft, learning_rate=2e-3)
    else:  # fp32 everywhere: a CPU and a GPU run the same arithmetic (up to kernel rounding)
        shared = dict(common, model="course", precision="fp32", save_steps=50)
        base = TrainConfig(**shared, objective="documents", epochs=1, effective_batch_size=64,
                           micro_batch_size=16, learning_rate=3e-3, warmup_ratio=0.02)
        sft = dict(shared, limit=12_800, epochs=1, effective_batch_size=32, micro_batch_size=8, warmup_ratio=0.05)
        tuned = TrainConfig(**sft | {"model": str(out / "base")}, learning_rate=1e-3)
        scratch = TrainConfig(**sft, learning_rate=3e-3)
        if size == "smoke":
            tiny = dict(model="tiny", vocab_size=512, max_steps=4, save_steps=2, limit=256, progress=False)
            base, scratch = (replace(c, **tiny) for c in (base, scratch))
            tuned = replace(tuned, **{k: v for k, v in tiny.items() if k not in ("model", "vocab_size")})
    placed = {name: replace(c, output_dir=str(out / name)) for name, c in
              (("base", base), ("tuned", tuned), ("scratch", scratch))}
    return {name: replace(c, command=["alpaca-lessons", "train", *command_line(c, skip=("command",))])
            for name, c in placed.items()}


def is_finished(folder: Path) -> bool:
    """Whether a stage's run finished: its exported model and the result in its ``run.json``."""
    from alpaca_lessons.training.train.run import read_run

    return (folder / "model.safetensors").is_file() and "result" in read_run(folder)


def describe_runs(out: Path | None = None) -> list[str]:
    """One line per committed model: what it trained on, how long, where, and its final loss."""
    from alpaca_lessons.training.train.run import read_run

    lines = []
    for name in STAGES:
        run = read_run((out or default_dir()) / name)
        cfg, result = run["config"], run["result"]
        lines.append(f"{name:8} {run['parameters']:,} parameters · {run['examples']['kept']:,} "
                     f"{'documents' if cfg['objective'] == 'documents' else 'records'} · {result['steps']:,} steps "
                     f"of {cfg['effective_batch_size']} · lr {cfg['learning_rate']:g} · "
                     f"{result['seconds_this_run'] / 60:.1f} min on {run['machine']['device']} · "
                     f"final loss {result['final_loss']:.2f}")
    return lines


def make_course_models(out: Path, size: str = "course", stages: tuple[str, ...] = STAGES) -> dict[str, float]:
    """Run the stages not yet finished (resuming an interrupted one); seconds each stage took this time."""
    from alpaca_lessons.training.train.loop import train

    configs, seconds = stage_configs(out, size), {}
    for name in stages:
        cfg = configs[name]
        if is_finished(Path(cfg.output_dir)):
            print(f"{name}: finished earlier ({cfg.output_dir}), skipped", flush=True)
            continue
        print(f"{name}: {' '.join(cfg.command)}", flush=True)
        began = time.perf_counter()
        train(cfg)
        seconds[name] = round(time.perf_counter() - began, 1)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """``python -m alpaca_lessons.training.course_models [--size course|large|smoke] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m alpaca_lessons.training.course_models",
                                     description="train the course's base, tuned and scratch models")
    parser.add_argument("--size", choices=SIZES, default="course")
    parser.add_argument("--out", type=Path, help="folder of the three models (default: the size's own)")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, in order (default: all)")
    args = parser.parse_args(argv)
    stages = tuple(s for s in args.stages.split(",") if s)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"--stages: unknown stage {unknown[0]!r}; choose from {', '.join(STAGES)}", file=sys.stderr)
        return 2
    seconds = make_course_models(args.out or default_dir(args.size), args.size, stages)
    print("seconds per stage:", seconds or "none run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
