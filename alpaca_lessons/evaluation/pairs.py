"""Pairwise evaluation: pairs of outputs from any two systems, blind A/B judging, the statistics of
wins and ties, agreement between judges, and an LLM judge through the ``openai`` client.

Alpaca's headline claim is a blind pairwise comparison on Self-Instruct's 252 user-oriented
instructions (Alpaca 7B won 90, text-davinci-003 89). Its judgments were never published; what is
public is AlpacaEval: Alpaca-7B's outputs on 805 instructions (the 252 among them, instruction and input
merged) and GPT-4's verdicts against a regenerated text-davinci-003 reference. This module rebuilds
both comparisons from those files and lets anyone judge the very pairs GPT-4 saw.

Verdicts follow AlpacaEval's convention: a preference of 1 or 2 names the winning output of a pair,
0 is a tie.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.stats import cohen_kappa, sign_test, wilson_interval
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import Record, Row, locate, read_rows

FIRST, SECOND, TIE = 1, 2, 0
GPT4_ANNOTATIONS = "alpaca_eval/gpt4_annotations"
# The course's shipped blind judgments: this many of the 805 GPT-4 pairs, drawn with this seed, which
# also seeds the side order (data/annotations/pairwise_<annotator>.jsonl).
COURSE_SAMPLE_SIZE, COURSE_SEED = 60, 0

RUBRIC_VERSION = "v1"
RUBRIC_V1 = """\
Rubric v1 for blind pairwise judgments. Read the instruction, then answer A and answer B in full.
Prefer the answer that
  1. does what the instruction asks: the task, its constraints, and the given input;
  2. is correct: no factual, arithmetic or logical errors, nothing invented;
  3. is complete and useful to the person who asked, without padding (length is no merit in itself);
  4. is clear and well organised.
The criteria are applied in order: a clear difference on an earlier one decides. Choose "tie" when
neither answer is better on any criterion, or both fail the task equally. Judge the text alone: the
systems are hidden, and their identity is not to be guessed."""


# ---------------------------------------------------------------------------------------------- pairs
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
        """A short sha256 of the instruction and both outputs: names the pair's text without copying it."""
        digest = hashlib.sha256(json.dumps([self.instruction, self.output_1, self.output_2]).encode("utf-8"))
        return digest.hexdigest()[:16]


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


# -------------------------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class WinRate:
    """Wins, ties and losses of one system against another, the win rate with ties as half, its 95%
    Wilson interval, the standard error AlpacaEval reports, and the two-sided sign test."""

    wins: int
    ties: int
    losses: int
    low: float
    high: float
    p_value: float

    @property
    def n(self) -> int:
        """All comparisons, ties included."""
        return self.wins + self.ties + self.losses

    @property
    def rate(self) -> float:
        """(wins + ties / 2) / n."""
        return (self.wins + self.ties / 2) / self.n

    @property
    def standard_error(self) -> float:
        """The standard error of the mean per-comparison score (1, 1/2, 0), as AlpacaEval reports it."""
        scores = [1.0] * self.wins + [0.5] * self.ties + [0.0] * self.losses
        mean = sum(scores) / self.n
        return math.sqrt(sum((s - mean) ** 2 for s in scores) / (self.n - 1) / self.n)

    def __str__(self) -> str:
        return (f"{self.wins} wins, {self.ties} ties, {self.losses} losses: win rate {self.rate:.2%} "
                f"(95% CI {self.low:.1%}-{self.high:.1%}), sign test p = {self.p_value:.3g}")


def win_rate(wins: int, ties: int, losses: int, confidence: float = 0.95) -> WinRate:
    """The summary of a pairwise comparison from its counts.

    The interval is Wilson's on ``wins + ties / 2`` successes out of ``n``: counting a tie as half a
    success is how win rates are reported, and the interval is then approximate (a tie has less variance
    than a coin flip, so it errs on the wide side)."""
    n = wins + ties + losses
    if n == 0:
        raise ValueError("no comparisons")
    low, high = wilson_interval(wins + ties / 2, n, confidence)
    return WinRate(wins, ties, losses, low, high, sign_test(wins, losses))


