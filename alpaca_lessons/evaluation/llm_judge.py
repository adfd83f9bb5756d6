"""An LLM as a pairwise judge: AlpacaEval's ranking prompt, reading messy verdicts, asking in both orders
to cancel a position bias, the judge's cost, and the length baseline (the longer answer wins).

Every request goes through the teacher client (``generation.teacher.client``): nothing leaves this
machine without ``allow_remote``, retries are counted, and the tokens are priced from ``common.prices``.
A remote judge must have a price (the table's, or one given), and ``max_cost`` caps what a judge may
spend: :func:`judge_pairs` refuses to start when the pairs could cost more (both orders, every reply at
``max_tokens``), and no request starts that could take the cost past it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alpaca_lessons.common.prices import PRICES, Prices
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation.pairs import FIRST, SECOND, TIE, Pair, pair_hashes, pair_log
from alpaca_lessons.generation.prompts import count_tokens
from alpaca_lessons.generation.teacher.base import Sampling
from alpaca_lessons.generation.teacher.client import Reply, Session, Teacher, TeacherError, is_local, run_sync

T = TypeVar("T")

JUDGE_SYSTEM = "You are a careful assistant that compares the quality of two answers to an instruction."

# Modelled on AlpacaEval's alpaca_eval_gpt4 ranking prompt (its layout and its Python-list answer),
# worded for this course.
JUDGE_TEMPLATE = '''\
We are comparing two language models by the answers they give to the same instruction. Rank the two \
models by the quality of their answers, as most careful human readers would.

The instruction:
{{
    "instruction": """{instruction}""",
}}

The answers:
[
    {{
        "model": "model_1",
        "answer": """{output_1}"""
    }},
    {{
        "model": "model_2",
        "answer": """{output_2}"""
    }}
]

Reply with the ranking only, as a Python list in exactly this form, rank 1 for the better answer:
[
    {{'model': <model-name>, 'rank': <model-rank>}},
    {{'model': <model-name>, 'rank': <model-rank>}}
]'''

# Tokens OpenAI's chat format adds to a prompt: per message, and once to prime the reply (OpenAI's cookbook).
CHAT_TOKENS_PER_MESSAGE = 4
CHAT_TOKENS_PER_REPLY = 3

_ANSWER_RE = re.compile(r'"answer": """(.*?)"""\n    }', re.S)


def judge_prompt(instruction: str, output_1: str, output_2: str) -> list[dict[str, str]]:
    """The chat messages that ask a judge to rank ``output_1`` (model_1) against ``output_2`` (model_2)."""
    user = JUDGE_TEMPLATE.format(instruction=instruction, output_1=output_1, output_2=output_2)
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def prompt_tokens(messages: Sequence[dict[str, str]]) -> int:
    """The prompt tokens of a conversation, estimated: r50k tokens of each message and the chat format's own."""
    return sum(count_tokens(m["content"]) + CHAT_TOKENS_PER_MESSAGE for m in messages) + CHAT_TOKENS_PER_REPLY


def answers_in_prompt(prompt: str) -> tuple[str, str]:
    """The two answers of a :func:`judge_prompt` user message (what a judge model reads)."""
    found = _ANSWER_RE.findall(prompt)
    if len(found) != 2:
        raise ValueError(f"expected two answers in the judge prompt, found {len(found)}")
    return found[0], found[1]


_RANK_RE = re.compile(r"""['"]?model['"]?\s*:\s*['"]?(model_[12])['"]?\s*,\s*['"]?rank['"]?\s*:\s*['"]?([12])""")
_RANK_FIRST_RE = re.compile(r"""['"]?rank['"]?\s*:\s*['"]?([12])['"]?\s*,\s*['"]?model['"]?\s*:\s*['"]?(model_[12])""")
_TIE_RE = re.compile(r"\b(tie|draw|equally good|equally bad|both (are )?(equally )?(good|bad))\b", re.I)
_NAMED_RE = re.compile(r"\b(?:model[_ ]?([12])|output[_ ]?\(?([12ab])\)?)\b", re.I)


