"""What a run did and what it cost: counts, rejections by reason, retries, tokens, prices."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from alpaca_lessons.common.prices import DAVINCI_003, PRICES, Prices
from alpaca_lessons.generation.rules import REASONS
from alpaca_lessons.generation.teacher import REPLAY_MODEL
from alpaca_lessons.generation.teacher.self_instruct_replay import SELF_INSTRUCT_REPLAY

ALPACA_TASKS = 52_002
ALPACA_REPORTED_COST = "less than $500"  # the Alpaca blog post, March 2023, for the 52K


def teacher_prices(model: str) -> Prices | None:
    """The list price of a teacher by its model name, or None when the course knows none.

    The replays' tokens are davinci-003's own outputs, so they are priced as davinci-003 charged for them (GPT-3
    davinci, Self-Instruct's model, had the same list price: $0.02 per 1K tokens)."""
    return DAVINCI_003 if model in (REPLAY_MODEL, SELF_INSTRUCT_REPLAY) else PRICES.get(model)


@dataclass
class Accounting:
    """Counts over a run (or one request); two accountings add up with ``+=``."""

    requests: int = 0  # requests applied (one request carries request_batch_size prompts)
    failed_requests: int = 0  # requests that failed every attempt
    discarded_requests: int = 0  # answered after the target was reached: paid for, not applied
    prompts: int = 0
    replies: int = 0  # choices received
    blocks: int = 0  # candidate tasks: "###" blocks of the replies
    parsed: int = 0  # blocks that split into instruction, input and output
    kept: int = 0
    rejections: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    finish_reasons: Counter = field(default_factory=Counter)
    context_cuts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_requests: int = 0  # requests whose usage the server did not send (counted here, r50k)

    def __iadd__(self, other: Accounting) -> Accounting:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (counters as plain dicts in a fixed order)."""
        return {f.name: dict(sorted(v.items())) if isinstance(v := getattr(self, f.name), Counter) else v
                for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Accounting:
        """The inverse of ``to_dict``."""
        made = cls()
        for f in fields(cls):
            value = data.get(f.name, getattr(made, f.name))
            setattr(made, f.name, Counter(value) if isinstance(getattr(made, f.name), Counter) else value)
        return made

    @property
    def keep_rate(self) -> float:
        """Kept tasks over candidate blocks."""
        return self.kept / self.blocks if self.blocks else 0.0

    def cost(self, prices: Prices | None) -> float | None:
        """Dollars spent by the token counts, or None without a price table."""
        return None if prices is None else prices.cost(self.prompt_tokens, self.completion_tokens)

    def projected_cost(self, prices: Prices | None, tasks: int = ALPACA_TASKS) -> float | None:
        """The cost of ``tasks`` kept tasks at this run's cost per kept task."""
        cost = self.cost(prices)
        return None if cost is None or not self.kept else cost / self.kept * tasks

    def rejection_table(self) -> list[tuple[str, int, float]]:
        """(reason, count, share of candidate blocks), in the order the rules apply, kept last."""
        rows = [(r, self.rejections[r], self.rejections[r] / self.blocks if self.blocks else 0.0)
                for r in (*REASONS, *sorted(set(self.rejections) - set(REASONS)))]
        return rows + [("kept", self.kept, self.keep_rate)]

    def format(self, prices: Prices | None = None) -> str:
        """The accounting as two plain-text tables: the counts, then the rejections by reason."""
        retries = ", ".join(f"{k}: {v}" for k, v in sorted(self.retries.items())) or "none"
        estimated = f" ({self.estimated_requests} requests estimated in r50k)" if self.estimated_requests else ""
        lines = [
            f"requests           {self.requests} ({self.failed_requests} failed), {self.prompts} prompts, "
            f"{self.replies} replies" + (f"; {self.discarded_requests} more answered after the target (paid, "
                                         "not applied)" if self.discarded_requests else ""),
            f"retries            {sum(self.retries.values())} ({retries}); max_tokens cut {self.context_cuts} times",
            "finish reasons     " + (", ".join(f"{k}: {v}" for k, v in sorted(self.finish_reasons.items())) or "-"),
            f"candidate tasks    {self.blocks} ({self.parsed} parsed)",
            f"kept tasks         {self.kept} ({self.keep_rate:.1%} of candidates)",
            f"tokens             {self.prompt_tokens:,} in, {self.completion_tokens:,} out{estimated}",
        ]
        cost = self.cost(prices)
        if cost is None:
            lines.append("cost               unknown (no price table for this teacher)")
        else:
            per_task = f"${cost / self.kept:.5f} per kept task" if self.kept else "no task kept"
            lines.append(f"cost               ${cost:.4f} ({per_task}) at {prices.source}")
            if self.kept:
                lines.append(f"projected          ${self.projected_cost(prices):,.0f} for {ALPACA_TASKS:,} kept tasks "
                             f"at this cost per kept task (Alpaca reported {ALPACA_REPORTED_COST})")
        lines += ["", f"{'reason':<40} {'count':>6} {'share':>7}"]
        lines += [f"{reason:<40} {count:>6} {share:>7.1%}" for reason, count, share in self.rejection_table()]
        return "\n".join(lines)
