"""Self-Instruct's own loop, beside Alpaca's: three prompts per round, resumable, with its cost counted.

Round ``i`` (request ``i`` in the log) is upstream's three scripts applied to one batch:
1. ``request_batch_size`` prompts of 8 instructions each (``random.Random(f"{seed}:{i}")`` draws 2 from the
   instructions generated so far and 6 seeds), at upstream's settings (temperature 0.7, top_p 0.5,
   presence penalty 2, ``max_tokens=1024``, stops ``\\n\\n``, ``\\n16``, ``16.``, ``16 .``); each reply is read
   into instructions, which pass the rules and then the ROUGE-L test (0.7, against seeds and pool, the
   course's ``NoveltyFilter``) in order, joining the pool as they are kept;
2. one classification prompt per kept instruction (temperature 0, ``max_tokens=3``, stops ``\\n``, ``Task``);
3. one instance prompt per kept instruction, output-first for classification tasks, input-first otherwise
   (temperature 0, presence penalty 1.5, ``max_tokens`` 300 when the batch holds a classification task
   else 350, stops ``Example 6``, ``Task:``), read and filtered into at most 5 instances.
Steps 2 and 3 go in batches of ``request_batch_size`` prompts, as upstream's scripts sent them. Upstream
runs each step over the whole pool before the next; neither step changes the pool, so doing them per
round gives the same data, and lets a run stop and resume anywhere.

Files, as in Alpaca's pipeline: ``<out>.jsonl`` holds one line per kept instruction (its classification,
its instances, its novelty evidence; instructions whose instances were all dropped stay, as they stay in
upstream's pool); ``<out>.requests.jsonl`` holds the settings, then one line per round (its accounting by
step and its kept tasks), written before the tasks, so a killed run resumes exactly. One request at a time.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.prices import Prices
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation.accounting import Accounting, teacher_prices
from alpaca_lessons.generation.novelty import NoveltyFilter
from alpaca_lessons.generation.pipeline import TEACHER_KEYS, log_path, open_request_log
from alpaca_lessons.generation.prompts import count_tokens
from alpaca_lessons.generation.rules import TOO_SIMILAR, Rejection
from alpaca_lessons.generation.self_instruct.parse import is_classification, read_instances, read_instructions
from alpaca_lessons.generation.self_instruct.prompts import (
    build_templates,
    classification_prompt,
    instances_prompt,
    instructions_prompt,
    sample_prompt_instructions,
)
from alpaca_lessons.generation.teacher import Reply, Sampling, Session, Teacher, run_sync

SELF_INSTRUCT = "self-instruct"
STEPS = ("instructions", "classification", "instances")
INSTRUCTION_SAMPLING = Sampling(1024, 0.7, 0.5, ("\n\n", "\n16", "16.", "16 ."), presence_penalty=2.0)
CLASSIFICATION_SAMPLING = Sampling(3, 0.0, 0.0, ("\n", "Task"))
RESUME_KEYS = ("profile", "seed", "num_prompt_instructions", "num_machine_instructions", "request_batch_size",
               "max_instances", "threshold", "teacher", "api")


@dataclass(frozen=True)
class SelfInstructConfig:
    """The run's numbers; the defaults are upstream's (``num_tasks`` counts kept instructions)."""

    num_tasks: int = 100
    num_prompt_instructions: int = 8
    num_machine_instructions: int = 2
    request_batch_size: int = 5
    max_instances: int = 5
    threshold: float = 0.7
    seed: int = 0
    max_cost: float | None = None
    max_requests: int | None = None
    max_idle_requests: int = 20
    profile: str = field(default=SELF_INSTRUCT, init=False)

    def __post_init__(self) -> None:
        if min(self.num_tasks, self.request_batch_size, self.max_instances, self.num_prompt_instructions) < 1:
            raise ValueError("num_tasks, request_batch_size, max_instances and num_prompt_instructions must be >= 1")

    def teacher_seed(self, index: int) -> int:
        """The ``seed`` sent with round ``index``'s instruction request."""
        return self.seed * 1_000_003 + index * self.request_batch_size

    def instance_sampling(self, any_classification: bool) -> Sampling:
        """Step 3's settings for a batch (a shorter reply when it holds a classification task)."""
        return Sampling(300 if any_classification else 350, 0.0, 0.0,
                        (f"Example {self.max_instances + 1}", "Task:"), presence_penalty=1.5)


