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
    options, button = panel.children[2].children[2], panel.children[2].children[4]
    options.value = True  # watermark on
    button.click()
    html = panel.static_html()
    assert "Name three colors." in html and "detector:" in html and "scored tokens green" in html


class _Flags:
    """A hand-made moderator: flags any text containing "secret"."""

    name = "flags 'secret'"

    def check(self, texts):
        from alpaca_lessons.generation.moderation import Verdict

        return [Verdict("secret" in t, 1.0 if "secret" in t else 0.0) for t in texts]


def test_moderation_blocks_the_request_before_generation_and_the_answer_after(tiny_model):  # noqa: F811
    from alpaca_lessons.generation.moderation import BLOCKED_PROMPT, WITHHELD_ANSWER
    from alpaca_lessons.ui.playground import respond

    model, tokenizer = tiny_model
    blocked = respond(model, tokenizer, "Tell me the secret.", max_new_tokens=4, moderator=_Flags())
    assert BLOCKED_PROMPT in blocked and "detector:" not in blocked  # the model was never asked
    clean = respond(model, tokenizer, "Name three colors.", max_new_tokens=4, moderator=_Flags())
    assert "moderation, answer:</i> not flagged" in clean and "detector:" in clean

    class _FlagsEverything(_Flags):
        def check(self, texts):
            from alpaca_lessons.generation.moderation import Verdict

            return [Verdict(len(texts[0]) < 1000 and not t.startswith("Name"), 1.0) for t in texts]

    withheld = respond(model, tokenizer, "Name three colors.", max_new_tokens=4, moderator=_FlagsEverything())
    assert WITHHELD_ANSWER in withheld and "detector:" in withheld


def test_the_model_menu_switches_which_model_answers(tiny_model):  # noqa: F811
    """Lesson 07's base/tuned switch: the same instruction, seed and settings, another model's answer."""
    from alpaca_lessons.models.modeling import build_model
    from alpaca_lessons.ui.playground import playground, respond

    model, tokenizer = tiny_model
    other = build_model(model.config, seed=1).eval()  # same shape and tokenizer, other weights
    panel = playground(model, tokenizer, "Name three colors.", max_new_tokens=8,
                       models={"tuned": (model, tokenizer), "other": (other, tokenizer)})
    menu, button = panel.children[2].children[0], panel.children[2].children[-1]
    assert menu.options == ("tuned", "other") and "model: tuned" in panel.static_html()
    menu.value = "other"
    button.click()
    expected = respond(other, tokenizer, "Name three colors.", max_new_tokens=8)
    assert panel.children[3].value == expected != respond(model, tokenizer, "Name three colors.", max_new_tokens=8)
    assert "model: other" in panel.static_html()
    assert len(playground(model, tokenizer, "", max_new_tokens=4).children[2].children) == 5  # no menu for one
    assert "model:" not in playground(model, tokenizer, "", max_new_tokens=4).static_html()