def parse_verdict(reply: str) -> int | None:
    """The preference in a judge's reply: 1 or 2 for the model ranked first, 0 for a tie, None when the
    reply cannot be read.

    Accepts AlpacaEval's list of ``{'model', 'rank'}`` dicts with either quote style, inside code fences
    or surrounded by prose, keys in either order; otherwise a reply naming exactly one model (``model_2``,
    ``Output (b)``) or saying tie. Contradictions (both ranked 1, or both models named) give None."""
    text = reply.strip()
    ranks = {m: int(r) for m, r in _RANK_RE.findall(text)} | {m: int(r) for r, m in _RANK_FIRST_RE.findall(text)}
    if ranks:
        first = [m for m, r in ranks.items() if r == 1]
        if len(first) == 1 and not (len(ranks) == 2 and sorted(ranks.values()) != [1, 2]):
            return int(first[0][-1])
        return None
    if _TIE_RE.search(text):
        return TIE
    named = {(a or b).lower() for a, b in _NAMED_RE.findall(text)}
    named = {"1" if n in ("1", "a") else "2" for n in named}
    return int(named.pop()) if len(named) == 1 else None


class CostLimitError(TeacherError):
    """A judge's next request (or run) could take its cost past ``max_cost``: nothing was sent for it."""


@dataclass
class Cost:
    """What a judge's calls took: requests, retries, tokens (from each reply's ``usage``) and their price."""

    prices: Prices | None  # None when the model's price is unknown
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def dollars(self) -> float | None:
        """The price of the tokens so far, or None when the model's price is unknown."""
        return None if self.prices is None else self.prices.cost(self.prompt_tokens, self.completion_tokens)

    def add(self, reply: Reply) -> None:
        """Count one request's answer."""
        self.calls += 1
        self.retries += sum(reply.retries.values())
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens

    def __str__(self) -> str:
        price = "price unknown" if self.dollars is None else f"${self.dollars:.4f}"
        retries = f" ({self.retries} retries)" if self.retries else ""
        return (f"{self.calls} calls{retries}, {self.prompt_tokens} prompt + {self.completion_tokens} completion "
                f"tokens, {price}")


@dataclass(frozen=True)
class JudgeVerdict:
    """A judge's verdict on a pair, asked in both orders: the combined preference and the raw replies."""

    pair_id: str
    preference: int  # combined: 1, 2, or 0 when the two orders disagree or both say tie
    forward: int | None  # parsed verdict with output_1 shown as model_1
    backward: int | None  # parsed verdict with the outputs swapped, mapped back to output_1/output_2
    replies: tuple[str, str]


def _mirror(verdict: int | None) -> int | None:
    """A verdict given with the outputs swapped, mapped back to the original order."""
    return {FIRST: SECOND, SECOND: FIRST}.get(verdict, verdict) if verdict is not None else None


def combine_orders(forward: int | None, backward: int | None) -> int:
    """One preference from the two orders (``backward`` already mapped back): each order gives output_2 a
    score of 1, 0.5 (tie or unreadable) or 0; their mean decides, and 0.5 is a tie. A judge that always
    picks the same position therefore scores a tie, which is how asking in both orders cancels the bias."""
    def score(v: int | None) -> float:
        return 1.0 if v == SECOND else 0.0 if v == FIRST else 0.5
    mean = (score(forward) + score(backward)) / 2
    return SECOND if mean > 0.5 else FIRST if mean < 0.5 else TIE


