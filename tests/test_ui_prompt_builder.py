"""The prompt builder widget: the request it shows and its token budget."""

from __future__ import annotations

from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.ui import prompt_builder


def test_prompt_builder_shows_request_and_budget(real_data):
    panel = prompt_builder({"alpaca": read_seed_tasks()})
    html = panel.static_html()
    assert "4. Instruction:" in html and "tokens" in html
