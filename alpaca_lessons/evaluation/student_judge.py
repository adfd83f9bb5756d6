"""Students judge the course's own models: a blind session on 20 pairs of the tuned and the base model's
answers to held-out instructions, and what those judgments say beside the automatic judges (lesson 08).

The pairs are a fixed, seeded selection of the held-out records that both models answered, with different
text, in the committed evaluation (``data/results/instruct_following/answers``). They are shown in a seeded
order with exactly half of them swapped (``blind.blind_items(..., balanced=True)``), so neither model sits
on the left more often than the other. Judgments are appended to the student's own file under ``work/``
(``blind.BlindSession``: each one on disk the moment it is made, a restart resumes at the first unjudged
pair, a second process writing the file is refused).

Each pair also carries two automatic verdicts, so the student's judgments can be compared with them:
the length baseline's (the longer answer wins: the verdict in the table's pairwise section,
``llm_judge.length_baseline_preference``) and the verifiable checks' (``checks.grade``: the answer that
passes more of the checks that apply to the record wins, equal counts are a tie). Verdicts follow the
course's convention: 1 for the first system (tuned), 2 for the second (base), 0 for a tie.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.paths import course_data_dir, work_dir
from alpaca_lessons.data import Record, read_records
from alpaca_lessons.data.splits import split_records
from alpaca_lessons.evaluation.answers import answer_store, read_answers
from alpaca_lessons.evaluation.blind import BlindSession
from alpaca_lessons.evaluation.checks import grade
from alpaca_lessons.evaluation.if_table import comparison_pairs
from alpaca_lessons.evaluation.llm_judge import length_baseline_preference
from alpaca_lessons.evaluation.metrics import VerdictAgreement, WinRate, verdict_agreement, win_rate_of
from alpaca_lessons.evaluation.pairs import FIRST, SECOND, TIE, Pair

STUDENT_PAIRS, STUDENT_SEED = 20, 15  # 20 pairs take a student about 15 minutes; seed 15 is issue 15's
SYSTEMS = ("tuned", "base")  # the comparison the course's models were made for: what fine-tuning changed
NO_JUDGMENTS = "no judgments yet: judge some pairs with the widget above, then run this cell again"
JUDGES = ("length baseline", "verifiable checks")


def results_dir() -> Path:
    """The committed instruction-following evaluation: ``data/results/instruct_following`` (answers and table)."""
    return course_data_dir() / "results" / "instruct_following"


def student_store() -> Path:
    """The student's own judgments of the course's pairs: ``work/annotations/pairwise_tuned_vs_base_you.jsonl``."""
    return work_dir() / "annotations" / "pairwise_tuned_vs_base_you.jsonl"


@dataclass(frozen=True)
class CoursePair:
    """One blind pair of the course's models with the automatic verdicts on it: ``index`` is the held-out
    record's position, ``checks`` the verifiable checks' verdict and ``length`` the length baseline's."""

    pair: Pair
    index: int
    checks: int
    length: int


def held_out_answers(folder: str | Path | None = None, systems: Sequence[str] = SYSTEMS
                     ) -> tuple[list[Record], dict[str, dict[int, dict[str, Any]]]]:
    """The held-out records and each system's stored answers to them (by record index), read from
    ``<folder>/answers/<system>.jsonl`` (default: :func:`results_dir`) and checked against the records."""
    folder = Path(folder) if folder is not None else results_dir()
    records = split_records(read_records("alpaca_data")).heldout
    return records, {name: read_answers(answer_store(folder, name), records) for name in systems}


def checks_preference(record: Record, first: dict[str, Any], second: dict[str, Any]) -> int:
    """The verifiable checks' verdict on two stored answers to ``record``: the answer that passes more of the
    checks that apply wins (1 or 2), equal counts tie (0). Both answers face the same checks, since whether a
    check applies depends on the record alone."""
    passed = [sum(v is True for v in grade(record, a["answer"], a["ended"]).values()) for a in (first, second)]
    return TIE if passed[0] == passed[1] else FIRST if passed[0] > passed[1] else SECOND