def win_rate_of(preferences: Iterable[int], system: int = SECOND) -> WinRate:
    """The win rate of output ``system`` (1 or 2) from a sequence of preferences (1, 2, or 0 for a tie)."""
    counts = Counter(preferences)
    other = FIRST if system == SECOND else SECOND
    return win_rate(counts[system], counts[TIE], counts[other])


@dataclass(frozen=True)
class Agreement:
    """How often two judges gave the same verdict on the same pairs, and Cohen's kappa."""

    n: int
    same: int
    decisive: int  # pairs where neither judge called a tie
    same_decisive: int
    kappa: float

    @property
    def share(self) -> float:
        """Share of pairs with the same verdict (ties must match ties)."""
        return self.same / self.n

    @property
    def decisive_share(self) -> float:
        """Share of the same winner among pairs neither judge called a tie (NaN when there are none)."""
        return self.same_decisive / self.decisive if self.decisive else float("nan")

    def __str__(self) -> str:
        return (f"same verdict on {self.same} of {self.n} pairs ({self.share:.1%}); same winner on "
                f"{self.same_decisive} of {self.decisive} without a tie ({self.decisive_share:.1%}); "
                f"Cohen's kappa {self.kappa:.2f}")


def agreement(a: Sequence[int], b: Sequence[int]) -> Agreement:
    """Agreement of two judges' verdicts (1, 2, 0) on the same pairs, in the same order."""
    if len(a) != len(b) or not a:
        raise ValueError(f"need verdicts on the same, non-empty list of pairs, got {len(a)} and {len(b)}")
    same = sum(x == y for x, y in zip(a, b, strict=True))
    decisive = [(x, y) for x, y in zip(a, b, strict=True) if x != TIE and y != TIE]
    return Agreement(len(a), same, len(decisive), sum(x == y for x, y in decisive), cohen_kappa(list(a), list(b)))


@dataclass(frozen=True)
class PositionBias:
    """How often the answer shown on the left (A) won among decisive blind judgments."""

    left: int
    right: int
    ties: int
    p_value: float  # two-sided sign test of left against right

    @property
    def left_share(self) -> float:
        """left / (left + right)."""
        return self.left / (self.left + self.right) if self.left + self.right else float("nan")

    def __str__(self) -> str:
        return (f"left (A) won {self.left}, right (B) won {self.right}, {self.ties} ties: left share "
                f"{self.left_share:.1%}, sign test p = {self.p_value:.3g}")


def position_bias(choices: Iterable[str]) -> PositionBias:
    """Position bias from blind choices ("A", "B", "tie"): under no bias, A and B win equally often."""
    counts = Counter(choices)
    unknown = set(counts) - {"A", "B", "tie"}
    if unknown:
        raise ValueError(f"choices must be 'A', 'B' or 'tie', got {sorted(unknown)}")
    return PositionBias(counts["A"], counts["B"], counts["tie"], sign_test(counts["A"], counts["B"]))


def length_preference(pairs: Sequence[Pair], preferences: Sequence[int]) -> tuple[int, int]:
    """(times the longer output won, decisive verdicts between outputs of different lengths)."""
    longer_won = decided = 0
    for pair, pref in zip(pairs, preferences, strict=True):
        if pref == TIE or len(pair.output_1) == len(pair.output_2):
            continue
        decided += 1
        longer_won += pref == (FIRST if len(pair.output_1) > len(pair.output_2) else SECOND)
    return longer_won, decided


# --------------------------------------------------------------------------------------- blind judging
CHOICES = ("A", "B", "tie")


