"""Facts about a set of seed tasks: the numbers lesson 01 recomputes from the files."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alpaca_lessons.common.text import words
from alpaca_lessons.data import SeedTask


@dataclass(frozen=True)
class SeedSummary:
    """Counts and length distributions of a seed set (lengths of each task's first instance)."""

    tasks: int
    classification: int
    with_input: int
    instruction_lengths: tuple[int, ...]
    input_lengths: tuple[int, ...]
    output_lengths: tuple[int, ...]
    unit: str

    @property
    def share_with_input(self) -> float:
        """Fraction of tasks whose first instance has a non-empty input."""
        return self.with_input / self.tasks

    def facts(self) -> dict[str, float]:
        """The headline numbers lesson 01's exercise recomputes from raw JSON Lines: tasks, classification
        tasks, tasks with an input, and the median instruction length (``statistics.median``: the mean of
        the middle two for an even count)."""
        return {"tasks": self.tasks, "classification": self.classification, "with_input": self.with_input,
                "median_instruction_length": statistics.median(self.instruction_lengths)}

    def table(self) -> dict[str, str]:
        """The headline facts as printable strings."""
        return {
            "tasks": str(self.tasks),
            "classification tasks": str(self.classification),
            "tasks with an input": f"{self.with_input} ({self.share_with_input:.1%})",
            f"median instruction length ({self.unit})": f"{statistics.median(self.instruction_lengths):g}",
            f"median output length ({self.unit})": f"{statistics.median(self.output_lengths):g}",
        }


def summarize_seed_tasks(tasks: Sequence[SeedTask], length: Callable[[str], int] = words) -> SeedSummary:
    """Recompute the seed-set facts; ``length`` is ``words`` for English, ``characters`` for Chinese
    (both in ``common.text``)."""
    if not tasks:
        raise ValueError("no seed tasks to summarize")
    first = [t.instances[0] for t in tasks]
    return SeedSummary(
        tasks=len(tasks),
        classification=sum(t.is_classification for t in tasks),
        with_input=sum(bool(i.input.strip()) for i in first),
        instruction_lengths=tuple(length(t.instruction) for t in tasks),
        input_lengths=tuple(length(i.input) for i in first if i.input.strip()),
        output_lengths=tuple(length(i.output) for i in first),
        unit=length.__name__,
    )


def paired_by_name(first: Sequence[SeedTask], second: Sequence[SeedTask]) -> list[tuple[SeedTask, SeedTask]]:
    """Tasks of ``second`` that keep the id and name of a task in ``first`` (BELLE kept Self-Instruct's),
    as (first, second) pairs in ``second``'s order."""
    by_id = {t.id: t for t in first}
    return [(by_id[t.id], t) for t in second if t.id in by_id and by_id[t.id].name == t.name]


def tasks_with_space_runs(tasks: Sequence[SeedTask], min_run: int = 2, *,
                          fields: Sequence[str] = ("instruction", "input", "output")) -> list[str]:
    """Ids of the tasks whose ``fields`` (of the task and its first instance) hold a run of at least
    ``min_run`` consecutive spaces: indented code, aligned tables, double spaces after a full stop.

    Runs of spaces matter for token counts: GPT-3's r50k BPE spends one token per space, text-davinci-003's
    p50k has single tokens for runs of up to 25 spaces. Alpaca's request collapses whitespace in the
    instruction only, so ``fields=("input", "output")`` is what reached the teacher as written."""
    if min_run < 1:
        raise ValueError(f"min_run must be at least 1, got {min_run}")
    run = re.compile(f" {{{min_run},}}")

    def text(task: SeedTask, field: str) -> str:
        return task.instruction if field == "instruction" else getattr(task.instances[0], field)

    return [t.id for t in tasks if any(run.search(text(t, f)) for f in fields)]
