"""The seed browser: the filter it applies, and a static view that follows its controls."""

from __future__ import annotations

from alpaca_lessons.data import Instance, SeedTask
from alpaca_lessons.ui import seed_browser
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