@dataclass(frozen=True)
class BlindItem:
    """A pair as a judge sees it: the instruction and two answers, A (left) and B (right), no names.

    ``swapped`` records the seeded side draw: when True, A shows ``output_2``."""

    pair: Pair
    swapped: bool

    @property
    def answer_a(self) -> str:
        """The text shown on the left."""
        return self.pair.output_2 if self.swapped else self.pair.output_1

    @property
    def answer_b(self) -> str:
        """The text shown on the right."""
        return self.pair.output_1 if self.swapped else self.pair.output_2

    def preference(self, choice: str) -> int:
        """Turn a blind choice (A, B, tie) into a preference for output 1 or 2 (0 for a tie)."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}, got {choice!r}")
        if choice == "tie":
            return TIE
        return (SECOND if self.swapped else FIRST) if choice == "A" else (FIRST if self.swapped else SECOND)

    def text(self) -> str:
        """The item exactly as a judge reads it (no system names)."""
        return (f"INSTRUCTION\n{self.pair.instruction}\n\n=== ANSWER A ===\n{self.answer_a}\n\n"
                f"=== ANSWER B ===\n{self.answer_b}")


def blind_items(pairs: Sequence[Pair], seed: int) -> list[BlindItem]:
    """The pairs in a seeded random order, each with a seeded left/right draw.

    Each pair's side depends only on ``seed`` and its id, so it stays the same when the list of pairs
    grows or is reordered; the order of presentation is one shuffle of the list."""
    items = [BlindItem(p, random.Random(f"{seed}:side:{p.id}").random() < 0.5) for p in pairs]
    random.Random(f"{seed}:order").shuffle(items)
    return items


def sample_pairs(pairs: Sequence[Pair], k: int, seed: int) -> list[Pair]:
    """``k`` distinct pairs drawn with ``random.Random(seed)``, in the order drawn."""
    return random.Random(seed).sample(list(pairs), k)


class BlindSession:
    """One annotator's blind judging of a set of pairs, appended to an :class:`AppendOnlyStore` the moment
    each judgment is made.

    The store may hold several annotators' judgments; a session sees only its own. A restarted session
    resumes with the first item not yet judged; judging a pair again replaces the earlier verdict (the old
    line stays in the file, the last one counts). System names stay hidden until every item is judged.
    """

    def __init__(self, pairs: Sequence[Pair], store: AppendOnlyStore | str | Path, annotator: str, *,
                 seed: int = 0, rubric: str = RUBRIC_VERSION) -> None:
        if not annotator.strip():
            raise ValueError("say who judges: the annotator may not be empty")
        self.items = blind_items(pairs, seed)
        self.store = store if isinstance(store, AppendOnlyStore) else AppendOnlyStore(store)
        self.annotator, self.seed, self.rubric = annotator, seed, rubric
        self._by_id = {item.pair.id: item for item in self.items}
        self._done: dict[str, dict[str, Any]] = {}
        for record in self.store.read():
            if record.get("annotator") == annotator and record.get("pair_id") in self._by_id:
                self._check(record)
                self._done[record["pair_id"]] = record

    def _check(self, record: dict[str, Any]) -> None:
        item = self._by_id[record["pair_id"]]
        if record.get("pair_hash") != item.pair.text_hash:
            raise DataError(f"{self.store.path}: judgment of {record['pair_id']} was made on different text "
                            f"(hash {record.get('pair_hash')} != {item.pair.text_hash})")
        if record.get("swapped") != item.swapped:
            raise DataError(f"{self.store.path}: {record['pair_id']} was shown with the other side order; "
                            "the session's seed differs from the one the judgments were made with")

    @property
    def done(self) -> int:
        """Items judged so far."""
        return len(self._done)

    @property
    def total(self) -> int:
        """Items in the session."""
        return len(self.items)

    @property
    def finished(self) -> bool:
        """Whether every item has a judgment."""
        return self.done == self.total

    def pending(self) -> list[BlindItem]:
        """Items not judged yet, in presentation order."""
        return [item for item in self.items if item.pair.id not in self._done]

    def current(self) -> BlindItem | None:
        """The next item to judge, or None when finished."""
        pending = self.pending()
        return pending[0] if pending else None

    def record(self, pair_id: str, choice: str, reason: str = "") -> dict[str, Any]:
        """Record a blind choice for ``pair_id`` and append it to the store before returning it."""
        item = self._by_id[pair_id]
        record = {
            "pair_id": pair_id, "pair_hash": item.pair.text_hash, "annotator": self.annotator,
            "rubric": self.rubric, "seed": self.seed, "swapped": item.swapped, "choice": choice,
            "preference": item.preference(choice), "reason": reason.strip(),
            "judged_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self.store.append(record)
        self._done[pair_id] = record
        return record

    def judgments(self) -> list[dict[str, Any]]:
        """This annotator's latest judgment of each judged pair, in presentation order."""
        return [self._done[item.pair.id] for item in self.items if item.pair.id in self._done]

    def reveal(self) -> dict[str, WinRate]:
        """The win rate of each system, by name; refused until every item is judged (blind until the end)."""
        if not self.finished:
            raise RuntimeError(f"{self.total - self.done} items left: system names stay hidden until the end")
        prefs = [j["preference"] for j in self.judgments()]
        first = self.items[0].pair
        return {first.system_2: win_rate_of(prefs, SECOND), first.system_1: win_rate_of(prefs, FIRST)}


