"""The Self-Instruct loop of Alpaca's ``generate_instruction.py``, resumable and concurrent.

Request ``i`` samples its examples with ``random.Random(f"{seed}:{i}")`` (only from the seeds, never
from generated tasks) and asks the teacher with ``seed`` derived from ``i``. Up to ``concurrency``
requests are in flight (and a few more wait their turn, so one slow reply does not idle the rest), but
replies are applied strictly in request order, so the pool grows the same way and the output is
byte-identical at any concurrency. No request is queued once those queued should reach the target at
the kept-per-request rate seen so far; any still in flight when the target is reached are allowed to
finish and are logged as "discarded": their tasks are not kept (that would make the output depend on
the concurrency), but their tokens were paid for, so they count in the cost.

Two append-only files: ``<out>.jsonl`` holds the kept tasks (Alpaca's fields, the most similar pool
instructions and where each task came from); ``<out>.requests.jsonl`` logs the run's settings and then
one line per applied request (its accounting and its kept tasks). The log line is written first, so a
run killed at any point (kill -9 included) resumes exactly: the pool is rebuilt from the tasks file,
tasks the log has but the tasks file lost are appended, and the next request is the one after the last
logged. A resumed run must ask for what the log's header lists (``RESUME_KEYS``, ``SAMPLING_KEYS``,
``TEACHER_KEYS``), and a run holds the output's writer lock, so a second process on the same output is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.prices import Prices
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import SeedTask
from alpaca_lessons.generation.accounting import Accounting, teacher_prices
from alpaca_lessons.generation.config import GenerationConfig
from alpaca_lessons.generation.profiles import Profile, get_profile
from alpaca_lessons.generation.prompts import count_tokens, encode_request, sample_examples
from alpaca_lessons.generation.screening import Screening
from alpaca_lessons.generation.teacher import Reply, Teacher, TeacherError, is_local, run_sync

RESUME_KEYS = ("profile", "seed", "num_prompt_instructions", "request_batch_size", "n", "threshold")
# How the teacher samples and what a kept task records: a resumed run keeps them too, or its tasks would be
# made differently from the earlier sessions' while the log's header still lists the old values.
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "stop", "logit_bias", "avg_similarity")
# Who writes the tasks: a resumed run asks the same model through the same API, or one file mixes two teachers.
TEACHER_KEYS = ("teacher", "api")
# Requests queued per slot of concurrency. Not at concurrency 1 (one request at a time, as Alpaca sent them,
# so none is ever wasted) nor under max_cost (only what is sent is reserved against the budget).
LOOKAHEAD = 4



@dataclass
class GenerationResult:
    """How a run ended, where its files are, and its accounting (all sessions, and this one)."""

    output: Path
    log: Path
    status: str
    total: Accounting
    session: Accounting
    prices: Prices | None
    resumed_tasks: int  # kept tasks already on disk when this session started
    repaired_tasks: int  # tasks the log held that the tasks file had lost in a crash
    seconds: float

    def report(self) -> str:
        """The run's status and its accounting tables (all sessions of this output)."""
        head = f"status: {self.status}; {self.total.kept} tasks kept"
        if self.resumed_tasks:
            head += f" ({self.resumed_tasks} from earlier sessions, {self.repaired_tasks} repaired from the log)"
        return head + "\n" + self.total.format(self.prices)


def log_path(output: str | Path) -> Path:
    """The request log that goes with a tasks file: ``x.jsonl`` -> ``x.requests.jsonl``."""
    output = Path(output)
    return output.with_name(output.name.removesuffix(".jsonl") + ".requests.jsonl")


def open_request_log(log: AppendOnlyStore, tasks: AppendOnlyStore, settings: dict[str, Any],
                     keys: Sequence[str]) -> list[dict[str, Any]]:
    """The request log's lines for a run asked with ``settings``. A new run writes them as the log's header; a
    resumed run must ask for what the header lists on every key of ``keys`` (a DataError names the field and
    both values). A tasks file without its request log cannot be resumed."""
    lines = log.read()
    if not lines:
        if tasks.read():
            raise DataError(f"{tasks.path}: holds tasks but its request log {log.path.name} is missing or empty, so "
                            "the run cannot be resumed; move the file away or choose another output")
        log.append({"run": settings})
        return []
    stored = lines[0].get("run")
    if not isinstance(stored, dict):
        raise DataError(f"{log.path}:1: the first line should hold the run's settings ('run')")
    wanted = json.loads(json.dumps(settings))  # as the header stores them (a tuple is a list)
    for key in keys:
        if stored.get(key) != wanted[key]:
            raise DataError(f"{log.path}:1: field '{key}' is {stored.get(key)!r} in this run but {wanted[key]!r} "
                            "was asked; resume with the same value or choose another output")
    return lines


