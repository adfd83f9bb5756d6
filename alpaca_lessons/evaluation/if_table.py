"""The instruction-following table: each model's pass rate on each verifiable check (``checks``) with a
95% Wilson interval, its ROUGE-L against text-davinci-003's reference answer, and pairwise verdicts
(every model against the reference, and each pair of models), beside the reference answers graded by the
same checks (how far each check can be trusted).

The pairwise verdicts come from the length baseline by default (the longer answer wins, both orders:
``llm_judge.length_baseline_preference``; it is a bias, not a judge of quality, and the table says so);
an LLM judge is used only when one is given (``llm_judge.PairwiseJudge``, through the course's teacher
client and its explicit opt-in for anything not on this machine). The lessons load the committed table
with :func:`load_table` and show it with :func:`text_table` and :func:`table_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from statistics import fmean, stdev
from typing import Any

from alpaca_lessons.common.plots import course_style, save_figure
from alpaca_lessons.common.results import read_result
from alpaca_lessons.common.stats import proportion
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.common.text import rouge_tokens
from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.checks import CHECKS, applicable_counts, grade
from alpaca_lessons.evaluation.llm_judge import PairwiseJudge, judge_pairs, length_baseline_preference
from alpaca_lessons.evaluation.metrics import win_rate_of
from alpaca_lessons.evaluation.pairs import FIRST, Pair, merged_instruction
from alpaca_lessons.generation.novelty.reference import rouge_l

REFERENCE = "reference"  # text-davinci-003's answer: the record's output
LENGTH_BASELINE = "length-baseline (the longer answer wins: a length bias, not a judge of quality)"


def check_rates(records: Sequence[Record], answers: dict[int, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Per check: passed, applicable n, share and its 95% Wilson interval, over the answered records
    (``answers`` by index; None grades the references, where the EOS check does not apply)."""
    passed = {c.name: 0 for c in CHECKS}
    total = dict(passed)
    for i, record in enumerate(records):
        if answers is None:
            verdicts = grade(record, record.output)
        elif i in answers:
            verdicts = grade(record, answers[i]["answer"], answers[i]["ended"])
        else:
            continue
        for name, verdict in verdicts.items():
            if verdict is not None:
                total[name] += 1
                passed[name] += verdict
    rates = {}
    for name in passed:
        if total[name]:
            p = proportion(passed[name], total[name])
            rates[name] = {"passed": p.successes, "n": p.n, "share": p.share, "low": p.low, "high": p.high}
    return rates


def rouge_summary(records: Sequence[Record], answers: dict[int, dict[str, Any]]) -> dict[str, float]:
    """Mean ROUGE-L F (rouge-score's, no stemming) of the answers against the references, with a normal
    95% interval of the mean."""
    scores = [rouge_l(rouge_tokens(records[i].output), rouge_tokens(a["answer"])) for i, a in answers.items()]
    mean = fmean(scores)
    half = 1.96 * stdev(scores) / math.sqrt(len(scores)) if len(scores) > 1 else float("nan")
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": len(scores)}


def comparison_pairs(records: Sequence[Record], outputs: dict[str, dict[int, str]], first: str,
                     second: str) -> list[Pair]:
    """Pairs of ``first``'s and ``second``'s outputs on the records both answered (``outputs``: system ->
    index -> text), ids ``first-vs-second/index``."""
    shared = sorted(outputs[first].keys() & outputs[second].keys())
    return [Pair(f"{first}-vs-{second}/{i}", merged_instruction(records[i].instruction, records[i].input),
                 outputs[first][i], outputs[second][i], first, second) for i in shared]


def comparisons(models: Sequence[str]) -> list[tuple[str, str]]:
    """Which systems are compared: each model against the reference, then each pair of models in the
    order given (``tuned base`` gives tuned against base)."""
    return [(m, REFERENCE) for m in models] + list(combinations(models, 2))


def build_table(records: Sequence[Record], answers: dict[str, dict[int, dict[str, Any]]], *,
                judge: PairwiseJudge | None = None, judge_store: AppendOnlyStore | str | Path | None = None,
                progress: Callable[[Iterable[Pair]], Iterable[Pair]] | None = None) -> dict[str, Any]:
    """The whole table for ``answers`` (model -> index -> stored answer, see ``answers``) on ``records``.
    With ``judge`` (and ``judge_store``, where its verdicts are appended and resumed) the pairwise verdicts
    are the judge's, both orders; without, the length baseline's."""
    if judge is not None and judge_store is None:
        raise ValueError("an LLM judge needs judge_store: its verdicts are appended there and resumed")
    outputs = {REFERENCE: {i: r.output for i, r in enumerate(records)}}
    outputs |= {m: {i: a["answer"] for i, a in got.items()} for m, got in answers.items()}
    models: dict[str, Any] = {}
    for name, got in answers.items():
        models[name] = {"answered": len(got), "checks": check_rates(records, got),
                        "rouge_l": rouge_summary(records, got),
                        "seconds_per_answer": fmean(a["seconds"] for a in got.values()),
                        "mean_new_tokens": fmean(a["new_tokens"] for a in got.values())}
    verdicts = []
    for first, second in comparisons(list(answers)):
        pairs = comparison_pairs(records, outputs, first, second)
        if judge is None:
            preferences = [length_baseline_preference(p) for p in pairs]
        else:
            preferences = [r["preference"] for r in judge_pairs(judge, pairs, judge_store, progress=progress)]
        rate = win_rate_of(preferences, system=FIRST)
        verdicts.append({"first": first, "second": second, "wins": rate.wins, "ties": rate.ties,
                         "losses": rate.losses, "win_rate": rate.rate, "low": rate.low, "high": rate.high,
                         "p_value": rate.p_value})
    return {"records": len(records), "applicable": applicable_counts(records),
            "checks": {c.name: c.description for c in CHECKS}, "models": models,
            "reference": {"checks": check_rates(records, None)},
            "judge": judge.model if judge is not None else LENGTH_BASELINE, "comparisons": verdicts}


