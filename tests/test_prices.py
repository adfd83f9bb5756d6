"""The one price table: dollars per million tokens, the arithmetic, and who reads it."""

from __future__ import annotations

import pytest

from alpaca_lessons.common.prices import DAVINCI_003, PRICES, Prices
from alpaca_lessons.generation.accounting import Accounting, teacher_prices
from alpaca_lessons.generation.teacher import REPLAY_MODEL


def test_cost_is_tokens_times_price_per_million():
    prices = Prices(1.5, 6.0)
    assert prices.cost(2_000_000, 500_000) == pytest.approx(3.0 + 3.0)
    assert prices.cost(0, 0) == 0.0 and prices.source == "given by the user"


def test_davinci_003_cost_two_cents_per_thousand_tokens():
    assert DAVINCI_003.cost(1_000, 1_000) == pytest.approx(0.04)
    assert PRICES["text-davinci-003"] is DAVINCI_003


def test_the_judge_models_list_prices():
    assert (PRICES["gpt-4-0613"].input_per_million, PRICES["gpt-4-0613"].output_per_million) == (30.0, 60.0)
    assert PRICES["gpt-4o-mini-2024-07-18"].cost(1_000_000, 1_000_000) == pytest.approx(0.75)


def test_teachers_are_priced_from_the_table_and_the_replay_as_davinci_003():
    assert teacher_prices(REPLAY_MODEL) is DAVINCI_003
    assert teacher_prices("gpt-4-0613") is PRICES["gpt-4-0613"] and teacher_prices("my-local-llama") is None
    run = Accounting(prompt_tokens=10_000, completion_tokens=5_000, kept=3)
    assert run.cost(DAVINCI_003) == pytest.approx(0.3) and run.cost(None) is None
