"""Exercises, widgets' static views, the environment report and the CLI."""

from __future__ import annotations

from alpaca_lessons.cli import main
from alpaca_lessons.course import exercises
from alpaca_lessons.data import Instance, SeedTask, read_seed_tasks
from alpaca_lessons.ui import prompt_builder, seed_browser
from alpaca_lessons.ui.seed_browser import matching

TASKS = [
    SeedTask("t0", "a", "Name a fruit.", (Instance("", "Apple"),), False),
    SeedTask("t1", "b", "Is this positive?", (Instance("I love it", "Yes"),), True),
    SeedTask("t2", "c", "Classify the animal as mammal or bird.", (Instance("Eagle", "bird"),), True),
]


def test_matching_filters():
    assert [t.id for t in matching(TASKS, "", classification_only=True)] == ["t1", "t2"]
    assert [t.id for t in matching(TASKS, "FRUIT")] == ["t0"]


def test_seed_browser_static_view_follows_the_controls():
    panel = seed_browser(TASKS)
    assert "t0" in panel.static_html() and "1 of 3" in panel.static_html()
    search = panel.children[0].children[0]
    search.value = "animal"
    assert "t2" in panel.static_html() and "1 of 1" in panel.static_html()
    bundle = panel._repr_mimebundle_()
    assert "Eagle" in bundle["text/html"] and "interactive widget" in bundle["text/plain"]


def test_prompt_builder_shows_request_and_budget(real_data):
    panel = prompt_builder({"alpaca": read_seed_tasks()})
    html = panel.static_html()
    assert "4. Instruction:" in html and "tokens" in html


def test_exercises_check_answers(real_data, capsys):
    assert exercises.is_correct("02.largest_prompt", 1025)
    assert not exercises.is_correct("02.largest_prompt", 3072)
    assert exercises.is_correct("00.license", " cc by-nc 4.0") and not exercises.is_correct("00.license", None)
    exercises.check("02.largest_prompt", 1025)
    exercises.check("02.largest_prompt", 3072)
    exercises.check("01.empty_inputs", None)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[02.largest_prompt] correct!" and out[1].startswith("[02.largest_prompt] not quite. Hint:")
    assert "not answered yet" in out[3]


def test_every_exercise_has_a_computable_answer(real_data):
    for exercise_id, exercise in exercises.EXERCISES.items():
        assert exercise.solve() is not None, exercise_id


def test_cli_data_list_and_verify(real_data, capsys):
    assert main(["data", "list"]) == 0
    assert "alpaca_data" in capsys.readouterr().out
    assert main(["data", "verify", "seed_tasks", "alpaca_prompt"]) == 0
    assert "2 ok, 0 failed" in capsys.readouterr().out


def test_cli_reports_errors_without_a_traceback(capsys, monkeypatch):
    monkeypatch.delenv("ALPACA_LESSONS_DATA", raising=False)
    assert main(["data", "verify", "seed_tasks"]) == 1
    assert "0 ok, 1 failed" in capsys.readouterr().out
    assert main(["data", "fetch", "no-such-set"]) == 2
    assert "unknown data set 'no-such-set'" in capsys.readouterr().err
