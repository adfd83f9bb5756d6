"""The inference playground: Generate shows the answer and the watermark detector's verdict."""

from __future__ import annotations

from model_fixtures import tiny_model  # noqa: F401  (a fixture)


def test_playground_generates_and_reports_the_detector(tiny_model):  # noqa: F811
    from alpaca_lessons.ui.playground import playground

    model, tokenizer = tiny_model
    panel = playground(model, tokenizer, "Name three colors.", max_new_tokens=12)
    first = panel.static_html()  # an instruction was given: its answer is generated at once
    assert "press Generate" not in first and "detector:" in first
    assert "press Generate" in playground(model, tokenizer, "", max_new_tokens=4).static_html()
    options, button = panel.children[2].children[2], panel.children[2].children[3]
    options.value = True  # watermark on
    button.click()
    html = panel.static_html()
    assert "Name three colors." in html and "detector:" in html and "scored tokens green" in html
