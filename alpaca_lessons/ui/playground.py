"""The inference playground: an instruction (and optional input) in, the model's response out, with the
watermark switchable and the detector's verdict under the response, and optionally a moderator (the Alpaca
demo's other mitigation) before generation (the request) and after it (the answer)."""

from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets as widgets

from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.watermark import WatermarkLogitsProcessor, detect
from alpaca_lessons.generation.moderation import BLOCKED_PROMPT, WITHHELD_ANSWER, Moderator
from alpaca_lessons.models.infer import TEMPERATURE, generate
from alpaca_lessons.ui.panel import Panel, pre


def respond(model, tokenizer, instruction: str, text_input: str = "", *, watermark: bool = False,
            temperature: float = TEMPERATURE, max_new_tokens: int = 128, seed: int = 0,
            moderator: Moderator | None = None) -> str:
    """The response as HTML: the text, then the detector's z-score (whether or not it was watermarked).

    With a ``moderator``, a flagged request is not sent to the model and a flagged answer is withheld; the
    verdicts are shown either way."""
    notes = ""
    if moderator is not None:
        request = moderator.check([f"{instruction}\n{text_input}".strip()])[0]
        notes = f"<div><i>moderation ({html.escape(moderator.name)}), request:</i> {html.escape(str(request))}</div>"
        if request.flagged:
            return pre(BLOCKED_PROMPT) + notes
    processors = [WatermarkLogitsProcessor()] if watermark else []
    result = generate(model, tokenizer, [Record(instruction, text_input)], max_new_tokens=max_new_tokens,
                      temperature=temperature, seed=seed, processors=processors, progress=False)[0]
    verdict = (str(detect(result.token_ids, model.config.vocab_size)) if len(result.token_ids) > 1
               else "too short to test")
    text = result.text or "(empty response)"
    if moderator is not None and result.text:
        answer = moderator.check([result.text])[0]
        notes += f"<div><i>moderation, answer:</i> {html.escape(str(answer))}</div>"
        text = WITHHELD_ANSWER if answer.flagged else text
    return f"{pre(text)}<div><i>detector:</i> {html.escape(verdict)}</div>{notes}"


def playground(model, tokenizer, instruction: str = "", text_input: str = "", *, max_new_tokens: int = 128,
               moderator: Moderator | None = None, models: Mapping[str, tuple] | None = None) -> Panel:
    """Text boxes for the instruction and input, temperature, seed, a watermark switch and a Generate button;
    with a ``moderator``, a switch that puts it before and after generation (on at the start); with ``models``
    (name -> (model, tokenizer)), a menu that switches the model answering, ``model`` itself listed first as
    "model" unless it is one of them.

    Given an instruction, the answer to it is generated once at the start, so the panel (and its static view
    in a committed notebook) shows a real answer rather than an empty box."""
    instruction_box = widgets.Textarea(instruction, description="instruction", layout={"width": "95%"})
    input_box = widgets.Textarea(text_input, description="input", placeholder="(optional)", layout={"width": "95%"})
    temperature = widgets.FloatSlider(TEMPERATURE, min=0.0, max=1.5, step=0.1, description="temperature")
    seed = widgets.IntText(0, description="seed")
    watermark = widgets.Checkbox(False, description="watermark")
    moderation = widgets.Checkbox(moderator is not None, description="moderation", disabled=moderator is None)
    choices = dict(models or {})
    if not any(m is model for m, _ in choices.values()):
        choices = {"model": (model, tokenizer), **choices}
    which = widgets.Dropdown(options=list(choices), description="model", layout={"width": "220px"})
    button = widgets.Button(description="Generate")
    output = widgets.HTML("<i>press Generate</i>")

    def run(_=None) -> None:
        model, tokenizer = choices[which.value]
        output.value = respond(model, tokenizer, instruction_box.value, input_box.value, watermark=watermark.value,
                               temperature=temperature.value, max_new_tokens=max_new_tokens, seed=seed.value,
                               moderator=moderator if moderation.value else None)

    button.on_click(run)
    if instruction.strip():
        run()
    row = ([which] if len(choices) > 1 else []) + [temperature, seed, watermark, moderation, button]
    return Panel([instruction_box, input_box, widgets.HBox(row), output],
                 lambda: pre(f"model: {which.value}\n" * (len(choices) > 1) + f"instruction: "
                             f"{instruction_box.value}\ninput: {input_box.value}") + output.value,
                 "Inference playground")
