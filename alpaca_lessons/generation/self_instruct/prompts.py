"""Self-Instruct's three prompts (Wang et al. 2022, arXiv 2212.10560; yizhongw/self-instruct).

1. **Instructions** (``bootstrap_instructions.py``): "Come up with a series of tasks:" and 8 numbered
   instructions, 6 human seeds and 2 machine-generated ones once the pool has them (all 8 seeds before),
   shuffled, ending with ``9.``; the model continues the list, one instruction per line.
2. **Classification?** (``identify_clf_or_not.py``): a few-shot list of ``Task: ...`` /
   ``Is it classification? Yes|No`` pairs, then the new instruction and ``Is it classification?``.
3. **Instances** (``generate_instances.py``): input-first for ordinary tasks (``Example 1``, the input,
   ``Output: ...``), output-first for classification tasks (``Class label: ...`` then an input for it), so
   that a classifier's examples are not all of one class.

The header sentence of each prompt and its layout are upstream's. The in-context examples are not:
upstream's hand-written examples live in Python source (``self_instruct/templates/*.py``), which the
course's data registry does not hold, so steps 2 and 3 show **seed tasks** instead (12 classification and
19 other instructions for step 2, as upstream's counts; the 8 shortest seeds of each kind for step 3),
each with its own label or instance. An assumption, stated: a model reads such examples the same way.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from alpaca_lessons.data import SeedTask

INSTRUCTIONS_HEADER = "Come up with a series of tasks:\n"
CLASSIFICATION_HEADER = "Can the following task be regarded as a classification task with finite output labels?\n\n"
INPUT_FIRST_HEADER = ("Come up with examples for the following tasks. Try to generate multiple examples when possible. "
                      "If the task doesn't require additional input, you can generate the output directly.\n\n")
OUTPUT_FIRST_HEADER = ("Given the classification task definition and the class labels, generate an input that "
                       "corresponds to each of the class labels. If the task doesn't require input, just generate "
                       "possible class labels.\n\n")
QUESTION = "Is it classification?"
CLASSIFICATION_SHOTS = (12, 19)  # classification and other instructions in upstream's template_1
INSTANCE_SHOTS = 8


@dataclass(frozen=True)
class Templates:
    """The few-shot prefixes of steps 2 and 3, each ending with ``Task:`` as upstream's do."""

    classification: str
    input_first: str
    output_first: str


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _length(task: SeedTask) -> tuple[int, str]:
    first = task.instances[0]
    return len(task.instruction) + len(first.input) + len(first.output), task.id


def build_templates(seeds: Sequence[SeedTask]) -> Templates:
    """Steps 2 and 3's prefixes, with seed tasks as the in-context examples (see the module's docstring)."""
    clf = [t for t in seeds if t.is_classification]
    other = [t for t in seeds if not t.is_classification]
    chosen = {t.id for t in clf[:CLASSIFICATION_SHOTS[0]] + other[:CLASSIFICATION_SHOTS[1]]}
    classification = CLASSIFICATION_HEADER + "".join(
        f"Task: {_one_line(t.instruction)}\n{QUESTION} {'Yes' if t.is_classification else 'No'}\n\n"
        for t in seeds if t.id in chosen) + "Task:"
    input_first = INPUT_FIRST_HEADER
    for task in sorted(other, key=_length)[:INSTANCE_SHOTS]:
        first = task.instances[0]
        body = f"Example 1\n{first.input}\nOutput: {first.output}" if first.input else f"Output: {first.output}"
        input_first += f"Task: {_one_line(task.instruction)}\n{body}\n\n"
    output_first = OUTPUT_FIRST_HEADER
    for task in sorted(clf, key=_length)[:INSTANCE_SHOTS]:
        first = task.instances[0]
        output_first += f"Task: {_one_line(task.instruction)}\nClass label: {first.output}\n"
        output_first += f"{first.input}\n\n" if first.input else "\n"
    return Templates(classification, input_first + "Task:", output_first + "Task:")


def instructions_prompt(instructions: Sequence[str]) -> str:
    """Step 1's prompt: the header, the instructions numbered from 1 (whitespace collapsed, a trailing colon
    dropped), and the next number for the model to continue."""
    prompt = INSTRUCTIONS_HEADER
    for number, instruction in enumerate(instructions, start=1):
        prompt += f"{number}. {_one_line(instruction).rstrip(':')}\n"
    return prompt + f"{len(instructions) + 1}."


def sample_prompt_instructions(seeds: Sequence[str], machine: Sequence[str], rng: random.Random, k: int = 8,
                               from_machine: int = 2) -> list[str]:
    """Upstream's sampling: ``min(from_machine, len(machine))`` generated instructions, seeds for the rest of
    the ``k``, then shuffled."""
    chosen = rng.sample(list(machine), min(from_machine, len(machine)))
    chosen += rng.sample(list(seeds), k - len(chosen))
    rng.shuffle(chosen)
    return chosen


def classification_prompt(templates: Templates, instruction: str) -> str:
    """Step 2's prompt for one instruction."""
    return f"{templates.classification} {instruction.strip()}\n{QUESTION}"


def instances_prompt(templates: Templates, instruction: str, is_classification: bool) -> str:
    """Step 3's prompt: output-first for a classification task, input-first otherwise."""
    template = templates.output_first if is_classification else templates.input_first
    return f"{template} {instruction.strip()}\n"