def course_pairs(records: Sequence[Record], answers: dict[str, dict[int, dict[str, Any]]], *,
                 k: int = STUDENT_PAIRS, seed: int = STUDENT_SEED, systems: Sequence[str] = SYSTEMS
                 ) -> list[CoursePair]:
    """``k`` pairs of the two ``systems``' answers, on records drawn with ``random.Random(seed)`` from those
    both answered with different text (identical answers leave nothing to judge), in record order; ids
    ``tuned-vs-base/<index>``, the first system as output 1."""
    first, second = systems
    candidates = sorted(i for i in answers[first].keys() & answers[second].keys()
                        if answers[first][i]["answer"] != answers[second][i]["answer"])
    if len(candidates) < k:
        raise DataError(f"only {len(candidates)} records have different answers from {first} and {second}; "
                        f"{k} pairs were asked for")
    chosen = sorted(random.Random(seed).sample(candidates, k))
    outputs = {name: {i: answers[name][i]["answer"] for i in chosen} for name in systems}
    pairs = comparison_pairs(records, outputs, first, second)
    return [CoursePair(p, i, checks_preference(records[i], answers[first][i], answers[second][i]),
                       length_baseline_preference(p)) for p, i in zip(pairs, chosen, strict=True)]


def open_session(pairs: Sequence[CoursePair], annotator: str, store: str | Path | None = None, *,
                 seed: int = STUDENT_SEED) -> BlindSession:
    """The student's blind session on ``pairs`` (sides balanced and seeded), appending to ``store``
    (default: :func:`student_store`); it holds the file against other processes until closed."""
    return BlindSession([p.pair for p in pairs], store if store is not None else student_store(), annotator,
                        seed=seed, balanced=True)


def waiting(session: BlindSession) -> str | None:
    """What the student still has to do before the results cells show anything (:data:`NO_JUDGMENTS`, or how
    many pairs are left), or None once every pair is judged: a win rate after a few judgments would tell
    which side was which model, so nothing is shown midway."""
    if session.done == 0:
        return NO_JUDGMENTS
    if not session.finished:
        return (f"{session.done} of {session.total} judged: judge the rest with the widget above, then run this "
                "cell again (the models stay hidden until the end)")
    return None


def _judged(pairs: Sequence[CoursePair], judgments: Sequence[dict[str, Any]]) -> list[tuple[CoursePair, int]]:
    """Each judgment's pair with the judgment's preference; a judgment of a pair not in ``pairs`` is an error."""
    by_id = {p.pair.id: p for p in pairs}
    unknown = [j["pair_id"] for j in judgments if j["pair_id"] not in by_id]
    if unknown:
        raise DataError(f"judgments of pairs that are not the course's: {unknown[:3]}")
    return [(by_id[j["pair_id"]], j["preference"]) for j in judgments]


def student_win_rate(pairs: Sequence[CoursePair], judgments: Sequence[dict[str, Any]]) -> WinRate | None:
    """The first system's (tuned's) win rate in the student's judgments, ties as half, with its 95% Wilson
    interval and sign test; None before the first judgment."""
    judged = _judged(pairs, judgments)
    return win_rate_of([pref for _, pref in judged], FIRST) if judged else None


def judges_win_rates(pairs: Sequence[CoursePair]) -> dict[str, WinRate]:
    """The first system's win rate on ``pairs`` by each automatic judge (:data:`JUDGES`)."""
    return {JUDGES[0]: win_rate_of([p.length for p in pairs], FIRST),
            JUDGES[1]: win_rate_of([p.checks for p in pairs], FIRST)}


def agreement_with_judges(pairs: Sequence[CoursePair], judgments: Sequence[dict[str, Any]]
                          ) -> dict[str, VerdictAgreement]:
    """The student's agreement with each automatic judge (:data:`JUDGES`) on the pairs judged so far (same
    verdict, same winner where neither called a tie, Cohen's kappa); empty before the first judgment."""
    judged = _judged(pairs, judgments)
    if not judged:
        return {}
    mine = [pref for _, pref in judged]
    return {JUDGES[0]: verdict_agreement(mine, [p.length for p, _ in judged]),
            JUDGES[1]: verdict_agreement(mine, [p.checks for p, _ in judged])}
