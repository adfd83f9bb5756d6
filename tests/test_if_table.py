"""The instruction-following table on hand-made records and answers: check rates, ROUGE-L, the length
baseline's verdicts, the text table and the figure."""

from __future__ import annotations

import json

import pytest

from alpaca_lessons.common.paths import project_root
from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.if_table import build_table, comparisons, contrasts, show_table, text_table

RECORDS = [Record("Name 3 types of clouds.", "", "Cirrus, stratus and cumulus."),
           Record("Classify the headline as either positive or negative.", "Jobs are up", "positive"),
           Record("Summarize the text in one sentence.", "Long text.", "A short summary.")]


def answer(text: str, ended: bool = True) -> dict:
    return {"answer": text, "ended": ended, "seconds": 0.5, "new_tokens": len(text.split())}


ANSWERS = {
    "tuned": {0: answer("Cirrus, stratus and cumulus."), 1: answer("Negative."), 2: answer("One. Two.", False)},
    "base": {0: answer("### Instruction: clouds", False), 1: answer("It is about jobs."), 2: answer("Done.")},
}


def test_rates_rouge_and_length_verdicts_by_hand():
    table = build_table(RECORDS, ANSWERS)
    tuned, base = table["models"]["tuned"], table["models"]["base"]
    assert {k: (v["passed"], v["n"]) for k, v in tuned["checks"].items()} == {
        "ends": (2, 3), "slot": (3, 3), "list_n": (1, 1), "options": (1, 1), "length": (0, 1)}
    assert {k: (v["passed"], v["n"]) for k, v in base["checks"].items()} == {
        "ends": (2, 3), "slot": (2, 3), "list_n": (0, 1), "options": (0, 1), "length": (1, 1)}
    assert "ends" not in table["reference"]["checks"]  # the references were not generated here
    # ROUGE-L F by hand: identical (1), no overlap with "positive" (0), none with "a short summary" (0)
    assert tuned["rouge_l"]["mean"] == pytest.approx(1 / 3) and tuned["seconds_per_answer"] == 0.5
    by_pair = {(c["first"], c["second"]): (c["wins"], c["ties"], c["losses"]) for c in table["comparisons"]}
    # longer (stripped characters) wins, equal lengths tie: tuned vs reference 28=28 tie, 9>8 win, 9<16 loss
    assert by_pair == {("tuned", "reference"): (1, 1, 1), ("base", "reference"): (1, 0, 2),
                       ("tuned", "base"): (2, 0, 1)}
    assert table["judge"].startswith("length-baseline")


def test_comparisons_are_models_against_the_reference_then_pairs_in_order():
    assert comparisons(["tuned", "base", "scratch"]) == [
        ("tuned", "reference"), ("base", "reference"), ("scratch", "reference"),
        ("tuned", "base"), ("tuned", "scratch"), ("base", "scratch")]


def test_an_llm_judge_needs_a_store():
    with pytest.raises(ValueError, match="judge_store"):
        build_table(RECORDS, ANSWERS, judge=object())


def test_text_table_and_figure_from_a_committed_file(tmp_path):
    table = {"command": None, "date": "2026-12-01T00:00:00+00:00", "machine": {"cpu": "x", "cpu_count": 2},
             **build_table(RECORDS, ANSWERS)}
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table))
    text, fig, saved = show_table(path, "test_if_table")
    assert text.splitlines()[0] == "3 held-out records; applicable: ends 3, slot 3, list_n 1, options 1, length 1"
    assert "tuned vs base: 2 wins, 0 ties, 1 losses: 66.7%" in text and "(run from Python)" in text
    assert text_table(table) in text and len(fig.axes[0].patches) == 2 * 5 + 4  # 5 bars per model, 4 reference
    saved_path = saved if saved.is_absolute() else project_root() / saved
    assert saved_path.is_file()
    saved_path.unlink()


def test_contrasts_say_where_intervals_lie():
    def rate(share: float, low: float, high: float) -> dict:
        return {"share": share, "low": low, "high": high}

    table = {"checks": {"ends": "", "slot": "", "list_n": ""},
             "models": {"tuned": {"checks": {"ends": rate(0.9, 0.8, 0.95), "slot": rate(0.5, 0.4, 0.6),
                                             "list_n": rate(0.2, 0.1, 0.3)},
                                  "rouge_l": {"mean": 0.2, "low": 0.19, "high": 0.21}},
                        "base": {"checks": {"ends": rate(0.1, 0.05, 0.2), "slot": rate(0.55, 0.45, 0.65)},
                                 "rouge_l": {"mean": 0.1, "low": 0.09, "high": 0.11}}}}
    found = contrasts(table, "tuned", "base")
    assert [(c.measure, c.relation) for c in found] == [("ends", "above"), ("slot", "overlap"), ("rouge_l", "above")]
    assert [c.relation for c in contrasts(table, "base", "tuned")] == ["below", "overlap", "below"]
    assert str(found[0]) == "ends     tuned 90.0% [80.0%, 95.0%] vs base 10.0% [5.0%, 20.0%]: above, intervals apart"
    assert str(found[2]).endswith("0.200 [0.190, 0.210] vs base 0.100 [0.090, 0.110]: above, intervals apart")
