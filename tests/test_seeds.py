"""Lesson 01's seed-set facts (``data.seeds``), on tasks written here and on the real 175."""

from __future__ import annotations

import pytest

from alpaca_lessons.common.text import characters
from alpaca_lessons.data import Instance, SeedTask, read_seed_tasks
from alpaca_lessons.data.seeds import paired_by_name, summarize_seed_tasks, tasks_with_space_runs

TASKS = [
    SeedTask("t0", "a", "Name a fruit.", (Instance("", "Apple"),), False),
    SeedTask("t1", "b", "Is this positive?", (Instance("I love it", "Yes"),), True),
    SeedTask("t2", "c", "Classify the animal as mammal or bird.", (Instance("Eagle", "bird"),), True),
]


def test_summary_counts_and_lengths():
    summary = summarize_seed_tasks(TASKS)
    assert (summary.tasks, summary.classification, summary.with_input) == (3, 2, 2)
    assert summary.instruction_lengths == (3, 3, 7) and summary.input_lengths == (3, 1)
    assert summary.table()["tasks with an input"] == "2 (66.7%)"
    assert summary.facts() == {"tasks": 3, "classification": 2, "with_input": 2, "median_instruction_length": 3}
    assert summary.unit == "words"


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    even = summarize_seed_tasks([*TASKS, SeedTask("t3", "d", "Hi.", (Instance("", "Hi"),), False)])
    assert even.instruction_lengths == (3, 3, 7, 1)
    assert even.facts()["median_instruction_length"] == 3.0  # sorted 1, 3, 3, 7: (3 + 3) / 2
    odd = summarize_seed_tasks([TASKS[0], TASKS[2]])
    assert odd.facts()["median_instruction_length"] == 5.0  # (3 + 7) / 2
    assert odd.table()["median instruction length (words)"] == "5"


def test_summary_in_characters():
    summary = summarize_seed_tasks([SeedTask("z", "z", "给动物 分类", (Instance("鹰", "鸟类"),), True)], characters)
    assert summary.instruction_lengths == (5,) and summary.output_lengths == (2,) and summary.unit == "characters"


def test_pairing_by_id_and_name():
    renamed = SeedTask("t1", "other", "x", (Instance("", "y"),), False)
    chinese = [SeedTask("t2", "c", "给动物分类", (Instance("鹰", "鸟"),), True), renamed,
               SeedTask("t9", "z", "新任务", (Instance("", "好"),), False)]
    assert [(a.id, b.instruction) for a, b in paired_by_name(TASKS, chinese)] == [("t2", "给动物分类")]


def test_summary_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        summarize_seed_tasks([])


def test_real_seed_summary(real_data):
    summary = summarize_seed_tasks(read_seed_tasks())
    assert (summary.tasks, summary.classification) == (175, 26)
    assert summary.with_input == sum(bool(t.instances[0].input.strip()) for t in read_seed_tasks())


def test_space_runs_by_hand():
    tasks = [SeedTask("s0", "a", "Indent  this.", (Instance("", "ok"),), False),
             SeedTask("s1", "b", "Write code.", (Instance("", "def f():\n    return 1"),), False),
             SeedTask("s2", "c", "Sum.", (Instance("1 +  2", "3"),), False),
             SeedTask("s3", "d", "One space only.", (Instance("a b", "c d"),), False)]
    assert tasks_with_space_runs(tasks) == ["s0", "s1", "s2"]
    assert tasks_with_space_runs(tasks, 4) == ["s1"]
    assert tasks_with_space_runs(tasks, fields=("input", "output")) == ["s1", "s2"]
    with pytest.raises(ValueError):
        tasks_with_space_runs(tasks, 0)


def test_real_seed_space_runs(real_data):
    """Pinned from a separate count (a regex over the raw JSONL fields): 21 of 175 seeds hold a run of two or
    more spaces, 9 a run of four or more (indented code), all of them in the instance text Alpaca sends as is."""
    seeds = read_seed_tasks()
    assert len(tasks_with_space_runs(seeds)) == 21 and len(tasks_with_space_runs(seeds, 4)) == 9
    assert len(tasks_with_space_runs(seeds, fields=("input", "output"))) == 21
