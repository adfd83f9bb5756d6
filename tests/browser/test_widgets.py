"""The lessons' widgets, clicked and typed into in JupyterLab: each scenario checks what the page shows and,
where the widget saves, what is on disk (the scratch project's ``work/``). Expected values come from the raw
data files or from what the page showed a step earlier, not from the widgets' code. Each scenario runs on its
lesson as the page check left it (opened, Run All done; see ``conftest``)."""

from __future__ import annotations

import json
import re

import pytest
from lab_driver import Widget, cell_text

from alpaca_lessons.data.registry import locate
from alpaca_lessons.generation.prompts import token_budget


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.lesson("01_seed_tasks.ipynb")
def test_seed_browser_filters_the_shown_task(lesson):
    raw = jsonl(locate("seed_tasks"))  # the file itself, read without the package's reader
    classification = [t for t in raw if t["is_classification"]]
    about_sentiment = [t for t in classification if "sentiment" in t["instruction"].lower()]
    browser = Widget(lesson.run_cleanly("01_seed_tasks.ipynb"), "seed_browser(seeds)")
    browser.wait_shows(f"1 of {len(raw)}\n{raw[0]['id']}")

    browser.tick("classification only")
    browser.wait_shows(f"1 of {len(classification)}\n{classification[0]['id']}")
    browser.type("search", "sentiment")
    shown = browser.wait_shows(f"1 of {len(about_sentiment)}\n{about_sentiment[0]['id']}")
    assert about_sentiment[0]["instruction"] in shown


def shown_request(text: str) -> tuple[int, str]:
    """The token count the prompt builder prints and the request under it."""
    summary, _, request = text.partition("\n")
    return int(re.match(r"prompt: (\d+) tokens", summary).group(1)), request


@pytest.mark.lesson("02_prompt_design.ipynb")
def test_prompt_builder_follows_the_number_of_seed_tasks(lesson):
    builder = Widget(lesson.run_cleanly("02_prompt_design.ipynb"), "prompt_builder(")
    tokens_3, request_3 = shown_request(builder.wait_shows("\n4. Instruction:"))  # 3 examples, then task 4 to write
    assert request_3.count(". Instruction:") == 4 and request_3.rstrip().endswith("4. Instruction:")

    builder.slide("examples", 5)
    tokens_5, request_5 = shown_request(builder.wait_shows("\n6. Instruction:"))
    assert request_5.count(". Instruction:") == 6 and request_5.rstrip().endswith("6. Instruction:")
    assert tokens_5 > tokens_3
    assert token_budget(request_5).prompt_tokens == tokens_5  # the count is the shown request's


@pytest.mark.lesson("05_data_validity.ipynb")
def test_annotator_saves_both_ways_and_resumes_after_a_restart(lesson, lab):
    page = lesson.run_cleanly("05_data_validity.ipynb")
    mine = lab.project / "work" / "annotations" / "validity_you.jsonl"
    form = Widget(page, "annotator(session)")
    first = form.wait_shows("record 1 of 200")
    assert "0 answered · not answered yet" in first and not mine.exists()
    indices = [int(re.search(r"\(index (\d+) in the data\)", first).group(1))]

    for row, option in enumerate(("yes", "yes", "no")):  # the toggles, then the button
        form.toggle(row, option)
    form.click("save and next")
    second = form.wait_shows("record 2 of 200")
    assert f"saved record {indices[0]}" in second and "1 answered · not answered yet" in second
    indices.append(int(re.search(r"\(index (\d+) in the data\)", second).group(1)))

    form.type("quick entry", "nyy wrong year", enter=True)  # the keyboard way
    third = form.wait_shows("record 3 of 200")
    assert f"saved record {indices[1]}" in third and "2 answered" in third
    saved = [(a["index"], a["instruction_valid"], a["input_appropriate"], a["output_correct"], a["note"])
             for a in jsonl(mine)]
    assert saved == [(indices[0], True, True, False, ""), (indices[1], False, True, True, "wrong year")]

    page.restart_and_run_to("annotator(session)")  # the rest of the lesson ran already (the page check)
    assert page.problems() == []
    resumed = Widget(page, "annotator(session)").wait_shows("record 3 of 200")
    assert "2 answered · not answered yet" in resumed
    assert int(re.search(r"\(index (\d+) in the data\)", resumed).group(1)) not in indices
    assert [a["index"] for a in jsonl(mine)] == indices  # each answer on disk once, nothing added by the restart


def detector_z(text: str) -> float:
    return float(re.search(r"detector: .*z = (-?[\d.]+)", text).group(1))


@pytest.mark.lesson("07_inference_and_watermarks.ipynb")
def test_playground_generates_and_the_watermark_changes_the_verdict(lesson):
    playground = Widget(lesson.run_cleanly("07_inference_and_watermarks.ipynb"), "playground(model")
    first = playground.wait_shows("detector:")
    playground.type("instruction", "Name three colors.")
    playground.click("Generate")
    plain = wait_changed(playground, first)
    assert detector_z(plain) < 4  # no watermark: the detector finds nothing (lesson 07's threshold is z >= 4)

    playground.tick("watermark")
    playground.click("Generate")
    marked = wait_changed(playground, plain)
    assert detector_z(marked) >= 4


def wait_changed(widget: Widget, before: str) -> str:
    return widget.wait_until(lambda now: now != before and "detector:" in now, 60, "a new answer")


@pytest.mark.lesson("08_pairwise_evaluation.ipynb")
def test_blind_judge_saves_resumes_after_a_restart_and_is_counted(lesson, lab):
    page = lesson.run_cleanly("08_pairwise_evaluation.ipynb")
    store = lab.project / "work" / "annotations" / "pairwise_tuned_vs_base_you.jsonl"
    judge = Widget(page, "pairwise_judge(session)")
    judge.wait_shows("0 of 20 judged")
    judge.click("A is better")
    judge.wait_shows("1 of 20 judged")
    judge.click("B is better")
    judge.wait_shows("2 of 20 judged")
    judge.type("keys", "t both vague", enter=True)
    fourth = judge.wait_shows("3 of 20 judged")
    saved = jsonl(store)
    assert [(j["choice"], j["reason"]) for j in saved] == [("A", ""), ("B", ""), ("tie", "both vague")]
    assert len({j["pair_id"] for j in saved}) == 3

    page.restart_and_run_all()
    assert page.problems() == []
    resumed = Widget(page, "pairwise_judge(session)").wait_shows("3 of 20 judged")
    assert resumed.split("\n", 1)[1] == fourth.split("\n", 1)[1]  # the same pair as before the restart
    assert jsonl(store) == saved
    assert "3 of 20 judged; saved to work/annotations/pairwise_tuned_vs_base_you.jsonl" in cell_text(
        page, "pairwise_judge(session)")
    assert cell_text(page, "student_win_rate(ours").startswith("3 of 20 judged: judge the rest")
    assert cell_text(page, "agreement_with_judges(ours").startswith("3 of 20 judged: judge the rest")
