"""Build a generation request interactively: pick the prompt, how many seeds, and the sampling seed."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets

from alpaca_lessons.data import SeedTask
from alpaca_lessons.generation.prompts import PROMPTS, build_request, token_budget
from alpaca_lessons.ui.panel import Panel, pre


def prompt_builder(seeds_by_variant: dict[str, Sequence[SeedTask]]) -> Panel:
    """Controls for variant, number of examples and seed, above the request text and its token budget."""
    variant = widgets.Dropdown(options=[v for v in PROMPTS if v in seeds_by_variant], description="prompt")
    k = widgets.IntSlider(3, 1, 6, description="examples")
    seed = widgets.IntText(0, description="seed")
    unescape = widgets.Checkbox(False, description="unescape \\n (BELLE)")
    text = widgets.HTML()

    def render() -> str:
        prompt = build_request(seeds_by_variant[variant.value], variant=variant.value, k=k.value,
                               seed=seed.value, unescape=unescape.value)
        return f"<div>{token_budget(prompt).summary()}</div>" + pre(prompt)

    def refresh(_=None) -> None:
        text.value = render()

    for control in (variant, k, seed, unescape):
        control.observe(refresh, names="value")
    refresh()
    return Panel([widgets.HBox([variant, k]), widgets.HBox([seed, unescape]), text], render,
                 "Prompt builder")