def read_judgments(path: str | Path, pairs: Sequence[Pair]) -> dict[str, list[dict[str, Any]]]:
    """Judgments in a store, by annotator (each annotator's latest per pair), checked against the pairs'
    text hashes so a file can never silently refer to different text."""
    by_id = {p.id: p for p in pairs}
    found: dict[str, dict[str, dict[str, Any]]] = {}
    store = AppendOnlyStore(path)
    for record in store.read():
        pair = by_id.get(record.get("pair_id", ""))
        if pair is None:
            raise DataError(f"{store.path}: judgment of unknown pair {record.get('pair_id')!r}")
        if record.get("pair_hash") != pair.text_hash:
            raise DataError(f"{store.path}: {pair.id} hash {record.get('pair_hash')} != {pair.text_hash}")
        found.setdefault(record["annotator"], {})[pair.id] = record
    return {annotator: list(records.values()) for annotator, records in found.items()}


# -------------------------------------------------------------------------------------------- LLM judge
JUDGE_SYSTEM = "You are a careful assistant that compares the quality of two answers to an instruction."

# Modelled on AlpacaEval's alpaca_eval_gpt4 ranking prompt (its layout and its Python-list answer),
# worded for this course.
JUDGE_TEMPLATE = '''\
We are comparing two language models by the answers they give to the same instruction. Rank the two \
models by the quality of their answers, as most careful human readers would.

The instruction:
{{
    "instruction": """{instruction}""",
}}

The answers:
[
    {{
        "model": "model_1",
        "answer": """{output_1}"""
    }},
    {{
        "model": "model_2",
        "answer": """{output_2}"""
    }}
]

Reply with the ranking only, as a Python list in exactly this form, rank 1 for the better answer:
[
    {{'model': <model-name>, 'rank': <model-rank>}},
    {{'model': <model-name>, 'rank': <model-rank>}}
]'''

_ANSWER_RE = re.compile(r'"answer": """(.*?)"""\n    }', re.S)


def judge_prompt(instruction: str, output_1: str, output_2: str) -> list[dict[str, str]]:
    """The chat messages that ask a judge to rank ``output_1`` (model_1) against ``output_2`` (model_2)."""
    user = JUDGE_TEMPLATE.format(instruction=instruction, output_1=output_1, output_2=output_2)
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def answers_in_prompt(prompt: str) -> tuple[str, str]:
    """The two answers of a :func:`judge_prompt` user message (what a judge model reads)."""
    found = _ANSWER_RE.findall(prompt)
    if len(found) != 2:
        raise ValueError(f"expected two answers in the judge prompt, found {len(found)}")
    return found[0], found[1]


_RANK_RE = re.compile(r"""['"]?model['"]?\s*:\s*['"]?(model_[12])['"]?\s*,\s*['"]?rank['"]?\s*:\s*['"]?([12])""")
_RANK_FIRST_RE = re.compile(r"""['"]?rank['"]?\s*:\s*['"]?([12])['"]?\s*,\s*['"]?model['"]?\s*:\s*['"]?(model_[12])""")
_TIE_RE = re.compile(r"\b(tie|draw|equally good|equally bad|both (are )?(equally )?(good|bad))\b", re.I)
_NAMED_RE = re.compile(r"\b(?:model[_ ]?([12])|output[_ ]?\(?([12ab])\)?)\b", re.I)


