"""sft: Alpaca's supervised examples, their edge cases, and the two collations training alike."""

import pytest
import torch
from finetune_fixtures import one_thread, tiny_records, tiny_tokenizer  # noqa: F401 (one_thread: an autouse fixture)

from alpaca_lessons.data import Record
from alpaca_lessons.models.modeling import add_pad_token, build_model, llama_config
from alpaca_lessons.models.templates import TEMPLATE_NO_INPUT, TEMPLATE_WITH_INPUT
from alpaca_lessons.training import sft

EOS = 2


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return build_model(llama_config("tiny", len(tokenizer)), seed=0).eval()  # small for testing efficiency


def test_prompt_is_masked_and_target_is_output_plus_eos():
    example = sft.make_example([1, 10, 11], [20, 21], EOS, max_length=16)
    assert example.input_ids == (1, 10, 11, 20, 21, EOS)
    assert example.labels == (-100, -100, -100, 20, 21, EOS)
    assert (example.prompt_length, example.target_tokens, example.truncated) == (3, 3, False)


def test_an_example_that_exactly_fits_keeps_its_eos():
    example = sft.make_example([1, 10], [20, 21], EOS, max_length=5)
    assert example.input_ids[-1] == EOS and not example.truncated


def test_a_truncated_example_loses_its_eos():
    example = sft.make_example([1, 10], [20, 21, 22], EOS, max_length=4)
    assert example.input_ids == (1, 10, 20, 21) and example.labels == (-100, -100, 20, 21)
    assert example.truncated and EOS not in example.input_ids


def test_a_prompt_that_fills_max_length_is_dropped_one_token_shorter_is_kept():
    assert sft.make_example(list(range(8)), [20], EOS, max_length=8) is None
    kept = sft.make_example(list(range(7)), [20, 21], EOS, max_length=8)
    assert kept.labels[-1] == 20 and kept.target_tokens == 1 and kept.truncated


def test_both_templates_and_the_report_counts(tokenizer):
    records = [Record("Add.", "1 and 2", "3"), Record("Say hi.", "", "hi"),
               Record("Repeat.", "", "word " * 200), Record("Long.", "x " * 400, "y")]
    examples, report = sft.tokenize_records(records, tokenizer, max_length=128)
    first = tokenizer.decode(examples[0].input_ids[:examples[0].prompt_length], skip_special_tokens=True)
    second = tokenizer.decode(examples[1].input_ids[:examples[1].prompt_length], skip_special_tokens=True)
    assert first == TEMPLATE_WITH_INPUT.format(instruction="Add.", input="1 and 2")
    assert second == TEMPLATE_NO_INPUT.format(instruction="Say hi.")
    assert examples[0].input_ids[0] == tokenizer.bos_token_id and examples[1].input_ids[-1] == tokenizer.eos_token_id
    assert (report.records, report.kept, report.with_input, report.truncated, report.dropped_prompt_too_long) == \
        (4, 3, 1, 1, 1)
    assert [e.source for e in examples] == [0, 1, 2]


def test_token_pairs_are_the_prompt_with_bos_and_the_bare_output(tokenizer):
    records = [Record("Add.", "1 and 2", "3"), Record("Say hi.", "", "hi there")]
    pairs = sft.token_pairs(records, tokenizer)
    assert len(pairs) == 2
    (prompt, output), (_, hi) = pairs
    assert prompt[0] == tokenizer.bos_token_id and tokenizer.eos_token_id not in prompt + output
    assert tokenizer.decode(prompt, skip_special_tokens=True) == TEMPLATE_WITH_INPUT.format(instruction="Add.",
                                                                                           input="1 and 2")
    assert tokenizer.decode(output) == "3" and tokenizer.decode(hi) == "hi there"
    # tokenize_records is make_example over these pairs
    examples, _ = sft.tokenize_records(records, tokenizer)
    assert examples[1] == sft.make_example(*pairs[1], tokenizer.eos_token_id, source=1)


