"""Alpaca's two templates: the exact text of train.py's PROMPT_DICT, chosen by whether a record has an input."""

from __future__ import annotations

from alpaca_lessons.data import Record
from alpaca_lessons.models.templates import training_prompt


def test_training_templates():
    assert training_prompt(Record("Add.", "2 and 3", "5")).endswith(
        "### Instruction:\nAdd.\n\n### Input:\n2 and 3\n\n### Response:")
    no_input = training_prompt(Record("Say hi.", "", "Hi"))
    assert no_input.startswith("Below is an instruction that describes a task. Write a response")
    assert "### Input" not in no_input and no_input.endswith("### Response:")
