"""What Alpaca changed in Self-Instruct, and what that did to the data: the numbers lesson 03 tabulates.

``SELF_INSTRUCT_TABLE_1`` holds the paper's own statistics of its GPT-3 data (Wang et al. 2022, Table 1),
labelled as the paper's: the 82K file itself is not in the course's data mirror, so they cannot be
recomputed here. Everything else is computed from records or runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alpaca_lessons.data import Record, SeedTask
from alpaca_lessons.generation.teacher.self_instruct_replay import looks_like_classification

#: Self-Instruct's Table 1 (the paper's numbers, for its GPT-3 davinci data).
SELF_INSTRUCT_TABLE_1 = {"instructions": 52_445, "classification instructions": 11_584,
                         "non-classification instructions": 40_861, "instances": 82_439,
                         "instances with empty input": 35_878}


@dataclass(frozen=True)
class DataSummary:
    """Counts over a set of instances grouped by instruction."""

    instructions: int
    instances: int
    with_input: int
    classification: int | None  # None: the recipe does not identify classification tasks

    @property
    def per_instruction(self) -> float:
        """Instances per instruction."""
        return self.instances / self.instructions if self.instructions else 0.0

    @property
    def input_share(self) -> float:
        """Share of instances with a non-empty input."""
        return self.with_input / self.instances if self.instances else 0.0

    @property
    def classification_share(self) -> float | None:
        """Share of instructions identified as classification tasks (None when not asked)."""
        return None if self.classification is None else self.classification / self.instructions


def summarize_records(records: Iterable[Record]) -> DataSummary:
    """Alpaca-style records (one instance each): instructions are counted once, classification is not asked."""
    records = list(records)
    return DataSummary(len({r.instruction for r in records}), len(records), sum(bool(r.input) for r in records), None)


def summarize_self_instruct(tasks: Sequence[Mapping[str, Any]]) -> DataSummary:
    """A Self-Instruct tasks file (one line per instruction, with its instances and classification)."""
    instances = [i for t in tasks for i in t["instances"]]
    return DataSummary(len(tasks), len(instances), sum(bool(i["input"]) for i in instances),
                       sum(bool(t["is_classification"]) for t in tasks))


def table_1_summary() -> DataSummary:
    """The paper's Table 1 as a summary (its instances with input are all minus those with empty input)."""
    t = SELF_INSTRUCT_TABLE_1
    return DataSummary(t["instructions"], t["instances"], t["instances"] - t["instances with empty input"],
                       t["classification instructions"])


def instances_as_records(tasks: Iterable[Mapping[str, Any]]) -> list[Record]:
    """The instances of a Self-Instruct tasks file as training records (instructions without one drop out)."""
    return [Record(t["instruction"], i["input"], i["output"]) for t in tasks for i in t["instances"]]


@dataclass(frozen=True)
class RuleAgreement:
    """How the offline classification rule agrees with the seeds' human labels."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @property
    def accuracy(self) -> float:
        """Share of seeds the rule labels as their authors did."""
        total = self.true_positive + self.false_positive + self.false_negative + self.true_negative
        return (self.true_positive + self.true_negative) / total


def rule_agreement(seeds: Iterable[SeedTask]) -> RuleAgreement:
    """The offline step-2 rule against the seeds' ``is_classification`` labels (in-sample: the rule was
    written with these seeds in view, so this agreement is optimistic)."""
    counts = [0, 0, 0, 0]
    for seed in seeds:
        said = looks_like_classification(seed.instruction)
        counts[(0 if said else 2) + (0 if said == seed.is_classification else 1)] += 1
    tp, fp, tn, fn = counts
    return RuleAgreement(tp, fp, fn, tn)


RECIPE = (  # (aspect, Self-Instruct, Alpaca): read from the two repositories' scripts
    ("teacher", "GPT-3 davinci (base model)", "text-davinci-003"),
    ("prompts", "3: instructions; classification?; instances", "1: instruction, input and output together"),
    ("in-context examples", "8 instructions: 6 seeds + 2 generated", "3 whole seed tasks, seeds only"),
    ("new tasks per prompt", "up to 7 (numbers 9-15; stop at 16)", "up to 16 of a list of 20 (4-19; stop at 20)"),
    ("classification split", "yes: output-first instances", "no"),
    ("instances per instruction", "up to 5", "1"),
    ("decoding", "T 0.7, top_p 0.5 (instances T 0)", "T 1.0, top_p 1.0"),
)


def comparison_rows(self_instruct: DataSummary, alpaca: DataSummary, si_cost: float | None,
                    alpaca_cost: float | None) -> list[tuple[str, str, str]]:
    """The recipe's differences, then what each run's data and cost came to (cost per kept instance)."""
    def share(x: float | None) -> str:
        return "not asked" if x is None else f"{x:.1%}"

    def per(cost: float | None, summary: DataSummary) -> str:
        return "unknown" if cost is None or not summary.instances else f"${cost / summary.instances:.4f}"

    return [*RECIPE,
            ("instructions kept (this run)", f"{self_instruct.instructions}", f"{alpaca.instructions}"),
            ("instances per instruction", f"{self_instruct.per_instruction:.2f}", f"{alpaca.per_instruction:.2f}"),
            ("classification tasks", share(self_instruct.classification_share), share(alpaca.classification_share)),
            ("instances with an input", share(self_instruct.input_share), share(alpaca.input_share)),
            ("cost per kept instance", per(si_cost, self_instruct), per(alpaca_cost, alpaca))]


def format_rows(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = ("", "Self-Instruct", "Alpaca")) -> str:
    """Rows as an aligned plain-text table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, *rows])
