"""modeling: the local BPE tokenizer, LLaMA presets, and loading local Hugging Face folders only."""

from pathlib import Path

import pytest
import torch
from finetune_fixtures import one_thread, tiny_records, tiny_tokenizer  # noqa: F401 (one_thread: an autouse fixture)
from transformers import LlamaForCausalLM

from alpaca_lessons.models.modeling import (
    build_model,
    count_parameters,
    llama_config,
    load_causal_lm,
    load_tokenizer,
)


def test_tokenizer_training_is_deterministic_and_reserves_pad_bos_eos():
    first, second = tiny_tokenizer(), tiny_tokenizer()
    assert first.get_vocab() == second.get_vocab() and len(first) == 300
    assert (first.pad_token_id, first.bos_token_id, first.eos_token_id) == (0, 1, 2)
    assert first("The apple")["input_ids"][0] == 1 and first("The apple", add_special_tokens=False)["input_ids"][0] != 1


def test_byte_level_bpe_encodes_any_text_losslessly():
    tokenizer = tiny_tokenizer()
    text = "Résumé: 東京 ✓ — tabs\tand\nnewlines"  # nothing like it in the training text
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text and tokenizer.unk_token_id is None


def test_presets_are_llama_of_the_stated_size():
    tiny = build_model(llama_config("tiny", 300))
    course = build_model(llama_config("course", 4096))
    assert isinstance(tiny, LlamaForCausalLM) and tiny.config._attn_implementation == "sdpa"
    assert count_parameters(tiny) == (300 * 64 + 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 64,) * 2
    assert 2_000_000 < count_parameters(course)[0] < 3_000_000  # "a few million", tied embeddings
    assert torch.equal(build_model(llama_config("tiny", 300), seed=3).lm_head.weight,
                       build_model(llama_config("tiny", 300), seed=3).lm_head.weight)
    with pytest.raises(ValueError, match="unknown model preset"):
        llama_config("huge", 300)


def test_save_and_load_a_local_folder_round_trips(tmp_path):
    tokenizer = tiny_tokenizer()
    model = build_model(llama_config("tiny", len(tokenizer)), seed=1)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    again, tok = load_causal_lm(tmp_path), load_tokenizer(tmp_path)
    ids = tok("Add the two numbers.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)
    assert tok.get_vocab() == tokenizer.get_vocab()


def test_a_hub_id_is_refused_without_touching_the_network():
    with pytest.raises(FileNotFoundError, match="downloads nothing unless asked"):
        load_causal_lm("meta-llama/Llama-2-7b-hf")


def test_a_hub_id_is_fetched_only_with_download(monkeypatch):
    """The real path for a student with internet access: ``from_pretrained`` on the hub id, allowed to connect
    (``local_files_only=False``) only when asked; stubbed here, this machine has no internet."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    calls = []
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda source, **kw: calls.append((source, kw)))
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda source, **kw: calls.append((source, kw)))
    load_causal_lm("HuggingFaceTB/SmolLM2-135M", download=True)
    load_tokenizer("HuggingFaceTB/SmolLM2-135M", download=True)
    assert [(source, kw["local_files_only"]) for source, kw in calls] == [("HuggingFaceTB/SmolLM2-135M", False)] * 2


def test_a_training_run_on_a_hub_id_is_one_line_before_anything_is_written(tmp_path, capsys):
    from alpaca_lessons.cli import main

    assert main(["train", "--model", "HuggingFaceTB/SmolLM2-135M", "--output-dir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == ("alpaca-lessons: error: HuggingFaceTB/SmolLM2-135M: not a local Hugging Face "
                                       "folder (no config.json); this course downloads nothing unless asked: pass a "
                                       "local path, or a hub id with --download\n")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", ["base", "tuned", "scratch"])
def test_the_committed_course_models_load_and_are_what_their_runs_say(name):
    from alpaca_lessons.models.modeling import course_model_dir
    from alpaca_lessons.training.course_models import stage_configs
    from alpaca_lessons.training.train import read_log, read_run

    folder = course_model_dir(name)
    model, tokenizer = load_causal_lm(folder), load_tokenizer(folder)
    run = read_run(folder)
    recipe = stage_configs(Path("/tmp/m"))[name]  # make course-models' recipe, as it ran on a GPU into /tmp/m
    assert run["command"] == " ".join(recipe.command) and run["config"]["split"] == "train"
    assert count_parameters(model)[0] == run["parameters"] and model.dtype == torch.float32
    assert model.config.hidden_size == 192 and len(tokenizer) == model.config.vocab_size == 4096
    log = read_log(folder)
    assert len(log) == run["total_steps"] and log[-1]["loss"] == run["result"]["final_loss"] < log[0]["loss"]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 6 * 2**20  # small enough to commit


def test_the_tuned_model_learned_more_from_the_same_records_than_scratch():
    """Same 12,800 records, same steps (pinned from the committed logs). The losses are per token of each model's
    own tokenizer (tuned inherits the base's), so they are pinned here, and compared in tokenizer-free measures
    by the evaluation."""
    from alpaca_lessons.models.modeling import course_model_dir
    from alpaca_lessons.training.train import read_log, read_run

    tuned, scratch = (read_run(course_model_dir(n)) for n in ("tuned", "scratch"))
    same = ("records", "kept", "with_input")
    assert [tuned["examples"][k] for k in same] == [scratch["examples"][k] for k in same] == [12_800, 12_800, 5_136]
    assert tuned["total_steps"] == scratch["total_steps"] == 400
    assert (tuned["result"]["final_loss"], scratch["result"]["final_loss"]) == (3.85297, 5.47812)
    assert read_log(course_model_dir("base"))[-1]["loss"] == 3.79955


def test_the_course_tokenizer_counts_the_exercise_answers():
    from alpaca_lessons.course.exercises import EXERCISES
    from alpaca_lessons.models.modeling import course_model_dir

    tokenizer = load_tokenizer(course_model_dir())
    hi = tokenizer("Hi there!", add_special_tokens=False)["input_ids"]
    assert EXERCISES["06a.learned_tokens"].solve() == len(hi) + 1
    assert EXERCISES["06a.pad_is_eos"].solve() == len(hi)  # the EOS masked as padding
