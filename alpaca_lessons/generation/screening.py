"""Screening candidate tasks: the post-processing rules, then the novelty (ROUGE-L) filter.

(Screening decides which generated tasks join the pool; judging a model's answers is ``evaluation``'s.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alpaca_lessons.common.text import Tokenizer
from alpaca_lessons.data import Record
from alpaca_lessons.generation.novelty import NoveltyFilter, NoveltyResult
from alpaca_lessons.generation.rules import TOO_SIMILAR, Block, Rejection, Rules, check_instruction, parse_reply


@dataclass(frozen=True)
class Screening:
    """What became of one block: its task (if it parsed), the rejection (None when kept), the novelty evidence."""

    number: int
    block: str  # the block's raw text
    task: Record | None
    rejection: Rejection | None
    novelty: NoveltyResult | None = None
    metric: str = "ROUGE-L"  # what ``novelty.max_score`` measures ("BM25" in the BELLE profile)

    @property
    def kept(self) -> bool:
        """Whether the task joined the pool."""
        return self.rejection is None

    def line(self, width: int = 70) -> str:
        """One printable line: number, decision, reason and the instruction (shortened)."""
        text = self.task.instruction if self.task else "block: " + " ".join(self.block.split())
        text = text if len(text) <= width else text[: width - 3] + "..."
        if self.kept:
            return f"{self.number:>3}  kept      {self.metric} max {self.novelty.max_score:.2f}  {text}"
        return f"{self.number:>3}  rejected  {self.rejection.reason}: {self.rejection.detail}\n" + " " * 15 + text


def screen(blocks: Iterable[Block], rules: Rules, novelty: NoveltyFilter) -> list[Screening]:
    """Run each parsed task through the rules and then the novelty filter, in order (kept tasks join the pool)."""
    screenings = []
    for block in blocks:
        if block.task is None:
            screenings.append(Screening(block.number, block.text, None, block.rejection))
            continue
        rejection = check_instruction(block.task.instruction, rules)
        if rejection is not None:
            screenings.append(Screening(block.number, block.text, block.task, rejection))
            continue
        result = novelty.consider(block.task.instruction)
        if not result.keep:
            closest = result.most_similar[0][0] if result.most_similar else ""
            rejection = Rejection(TOO_SIMILAR, f"ROUGE-L {result.max_score:.2f} with {closest!r}")
        screenings.append(Screening(block.number, block.text, block.task, rejection, result))
    return screenings


def screen_reply(text: str, finish_reason: str, first_number: int, rules: Rules,
                 novelty: NoveltyFilter) -> list[Screening]:
    """Parse one reply and screen its blocks: the whole of Alpaca's post-processing for one choice."""
    return screen(parse_reply(text, finish_reason, first_number, rules), rules, novelty)


def near_duplicates(instructions: Iterable[str], tokenizer: Tokenizer, threshold: float = 0.7
                    ) -> list[tuple[str, NoveltyResult]]:
    """Instructions a growing pool would reject when they arrive in this order (with the evidence)."""
    pool = NoveltyFilter((), threshold=threshold, tokenizer=tokenizer)
    return [(text, result) for text in instructions if not (result := pool.consider(text)).keep]
