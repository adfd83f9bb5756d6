"""Every price the course quotes, in one place: US dollars per million tokens, prompt and completion.

Generation prices a run of the teacher (lesson 03: text-davinci-003, which Alpaca paid for), and the
evaluation stage prices an LLM judge (lesson 08: the GPT-4 snapshots AlpacaEval used). Both read this
table, and both do the arithmetic with :meth:`Prices.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens, prompt and completion, and where the numbers come from."""

    input_per_million: float
    output_per_million: float
    source: str = "given by the user"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollars for this many tokens."""
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6


DAVINCI_003 = Prices(20.0, 20.0, "text-davinci-003's list price in 2023: $0.02 per 1K tokens, prompt and completion")

# By model name: OpenAI's list prices for the dated snapshots.
PRICES: dict[str, Prices] = {
    "text-davinci-003": DAVINCI_003,
    "gpt-4-0613": Prices(30.0, 60.0, "gpt-4-0613's list price (the AlpacaEval-1 judge)"),
    "gpt-4-1106-preview": Prices(10.0, 30.0, "gpt-4-1106-preview's list price"),
    "gpt-4o-2024-08-06": Prices(2.5, 10.0, "gpt-4o-2024-08-06's list price"),
    "gpt-4o-mini-2024-07-18": Prices(0.15, 0.6, "gpt-4o-mini-2024-07-18's list price"),
}