@dataclass
class PairwiseJudge:
    """A pairwise LLM judge behind any OpenAI-compatible chat endpoint, asked through the course's one
    teacher client (its locality check and opt-in, its counted retries, its usage), with a dollar cap."""

    teacher: Teacher  # with api="chat"
    max_tokens: int = 100
    temperature: float = 0.0
    prices: Prices | None = None  # None: the price table's entry for the model (if any)
    max_cost: float | None = None  # dollars this judge may spend; None: no cap
    cost: Cost = field(init=False)

    def __post_init__(self) -> None:
        prices = self.prices or PRICES.get(self.model)
        if prices is None and not is_local(self.teacher.base_url):
            raise TeacherError(f"no price is known for {self.model!r} and a remote judge costs money: give its "
                               "prices (prices=Prices(...), or --price-in and --price-out on the command line)")
        if self.max_cost is None and not is_local(self.teacher.base_url):
            raise TeacherError("a remote judge costs money: set max_cost (--max-cost DOLLARS), the most this judge "
                               "may spend")
        if self.max_cost is not None:
            if not (math.isfinite(self.max_cost) and self.max_cost >= 0):
                raise ValueError(f"max_cost must be a non-negative number of dollars, got {self.max_cost}")
            if prices is None:
                raise TeacherError(f"max_cost needs prices: none are known for {self.model!r} (prices=Prices(...), "
                                   "or --price-in and --price-out on the command line)")
        self.cost = Cost(prices)

    @property
    def model(self) -> str:
        """The judge model's name at its endpoint."""
        return self.teacher.model

    @classmethod
    def connect(cls, base_url: str, model: str, *, api_key: str | None = None, allow_remote: bool = False,
                max_tokens: int = 100, temperature: float = 0.0, prices: Prices | None = None,
                max_cost: float | None = None, **teacher_options: Any) -> PairwiseJudge:
        """A judge at ``base_url`` (ending in ``/v1``). An endpoint not on this machine is refused unless
        ``allow_remote`` (a real judge costs money), and needs a price: the table's for ``model``, or
        ``prices``. The key comes from ``api_key`` or ``$OPENAI_API_KEY``; a local server needs none.
        ``teacher_options`` go to :class:`Teacher` (timeout, max_attempts, backoff). Nothing is sent here."""
        key = api_key or os.environ.get("OPENAI_API_KEY")
        teacher = Teacher(base_url, model, api="chat", api_key=key, allow_remote=allow_remote, **teacher_options)
        return cls(teacher, max_tokens, temperature, prices, max_cost)

    def worst_cost(self, messages: Sequence[dict[str, str]]) -> float:
        """The most one request can cost: its prompt (estimated, see :func:`prompt_tokens`) and a reply of
        ``max_tokens``; 0 when no price is known."""
        prices = self.cost.prices
        return 0.0 if prices is None else prices.cost(prompt_tokens(messages), self.max_tokens)

    def projected_cost(self, pairs: Iterable[Pair]) -> float:
        """The most judging ``pairs`` can cost: both orders of each, every reply at ``max_tokens``."""
        return sum(self.worst_cost(judge_prompt(p.instruction, a, b))
                   for p in pairs for a, b in ((p.output_1, p.output_2), (p.output_2, p.output_1)))

    def check_budget(self, more: float, what: str) -> None:
        """Raise :class:`CostLimitError` when spending ``more`` dollars on ``what`` could take the cost past
        ``max_cost``."""
        spent = self.cost.dollars or 0.0
        if self.max_cost is not None and spent + more > self.max_cost:
            raise CostLimitError(f"{what} could cost up to ${more:.4f} ({self.cost.prices.source}); with "
                                 f"${spent:.4f} spent, that could pass max_cost=${self.max_cost:.2f}: nothing "
                                 "was sent for it")

    def ask(self, instruction: str, output_1: str, output_2: str) -> tuple[int | None, str]:
        """One request: the parsed verdict (1, 2, 0 or None) with ``output_1`` as model_1, and the raw reply.
        A request that failed every attempt is a :class:`TeacherError`."""
        return self.run_in_session(lambda session: self.aask(session, instruction, output_1, output_2))

    def judge(self, pair: Pair) -> JudgeVerdict:
        """Ask in both orders and combine (see :func:`combine_orders`)."""
        return self.run_in_session(lambda session: self.ajudge(session, pair))

    async def aask(self, session: Session, instruction: str, output_1: str, output_2: str) -> tuple[int | None, str]:
        """:meth:`ask` on an open session of the judge's teacher (one connection pool for many requests).
        A request that could take the cost past ``max_cost`` is not sent (:class:`CostLimitError`)."""
        messages = judge_prompt(instruction, output_1, output_2)
        if self.max_cost is not None:
            self.check_budget(self.worst_cost(messages), "the next request")
        reply = await session.converse(messages, Sampling(self.max_tokens, self.temperature))
        self.cost.add(reply)
        if reply.error:
            raise TeacherError(f"the judge {self.model} did not answer: {reply.error}")
        text = reply.choices[0][0].text
        return parse_verdict(text), text

    async def ajudge(self, session: Session, pair: Pair) -> JudgeVerdict:
        """:meth:`judge` on an open session of the judge's teacher; neither order is asked when the two
        could take the cost past ``max_cost``."""
        if self.max_cost is not None:
            self.check_budget(self.projected_cost([pair]), f"pair {pair.id} (both orders)")
        forward, reply_f = await self.aask(session, pair.instruction, pair.output_1, pair.output_2)
        swapped, reply_b = await self.aask(session, pair.instruction, pair.output_2, pair.output_1)
        backward = _mirror(swapped)
        return JudgeVerdict(pair.id, combine_orders(forward, backward), forward, backward, (reply_f, reply_b))

    def run_in_session(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` on one open session of the judge's teacher, synchronously (also inside Jupyter)."""

        async def once() -> T:
            async with self.teacher.session() as session:
                return await work(session)

        return run_sync(once())


def judge_pairs(judge: PairwiseJudge, pairs: Sequence[Pair], store: AppendOnlyStore | str | Path, *,
                progress: Callable[[Iterable[Pair]], Iterable[Pair]] | None = None) -> list[dict[str, Any]]:
    """Judge every pair not yet in ``store`` (resume), appending each verdict as it comes; returns all
    of this judge's records for ``pairs``, in the pairs' order. A stored verdict on a pair whose text has
    changed since is a DataError (:func:`pairs.pair_log`). With ``judge.max_cost``, a run whose pairs could
    cost more is refused before any request (:class:`CostLimitError`); a run stopped by the cap on the way
    (replies longer than estimated) keeps every verdict it stored, so running again resumes."""
    log = pair_log(store)
    ids = {p.id for p in pairs}

    def judged() -> dict[Any, dict[str, Any]]:
        return log.latest(pair_hashes(pairs), where=lambda r: r.get("judge") == judge.model and r.get("pair_id") in ids)

    done = judged()
    todo = [p for p in pairs if p.id not in done]
    if judge.max_cost is not None:
        judge.check_budget(judge.projected_cost(todo), f"judging {len(todo)} pairs in both orders")

    async def judge_all(session: Session) -> None:
        for pair in progress(todo) if progress else todo:
            verdict = await judge.ajudge(session, pair)
            done[pair.id] = log.append({
                "pair_id": pair.id, "pair_hash": pair.text_hash, "judge": judge.model,
                "preference": verdict.preference, "forward": verdict.forward, "backward": verdict.backward,
                "replies": list(verdict.replies)})

    if todo:
        with log.store.lock():  # one writer: a second judge run on this store is refused, naming this one
            done = judged()  # read again under the lock: what another run finished is not judged twice
            todo = [p for p in pairs if p.id not in done]
            judge.run_in_session(judge_all)
    return [done[p.id] for p in pairs]


class LengthJudge:
    """A real, named baseline judge: the longer answer wins (ties go to model_1).

    LLM judges are known to favour longer answers; this rule is that bias and nothing else, so its
    agreement with GPT-4 shows how far length alone goes. It reads a :func:`judge_prompt` and replies in
    the prompt's ranking format, so the course's local server can serve it as a model
    (``alpaca-lessons teacher serve --model length-baseline``; see ``teacher.rule``)."""

    name = "length-baseline"
    description = "the longer answer (in characters, whitespace stripped) wins; equal lengths rank model_1 first"

    def rank(self, prompt: str) -> str:
        """The ranking reply to the text of a judge prompt (its two answers are read from the text)."""
        first, second = answers_in_prompt(prompt)
        winner = 2 if len(second.strip()) > len(first.strip()) else 1
        return f"[{{'model': 'model_{winner}', 'rank': 1}}, {{'model': 'model_{3 - winner}', 'rank': 2}}]"

    def reply(self, messages: Sequence[dict[str, str]]) -> str:
        """The ranking reply to a judge conversation (read from its last user message)."""
        return self.rank(next(m["content"] for m in reversed(messages) if m.get("role") == "user"))


def length_baseline_preference(pair: Pair) -> int:
    """The length baseline's combined verdict on a pair, both orders, without a server: the longer output
    wins, equal lengths tie (each order picks model_1, and the orders cancel)."""
    judge = LengthJudge()

    def ask(a: str, b: str) -> int | None:
        user = judge_prompt(pair.instruction, a, b)
        return parse_verdict(judge.reply(user))

    forward, swapped = ask(pair.output_1, pair.output_2), ask(pair.output_2, pair.output_1)
    return combine_orders(forward, _mirror(swapped))

