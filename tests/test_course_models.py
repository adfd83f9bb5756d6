"""The course-models recipe (base -> tuned, and scratch) and the documents objective it pretrains with."""

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest
from finetune_fixtures import one_thread, tiny_tokenizer  # noqa: F401 (one_thread: an autouse fixture)

from alpaca_lessons.data import Record
from alpaca_lessons.models.modeling import document_texts
from alpaca_lessons.training import sft
from alpaca_lessons.training.course_models import STAGES, describe_runs, main, stage_configs
from alpaca_lessons.training.train.distributed import Distributed
from alpaca_lessons.training.train.launch import add_arguments, config_from_args
from alpaca_lessons.training.train.loop import check_config


def test_documents_are_each_field_alone_and_empty_inputs_are_skipped():
    records = [Record("Add.", "2 and 3", "5"), Record("Say hi.", "", "Hi!")]
    assert list(document_texts(records)) == ["Add.", "2 and 3", "5", "Say hi.", "Hi!"]


def test_a_document_learns_every_token_after_bos_and_its_eos():
    tokenizer = tiny_tokenizer()
    examples, report = sft.tokenize_documents(["The river is near.", "Hi"], tokenizer, max_length=512)
    ids = tokenizer("The river is near.", add_special_tokens=False)["input_ids"]
    first = examples[0]
    assert first.input_ids == (tokenizer.bos_token_id, *ids, tokenizer.eos_token_id)
    assert first.labels == (sft.IGNORE_INDEX, *ids, tokenizer.eos_token_id)
    assert first.target_tokens == len(ids) + 1 and report.kept == 2 and report.with_input == 0


def test_a_long_document_is_cut_and_says_so():
    (example,), report = sft.tokenize_documents(["word " * 300], tiny_tokenizer(), max_length=16)
    assert len(example) == 16 and example.truncated and report.truncated == 1


@pytest.mark.parametrize(("field", "value", "message"), [("split", "heldout", "held-out side is for evaluation"),
                                                         ("objective", "chat", "objective must be one of")])
def test_training_on_the_held_out_side_or_an_unknown_objective_is_refused(field, value, message):
    cfg = replace(stage_configs(Path("m"))["scratch"], **{field: value})
    with pytest.raises(ValueError, match=message):
        check_config(cfg, Distributed())


def test_the_recipe_tunes_the_base_and_gives_tuned_and_scratch_the_same_records(tmp_path):
    configs = stage_configs(tmp_path)
    assert tuple(configs) == STAGES == ("base", "tuned", "scratch")
    base, tuned, scratch = configs.values()
    assert base.objective == "documents" and tuned.objective == scratch.objective == "instruction"
    assert tuned.model == str(tmp_path / "base") and base.model == scratch.model == "course"
    assert all(c.split == "train" for c in configs.values())
    same = ("limit", "epochs", "effective_batch_size", "micro_batch_size", "seed", "data")
    assert [getattr(tuned, k) for k in same] == [getattr(scratch, k) for k in same]


@pytest.mark.parametrize("size", ["course", "large", "smoke"])
def test_each_stage_command_rebuilds_its_config(size, tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for cfg in stage_configs(tmp_path, size).values():
        words = cfg.command[2:]  # after "alpaca-lessons train"
        assert config_from_args(parser.parse_args(words), cfg.command) == cfg


def test_the_smoke_recipe_trains_all_three_then_skips_them(tmp_path, capsys):
    assert main(["--size", "smoke", "--out", str(tmp_path)]) == 0
    for name in STAGES:
        run = json.loads((tmp_path / name / "run.json").read_text())
        assert run["result"]["steps"] == 4 and (tmp_path / name / "model.safetensors").is_file()
    assert json.loads((tmp_path / "tuned" / "run.json").read_text())["config"]["model"] == str(tmp_path / "base")
    capsys.readouterr()
    assert main(["--size", "smoke", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("finished earlier") == 3


def test_an_unknown_stage_is_one_line_and_exit_2(capsys):
    assert main(["--stages", "base,chat"]) == 2
    assert capsys.readouterr().err.strip() == "--stages: unknown stage 'chat'; choose from base, tuned, scratch"


def test_the_committed_runs_are_described_from_their_files():
    lines = describe_runs()
    assert [line.split()[0] for line in lines] == ["base", "tuned", "scratch"]
    assert "118,190 documents · 1,846 steps of 64 · lr 0.003 · 5.3 min on NVIDIA H200 · final loss 3.80" in lines[0]
    assert lines[1].endswith("12,800 records · 400 steps of 32 · lr 0.001 · 1.2 min on NVIDIA H200 · final loss 3.85")