def parse_verdict(reply: str) -> int | None:
    """The preference in a judge's reply: 1 or 2 for the model ranked first, 0 for a tie, None when the
    reply cannot be read.

    Accepts AlpacaEval's list of ``{'model', 'rank'}`` dicts with either quote style, inside code fences
    or surrounded by prose, keys in either order; otherwise a reply naming exactly one model (``model_2``,
    ``Output (b)``) or saying tie. Contradictions (both ranked 1, or both models named) give None."""
    text = reply.strip()
    ranks = {m: int(r) for m, r in _RANK_RE.findall(text)} | {m: int(r) for r, m in _RANK_FIRST_RE.findall(text)}
    if ranks:
        first = [m for m, r in ranks.items() if r == 1]
        if len(first) == 1 and not (len(ranks) == 2 and sorted(ranks.values()) != [1, 2]):
            return int(first[0][-1])
        return None
    if _TIE_RE.search(text):
        return TIE
    named = {(a or b).lower() for a, b in _NAMED_RE.findall(text)}
    named = {"1" if n in ("1", "a") else "2" for n in named}
    return int(named.pop()) if len(named) == 1 else None


# USD per million tokens (input, output), OpenAI's list prices for the dated snapshots.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4-0613": (30.0, 60.0),  # the AlpacaEval-1 judge
    "gpt-4-1106-preview": (10.0, 30.0),
    "gpt-4o-2024-08-06": (2.5, 10.0),
    "gpt-4o-mini-2024-07-18": (0.15, 0.6),
}


@dataclass
class Cost:
    """Tokens used by a judge (from each reply's ``usage``) and their price."""

    prices: tuple[float, float] | None  # USD per million input, output tokens; None when unknown
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def dollars(self) -> float | None:
        """The price of the tokens so far, or None when the model's price is unknown."""
        if self.prices is None:
            return None
        return (self.prompt_tokens * self.prices[0] + self.completion_tokens * self.prices[1]) / 1e6

    def __str__(self) -> str:
        price = "price unknown" if self.dollars is None else f"${self.dollars:.4f}"
        return f"{self.calls} calls, {self.prompt_tokens} prompt + {self.completion_tokens} completion tokens, {price}"


@dataclass(frozen=True)
class JudgeVerdict:
    """A judge's verdict on a pair, asked in both orders: the combined preference and the raw replies."""

    pair_id: str
    preference: int  # combined: 1, 2, or 0 when the two orders disagree or both say tie
    forward: int | None  # parsed verdict with output_1 shown as model_1
    backward: int | None  # parsed verdict with the outputs swapped, mapped back to output_1/output_2
    replies: tuple[str, str]


def _mirror(verdict: int | None) -> int | None:
    """A verdict given with the outputs swapped, mapped back to the original order."""
    return {FIRST: SECOND, SECOND: FIRST}.get(verdict, verdict) if verdict is not None else None


def combine_orders(forward: int | None, backward: int | None) -> int:
    """One preference from the two orders (``backward`` already mapped back): each order gives output_2 a
    score of 1, 0.5 (tie or unreadable) or 0; their mean decides, and 0.5 is a tie. A judge that always
    picks the same position therefore scores a tie, which is how asking in both orders cancels the bias."""
    def score(v: int | None) -> float:
        return 1.0 if v == SECOND else 0.0 if v == FIRST else 0.5
    mean = (score(forward) + score(backward)) / 2
    return SECOND if mean > 0.5 else FIRST if mean < 0.5 else TIE


