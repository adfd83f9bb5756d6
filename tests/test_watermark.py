"""The green-list watermark: lists and z-scores by hand, the logits processor, detection on generated text."""

from __future__ import annotations

import pytest
import torch
from model_fixtures import tiny_model  # noqa: F401  (a fixture)

from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.watermark import WatermarkLogitsProcessor, detect, green_list
from alpaca_lessons.models.infer import generate


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


def test_watermarked_text_is_detected_and_plain_text_is_not(tiny_model):  # noqa: F811
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
