"""Every numeric flag of every command is checked when the command line is parsed (issue 13, item 11).

A bad value ends as argparse's own one-line error on stderr, ``<prog>: error: argument <flag>: <rule>, got
<value>``, with exit status 2, before anything runs or is written; the config dataclasses refuse the same
values when built from Python. The expected messages are written out here, not taken from the code.
"""

from __future__ import annotations

import pytest

from alpaca_lessons.cli import build_parser, main
from alpaca_lessons.generation.config import GenerationConfig
from alpaca_lessons.models.shapes import PRESETS
from alpaca_lessons.training.memory.estimate import Setup
from alpaca_lessons.training.train.config import TrainConfig

GENERATE = ["generate", "--output", "t.jsonl"]
TRAIN = ["train", "--output-dir", "run"]
DEDUP = ["dedup", "in.jsonl", "--out", "out.jsonl"]
SERVE = ["teacher", "serve", "--port", "0"]
BLIND = ["evaluate", "blind", "--store", "judged.jsonl", "--annotator", "me"]
JUDGE = ["evaluate", "judge", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--store", "judged.jsonl"]
EVAL_GENERATE = ["evaluate", "generate", "--model", "model", "--out", "outputs.json"]

# (argv, the program named in the message, the flag, the value, what the message says after "argument FLAG: ")
BAD = [
    # train: the three values of the issue, and every other number of TrainConfig
    (TRAIN, "alpaca-lessons train", "--effective-batch-size", "-128", "must be > 0, got -128"),
    (TRAIN, "alpaca-lessons train", "--epochs", "-1", "must be > 0, got -1"),
    (TRAIN, "alpaca-lessons train", "--max-steps", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--micro-batch-size", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--learning-rate", "nan", "must be > 0, got nan"),
    (TRAIN, "alpaca-lessons train", "--learning-rate", "inf", "must be > 0, got inf"),
    (TRAIN, "alpaca-lessons train", "--epochs", "nan", "must be > 0, got nan"),
    (TRAIN, "alpaca-lessons train", "--warmup-ratio", "1.5", "must be a number in [0, 1], got 1.5"),
    (TRAIN, "alpaca-lessons train", "--weight-decay", "-0.1", "must be >= 0, got -0.1"),
    (TRAIN, "alpaca-lessons train", "--max-grad-norm", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--max-length", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--limit", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--vocab-size", "-1", "must be > 0, got -1"),
    (TRAIN, "alpaca-lessons train", "--seed", "-1", "must be >= 0, got -1"),
    (TRAIN, "alpaca-lessons train", "--save-steps", "-200", "must be >= 0, got -200"),
    (TRAIN, "alpaca-lessons train", "--save-total-limit", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--log-steps", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--lora-r", "0", "must be > 0, got 0"),
    (TRAIN, "alpaca-lessons train", "--lora-alpha", "-16", "must be > 0, got -16"),
    (TRAIN, "alpaca-lessons train", "--lora-dropout", "2", "must be a number in [0, 1], got 2"),
    (TRAIN, "alpaca-lessons train", "--epochs", "three", "invalid float value: 'three'"),
    # memory
    (["memory"], "alpaca-lessons memory", "--micro-batch", "0", "must be > 0, got 0"),
    (["memory"], "alpaca-lessons memory", "--seq-len", "-512", "must be > 0, got -512"),
    (["memory"], "alpaca-lessons memory", "--gpus", "0", "must be > 0, got 0"),
    (["memory"], "alpaca-lessons memory", "--lora-r", "-8", "must be >= 0, got -8"),
    (["memory"], "alpaca-lessons memory", "--model", "4096,0,512,4,6", "must be > 0, got 0"),
    (["memory"], "alpaca-lessons memory", "--model", "4096,192,512,4",
     "must be a preset or vocab,hidden,intermediate,layers,heads, got 4096,192,512,4"),
    # generate: GenerationConfig's numbers and the teacher's and the run's own flags
    (GENERATE, "alpaca-lessons generate", "--num-tasks", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--num-tasks", "ten", "invalid int value: 'ten'"),
    (GENERATE, "alpaca-lessons generate", "--num-prompt-instructions", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--request-batch-size", "-5", "must be > 0, got -5"),
    (GENERATE, "alpaca-lessons generate", "--n", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--temperature", "2.5", "must be in [0, 2], got 2.5"),
    (GENERATE, "alpaca-lessons generate", "--temperature", "nan", "must be in [0, 2], got nan"),
    (GENERATE, "alpaca-lessons generate", "--top-p", "0", "must be in (0, 1], got 0"),
    (GENERATE, "alpaca-lessons generate", "--top-p", "1.01", "must be in (0, 1], got 1.01"),
    (GENERATE, "alpaca-lessons generate", "--max-tokens", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--threshold", "nan", "must be >= 0, got nan"),
    (GENERATE, "alpaca-lessons generate", "--seed", "-1", "must be >= 0, got -1"),
    (GENERATE, "alpaca-lessons generate", "--concurrency", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--max-cost", "-1", "must be >= 0, got -1"),
    (GENERATE, "alpaca-lessons generate", "--max-cost", "inf", "must be >= 0, got inf"),
    (GENERATE, "alpaca-lessons generate", "--max-requests", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--timeout", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--timeout", "nan", "must be > 0, got nan"),
    (GENERATE, "alpaca-lessons generate", "--max-attempts", "0", "must be > 0, got 0"),
    (GENERATE, "alpaca-lessons generate", "--backoff", "-1", "must be >= 0, got -1"),
    (GENERATE, "alpaca-lessons generate", "--price-in", "-0.5", "must be >= 0, got -0.5"),
    (GENERATE, "alpaca-lessons generate", "--price-out", "nan", "must be >= 0, got nan"),
    # dedup, diversity, audit
    (DEDUP, "alpaca-lessons dedup", "--threshold", "nan", "must be a number in [0, 1], got nan"),
    (DEDUP, "alpaca-lessons dedup", "--threshold", "1.5", "must be a number in [0, 1], got 1.5"),
    (DEDUP, "alpaca-lessons dedup", "--threshold", "inf", "must be a number in [0, 1], got inf"),
    (DEDUP, "alpaca-lessons dedup", "--top-k", "-1", "must be >= 0, got -1"),
    (["diversity", "data.jsonl"], "alpaca-lessons diversity", "--sample", "0", "must be > 0, got 0"),
    (["diversity", "data.jsonl"], "alpaca-lessons diversity", "--seed", "-3", "must be >= 0, got -3"),
    (["audit", "data.jsonl"], "alpaca-lessons audit", "--examples", "-1", "must be >= 0, got -1"),
    # teacher serve
    (SERVE, "alpaca-lessons teacher serve", "--latency", "-1", "must be >= 0, got -1"),
    (SERVE, "alpaca-lessons teacher serve", "--latency", "nan", "must be >= 0, got nan"),
    (SERVE, "alpaca-lessons teacher serve", "--port", "70000", "must be a port in [0, 65535], got 70000"),
    (SERVE, "alpaca-lessons teacher serve", "--port", "-1", "must be a port in [0, 65535], got -1"),
    (SERVE, "alpaca-lessons teacher serve", "--fault-rate", "1.5", "must be a number in [0, 1], got 1.5"),
    (SERVE, "alpaca-lessons teacher serve", "--slow-seconds", "-2", "must be >= 0, got -2"),
    (SERVE, "alpaca-lessons teacher serve", "--seed", "-1", "must be >= 0, got -1"),
    (SERVE, "alpaca-lessons teacher serve", "--fault-seed", "-1", "must be >= 0, got -1"),
    # evaluate
    (BLIND, "alpaca-lessons evaluate blind", "--sample", "0", "must be > 0, got 0"),
    (BLIND, "alpaca-lessons evaluate blind", "--seed", "-1", "must be >= 0, got -1"),
    ([*BLIND, "show"], "alpaca-lessons evaluate blind show", "--count", "0", "must be > 0, got 0"),
    (JUDGE, "alpaca-lessons evaluate judge", "--limit", "-5", "must be > 0, got -5"),
    (EVAL_GENERATE, "alpaca-lessons evaluate generate", "--limit", "0", "must be > 0, got 0"),
    (EVAL_GENERATE, "alpaca-lessons evaluate generate", "--max-new-tokens", "0", "must be > 0, got 0"),
    (EVAL_GENERATE, "alpaca-lessons evaluate generate", "--batch-size", "-8", "must be > 0, got -8"),
    (["evaluate", "stats"], "alpaca-lessons evaluate stats", "--power", "0", "must be in (0, 1], got 0"),
    (["evaluate", "stats"], "alpaca-lessons evaluate stats", "--power", "nan", "must be in (0, 1], got nan"),
]


def _argv(prefix: list[str], option: str, value: str) -> list[str]:
    """The command with the bad flag, placed before a trailing sub-action (``blind ... status``)."""
    if prefix[:2] == ["evaluate", "blind"] and prefix[-1] != "show":
        return [*prefix, option, value, "status"]
    return [*prefix, option, value]


@pytest.mark.parametrize(("prefix", "prog", "option", "value", "message"), BAD,
                         ids=[f"{case[1].split(' ', 1)[1]} {case[2]} {case[3]}" for case in BAD])
def test_a_bad_number_is_one_line_naming_the_flag_and_nothing_is_written(prefix, prog, option, value, message,
                                                                          tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(_argv(prefix, option, value))
    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.err == f"{prog}: error: argument {option}: {message}\n"  # one line, no usage, no traceback
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_the_stats_counts_are_each_checked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "stats", "--counts", "3", "-1", "2"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "alpaca-lessons evaluate stats: error: argument --counts: must be >= 0, got -1\n"


def test_good_values_still_parse_at_the_edges_of_their_ranges():
    parser = build_parser()
    args = parser.parse_args([*GENERATE, "--num-tasks", "1", "--temperature", "0", "--top-p", "1", "--threshold", "0",
                              "--max-cost", "0", "--seed", "0", "--backoff", "0", "--price-in", "0", "--price-out",
                              "0.5"])
    assert (args.num_tasks, args.temperature, args.top_p, args.threshold, args.max_cost, args.seed, args.backoff,
            args.price_in, args.price_out) == (1, 0.0, 1.0, 0.0, 0.0, 0, 0.0, 0.0, 0.5)
    args = parser.parse_args([*GENERATE, "--temperature", "2", "--threshold", "1", "--top-p", "0.01"])
    assert (args.temperature, args.threshold, args.top_p, args.max_cost) == (2.0, 1.0, 0.01, None)
    args = parser.parse_args([*DEDUP, "--threshold", "1", "--top-k", "0"])
    assert (args.threshold, args.top_k) == (1.0, 0)
    args = parser.parse_args(["teacher", "serve", "--port", "65535", "--latency", "0", "--fault-rate", "1"])
    assert (args.port, args.latency, args.fault_rate) == (65535, 0.0, 1.0)
    args = parser.parse_args(["memory", "--lora-r", "0", "--gpus", "8", "--model", "4096,192,512,4,6"])
    assert (args.lora_r, args.gpus, args.model.hidden_size) == (0, 8, 192)
    assert parser.parse_args(["memory"]).model == PRESETS["llama-7b"]  # the default goes through the same parse
    args = parser.parse_args([*JUDGE, "--limit", "1"])
    assert args.limit == 1


def test_train_parses_good_values_into_its_config():
    from alpaca_lessons.common.options import OneLineParser
    from alpaca_lessons.training.train.launch import add_arguments, config_from_args

    parser = OneLineParser()
    add_arguments(parser)
    args = parser.parse_args(["--epochs", "0.5", "--max-steps", "1", "--save-steps", "0", "--warmup-ratio", "0",
                              "--weight-decay", "0", "--lora-dropout", "0", "--effective-batch-size", "8"])
    cfg = config_from_args(args, ["train"])
    assert (cfg.epochs, cfg.max_steps, cfg.save_steps, cfg.warmup_ratio, cfg.weight_decay, cfg.lora_dropout,
            cfg.effective_batch_size) == (0.5, 1, 0, 0.0, 0.0, 0.0, 8)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: TrainConfig(epochs=-1), "epochs must be > 0, got -1"),
    (lambda: TrainConfig(effective_batch_size=-128), "effective_batch_size must be > 0, got -128"),
    (lambda: TrainConfig(max_steps=0), "max_steps must be > 0, got 0"),
    (lambda: TrainConfig(learning_rate=float("nan")), "learning_rate must be > 0, got nan"),
    (lambda: GenerationConfig(top_p=0.0), "top_p must be in (0, 1], got 0.0"),
    (lambda: GenerationConfig(temperature=float("inf")), "temperature must be in [0, 2], got inf"),
    (lambda: GenerationConfig(max_cost=-1.0), "max_cost must be >= 0, got -1.0"),
    (lambda: GenerationConfig(max_idle_requests=0), "max_idle_requests must be > 0, got 0"),
    (lambda: Setup(PRESETS["llama-7b"], gpus=0), "gpus must be > 0, got 0"),
    (lambda: Setup(PRESETS["llama-7b"], lora_base_bytes=float("nan")), "lora_base_bytes must be > 0, got nan"),
])
def test_the_config_dataclasses_refuse_the_same_values_from_python(build, message):
    with pytest.raises(ValueError) as refused:
        build()
    assert str(refused.value) == message


def test_the_config_dataclasses_keep_their_defaults_and_none():
    assert TrainConfig().epochs == 3.0 and TrainConfig(max_steps=None, limit=None).max_steps is None
    assert GenerationConfig(max_cost=None, max_requests=None).max_cost is None
    assert Setup(PRESETS["llama-7b"], lora_r=0).lora_r == 0


def test_a_rouge_threshold_over_one_is_refused_for_alpaca_but_bm25s_18_is_belles(tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    assert main(["generate", "--output", str(output), "--threshold", "1.5", "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ("alpaca-lessons: error: threshold must be a number in [0, 1] for a ROUGE-L novelty "
                                 "test, got 1.5\n")
    assert list(tmp_path.iterdir()) == []
    assert GenerationConfig(profile="belle", threshold=18.0).threshold == 18.0
