"""What quantization costs a model, measured: perplexity on held-out answers and agreement of greedy answers.

**Perplexity** is ``exp`` of the mean negative log-likelihood per predicted token: the number of equally
likely tokens the model is, on average, choosing between. Here it is measured on the *answers* of held-out
Alpaca records, the prompt masked exactly as in training (``training.sft``): a quantized model is judged on
what it was trained to do. Lower is better; what matters is how much a format raises it over full precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from alpaca_lessons.data import Record
from alpaca_lessons.models.infer import Generation
from alpaca_lessons.models.modeling import course_model_dir
from alpaca_lessons.training.sft import IGNORE_INDEX, pad_collate, token_losses, tokenize_records

# The model lesson 09 quantizes, exports and measures: the course's instruction-tuned model (its Alpaca-7B);
# this one line switches the lesson and its benchmark to ``base`` or ``scratch``.
LAPTOP_MODEL = "tuned"


def laptop_model_dir():
    """The folder of ``LAPTOP_MODEL`` among the course's models (``data/course_models/``)."""
    return course_model_dir(LAPTOP_MODEL)


@torch.no_grad()
def masked_perplexity(model, tokenizer, records: Sequence[Record], *, batch_size: int = 16,
                      max_length: int = 512) -> float:
    """Perplexity of ``model`` on the answers of ``records`` (each answer and its EOS; the prompt masked)."""
    examples, _ = tokenize_records(list(records), tokenizer, max_length)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = pad_collate(examples[start:start + batch_size], pad)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        losses = token_losses(logits, batch["labels"])
        total += float(losses.sum())
        count += int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
    return math.exp(total / count)


@dataclass(frozen=True)
class Agreement:
    """How often a model's greedy answers equal a reference's: whole answers, and the shared start."""

    identical: float  # share of answers identical token for token
    prefix: float  # mean share of the reference answer's tokens produced before the first difference

    def __str__(self) -> str:
        return f"{self.identical:.0%} identical, {self.prefix:.0%} of each answer shared before the first difference"


def agreement(reference: Sequence[Generation], other: Sequence[Generation]) -> Agreement:
    """Agreement of ``other`` with ``reference``, answer by answer (same prompts, same order)."""
    if len(reference) != len(other) or not reference:
        raise ValueError("agreement needs the same, non-zero number of answers on both sides")
    identical, prefixes = 0, []
    for ref, new in zip(reference, other, strict=True):
        identical += ref.token_ids == new.token_ids
        shared = next((i for i, (a, b) in enumerate(zip(ref.token_ids, new.token_ids, strict=False)) if a != b),
                      min(len(ref.token_ids), len(new.token_ids)))
        prefixes.append(shared / len(ref.token_ids) if ref.token_ids else float(not new.token_ids))
    return Agreement(identical / len(reference), sum(prefixes) / len(prefixes))


def formats_figure(formats: dict[str, dict]):
    """Four bar charts side by side, one bar per format of a ``benchmarks/laptop.py`` result: file size,
    perplexity, greedy answers identical to fp32, tokens per second."""
    import matplotlib.pyplot as plt

    from alpaca_lessons.common.plots import course_style

    names = list(formats)
    panels = [("GGUF file (MiB)", [f["file_bytes"] / 2**20 for f in formats.values()], "{:.1f}"),
              ("perplexity on held-out answers", [f["perplexity"] for f in formats.values()], "{:.2f}"),
              ("greedy answers identical to fp32", [f["greedy_agreement"]["identical"] for f in formats.values()],
               "{:.0%}"),
              ("tokens per second (CPU, 1 thread)", [f["tokens_per_second"] for f in formats.values()], "{:,.0f}")]
    with course_style():
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
        for ax, (title, values, label) in zip(axes, panels, strict=True):
            bars = ax.bar(names, values, color=["#2e4057", "#3b6ea8", "#edae49", "#d1495b"][: len(names)])
            ax.bar_label(bars, [label.format(v) for v in values], fontsize=8)
            ax.set_title(title)
            ax.margins(y=0.15)
        fig.tight_layout()
    return fig