def test_masked_view_marks_exactly_the_target(tokenizer):
    examples, _ = sft.tokenize_records([Record("Say hi.", "", "hi there")], tokenizer)
    view = sft.masked_view(examples[0], tokenizer)
    learned = "".join(text for _, text, on in view if on)
    assert learned == "hi there" + tokenizer.eos_token


def test_pad_collate_pads_to_the_longest_with_masked_labels(tokenizer):
    examples, _ = sft.tokenize_records(tiny_records(4), tokenizer)
    batch = sft.pad_collate(examples, tokenizer.pad_token_id)
    width = max(len(e) for e in examples)
    assert batch["input_ids"].shape == (4, width)
    for row, example in enumerate(examples):
        n = len(example)
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (width - n)
        assert batch["labels"][row, n:].eq(-100).all() and batch["input_ids"][row, n:].eq(0).all()


def test_document_mask_is_same_example_and_causal():
    mask = sft.document_attention_mask(torch.tensor([[0, 0, 1, 1, 1]]))[0, 0].int().tolist()
    assert mask == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 1, 1, 1]]


def test_pack_collate_restarts_positions_and_keeps_every_token(tokenizer):
    examples, _ = sft.tokenize_records(tiny_records(3), tokenizer)
    batch = sft.pack_collate(examples, tokenizer.pad_token_id)
    lengths = [len(e) for e in examples]
    assert batch["input_ids"][0].tolist() == [t for e in examples for t in e.input_ids]
    assert batch["labels"][0].tolist() == [t for e in examples for t in e.labels]
    assert batch["position_ids"][0].tolist() == [p for n in lengths for p in range(n)]
    assert batch["attention_mask"].dtype == torch.bool
    assert batch["attention_mask"].shape == (1, 1, sum(lengths), sum(lengths))


def _losses(model, batch):
    with torch.no_grad():
        return sft.per_example_losses(model(**sft.model_inputs(batch)).logits, batch)


def test_packed_and_padded_give_the_same_per_example_losses(tokenizer, model):
    examples, _ = sft.tokenize_records(tiny_records(8), tokenizer)
    padded = _losses(model, sft.pad_collate(examples, tokenizer.pad_token_id))
    packed = _losses(model, sft.pack_collate(examples, tokenizer.pad_token_id))
    alone = torch.cat([_losses(model, sft.pad_collate([e], tokenizer.pad_token_id)) for e in examples])
    assert torch.allclose(packed, padded, atol=1e-5) and torch.allclose(padded, alone, atol=1e-5)
    # the mask is what isolates them: reset positions alone let later examples attend to earlier ones
    leaky = sft.pack_collate(examples, tokenizer.pad_token_id) | {"attention_mask": None}
    assert (_losses(model, leaky) - alone)[1:].abs().max() > 1e-3


def test_flex_attention_block_mask_isolates_packed_examples_like_the_dense_mask(tokenizer, model):
    # flex attention compiles its kernel on first use (about 25 s here); on the CPU it runs forward only
    flex = build_model(llama_config("tiny", len(tokenizer)), seed=0, attn_implementation="flex_attention").eval()
    assert model.config._attn_implementation == "sdpa"  # building the flex model left the other one alone
    examples, _ = sft.tokenize_records(tiny_records(5), tokenizer)
    reference = sft.compare_collations(model, examples, tokenizer.pad_token_id)
    losses = sft.compare_collations(flex, examples, tokenizer.pad_token_id)
    assert torch.allclose(losses["packed"], reference["padded"], atol=1e-5)
    assert torch.allclose(losses["padded"], reference["padded"], atol=1e-5)
    mask = sft.flex_block_mask(torch.tensor([[0, 0, 1, 1, 1]]))
    assert mask.to_dense().shape == (1, 1, 1, 1)  # one 128 x 128 block holds the whole short row
    with pytest.raises(ValueError, match="attention must be one of"):
        sft.model_inputs(sft.pack_collate(examples, 0), "flash")


