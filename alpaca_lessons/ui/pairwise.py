"""The blind A/B judge: one pair at a time, answers in seeded left/right order, system names hidden until
every item is judged; each choice is appended to the session's store the moment it is made.

Keyboard: click into the shortcut box, type ``a``, ``b`` or ``t`` (optionally followed by a reason) and
press Enter. The buttons do the same. All logic lives in :class:`alpaca_lessons.evaluation.blind.BlindSession`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from alpaca_lessons.evaluation.blind import BlindSession
from alpaca_lessons.ui.panel import Panel, pre

KEYS = {"a": "A", "b": "B", "t": "tie"}


def parse_shortcut(text: str) -> tuple[str, str] | None:
    """``"a clearer"`` -> ("A", "clearer"); None when the first letter is not a, b or t."""
    text = text.strip()
    if not text or text[0].lower() not in KEYS or (len(text) > 1 and not text[1].isspace()):
        return None
    return KEYS[text[0].lower()], text[1:].strip()


def item_html(session: BlindSession) -> str:
    """The current item (blind) with progress, or the revealed result once every item is judged."""
    progress = f"<div>{session.done} of {session.total} judged · annotator: {html.escape(session.annotator)}</div>"
    item = session.current()
    if item is None:
        rows = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(str(rate))}</li>"
                       for name, rate in session.reveal().items())
        return progress + f"<div>All judged. The systems were:<ul>{rows}</ul></div>"
    return (progress + f"<div><b>Instruction</b>{pre(item.pair.instruction)}</div>"
            f"<div style='display:flex; gap:1em'><div style='flex:1'><b>A</b>{pre(item.answer_a)}</div>"
            f"<div style='flex:1'><b>B</b>{pre(item.answer_b)}</div></div>")


def pairwise_judge(session: BlindSession) -> Panel:
    """Buttons A / B / tie, a reason box, a keyboard shortcut box and a progress bar over the session."""
    view = widgets.HTML()
    reason = widgets.Text(placeholder="optional reason", description="reason")
    shortcut = widgets.Text(placeholder="a / b / t [reason], then Enter", description="keys",
                            continuous_update=False)
    bar = widgets.IntProgress(min=0, max=session.total)
    buttons = [widgets.Button(description=label) for label in ("A is better", "B is better", "tie")]

    def refresh() -> None:
        view.value = item_html(session)
        bar.value = session.done
        for button in buttons:
            button.disabled = session.finished

    def choose(choice: str, why: str) -> None:
        item = session.current()
        if item is not None:
            session.record(item.pair.id, choice, why)
        reason.value = ""
        refresh()

    for button, choice in zip(buttons, ("A", "B", "tie"), strict=True):
        button.on_click(lambda _, c=choice: choose(c, reason.value))

    def on_key(change) -> None:
        parsed = parse_shortcut(change["new"])
        if parsed:
            shortcut.value = ""
            choose(*parsed)

    shortcut.observe(on_key, names="value")
    refresh()
    return Panel([bar, view, widgets.HBox(buttons), reason, shortcut], lambda: item_html(session),
                 "Blind pairwise judge")
