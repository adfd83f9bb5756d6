"""Reading Self-Instruct's replies, and its filters (``bootstrap_instructions.py``, ``prepare_for_finetuning.py``).

Instructions: a reply cut by ``max_tokens`` is dropped whole; the rest is split on ``\\n<number>. ``, each
piece whitespace-collapsed and ``str.capitalize()``-d (upstream's quirk: the rest of the text is
lowercased, "Python" becomes "python"), then the rules: 4 to 150 words, none of 13 keywords (Alpaca later
added five), not starting with "Write a program", punctuation or a non-ASCII character. The ROUGE-L test
(0.7 against seeds and pool) is the course's one ``NoveltyFilter``, applied by the pipeline.

Instances: split on ``Example N`` (input-first) or ``Class label:`` (output-first); an instance with input
equal to output, an empty output, or an input or output ending in ":" is dropped; if two instances share a
non-empty input but differ in output, **all** of the task's instances are dropped; duplicates are dropped,
and at most 5 are kept. Upstream dedups through a ``set`` and then draws 5 at random; here the first 5 in
reply order are kept (the same when a reply holds at most 5, as its stop sequence ``Example 6`` ensures).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from alpaca_lessons.generation.rules import CUT, Rejection, Rules, check_instruction

# bootstrap_instructions.py's keywords: Alpaca's list without video, audio, music, flowchart and diagram.
SELF_INSTRUCT_BLACKLIST = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                           "draw", "plot", "go to")
SELF_INSTRUCT_RULES = Rules(blacklist=SELF_INSTRUCT_BLACKLIST)

# Why an instance was dropped, in the order the filters meet it.
NO_INSTANCE = "no instance in the reply"
INSTANCE_CUT = "cut by max_tokens"
SAME_AS_INPUT = "output equals input"
EMPTY_OUTPUT = "empty output"
COLON_END = "input or output ends with ':'"
CONFLICT = "same input, different outputs"
DUPLICATE = "duplicate instance"
OVER_LIMIT = "over the instances kept per task"
INSTANCE_REASONS = (NO_INSTANCE, INSTANCE_CUT, SAME_AS_INPUT, EMPTY_OUTPUT, COLON_END, CONFLICT, DUPLICATE, OVER_LIMIT)
YES = ("Yes", "yes", "YES")


@dataclass(frozen=True)
class Candidate:
    """One instruction read from a reply, and why it was dropped (None: it passed the rules)."""

    instruction: str
    rejection: Rejection | None


def read_instructions(text: str, finish_reason: str, rules: Rules = SELF_INSTRUCT_RULES) -> list[Candidate]:
    """Step 1's post-processing of one reply (the novelty test comes after, in the pipeline)."""
    pieces = [p for p in (re.sub(r"\s+", " ", raw).strip().capitalize() for raw in re.split(r"\n\d+\s?\. ", text))
              if p]
    if finish_reason == "length":
        return [Candidate(p, Rejection(CUT, "the reply ran out of max_tokens")) for p in pieces]
    return [Candidate(p, check_instruction(p, rules)) for p in pieces]


def is_classification(answer: str) -> bool:
    """Step 2's reading of the model's answer: "Yes" (any of upstream's three spellings) after stripping."""
    return answer.strip() in YES


def _input_output(text: str) -> tuple[str, str]:
    parts = re.split(r"Output\s*\d*\s*:", text)
    task_input, output = (parts[0], parts[1]) if len(parts) > 1 else ("", text)
    output = re.split(r"Input\s*\d*\s*:", output)[0]  # a second pair run together: keep the first
    return re.sub(r"^Input\s*\d*\s*:", "", task_input.strip()).strip(), output.strip()


def _split(text: str, classification: bool) -> list[tuple[str, str]]:
    if classification:
        found = []
        for piece in text.split("Class label:")[1:]:
            label, _, task_input = piece.strip().partition("\n")
            found.append((task_input.strip(), label.strip()))
        return found
    text = text.strip()
    if re.search(r"Example\s?\d*\.?", text):
        return [_input_output(p.strip()) for p in re.split(r"Example\s?\d*\.?", text) if p.strip()]
    return [_input_output(text)] if re.search(r"Output\s*\d*\s*:", text) else []


def read_instances(text: str, finish_reason: str, classification: bool, limit: int = 5
                   ) -> tuple[list[tuple[str, str]], Counter]:
    """Step 3's instances of one reply as ``(input, output)`` pairs, and the drops counted by reason."""
    dropped: Counter = Counter()
    found = _split(text, classification)
    if not found:
        dropped[NO_INSTANCE] += 1
        return [], dropped
    if finish_reason == "length":
        found, dropped[INSTANCE_CUT] = found[:-1], 1
    valid = []
    for task_input, output in found:
        reason = (SAME_AS_INPUT if task_input == output else EMPTY_OUTPUT if not output
                  else COLON_END if task_input.endswith(":") or output.endswith(":") else None)
        if reason:
            dropped[reason] += 1
        else:
            valid.append((task_input, output))
    outputs: dict[str, str] = {}
    for task_input, output in valid:
        if task_input and outputs.setdefault(task_input, output) != output:
            dropped[CONFLICT] += len(valid)
            return [], +dropped
    unique = list(dict.fromkeys(valid))
    dropped[DUPLICATE] += len(valid) - len(unique)
    dropped[OVER_LIMIT] += max(0, len(unique) - limit)
    return unique[:limit], +dropped