def test_step_loss_is_the_mean_over_the_steps_target_tokens_in_both_collations(tokenizer, model):
    examples, _ = sft.tokenize_records(tiny_records(8), tokenizer)
    total = sft.step_target_tokens(examples)
    sums = {}
    for name, collate in sft.COLLATIONS.items():
        sums[name] = 0.0
        for micro in (examples[:3], examples[3:]):  # two uneven micro-batches, as accumulation would see
            batch = collate(micro, tokenizer.pad_token_id)
            assert int((batch["labels"][:, 1:] != -100).sum()) == sft.step_target_tokens(micro)
            with torch.no_grad():
                sums[name] += float(sft.token_losses(model(**sft.model_inputs(batch)).logits, batch["labels"]).sum())
    # one forward over everything with Hugging Face's own mean loss: the same number
    batch = sft.pad_collate(examples, tokenizer.pad_token_id)
    with torch.no_grad():
        reference = float(model(**sft.model_inputs(batch), labels=batch["labels"]).loss)
    assert sums["padded"] / total == pytest.approx(reference, abs=1e-5)
    assert sums["packed"] / total == pytest.approx(reference, abs=1e-5)


def test_the_pad_token_is_its_own_id_and_padding_never_changes_a_loss(tokenizer, model):
    assert tokenizer.pad_token_id not in (tokenizer.eos_token_id, tokenizer.bos_token_id)
    examples, _ = sft.tokenize_records(tiny_records(2), tokenizer)
    short = min(examples, key=len)
    alone = _losses(model, sft.pad_collate([short], tokenizer.pad_token_id))
    beside_long = _losses(model, sft.pad_collate([short, max(examples, key=len)], tokenizer.pad_token_id))[0]
    assert float(alone) == pytest.approx(float(beside_long), abs=1e-5)


def test_alpacas_pad_token_is_added_with_mean_initialised_rows(tokenizer):
    from transformers import PreTrainedTokenizerFast

    bare = PreTrainedTokenizerFast(tokenizer_object=tokenizer.backend_tokenizer, bos_token="<s>", eos_token="</s>")
    assert bare.pad_token_id is None
    model = build_model(llama_config("tiny", len(bare), tie_word_embeddings=False), seed=0)
    old = model.get_input_embeddings().weight.detach().clone()
    pad = add_pad_token(bare, model)
    assert pad == len(bare) - 1 == old.shape[0] and bare.pad_token == "[PAD]" and model.config.pad_token_id == pad
    for matrix in (model.get_input_embeddings().weight, model.get_output_embeddings().weight):
        assert matrix.shape[0] == old.shape[0] + 1
    assert torch.allclose(model.get_input_embeddings().weight[pad], old.mean(0), atol=1e-7)
    assert add_pad_token(bare, model) == pad  # already there: unchanged


def test_masked_table_shows_the_boundary_and_the_eos(tokenizer):
    examples, _ = sft.tokenize_records([Record("Say hi.", "", "hi there")], tokenizer)
    table = sft.masked_table(examples[0], tokenizer, head=2, tail=2).splitlines()
    assert table[1].startswith("   0  '<s>'") and table[1].endswith("-100")
    assert "more prompt tokens, all -100" in table[3]
    assert table[-1].endswith(f"{tokenizer.eos_token_id}   <- learned")
    assert sum("<- learned" in row for row in table) == examples[0].target_tokens


def test_padding_share_counts_what_padding_to_the_longest_wastes():
    assert sft.padding_share([3, 3, 3, 3], micro_batch=2) == 0.0
    assert sft.padding_share([1, 3], micro_batch=2) == pytest.approx(1 / 3)  # 4 useful of 6 computed
    assert sft.padding_share([1, 3], micro_batch=1) == 0.0


def test_compare_collations_agrees(tokenizer, model):
    examples, _ = sft.tokenize_records(tiny_records(4), tokenizer)
    losses = sft.compare_collations(model, examples, tokenizer.pad_token_id)
    assert set(losses) == {"padded", "packed"} and torch.allclose(losses["padded"], losses["packed"], atol=1e-5)