def build_requests(seeds: Sequence[SeedTask], profile: Profile, config: GenerationConfig, index: int
                   ) -> tuple[list[str], list[list[str]]]:
    """The prompts of request ``index`` and the seed-task ids each one shows."""
    rng = random.Random(f"{config.seed}:{index}")
    header = profile.header()
    examples = [sample_examples(seeds, config.num_prompt_instructions, rng) for _ in range(config.request_batch_size)]
    prompts = [encode_request(header, chosen, profile.rules.fmt) for chosen in examples]
    return prompts, [[e.meta["id"] for e in chosen] for chosen in examples]


def generate(output: str | Path, teacher: Teacher, config: GenerationConfig = GenerationConfig(), *,
             prices: Prices | None = None, progress: bool = True) -> GenerationResult:
    """Generate until ``config.num_tasks`` tasks are kept in ``output`` (resuming what is there).

    ``prices`` defaults to the price table's entry for the teacher's model (None when unknown: costs are
    then not computed, and ``max_cost`` cannot be used).
    """
    return run_sync(agenerate(output, teacher, config, prices=prices, progress=progress))


async def agenerate(output: str | Path, teacher: Teacher, config: GenerationConfig = GenerationConfig(), *,
                    prices: Prices | None = None, progress: bool = True) -> GenerationResult:
    """``generate`` as a coroutine, for callers already inside an event loop."""
    prices = prices or teacher_prices(teacher.model)
    if config.max_cost is None and not is_local(teacher.base_url):
        raise ValueError(f"a teacher on another machine ({teacher.base_url}) costs money: set max_cost (--max-cost "
                         "DOLLARS), the most this run may spend")
    if config.max_cost is not None and prices is None:
        raise ValueError(f"max_cost needs prices: none are known for {teacher.model!r}, so pass prices=Prices(...)")
    output = Path(output)
    fresh = not output.exists() and not log_path(output).exists()
    with AppendOnlyStore(output).lock():  # the tasks file and its request log: one writer at a time
        try:
            return await _Run(output, teacher, config, prices, progress).run()
        except BaseException:
            if fresh and not AppendOnlyStore(output).read() and len(AppendOnlyStore(log_path(output)).read()) <= 1:
                output.unlink(missing_ok=True)  # a run that failed before its first request leaves nothing
                log_path(output).unlink(missing_ok=True)
            raise


