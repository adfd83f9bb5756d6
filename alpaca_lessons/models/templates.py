"""Alpaca's two prompt templates: the student model is trained with them and queried with them.

Alpaca's ``train.py`` (``PROMPT_DICT``) picks one by whether a record has an input; the response follows
``### Response:``. Training (``training.sft``), inference (``models.infer``) and evaluation all format
prompts here, so the model is always asked the way it was taught.
"""

from __future__ import annotations

from alpaca_lessons.data import Record

TEMPLATE_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
TEMPLATE_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)


def training_prompt(record: Record) -> str:
    """The prompt a record is trained (and later queried) with: with-input or without-input template."""
    if record.input:
        return TEMPLATE_WITH_INPUT.format(instruction=record.instruction, input=record.input)
    return TEMPLATE_NO_INPUT.format(instruction=record.instruction)
