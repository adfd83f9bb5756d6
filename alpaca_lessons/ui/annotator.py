"""The validity annotation form: one record at a time, three yes/no questions and a note.

A thin view over ``validity.AnnotationSession``, which does the work (appending each answer, resuming,
keeping changed answers) and is tested without widgets. Keyboard use: type ``yyn`` (instruction, input,
output) and optionally a note after a space into the quick-entry box, then Enter; or Tab through the
buttons.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from alpaca_lessons.analysis.validity import QUESTIONS, AnnotationSession, parse_quick_entry
from alpaca_lessons.ui.panel import Panel, pre


def record_card(session: AnnotationSession, position: int | None = None) -> str:
    """The record at ``position`` as HTML: progress, instruction, input, output and its current answers."""
    position = session.position if position is None else position
    record, current = session.record(position), session.answer_at(position)
    answered = "not answered yet" if current is None else "answered: " + ", ".join(
        f"{q.split('_')[0]} {'yes' if a else 'no'}" for q, a in zip(QUESTIONS, current.answers(), strict=True)) + (
        f" ({html.escape(current.note)})" if current.note else "")
    return (f"<div>record {position + 1} of {len(session)} (index {session.sample[position].index} in the data) · "
            f"{session.done()} answered · {answered}</div>"
            f"<div><b>Instruction</b>{pre(record.instruction)}</div>"
            f"<div><b>Input</b>{pre(record.input or '(empty)')}</div>"
            f"<div><b>Output</b>{pre(record.output or '(empty)')}</div>")


def annotator(session: AnnotationSession) -> Panel:
    """The form: progress bar, the record, three yes/no toggles, a note, save and navigation, quick entry."""
    progress = widgets.IntProgress(value=session.done(), min=0, max=len(session), description="done")
    card = widgets.HTML()
    toggles = {q: widgets.ToggleButtons(options=["yes", "no"], value=None, description="", tooltips=[text, text])
               for q, text in QUESTIONS.items()}
    note = widgets.Text(placeholder="optional note (why no, or unsure)", description="note")
    save = widgets.Button(description="save and next", button_style="primary")
    previous, following = widgets.Button(description="◀ previous"), widgets.Button(description="next ▶")
    quick = widgets.Text(placeholder="yyn wrong year  ⏎", description="quick entry", continuous_update=False)
    message = widgets.HTML()

    def show() -> None:
        progress.value = session.done()
        card.value = record_card(session)
        current = session.answer_at()
        for q, toggle in toggles.items():
            toggle.value = None if current is None else ("yes" if getattr(current, q) else "no")
        note.value = "" if current is None else current.note

    def store(answers: tuple[bool, bool, bool], text: str) -> None:
        saved = session.answer(*answers, note=text)
        message.value = f"saved record {saved.index} (appended to {html.escape(str(session.log.path))})"
        show()

    def on_save(_=None) -> None:
        if any(t.value is None for t in toggles.values()):
            message.value = "<b>answer all three questions first</b>"
            return
        answers = tuple(toggles[q].value == "yes" for q in QUESTIONS)
        store((answers[0], answers[1], answers[2]), note.value)

    def on_quick(change) -> None:
        if not change["new"].strip():
            return
        try:
            store(*parse_quick_entry(change["new"]))
        except ValueError as exc:
            message.value = f"<b>{html.escape(str(exc))}</b>"
        quick.value = ""

    def move(step: int) -> None:
        session.goto((session.position + step) % len(session))
        message.value = ""
        show()

    save.on_click(on_save)
    previous.on_click(lambda _: move(-1))
    following.on_click(lambda _: move(1))
    quick.observe(on_quick, names="value")
    show()
    questions = [widgets.HBox([widgets.Label(text, layout=widgets.Layout(width="520px")), toggles[q]])
                 for q, text in QUESTIONS.items()]
    return Panel([progress, card, *questions, note, widgets.HBox([previous, save, following]), quick, message],
                 lambda: record_card(session), "Validity annotator")