@dataclass
class PairwiseJudge:
    """A pairwise LLM judge behind any OpenAI-compatible chat endpoint, via the ``openai`` client."""

    client: Any  # openai.OpenAI
    model: str
    max_tokens: int = 100
    temperature: float = 0.0
    cost: Cost = field(init=False)

    def __post_init__(self) -> None:
        self.cost = Cost(PRICES.get(self.model))

    @classmethod
    def connect(cls, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0,
                max_retries: int = 2, **options: Any) -> PairwiseJudge:
        """A judge at ``base_url`` (ending in ``/v1``). The key comes from ``api_key`` or ``$OPENAI_API_KEY``;
        a local server needs none, so a placeholder is sent. The key is never stored here or printed."""
        import os

        import openai

        key = api_key or os.environ.get("OPENAI_API_KEY") or "no-key-needed-locally"
        client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries)
        return cls(client, model, **options)

    def ask(self, instruction: str, output_1: str, output_2: str) -> tuple[int | None, str]:
        """One call: the parsed verdict (1, 2, 0 or None) with ``output_1`` as model_1, and the raw reply."""
        response = self.client.chat.completions.create(
            model=self.model, messages=judge_prompt(instruction, output_1, output_2),
            max_tokens=self.max_tokens, temperature=self.temperature)
        self.cost.calls += 1
        if response.usage is not None:
            self.cost.prompt_tokens += response.usage.prompt_tokens
            self.cost.completion_tokens += response.usage.completion_tokens
        reply = response.choices[0].message.content or ""
        return parse_verdict(reply), reply

    def judge(self, pair: Pair) -> JudgeVerdict:
        """Ask in both orders and combine (see :func:`combine_orders`)."""
        forward, reply_f = self.ask(pair.instruction, pair.output_1, pair.output_2)
        swapped, reply_b = self.ask(pair.instruction, pair.output_2, pair.output_1)
        backward = _mirror(swapped)
        return JudgeVerdict(pair.id, combine_orders(forward, backward), forward, backward, (reply_f, reply_b))


def judge_pairs(judge: PairwiseJudge, pairs: Sequence[Pair], store: AppendOnlyStore | str | Path, *,
                progress: Callable[[Iterable[Pair]], Iterable[Pair]] | None = None) -> list[dict[str, Any]]:
    """Judge every pair not yet in ``store`` (resume), appending each verdict as it comes; returns all
    of this judge's records for ``pairs``, in the pairs' order."""
    store = store if isinstance(store, AppendOnlyStore) else AppendOnlyStore(store)
    done = {r["pair_id"]: r for r in store.read() if r.get("judge") == judge.model}
    todo = [p for p in pairs if p.id not in done]
    for pair in progress(todo) if progress else todo:
        verdict = judge.judge(pair)
        record = {"pair_id": pair.id, "pair_hash": pair.text_hash, "judge": judge.model,
                  "preference": verdict.preference, "forward": verdict.forward, "backward": verdict.backward,
                  "replies": list(verdict.replies)}
        store.append(record)
        done[pair.id] = record
    return [done[p.id] for p in pairs]


class LengthJudge:
    """A real, named baseline judge: the longer answer wins (ties go to model_1).

    LLM judges are known to favour longer answers; this rule is that bias and nothing else, so its
    agreement with GPT-4 shows how far length alone goes. It reads a :func:`judge_prompt` and replies in
    the prompt's ranking format, so the course's local server can serve it as a model
    (``alpaca-lessons teacher serve --model length-baseline``; see ``teacher.rule``)."""

    name = "length-baseline"
    description = "the longer answer (in characters, whitespace stripped) wins; equal lengths rank model_1 first"

    def rank(self, prompt: str) -> str:
        """The ranking reply to the text of a judge prompt (its two answers are read from the text)."""
        first, second = answers_in_prompt(prompt)
        winner = 2 if len(second.strip()) > len(first.strip()) else 1
        return f"[{{'model': 'model_{winner}', 'rank': 1}}, {{'model': 'model_{3 - winner}', 'rank': 2}}]"

    def reply(self, messages: Sequence[dict[str, str]]) -> str:
        """The ranking reply to a judge conversation (read from its last user message)."""
        return self.rank(next(m["content"] for m in reversed(messages) if m.get("role") == "user"))


def length_baseline_preference(pair: Pair) -> int:
    """The length baseline's combined verdict on a pair, both orders, without a server: the longer output
    wins, equal lengths tie (each order picks model_1, and the orders cancel)."""
    judge = LengthJudge()

    def ask(a: str, b: str) -> int | None:
        user = judge_prompt(pair.instruction, a, b)
        return parse_verdict(judge.reply(user))

    forward, swapped = ask(pair.output_1, pair.output_2), ask(pair.output_2, pair.output_1)
    return combine_orders(forward, _mirror(swapped))