@dataclass
class SelfInstructResult:
    """How a run ended, its files, and its accounting by step (all sessions)."""

    output: Path
    log: Path
    status: str
    steps: dict[str, Accounting]
    prices: Prices | None
    resumed_tasks: int
    repaired_tasks: int
    seconds: float

    @property
    def total(self) -> Accounting:
        """The three steps added up (requests, tokens, cost)."""
        total = Accounting()
        for account in self.steps.values():
            total += account
        return total

    def report(self) -> str:
        """Status, then requests, tokens and cost per step, then what the filters dropped."""
        lines = [f"status: {self.status}; {self.steps['instructions'].kept} instructions kept, "
                 f"{self.steps['instances'].kept} instances"]
        for step, account in [*self.steps.items(), ("total", self.total)]:
            cost = account.cost(self.prices)
            lines.append(f"{step:<15} {account.requests:>4} requests {account.prompts:>5} prompts "
                         f"{account.prompt_tokens:>9,} tokens in {account.completion_tokens:>7,} out"
                         + ("" if cost is None else f"  ${cost:.4f}"))
        for step in ("instructions", "instances"):
            account = self.steps[step]
            lines.append(f"{step}: {account.blocks} candidates, {account.kept} kept; dropped: "
                         + (", ".join(f"{k} {v}" for k, v in sorted(account.rejections.items())) or "none"))
        return "\n".join(lines)


def generate_self_instruct(output: str | Path, teacher: Teacher, config: SelfInstructConfig = SelfInstructConfig(),
                           *, prices: Prices | None = None) -> SelfInstructResult:
    """Run Self-Instruct until ``config.num_tasks`` instructions are kept in ``output`` (resuming what is there)."""
    prices = prices or teacher_prices(teacher.model)
    if config.max_cost is not None and prices is None:
        raise ValueError(f"max_cost needs prices: none are known for {teacher.model!r}, so pass prices=Prices(...)")
    with AppendOnlyStore(output).lock():
        return run_sync(_Run(Path(output), teacher, config, prices).run())


