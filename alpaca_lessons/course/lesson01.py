"""Lesson 01's implement-it exercises: the seed-set facts from raw JSON Lines, and BELLE's seeds lined up
with the English ones.

The references are the package's tested functions (``data.seeds.summarize_seed_tasks`` over
``data.parse_seed_tasks``, and ``data.seeds.paired_by_name``); the cases are the two real seed files and
hand-made tasks that hold what the real files lack (a second instance, a whitespace-only input, an even
number of tasks).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from alpaca_lessons.common.text import characters, words
from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import SeedTask, parse_seed_tasks, read_seed_tasks, read_text
from alpaca_lessons.data.seeds import paired_by_name, summarize_seed_tasks

LENGTH_UNITS: dict[str, Callable[[str], int]] = {"words": words, "characters": characters}


def _task(id_: str, instruction: str, instances: list[tuple[str, str]], classification: bool = False,
          name: str | None = None) -> str:
    """One hand-made seed task as a line of JSON, in Self-Instruct's schema (its name is its id unless given)."""
    return json.dumps({"id": id_, "name": name or id_, "instruction": instruction,
                       "instances": [{"input": i, "output": o} for i, o in instances],
                       "is_classification": classification}, ensure_ascii=False)


# What the real files lack: a task with three instances (the first without an input), a whitespace-only
# input, an even number of tasks (instruction lengths 3, 4, 10, 5 words: median 4.5, upper middle 5, mean 5.5).
HAND_MADE = [
    _task("h0", "Name a fruit.", [("", "Apple"), ("a red one", "Cherry"), ("a yellow one", "Banana")]),
    _task("h1", "Is this review positive?", [(" \n", "Yes")], classification=True),
    _task("h2", "Classify the animal as a mammal or a bird, please.", [("Eagle", "bird")], classification=True),
    _task("h3", "Translate this sentence into French.", [("Good morning", "Bonjour")]),
]
HAND_MADE_CHINESE = [
    # 5, 4 and 10 characters: median 5; with the space counted 6; mean 6.33; in whitespace words 1
    _task("z0", "给动物 分类", [("鹰", "鸟类")], classification=True),
    _task("z1", "写一首诗", [("", "春眠不觉晓")]),
    _task("z2", "把这句话翻译成英文吧", [("早上好", "Good morning")]),
]


# ---- Exercise 1.1: the seed-set facts from raw JSON Lines ------------------------------------------------

def _seed_facts(lines: Sequence[str], unit: str = "words") -> dict[str, float]:
    return summarize_seed_tasks(parse_seed_tasks(list(lines)), LENGTH_UNITS[unit]).facts()


