"""Generation with the Alpaca template: batched, left-padded, reproducible; the CLI that writes outputs."""

from __future__ import annotations

import pytest
import torch
from model_fixtures import tiny_model  # noqa: F401  (a fixture)

from alpaca_lessons.data import Record
from alpaca_lessons.models.infer import generate, load


def test_generation_is_batched_left_padded_and_reproducible(tiny_model):  # noqa: F811
    model, tokenizer = tiny_model
    records = [Record("Name three colors."), Record("Write a short poem about the sea.", "calm")]
    first = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, progress=False)
    again = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, progress=False)
    assert first == again and len(first) == 2
    assert all(0 < len(g.token_ids) <= 8 and tokenizer.eos_token_id not in g.token_ids for g in first)
    alone = generate(model, tokenizer, records[1:], batch_size=1, max_new_tokens=8, temperature=0, progress=False)
    paired = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, temperature=0, progress=False)
    assert alone[0].token_ids == paired[1].token_ids  # left padding leaves the padded row's greedy text as is


class _EndFirstRowOnly:
    """A logits processor: row 0 must end at its third new token, row 1 may never end."""

    def __init__(self, eos: int, prompt_length: int) -> None:
        self.eos, self.prompt_length = eos, prompt_length

    def __call__(self, input_ids, scores):
        scores = scores.clone()
        scores[1, self.eos] = -float("inf")
        if input_ids.shape[1] - self.prompt_length == 2:
            scores[0] = -float("inf")
            scores[0, self.eos] = 0.0
        return scores


def test_generation_says_whether_it_ended_with_eos_or_ran_out_of_tokens(tiny_model):  # noqa: F811
    from alpaca_lessons.models.templates import training_prompt

    model, tokenizer = tiny_model
    records = [Record("Name three colors."), Record("Name three colors.")]
    length = len(tokenizer(training_prompt(records[0]))["input_ids"])
    force = _EndFirstRowOnly(tokenizer.eos_token_id, length)
    first, second = generate(model, tokenizer, records, batch_size=2, max_new_tokens=6, temperature=0,
                             processors=[force], progress=False)
    assert first.ended and len(first.token_ids) == 2  # EOS was its third token, and is not kept
    assert not second.ended and len(second.token_ids) == 6  # it ran into max_new_tokens


def test_cli_generate_writes_alpaca_eval_outputs(tiny_model, tmp_path, real_data, capsys):  # noqa: F811
    from alpaca_lessons.cli import main
    from alpaca_lessons.evaluation.pairs import instruction_set, read_system_outputs

    model, tokenizer = tiny_model
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    out = tmp_path / "outputs.json"
    assert main(["evaluate", "generate", "--model", str(folder), "--out", str(out), "--limit", "3",
                 "--max-new-tokens", "4", "--watermark"]) == 0
    written = read_system_outputs(out)
    first = instruction_set("user_oriented")[0]
    assert written.system == "model" and len(written.outputs) == 3
    assert written.instructions[0] == f"{first.instruction}\n\n{first.input}"  # AlpacaEval's merged form


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_course_model_generates_on_a_gpu_in_its_checkpoints_dtype():  # checked by the GPU issue
    from alpaca_lessons.models.modeling import course_model_dir

    model, tokenizer = load(course_model_dir(), device="cuda")
    assert model.device.type == "cuda" and model.dtype == torch.bfloat16  # the checkpoint's dtype, not float32
    records = [Record("Name three colors."), Record("Summarize the text.", "The sea is calm today.")]
    out = generate(model, tokenizer, records, batch_size=2, max_new_tokens=16, temperature=0, progress=False)
    assert len(out) == 2 and all(0 < len(g.token_ids) <= 16 for g in out)
