"""Generation with the Alpaca template and the green-list watermark, on a tiny LLaMA built here."""

from __future__ import annotations

import pytest
import torch

from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.watermark import WatermarkLogitsProcessor, detect, green_list
from alpaca_lessons.models.infer import generate, load


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer LLaMA (random weights) and a byte-level BPE tokenizer trained on a few lines: small for
    testing speed. Random weights give near-uniform next-token distributions, the easy case for a watermark."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    lines = ["Below is an instruction that describes a task.", "### Instruction:", "### Response:",
             "Name three colors.", "Red, green and blue.", "Write a short poem about the sea."] * 20
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "</s>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="</s>", pad_token="<pad>").save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=raw.get_vocab_size(), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=256, eos_token_id=1, pad_token_id=0, bos_token_id=None)
    LlamaForCausalLM(config).save_pretrained(folder)
    return load(folder)


def test_green_list_for_a_fixed_key_by_hand():
    # seed = key * previous = 15485863 * 3 = 46457589; the green list is the first int(0.5 * 10) = 5
    # entries of torch.randperm(10) from a CPU generator with that seed
    permutation = torch.randperm(10, generator=torch.Generator().manual_seed(46457589)).tolist()
    assert green_list(3, 10, gamma=0.5, key=15485863) == sorted(permutation[:5])
    assert green_list(3, 10, gamma=0.5, key=15485863) == [3, 4, 5, 7, 8]  # written out: pins torch's CPU generator
    assert len(green_list(5, 1000, gamma=0.25)) == 250
    assert green_list(4, 1000) != green_list(5, 1000) and green_list(4, 1000) != green_list(4, 1000, key=7)


def test_z_score_by_hand():
    vocab, gamma = 50, 0.25
    ids = [7]
    for _ in range(12):  # every next token green: z = (12 - 3) / sqrt(12 * 0.25 * 0.75) = 6
        used = set(zip(ids, ids[1:], strict=False))
        ids.append(next(t for t in green_list(ids[-1], vocab, gamma) if (ids[-1], t) not in used))
    result = detect(ids, vocab, gamma=gamma)
    assert (result.scored, result.green) == (12, 12) and result.z == pytest.approx(6.0)
    assert result.p_value == pytest.approx(9.87e-10, rel=1e-2)


def test_repeated_pairs_count_once():
    vocab = 50
    green = green_list(7, vocab)[0]
    looped = [7, green] * 30  # the pair (7, green) 30 times, and (green, 7) 29 times
    counted = detect(looped, vocab, ignore_repeated=False)
    once = detect(looped, vocab)
    assert counted.scored == 59 and once.scored == 2
    assert counted.z > 5 > once.z  # repetition alone would have looked like a watermark
    with pytest.raises(ValueError):
        detect([1], vocab)


def test_processor_adds_delta_to_the_green_list_of_each_rows_last_token():
    processor = WatermarkLogitsProcessor(gamma=0.5, delta=3.0, key=11)
    scores = processor(torch.tensor([[5, 2], [5, 9]]), torch.zeros(2, 10))
    for row, previous in enumerate((2, 9)):
        assert torch.nonzero(scores[row]).flatten().tolist() == green_list(previous, 10, 0.5, 11)
        assert scores[row].max().item() == 3.0


def test_generation_is_batched_left_padded_and_reproducible(tiny_model):
    model, tokenizer = tiny_model
    records = [Record("Name three colors."), Record("Write a short poem about the sea.", "calm")]
    first = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, progress=False)
    again = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, progress=False)
    assert first == again and len(first) == 2
    assert all(0 < len(g.token_ids) <= 8 and tokenizer.eos_token_id not in g.token_ids for g in first)
    alone = generate(model, tokenizer, records[1:], batch_size=1, max_new_tokens=8, temperature=0, progress=False)
    paired = generate(model, tokenizer, records, batch_size=2, max_new_tokens=8, temperature=0, progress=False)
    assert alone[0].token_ids == paired[1].token_ids  # left padding leaves the padded row's greedy text as is


def test_watermarked_text_is_detected_and_plain_text_is_not(tiny_model):
    model, tokenizer = tiny_model
    vocab = model.config.vocab_size
    records = [Record(f"Name {n} colors.") for n in range(20)]
    options = {"batch_size": 10, "max_new_tokens": 32, "progress": False}
    marked = generate(model, tokenizer, records, processors=[WatermarkLogitsProcessor()], **options)
    plain = generate(model, tokenizer, records, **options)
    z_marked = [detect(g.token_ids, vocab).z for g in marked if len(g.token_ids) > 10]
    z_plain = [detect(g.token_ids, vocab).z for g in plain if len(g.token_ids) > 10]
    assert len(z_marked) >= 18 and len(z_plain) >= 18
    assert min(z_marked) > 4 and max(z_plain) < 4  # z = 4: one false alarm in about 30,000 texts
    assert abs(sum(z_plain) / len(z_plain)) < 1 < 5 < sum(z_marked) / len(z_marked)


def test_playground_generates_and_reports_the_detector(tiny_model):
    from alpaca_lessons.ui.playground import playground

    model, tokenizer = tiny_model
    panel = playground(model, tokenizer, "Name three colors.", max_new_tokens=12)
    assert "press Generate" in panel.static_html()
    options, button = panel.children[2].children[2], panel.children[2].children[3]
    options.value = True  # watermark on
    button.click()
    html = panel.static_html()
    assert "Name three colors." in html and "detector:" in html and "scored tokens green" in html


def test_cli_generate_writes_alpaca_eval_outputs(tiny_model, tmp_path, real_data, capsys):
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