class _Run:
    def __init__(self, output: Path, teacher: Teacher, config: SelfInstructConfig, prices: Prices | None) -> None:
        self.config, self.teacher, self.prices = config, teacher, prices
        seeds = read_seed_tasks("seed_tasks")
        self.seeds, self.templates = [t.instruction for t in seeds], build_templates(seeds)
        self.tasks, self.log = AppendOnlyStore(output), AppendOnlyStore(log_path(output))
        self.steps = {step: Accounting() for step in STEPS}
        self.machine: list[str] = []
        self.repaired = self.next_request = self.idle = 0
        self._resume()
        self.resumed = len(self.machine)
        self.novelty = NoveltyFilter(self.seeds + self.machine, threshold=config.threshold, mean=True)

    def _settings(self) -> dict[str, Any]:
        settings = {k: v for k, v in asdict(self.config).items() if k not in ("max_cost", "max_requests")}
        return {**settings, "teacher": self.teacher.model, "api": self.teacher.api}

    def _resume(self) -> None:
        lines = open_request_log(self.log, self.tasks, self._settings(), RESUME_KEYS + TEACHER_KEYS)
        if not lines:
            return
        tasks = self.tasks.read()
        for line in lines[1:]:
            for step, account in line.get("accounting", {}).items():
                self.steps[step] += Accounting.from_dict(account)
        kept = [t for line in lines[1:] if line.get("status") == "ok" for t in line["kept"]]
        if tasks != kept[: len(tasks)]:
            raise DataError(f"{self.tasks.path}: its tasks are not those its request log lists; the files do not "
                            "belong together")
        if len(tasks) < len(kept):  # killed between the log line and the tasks
            self.tasks.extend(kept[len(tasks):])
            self.repaired = len(kept) - len(tasks)
        self.machine = [t["instruction"] for t in kept]
        if len(lines) > 1:
            self.next_request = lines[-1]["request"] + (lines[-1]["status"] == "ok")

    async def run(self) -> SelfInstructResult:
        start, config = time.perf_counter(), self.config
        limit = None if config.max_requests is None else self.next_request + config.max_requests
        status, index = ("done" if len(self.machine) >= config.num_tasks else None), self.next_request
        async with self.teacher.session() as session:
            while status is None:
                if limit is not None and index >= limit:
                    status = f"stopped: max_requests={config.max_requests} reached"
                elif config.max_cost is not None and self._spent() + self._worst() > config.max_cost:
                    status = f"stopped: the next round could take the cost past max_cost=${config.max_cost:.2f}"
                else:
                    status = await self._round(session, index)
                    index += 1
        return SelfInstructResult(self.tasks.path, self.log.path, status, self.steps, self.prices, self.resumed,
                                  self.repaired, time.perf_counter() - start)

    def _spent(self) -> float:
        return sum(a.cost(self.prices) or 0.0 for a in self.steps.values())

    def _worst(self) -> float:
        """The most a round can cost: 5 prompts at max_tokens, then steps 2 and 3 for up to 7 instructions each."""
        batch, new = self.config.request_batch_size, self.config.request_batch_size * 7
        longest = max(count_tokens(self.templates.input_first), count_tokens(self.templates.output_first))
        tokens_in = batch * 400 + new * (count_tokens(self.templates.classification) + longest + 2 * 300)
        return self.prices.cost(tokens_in, batch * 1024 + new * (3 + 350)) if self.prices else 0.0

    async def _ask(self, session: Session, step: str, account: dict[str, Accounting], prompts: list[str],
                   sampling: Sampling, seed: int | None = None) -> Reply:
        reply = await session.complete(prompts, sampling, seed=seed)
        account[step] += Accounting(requests=1, prompts=len(prompts), failed_requests=int(bool(reply.error)),
                                    retries=Counter(reply.retries), context_cuts=reply.context_cuts,
                                    prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
                                    replies=sum(len(c) for c in reply.choices))
        return reply

    async def _round(self, session: Session, index: int) -> str | None:
        config, rng = self.config, random.Random(f"{self.config.seed}:{index}")
        account = {step: Accounting() for step in STEPS}
        shown = [sample_prompt_instructions(self.seeds, self.machine, rng, config.num_prompt_instructions,
                                            config.num_machine_instructions) for _ in range(config.request_batch_size)]
        reply = await self._ask(session, "instructions", account, [instructions_prompt(s) for s in shown],
                                INSTRUCTION_SAMPLING, config.teacher_seed(index))
        kept: list[dict[str, Any]] = []
        if not reply.error:
            kept = self._screen(reply, account["instructions"], index)
        for start in range(0, len(kept), config.request_batch_size):
            if reply.error:
                break
            batch = kept[start:start + config.request_batch_size]
            reply = await self._ask(session, "classification", account, [
                classification_prompt(self.templates, t["instruction"]) for t in batch], CLASSIFICATION_SAMPLING)
            if reply.error:
                break
            for task, choices in zip(batch, reply.choices, strict=True):
                task["classification_answer"] = choices[0].text
                task["is_classification"] = is_classification(choices[0].text)
            reply = await self._ask(session, "instances", account, [
                instances_prompt(self.templates, t["instruction"], t["is_classification"]) for t in batch],
                config.instance_sampling(any(t["is_classification"] for t in batch)))
            if not reply.error:
                self._instances(batch, reply, account["instances"])
        if reply.error:
            self._log({"request": index, "status": "failed", "error": reply.error}, account, [])
            return f"stopped: a request failed every attempt ({reply.error}); run again to resume from it"
        self._log({"request": index, "status": "ok", "prompt_instructions": shown}, account, kept)
        self.idle = 0 if kept else self.idle + 1
        if len(self.machine) >= config.num_tasks:
            return "done"
        return f"stopped: {self.idle} rounds in a row kept no task" if self.idle >= config.max_idle_requests else None

    def _screen(self, reply: Reply, account: Accounting, index: int) -> list[dict[str, Any]]:
        kept = []
        for prompt, choices in enumerate(reply.choices):
            account.finish_reasons[choices[0].finish_reason] += 1
            for candidate in read_instructions(choices[0].text, choices[0].finish_reason):
                account.blocks += 1
                rejection = candidate.rejection
                if rejection is None:
                    result = self.novelty.consider(candidate.instruction)
                    if result.keep:
                        self.machine.append(candidate.instruction)
                        kept.append({"instruction": candidate.instruction,
                                     "most_similar_instructions": dict(result.most_similar),
                                     "avg_similarity_score": result.mean_score, "max_similarity": result.max_score,
                                     "request": index, "prompt": prompt})
                        continue
                    rejection = Rejection(TOO_SIMILAR, f"ROUGE-L {result.max_score:.2f}")
                account.rejections[rejection.reason] += 1
        account.kept = len(kept)
        return kept

    def _instances(self, batch: list[dict[str, Any]], reply: Reply, account: Accounting) -> None:
        for task, choices in zip(batch, reply.choices, strict=True):
            pairs, dropped = read_instances(choices[0].text, choices[0].finish_reason, task["is_classification"],
                                            self.config.max_instances)
            task["instances"] = [{"input": i, "output": o} for i, o in pairs]
            account.blocks += len(pairs) + sum(dropped.values())
            account.kept += len(pairs)
            account.rejections.update(dropped)
            account.finish_reasons[choices[0].finish_reason] += 1

    def _log(self, line: dict[str, Any], account: dict[str, Accounting], kept: list[dict[str, Any]]) -> None:
        tasks = [{k: t[k] for k in ("instruction", "is_classification", "classification_answer", "instances",
                                    "most_similar_instructions", "avg_similarity_score", "max_similarity",
                                    "request", "prompt")} for t in kept]
        self.log.append({**line, "accounting": {s: a.to_dict() for s, a in account.items()}, "kept": tasks})
        self.tasks.extend(tasks)
        for step, value in account.items():
            self.steps[step] += value