def _tasks(lines: Sequence[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.strip()]


def _with_median(lines: Sequence[str], unit: str, median: Callable[[list[int]], float]) -> dict[str, float]:
    return {**_seed_facts(lines, unit), "median_instruction_length": median(
        [LENGTH_UNITS[unit](t["instruction"]) for t in _tasks(lines)])}


def _all_instances(lines: Sequence[str], unit: str = "words") -> dict[str, float]:
    count = sum(bool(i["input"].strip()) for t in _tasks(lines) for i in t["instances"])
    return {**_seed_facts(lines, unit), "with_input": count}


def _blank_counts(lines: Sequence[str], unit: str = "words") -> dict[str, float]:
    return {**_seed_facts(lines, unit), "with_input": sum(t["instances"][0]["input"] != "" for t in _tasks(lines))}


def _in_words(lines: Sequence[str], unit: str = "words") -> dict[str, float]:
    return _with_median(lines, "words", statistics.median)


def _with_spaces(lines: Sequence[str], unit: str = "words") -> dict[str, float]:
    if unit == "words":
        return _seed_facts(lines, unit)
    return {**_seed_facts(lines, unit), "median_instruction_length": statistics.median(
        [len(t["instruction"]) for t in _tasks(lines)])}


MISTAKES_SEED_FACTS = [
    Mistake(_all_instances, "of counting inputs over all instances of a task: Alpaca used only the first "
                            "instance (`instances[0]`), so a task counts once, by its first instance."),
    Mistake(_blank_counts, "of counting an input made only of spaces or newlines as an input: strip it before "
                           "asking whether it is empty."),
    Mistake(_in_words, "of counting Chinese in whitespace words: Chinese has no spaces between words, so a whole "
                       "instruction is one 'word'; with unit='characters' count characters."),
    Mistake(_with_spaces, "of counting spaces as characters: a character here is a non-space character."),
    Mistake(lambda lines, unit="words": _with_median(lines, unit, statistics.mean),
            "of the mean length, not the median (the middle value of the sorted lengths)."),
    Mistake(lambda lines, unit="words": _with_median(lines, unit, lambda xs: sorted(xs)[len(xs) // 2]),
            "of the upper middle value: with an even number of tasks the median is the mean of the two middle "
            "values."),
]


def check_seed_facts(fn: Callable[..., dict[str, float]], hidden: bool = False) -> None:
    """Check ``seed_facts(lines, unit)`` on the real English and Chinese seed files and hand-made tasks."""
    english, chinese = read_text("seed_tasks").splitlines(), read_text("belle_seed_tasks").splitlines()
    cases = [Case((english, "words"), "the 175 lines of self_instruct/seed_tasks.jsonl, unit='words'"),
             Case((chinese, "characters"), "the 175 lines of BELLE's zh_seed_tasks.json, unit='characters'"),
             Case((HAND_MADE, "words"), "the 4 hand-made tasks in alpaca_lessons.course.lesson01.HAND_MADE, "
                                        "unit='words'"),
             Case((HAND_MADE_CHINESE, "characters"),
                  "the 3 hand-made tasks in alpaca_lessons.course.lesson01.HAND_MADE_CHINESE, unit='characters'")]
    if hidden:
        cases += [Case((HAND_MADE[:1], "words"), "one hand-made task"),
                  Case((["", *HAND_MADE[1:], "  "], "words"), "hand-made tasks with blank lines (skip them)"),
                  Case((chinese, "words"), "BELLE's seeds in whitespace words")]
    check_function(fn, _seed_facts, cases, mistakes=MISTAKES_SEED_FACTS, name="seed_facts")


# ---- Exercise 1.2: BELLE's seeds lined up with the English ones -------------------------------------------

Pairs = list[tuple[SeedTask, SeedTask]]


def _shown(pair_up: Callable[[Sequence[SeedTask], Sequence[SeedTask]], Pairs]) -> Callable[..., list[tuple]]:
    """The pairs as (first's id, first's name, second's name, second's instruction cut to 8 characters):
    short enough for a message, and an answer with the two sides swapped still differs."""
    def shown(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> list[tuple]:
        return [(a.id, a.name, b.name, b.instruction[:8]) for a, b in pair_up(first, second)]
    shown.__name__ = getattr(pair_up, "__name__", "paired_by_name")
    return shown


def _by_id_only(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> Pairs:
    by_id = {t.id: t for t in first}
    return [(by_id[t.id], t) for t in second if t.id in by_id]


def _by_name_only(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> Pairs:
    by_name = {t.name: t for t in first}
    return [(by_name[t.name], t) for t in second if t.name in by_name]


def _first_order(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> Pairs:
    by_id = {t.id: t for t in second}
    return [(t, by_id[t.id]) for t in first if t.id in by_id and by_id[t.id].name == t.name]


def _swapped(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> Pairs:
    return [(b, a) for a, b in paired_by_name(first, second)]


MISTAKES_PAIRED = [
    Mistake(_shown(_by_id_only), "of matching on the id alone: BELLE reused an id for a task of its own, so the "
                                 "name must match too."),
    Mistake(_shown(_by_name_only), "of matching on the name alone: a name can come back under another id; a task "
                                   "is the same one only when both id and name match."),
    Mistake(_shown(_first_order), "of listing the pairs in the first list's order: keep the second list's order."),
    Mistake(_shown(_swapped), "with each pair the wrong way round: each pair is (task of the first list, task of "
                              "the second)."),
]


def _hand_made_pairs() -> tuple[list[SeedTask], list[SeedTask]]:
    """Three English tasks; five Chinese ones: two kept (in another order), one new, one that keeps an id
    under another name, one that keeps a name under another id."""
    first = parse_seed_tasks([_task("t0", "Name a fruit.", [("", "Apple")]),
                              _task("t1", "Is this positive?", [("I love it", "Yes")], True),
                              _task("t2", "Name a bird.", [("", "Robin")])])
    second = parse_seed_tasks([_task("t2", "说出一种鸟。", [("", "知更鸟")]),
                               _task("t0", "说出一种水果。", [("", "苹果")]),
                               _task("t9", "新任务", [("", "好")]),
                               _task("t1", "别的任务", [("", "好")], name="other"),
                               _task("t7", "这是正面的吗？", [("我喜欢", "是")], True, name="t1")])
    return first, second


def check_paired_by_name(fn: Callable[[Sequence[SeedTask], Sequence[SeedTask]], Pairs],
                         hidden: bool = False) -> None:
    """Check ``paired_by_name(first, second)`` on the real English and BELLE seeds and hand-made tasks."""
    english, chinese = read_seed_tasks(), read_seed_tasks("belle_seed_tasks")
    first, second = _hand_made_pairs()
    cases = [Case((english, chinese), "the 175 English seeds, BELLE's 175 Chinese seeds"),
             Case((first, second), "3 hand-made English tasks; 5 Chinese ones (one renamed, one under a new id)")]
    if hidden:
        cases += [Case((chinese, english), "BELLE's seeds first, the English second"),
                  Case((english, english[:0]), "an empty second list")]
    check_function(_shown(fn), _shown(paired_by_name), cases, mistakes=MISTAKES_PAIRED, name="paired_by_name")


# The instructor kit plants this wrong answer in the solution cell to prove that it loses points.
PLANTED = {
    "l01-seed-facts": '''def seed_facts(lines: list[str], unit: str = "words") -> dict[str, float]:
    """The seed-set facts of JSON Lines text: tasks, classification tasks, tasks with an input, median
    instruction length in ``unit`` ('words' or 'characters')."""
    import json
    import statistics

    tasks = [json.loads(line) for line in lines if line.strip()]
    length = (lambda s: len(s.split())) if unit == "words" else (lambda s: sum(not c.isspace() for c in s))
    return {"tasks": len(tasks), "classification": sum(t["is_classification"] for t in tasks),
            "with_input": sum(t["instances"][0]["input"] != "" for t in tasks),
            "median_instruction_length": statistics.median(length(t["instruction"]) for t in tasks)}
''',
}
