"""Pairs of outputs from any two systems on the same instructions: reading the systems' outputs,
aligning them by instruction, the evaluation sets, and the pairs AlpacaEval's GPT-4 judge saw.

Alpaca's headline claim is a blind pairwise comparison on Self-Instruct's 252 user-oriented
instructions (Alpaca 7B won 90, text-davinci-003 89). Its judgments were never published; what is
public is AlpacaEval: Alpaca-7B's outputs on 805 instructions (the 252 among them, instruction and input
merged) and GPT-4's verdicts against a regenerated text-davinci-003 reference. This module rebuilds
both comparisons from those files; ``metrics`` summarises verdicts, ``blind`` lets a person judge the
very pairs GPT-4 saw, and ``llm_judge`` asks a model.

Verdicts follow AlpacaEval's convention: a preference of 1 or 2 names the winning output of a pair,
0 is a tie.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore, JudgmentLog, text_hash, utc_now
from alpaca_lessons.data import Record, Row, locate, read_rows

FIRST, SECOND, TIE = 1, 2, 0
GPT4_ANNOTATIONS = "alpaca_eval/gpt4_annotations"


@dataclass(frozen=True)
class Pair:
    """One instruction with two systems' outputs (``output_1`` from ``system_1``, ``output_2`` from
    ``system_2``)."""

    id: str
    instruction: str
    output_1: str
    output_2: str
    system_1: str
    system_2: str

    @property
    def text_hash(self) -> str:
        """A short sha256 of the instruction and both outputs: names the pair's text without copying it.

        (ASCII-escaped JSON, 16 hex digits: the form the course's judgment files were written with.)"""
        return text_hash([self.instruction, self.output_1, self.output_2], ensure_ascii=True, digits=16)


def pair_log(store: AppendOnlyStore | str | Path, clock: Callable[[], str] = utc_now) -> JudgmentLog:
    """Where judgments of pairs live: keyed by ``pair_id``, checked by ``pair_hash`` (:attr:`Pair.text_hash`)."""
    return JudgmentLog(store, key="pair_id", hash_field="pair_hash", clock=clock)


def pair_hashes(pairs: Sequence[Pair]) -> Callable[[Any], str | None]:
    """A pair id -> the hash of that pair's text (None for a pair not in ``pairs``), to check a log against."""
    hashes = {p.id: p.text_hash for p in pairs}
    return hashes.get


def normalise_instruction(text: str) -> str:
    """The text used to match instructions across files: whitespace runs collapsed, ends stripped.

    Self-Instruct's prediction files keep trailing spaces and newlines that AlpacaEval dropped when it
    merged instruction and input, so exact matching misses some of the same instructions."""
    return " ".join(text.split())


def merged_instruction(instruction: str, text_input: str = "") -> str:
    """AlpacaEval's single instruction: the instruction, then a blank line and the input when there is one."""
    return f"{instruction}\n\n{text_input}" if text_input else instruction


@dataclass(frozen=True)
class SystemOutputs:
    """One system's outputs, keyed by the instruction as shown (input merged in)."""

    system: str
    instructions: tuple[str, ...]
    outputs: tuple[str, ...]


def read_system_outputs(name: str | Path, system: str | None = None) -> SystemOutputs:
    """Outputs of a system from a registry name or a file: AlpacaEval's ``model_outputs.json``
    (instruction, output) or Self-Instruct's predictions (instruction, input, response). The system's name
    is ``system``, else the file's ``generator`` field, else the registry name."""
    instructions, outputs = [], []
    rows = read_rows(name)
    for row in rows:
        if "response" in row.data:
            instructions.append(merged_instruction(row.get("instruction"), row.get("input")))
            outputs.append(row.get("response"))
        else:
            instructions.append(row.get("instruction"))
            outputs.append(row.get("output"))
    generator = rows[0].data.get("generator") if rows else None
    label = system or generator or str(name).removeprefix("alpaca_eval/").removeprefix("predictions/")
    return SystemOutputs(label, tuple(instructions), tuple(outputs))


@dataclass(frozen=True)
class Alignment:
    """Pairs matched by instruction text, and how they matched."""

    pairs: tuple[Pair, ...]
    exact: int  # matched on the identical text
    normalised: int  # matched only once whitespace was normalised
    unmatched_1: tuple[str, ...]
    unmatched_2: tuple[str, ...]

    def summary(self) -> str:
        """One line: how many aligned, how, and how many were left over on each side."""
        return (f"{len(self.pairs)} pairs aligned ({self.exact} on identical text, {self.normalised} more once "
                f"whitespace was normalised); unmatched: {len(self.unmatched_1)} and {len(self.unmatched_2)}")


def align(first: SystemOutputs, second: SystemOutputs, *, id_prefix: str = "pair") -> Alignment:
    """Pair two systems' outputs on the same instructions, in ``first``'s order.

    Instructions match on identical text first, then on :func:`normalise_instruction`. An instruction that
    occurs twice on one side after normalising is ambiguous and is an error rather than a guess."""
    index: dict[str, int] = {}
    for j, text in enumerate(second.instructions):
        key = normalise_instruction(text)
        if key in index:
            raise DataError(f"{second.system}: two instructions normalise to the same text: {key[:60]!r}")
        index[key] = j
    pairs, exact, used, unmatched = [], 0, set(), []
    seen: set[str] = set()
    for i, text in enumerate(first.instructions):
        key = normalise_instruction(text)
        if key in seen:
            raise DataError(f"{first.system}: two instructions normalise to the same text: {key[:60]!r}")
        seen.add(key)
        j = index.get(key)
        if j is None:
            unmatched.append(text)
            continue
        used.add(j)
        exact += second.instructions[j] == text
        pairs.append(Pair(f"{id_prefix}/{i}", text, first.outputs[i], second.outputs[j], first.system,
                          second.system))
    rest = tuple(t for j, t in enumerate(second.instructions) if j not in used)
    return Alignment(tuple(pairs), exact, len(pairs) - exact, tuple(unmatched), rest)


INSTRUCTION_SETS = ("user_oriented", "alpaca_eval")


def instruction_set(name: str) -> list[Record]:
    """An evaluation set as records to generate for: ``user_oriented`` (Self-Instruct's 252, input kept
    apart) or ``alpaca_eval`` (AlpacaEval's 805, instruction and input already merged)."""
    if name == "user_oriented":
        rows = read_rows("user_oriented_instructions")
        return [Record(row.get("instruction"), Row(row.where, row.get("instances", list)[0]).get("input"),
                       meta={"id": row.get("id")}) for row in rows]
    if name == "alpaca_eval":
        return [Record(text) for text in read_system_outputs("alpaca_eval/alpaca-7b").instructions]
    raise ValueError(f"unknown instruction set {name!r}; choose one of {INSTRUCTION_SETS}")


def outputs_as_records(records: Sequence[Record], outputs: Sequence[str], generator: str) -> list[Record]:
    """A system's outputs in AlpacaEval's ``model_outputs`` form (instruction with input merged, output,
    generator), ready for :func:`alpaca_lessons.data.write_records` and :func:`read_system_outputs`."""
    return [Record(merged_instruction(r.instruction, r.input), "", out, {"generator": generator})
            for r, out in zip(records, outputs, strict=True)]


def user_oriented_alignment() -> Alignment:
    """Alpaca's own human-evaluation pairs: AlpacaEval's Alpaca-7B outputs on Self-Instruct's 252
    user-oriented instructions, matched with Self-Instruct's text-davinci-003 predictions."""
    alpaca = read_system_outputs("alpaca_eval/alpaca-7b")
    rows = read_rows("alpaca_eval/alpaca-7b")
    selfinstruct = [i for i, row in enumerate(rows) if row.get("dataset") == "selfinstruct"]
    alpaca = SystemOutputs(alpaca.system, tuple(alpaca.instructions[i] for i in selfinstruct),
                           tuple(alpaca.outputs[i] for i in selfinstruct))
    davinci = read_system_outputs("predictions/text-davinci-003", "text-davinci-003 (Self-Instruct)")
    return align(davinci, alpaca, id_prefix="user_oriented")


@dataclass(frozen=True)
class JudgedPairs:
    """The 805 pairs AlpacaEval's GPT-4 judge saw, its verdicts, and where each came from."""

    pairs: tuple[Pair, ...]
    preferences: tuple[int, ...]  # 1: output_1 (the davinci-003 reference) won, 2: alpaca-7b won, 0: draw
    datasets: tuple[str, ...]
    prices: tuple[float | None, ...]  # what AlpacaEval paid for each GPT-4 call, in USD; None: no call

    @property
    def cost(self) -> float:
        """What AlpacaEval paid GPT-4 for these verdicts, in USD."""
        return sum(p for p in self.prices if p is not None)

    def by_id(self) -> dict[str, int]:
        """Position of each pair id."""
        return {p.id: i for i, p in enumerate(self.pairs)}


def _preference(row: Row) -> int:
    value = row.get("preference", (int, float))
    if value not in (0, 1, 2):
        raise DataError(f"{row.where}: field 'preference' should be 0, 1 or 2, got {value!r}")
    return int(value)


def gpt4_judged_pairs() -> JudgedPairs:
    """GPT-4's AlpacaEval verdicts with the exact pairs it judged: ``output_1`` is the regenerated
    text-davinci-003 reference (not ``results/text_davinci_003``), ``output_2`` is Alpaca-7B.

    The 16 draws are the pairs whose two outputs are identical: AlpacaEval scored them without asking
    GPT-4 (their price is null), so GPT-4 itself never called a tie here."""
    pairs, preferences, datasets, prices = [], [], [], []
    for i, row in enumerate(read_rows(GPT4_ANNOTATIONS)):
        pairs.append(Pair(f"alpaca_eval/{i}", row.get("instruction"), row.get("output_1"), row.get("output_2"),
                          row.get("generator_1"), row.get("generator_2")))
        preferences.append(_preference(row))
        datasets.append(row.get("dataset"))
        price = row.get("price_per_example", (int, float, type(None)))
        prices.append(None if price is None else float(price))
    return JudgedPairs(tuple(pairs), tuple(preferences), tuple(datasets), tuple(prices))


def leaderboard_row(model: str, name: str = "alpaca_eval/leaderboard") -> dict[str, str]:
    """One model's row of an AlpacaEval leaderboard CSV (the first column holds the model's name)."""
    with locate(name).open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row[""] == model:
                return row
    raise DataError(f"{locate(name)}: no row for {model!r}")
