"""Perplexity with the prompt masked, against a log-likelihood summed by hand; greedy-answer agreement on
hand-made answers."""

from __future__ import annotations

import math

import pytest
import torch
from model_fixtures import tiny_model  # noqa: F401  (a fixture)

from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.quantization import agreement, masked_perplexity
from alpaca_lessons.models.infer import Generation
from alpaca_lessons.models.templates import training_prompt

RECORDS = [Record("Name three colors.", "", "Red, green and blue."),
           Record("Write a short poem about the sea.", "", "The sea."),
           Record("Name three colors.", "Be brief.", "Red.")]


def test_perplexity_is_exp_of_the_mean_answer_token_loss(tiny_model):  # noqa: F811
    model, tokenizer = tiny_model
    total, count = 0.0, 0
    for record in RECORDS:  # one record at a time, no padding: the answer tokens and EOS after the prompt
        prompt = tokenizer(training_prompt(record))["input_ids"]
        answer = tokenizer(record.output, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        with torch.no_grad():
            logits = model(torch.tensor([prompt + answer])).logits[0].double()
        log_probs = torch.log_softmax(logits, dim=-1)
        for i, token in enumerate(answer):
            total -= float(log_probs[len(prompt) + i - 1, token])
            count += 1
    expected = math.exp(total / count)
    assert masked_perplexity(model, tokenizer, RECORDS, batch_size=2) == pytest.approx(expected, rel=1e-5)


def test_agreement_counts_identical_answers_and_shared_starts():
    reference = [Generation("", (1, 2, 3, 4), True), Generation("", (5, 6), True), Generation("", (7,), True)]
    other = [Generation("", (1, 2, 3, 4), True), Generation("", (5, 9), True), Generation("", (8, 1), True)]
    result = agreement(reference, other)
    assert result.identical == pytest.approx(1 / 3)
    assert result.prefix == pytest.approx((1 + 0.5 + 0) / 3)
    with pytest.raises(ValueError):
        agreement(reference, other[:2])