class _Run:
    """One session of a run: the resumed state, the request window, and the in-order application."""

    def __init__(self, output: Path, teacher: Teacher, config: GenerationConfig, prices: Prices | None,
                 progress: bool) -> None:
        self.config, self.teacher, self.prices, self.progress = config, teacher, prices, progress
        self.profile = get_profile(config.profile)
        self.seeds = self.profile.seed_tasks()
        self.tasks, self.log = AppendOnlyStore(output), AppendOnlyStore(log_path(output))
        self.total, self.session = Accounting(), Accounting()
        self.kept = self.repaired = self.next_request = self.idle = 0
        generated = self._resume()
        self.resumed = self.kept
        self.novelty = self.profile.novelty_filter([t.instruction for t in self.seeds], generated,
                                                   threshold=config.threshold, mean=config.avg_similarity)

    # Resume ----------------------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        per_session = ("max_cost", "max_requests", "concurrency")
        settings = {k: v for k, v in asdict(self.config).items() if k not in per_session}
        return {**settings, "teacher": self.teacher.model, "api": self.teacher.api}

    def _resume(self) -> list[str]:
        """Read both files, check they belong together, repair a torn ending, and return the instructions kept."""
        lines = open_request_log(self.log, self.tasks, self._settings(), RESUME_KEYS + SAMPLING_KEYS + TEACHER_KEYS)
        if not lines:
            return []
        tasks = self.tasks.read()
        for number, line in enumerate(lines[1:], start=2):
            if not isinstance(line.get("request"), int) or line.get("status") not in ("ok", "failed", "discarded"):
                raise DataError(f"{self.log.path}:{number}: a request line needs an integer 'request' and a status "
                                "('ok', 'failed' or 'discarded')")
            self.total += Accounting.from_dict(line.get("accounting", {}))
        requests = [line for line in lines[1:] if line["status"] != "discarded"]  # discarded: cost only
        expected = {line["request"]: line.get("kept", []) for line in requests if line["status"] == "ok"}
        found = Counter()
        for number, task in enumerate(tasks, start=1):
            if task.get("request") not in expected:
                raise DataError(f"{self.tasks.path}:{number}: field 'request' is {task.get('request')!r}, which the "
                                f"request log {self.log.path.name} does not list")
            found[task["request"]] += 1
        for index, kept in expected.items():
            if found[index] > len(kept) or (found[index] < len(kept) and index != max(expected)):
                raise DataError(f"{self.tasks.path}: request {index} has {found[index]} tasks in the file but "
                                f"{len(kept)} in the log; the files do not belong together")
        if expected and found[max(expected)] < len(expected[max(expected)]):  # killed while writing the tasks
            missing = expected[max(expected)][found[max(expected)]:]
            self.tasks.extend(missing)
            tasks += missing
            self.repaired = len(missing)
        self.kept = len(tasks)
        if requests:
            self.next_request = requests[-1]["request"] + (requests[-1]["status"] == "ok")
        return [t["instruction"] for t in tasks]

    # The loop --------------------------------------------------------------------------------------
    async def run(self) -> GenerationResult:
        from tqdm.auto import tqdm

        start, config = time.perf_counter(), self.config
        status = "done" if self.kept >= config.num_tasks else None
        limit = self.next_request + config.max_requests if config.max_requests is not None else None
        bar = tqdm(total=config.num_tasks, initial=min(self.kept, config.num_tasks), unit="task", desc="kept tasks",
                   disable=not self.progress or status is not None)
        window: dict[int, tuple[asyncio.Task, list[list[str]], float]] = {}
        send = apply = self.next_request
        sending = status is None
        slots, started = asyncio.Semaphore(config.concurrency), set()
        lookahead = config.concurrency > 1 and config.max_cost is None
        size = config.concurrency * (LOOKAHEAD if lookahead else 1)

        async def ask(prompts: list[str], index: int) -> Reply:
            async with slots:
                started.add(index)
                return await session.complete(prompts, config.sampling(), n=config.n,
                                              seed=config.teacher_seed(index), logit_bias=config.logit_bias,
                                              system=self.profile.system)

        try:
            async with self.teacher.session() as session:
                while status is None:
                    while sending and len(window) < size and self._worth_sending(len(window)):
                        if limit is not None and send >= limit:
                            sending = False
                            break
                        prompts, ids = build_requests(self.seeds, self.profile, config, send)
                        worst = self._worst_cost(prompts)
                        committed = self._spent() + self._reserved(window) + worst
                        if config.max_cost is not None and committed > config.max_cost:
                            sending = False
                            break
                        window[send] = (asyncio.ensure_future(ask(prompts, send)), ids, worst)
                        send += 1
                    if apply not in window:
                        status = self._why_stopped(limit, apply)
                        break
                    task, ids, _ = window[apply]
                    reply = await task
                    del window[apply]
                    before = self.kept
                    await asyncio.to_thread(self._apply, apply, ids, reply)
                    bar.update(min(self.kept, config.num_tasks) - min(before, config.num_tasks))
                    apply += 1
                    status = self._status(reply)
                failed = status.startswith("stopped: a request failed")
                for index in sorted(window):  # let what was sent finish and count it (unless the teacher is failing)
                    task, _, _ = window.pop(index)
                    if failed or index not in started:
                        task.cancel()
                        continue
                    with contextlib.suppress(TeacherError):
                        await asyncio.to_thread(self._discard, index, await task)
        finally:
            for task, _, _ in window.values():
                task.cancel()
            await asyncio.gather(*(t for t, _, _ in window.values()), return_exceptions=True)
            bar.close()
        return GenerationResult(self.tasks.path, self.log.path, status, self.total, self.session, self.prices,
                                self.resumed, self.repaired, time.perf_counter() - start)

    def _worth_sending(self, queued: int) -> bool:
        """Whether another request may be needed: not if those queued should reach the target at the rate
        seen so far (each request too many is paid for and thrown away). Until a first reply is in, only
        ``concurrency`` requests go out."""
        if not self.total.requests:
            return queued < self.config.concurrency
        rate = self.total.kept / self.total.requests
        return self.kept + queued * rate < self.config.num_tasks

    def _status(self, reply: Reply) -> str | None:
        if reply.error:
            return f"stopped: a request failed every attempt ({reply.error}); run again to resume from it"
        if self.kept >= self.config.num_tasks:
            return "done"
        if self.idle >= self.config.max_idle_requests:
            return f"stopped: {self.idle} requests in a row kept no task"
        return None

    def _why_stopped(self, limit: int | None, index: int) -> str:
        if limit is not None and index >= limit:
            return f"stopped: max_requests={self.config.max_requests} reached"
        return f"stopped: the next request could take the cost past max_cost=${self.config.max_cost:.2f}"

    def _worst_cost(self, prompts: list[str]) -> float:
        """The most a request can cost: its prompts (r50k estimate) and every reply at max_tokens."""
        if self.prices is None:
            return 0.0
        completion = self.config.max_tokens * self.config.n * len(prompts)
        return self.prices.cost(sum(count_tokens(p) for p in prompts), completion)

    def _spent(self) -> float:
        return self.total.cost(self.prices) or 0.0

    @staticmethod
    def _reserved(window: dict) -> float:
        return sum(worst for _, _, worst in window.values())

    # Applying a reply ------------------------------------------------------------------------------
    @staticmethod
    def _usage(reply: Reply, **counts: int) -> Accounting:
        return Accounting(retries=Counter(reply.retries), context_cuts=reply.context_cuts,
                          prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
                          estimated_requests=int(reply.usage_estimated), **counts)

    def _discard(self, index: int, reply: Reply) -> None:
        """Log a reply that came back after the run ended: its cost counts, its tasks do not."""
        account = self._usage(reply, discarded_requests=1)
        self.log.append({"request": index, "status": "discarded", "accounting": account.to_dict()})
        self.total += account
        self.session += account

    def _apply(self, index: int, ids: list[list[str]], reply: Reply) -> None:
        """Judge every block of a reply in order, log the request, then append its kept tasks."""
        account = self._usage(reply, requests=1, prompts=len(ids))
        kept: list[dict[str, Any]] = []
        if reply.error:
            account.failed_requests = 1
            line = {"request": index, "status": "failed", "error": reply.error, "accounting": account.to_dict()}
        else:
            first = self.config.num_prompt_instructions + 1
            for p, choices in enumerate(reply.choices):
                for j, choice in enumerate(choices):
                    account.replies += 1
                    account.finish_reasons[choice.finish_reason] += 1
                    for screening in self.profile.screen(choice.text, choice.finish_reason, first, self.novelty):
                        account.blocks += 1
                        account.parsed += screening.task is not None
                        if screening.kept:
                            kept.append(_task_record(screening, index, p, j, ids[p]))
                        else:
                            account.rejections[screening.rejection.reason] += 1
            account.kept = len(kept)
            line = {"request": index, "status": "ok", "seed_tasks": ids, "max_tokens": reply.max_tokens,
                    "accounting": account.to_dict(), "kept": kept}
        self.log.append(line)  # first the log (the record of truth), then the tasks file
        self.tasks.extend(kept)
        self.total += account
        self.session += account
        self.kept += len(kept)
        self.idle = 0 if kept else self.idle + 1


def _task_record(screening: Screening, index: int, prompt: int, choice: int, seed_ids: list[str]) -> dict[str, Any]:
    """A kept task as Alpaca saved it (its fields, most similar pool instructions and mean similarity to the
    pool), plus where it came from."""
    mean = screening.novelty.mean_score
    return {**screening.task.to_dict(),
            "most_similar_instructions": dict(screening.novelty.most_similar),
            **({"avg_similarity_score": mean} if mean is not None else {}),
            "max_similarity": screening.novelty.max_score,
            "request": index, "prompt": prompt, "choice": choice, "number": screening.number, "seed_tasks": seed_ids}