def _cell(rate: dict[str, Any] | None) -> str:
    return "-" if rate is None else f"{rate['share']:6.1%} [{rate['low']:.0%},{rate['high']:.0%}] n={rate['n']}"


def text_table(table: dict[str, Any]) -> str:
    """The table as text: checks by system (share, 95% interval, n), ROUGE-L, time, and the comparisons."""
    systems = {**{m: v["checks"] for m, v in table["models"].items()}, REFERENCE: table["reference"]["checks"]}
    width = max(len(s) for s in systems) + 2
    applicable = ", ".join(f"{k} {v}" for k, v in table["applicable"].items())
    lines = [f"{table['records']} held-out records; applicable: {applicable}",
             f"{'check':<10}" + "".join(f"{s:<{max(width, 30)}}" for s in systems)]
    for name in table["checks"]:
        lines.append(f"{name:<10}" + "".join(f"{_cell(rates.get(name)):<{max(width, 30)}}"
                                             for rates in systems.values()))
    for model, values in table["models"].items():
        r = values["rouge_l"]
        lines.append(f"{model}: ROUGE-L vs reference {r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}] "
                     f"(n={r['n']}); {values['seconds_per_answer']:.3f} s and {values['mean_new_tokens']:.1f} new "
                     f"tokens per answer")
    lines.append(f"pairwise verdicts, both orders, by {table['judge']}:")
    for c in table["comparisons"]:
        lines.append(f"  {c['first']} vs {c['second']}: {c['wins']} wins, {c['ties']} ties, {c['losses']} losses: "
                     f"{c['win_rate']:.1%} [{c['low']:.1%}, {c['high']:.1%}], sign test p = {c['p_value']:.3g}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Contrast:
    """One measure (a check's pass rate, or ROUGE-L) of two systems, each ``{"share" or "mean", "low", "high"}``
    with its 95% interval, and how the intervals lie: the first ``"above"`` or ``"below"`` the second with room
    between them, or ``"overlap"`` (the table cannot tell them apart on this measure)."""

    measure: str
    first: str
    second: str
    first_value: dict[str, float]
    second_value: dict[str, float]

    @property
    def relation(self) -> str:
        """"above", "below" or "overlap"."""
        if self.first_value["low"] > self.second_value["high"]:
            return "above"
        return "below" if self.first_value["high"] < self.second_value["low"] else "overlap"

    def __str__(self) -> str:
        def show(v: dict[str, float]) -> str:
            return (f"{v['share']:.1%} [{v['low']:.1%}, {v['high']:.1%}]" if "share" in v
                    else f"{v['mean']:.3f} [{v['low']:.3f}, {v['high']:.3f}]")

        how = {"above": "above, intervals apart", "below": "below, intervals apart", "overlap": "intervals overlap"}
        return (f"{self.measure:<8} {self.first} {show(self.first_value)} vs {self.second} "
                f"{show(self.second_value)}: {how[self.relation]}")


def contrasts(table: dict[str, Any], first: str, second: str) -> list[Contrast]:
    """Each check both models were graded on, then ROUGE-L, as a :class:`Contrast` of ``first`` with ``second``."""
    one, two = table["models"][first], table["models"][second]
    found = [Contrast(name, first, second, one["checks"][name], two["checks"][name])
             for name in table["checks"] if name in one["checks"] and name in two["checks"]]
    return [*found, Contrast("rouge_l", first, second, one["rouge_l"], two["rouge_l"])]


def load_table(path: str | Path) -> dict[str, Any]:
    """A table written by ``alpaca-lessons evaluate instruct-following`` (with its provenance)."""
    return read_result(path)


def table_figure(table: dict[str, Any]):
    """Pass rate of each check, one bar per system (models, then the reference) with its 95% Wilson
    interval as an error bar; returns the figure (save it with ``common.plots.save_figure``)."""
    import matplotlib.pyplot as plt

    systems = {**{m: v["checks"] for m, v in table["models"].items()}, REFERENCE: table["reference"]["checks"]}
    names = list(table["checks"])
    with course_style():
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) * len(systems) / 2 + 1.5))
        height = 0.8 / len(systems)
        for k, (system, rates) in enumerate(systems.items()):
            ys = [j + k * height for j, n in enumerate(names) if n in rates]
            got = [rates[n] for n in names if n in rates]
            shares = [r["share"] for r in got]
            errors = [[r["share"] - r["low"] for r in got], [r["high"] - r["share"] for r in got]]
            ax.barh(ys, shares, height=height, xerr=errors, capsize=2, label=system)
        ax.set_yticks([j + 0.4 - height / 2 for j in range(len(names))], names)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of answers that pass (95% Wilson interval)")
        ax.legend(frameon=False, loc="lower right", fontsize=8)
        ax.set_title("Verifiable instruction following on the held-out split")
        fig.tight_layout()
    return fig


def show_table(path: str | Path, figure_name: str = "instruct_following") -> tuple[str, Any, Path]:
    """What a lesson shows of a committed table: its text (with the line saying what made it), the
    figure, and where the figure was saved (``figures/<figure_name>.png``)."""
    from alpaca_lessons.common.results import made_by

    table = load_table(path)
    fig = table_figure(table)
    return f"{text_table(table)}\nmade by: {made_by(table)}", fig, save_figure(fig, figure_name)
