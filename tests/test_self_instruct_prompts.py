"""Self-Instruct's three prompts."""

import random

from alpaca_lessons.data import Instance, SeedTask
from alpaca_lessons.generation.self_instruct.prompts import (
    build_templates,
    classification_prompt,
    instances_prompt,
    instructions_prompt,
    sample_prompt_instructions,
)


def _seed(i: int, clf: bool, text: str = "", task_input: str = "") -> SeedTask:
    return SeedTask(f"seed_task_{i}", f"t{i}", text or f"Instruction number {i}.", (Instance(task_input, f"out{i}"),),
                    clf)


def test_instructions_prompt_numbers_the_list_and_ends_on_the_next_number():
    assert instructions_prompt(["Sort  the\nlist:", "Add two numbers."]) == (
        "Come up with a series of tasks:\n1. Sort the list\n2. Add two numbers.\n3.")


def test_two_machine_instructions_once_the_pool_has_them_and_seeds_for_the_rest():
    seeds = [f"s{i}" for i in range(20)]
    chosen = sample_prompt_instructions(seeds, [], random.Random(0))
    assert len(chosen) == 8 and set(chosen) <= set(seeds)
    chosen = sample_prompt_instructions(seeds, ["m1"], random.Random(0))
    assert "m1" in chosen and len(chosen) == 8
    chosen = sample_prompt_instructions(seeds, ["m1", "m2", "m3"], random.Random(0))
    assert sum(c.startswith("m") for c in chosen) == 2 and len(set(chosen)) == 8


def test_templates_show_seed_labels_and_instances_in_upstreams_layout():
    seeds = [_seed(1, True, "Is it spam?", "Win money now"), _seed(2, False, "Name a color."), _seed(3, False,
             "Reverse the word.", "abc")]
    templates = build_templates(seeds)
    assert "Task: Is it spam?\nIs it classification? Yes\n\nTask: Name a color.\nIs it classification? No\n\n" \
        in templates.classification
    assert classification_prompt(templates, " Sort it. ").endswith("\nTask: Sort it.\nIs it classification?")
    assert "Task: Reverse the word.\nExample 1\nabc\nOutput: out3\n\n" in templates.input_first
    assert "Task: Name a color.\nOutput: out2\n\n" in templates.input_first
    assert "Task: Is it spam?\nClass label: out1\nWin money now\n\n" in templates.output_first
    assert instances_prompt(templates, "Sort it.", True).startswith("Given the classification task")
    assert instances_prompt(templates, "Sort it.", False).endswith("Task: Sort it.\n")
