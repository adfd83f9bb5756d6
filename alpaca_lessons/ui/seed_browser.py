"""Browse seed tasks one at a time, optionally only the classification ones or those matching a word."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from alpaca_lessons.data import SeedTask
from alpaca_lessons.ui.panel import Panel, pre


def task_card(task: SeedTask) -> str:
    """One seed task as an HTML card: id, name, type, instruction, first instance."""
    kind = "classification" if task.is_classification else "generation"
    first = task.instances[0]
    return (f"<div><code>{html.escape(task.id)}</code> · <b>{html.escape(task.name)}</b> · {kind}</div>"
            f"<div><b>Instruction</b>{pre(task.instruction)}</div>"
            f"<div><b>Input</b>{pre(first.input or '(none)')}</div>"
            f"<div><b>Output</b>{pre(first.output)}</div>")


def matching(tasks: Sequence[SeedTask], word: str = "", classification_only: bool = False) -> list[SeedTask]:
    """The tasks whose instruction contains ``word`` (case-insensitive), optionally classification only."""
    word = word.lower().strip()
    return [t for t in tasks if (not classification_only or t.is_classification) and word in t.instruction.lower()]


def seed_browser(tasks: Sequence[SeedTask]) -> Panel:
    """A slider over the tasks, a search box and a classification filter, above the current task card."""
    index = widgets.IntSlider(0, 0, len(tasks) - 1, description="task")
    search = widgets.Text(placeholder="word in the instruction", description="search")
    only_cls = widgets.Checkbox(False, description="classification only")
    card = widgets.HTML()
    state = {"shown": list(tasks)}

    def render() -> str:
        shown = state["shown"]
        if not shown:
            return "<i>no task matches</i>"
        return f"<div>{index.value + 1} of {len(shown)}</div>" + task_card(shown[index.value])

    def refresh(_=None) -> None:
        state["shown"] = matching(tasks, search.value, only_cls.value)
        index.max = max(len(state["shown"]) - 1, 0)
        card.value = render()

    for control in (index, search, only_cls):
        control.observe(refresh, names="value")
    refresh()
    return Panel([widgets.HBox([search, only_cls]), index, card], render, "Seed task browser")
