"""The blind judge widget: shortcuts, blindness until the end, each click on disk at once."""

from __future__ import annotations

from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation.blind import BlindSession
from alpaca_lessons.evaluation.pairs import Pair
from alpaca_lessons.ui import pairwise_judge
from alpaca_lessons.ui.pairwise import parse_shortcut

PAIRS = [Pair(f"p/{i}", f"Task {i}.", f"one-{i}", f"two-{i}", "secret-system-x", "secret-system-y")
         for i in range(2)]


def test_shortcuts():
    assert parse_shortcut("a") == ("A", "") and parse_shortcut(" B  more precise ") == ("B", "more precise")
    assert parse_shortcut("t") == ("tie", "")
    assert parse_shortcut("apple") is None and parse_shortcut("x") is None and parse_shortcut("") is None


def test_widget_records_choices_and_reveals_names_only_at_the_end(tmp_path):
    path = tmp_path / "j.jsonl"
    session = BlindSession(PAIRS, path, "tester", seed=2)
    panel = pairwise_judge(session)
    bar, _, buttons, reason, keys = panel.children
    first = session.current()
    assert "0 of 2 judged" in panel.static_html() and first.answer_a in panel.static_html()
    assert "secret-system" not in panel._repr_mimebundle_()["text/html"]
    reason.value = "shorter and right"
    buttons.children[0].click()
    assert AppendOnlyStore(path).read()[0]["reason"] == "shorter and right" and bar.value == 1
    assert reason.value == "" and "secret-system" not in panel.static_html()
    keys.value = "t same"
    assert keys.value == "" and [r["choice"] for r in AppendOnlyStore(path).read()] == ["A", "tie"]
    assert "secret-system-x" in panel.static_html() and buttons.children[1].disabled
