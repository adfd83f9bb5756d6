"""Asking a teacher through the ``openai`` (>= 1) client: completions or chat, retries, usage.

This is the course's one OpenAI client: generation's requests, the LLM judge's conversations
(``evaluation.llm_judge``), moderation (``generation.moderation``: OpenAI's ``/moderations`` endpoint) and
listing an endpoint's models all go through :class:`Teacher`.

The same code talks to the course's local server, to vLLM, llama.cpp's server or Ollama (all speak
OpenAI's API) and to OpenAI itself. Anything not on this machine is refused unless the caller opts in
with ``allow_remote=True`` (``--real-teacher`` on the command line): a real endpoint costs money, and
an ``OPENAI_API_KEY`` that happens to be set is not consent.

Retries are the client's own (the ``openai`` client's are switched off) so that each one is counted:
429s, 5xx, timeouts and dropped connections are retried with exponential backoff; a prompt too long
for ``max_tokens`` has ``max_tokens`` cut by 20% and is sent again, as Alpaca's ``utils.py`` did.
The API key lives only inside the ``openai`` client: no repr, log line or saved file shows it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

import openai

from alpaca_lessons.generation.prompts import CONTEXT_CUT, count_tokens
from alpaca_lessons.generation.teacher.base import Sampling

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
APIS = ("completions", "chat")
T = TypeVar("T")


class TeacherError(RuntimeError):
    """A teacher that cannot be used as configured (remote without consent, wrong key or model...)."""


@dataclass(frozen=True)
class Choice:
    """One reply text and why it ended."""

    text: str
    finish_reason: str


@dataclass
class Reply:
    """The answer to one request: ``n`` choices per prompt, usage, and what it took to get it."""

    choices: list[list[Choice]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = False  # the server sent no usage: counted here in r50k tokens
    attempts: int = 0
    retries: Counter = field(default_factory=Counter)
    context_cuts: int = 0  # times max_tokens was cut by 20% because the prompt left too little room
    max_tokens: int = 0  # the max_tokens the answer was finally given with
    error: str | None = None  # set when every attempt failed


def is_local(base_url: str) -> bool:
    """Whether ``base_url`` points at this machine."""
    return (urlparse(base_url).hostname or "") in LOCAL_HOSTS


class Teacher:
    """A model behind an OpenAI-compatible endpoint, asked through ``openai.AsyncOpenAI``."""

    def __init__(self, base_url: str, model: str, *, api: str = "completions", api_key: str | None = None,
                 allow_remote: bool = False, timeout: float = 120.0, max_attempts: int = 8, backoff: float = 1.0,
                 backoff_cap: float = 60.0) -> None:
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, got {api!r}")
        if not base_url.rstrip("/").endswith("/v1"):
            raise ValueError(f"base_url should end in /v1 (the openai client appends /completions to it): {base_url}")
        if not allow_remote and not is_local(base_url):
            raise TeacherError(f"{urlparse(base_url).hostname} is not this machine: a real endpoint can cost money, "
                               "so opt in explicitly (allow_remote=True, or --real-teacher on the command line)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api = api
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        # The openai client insists on a key; local servers ignore it.
        self.__key = api_key or "not-needed-for-a-local-server"

    def __repr__(self) -> str:
        return f"Teacher({self.model!r} via {self.api} at {self.base_url})"

    @classmethod
    def from_env(cls, model: str, *, allow_remote: bool = False, **options: Any) -> Teacher:
        """A teacher from ``OPENAI_BASE_URL`` (default OpenAI's) and ``OPENAI_API_KEY``."""
        base_url = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = os.environ.get("OPENAI_API_KEY")
        if not key and not is_local(base_url):
            raise TeacherError("OPENAI_API_KEY is not set")
        return cls(base_url, model, api_key=key, allow_remote=allow_remote, **options)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """An open connection pool for one run (an ``AsyncOpenAI`` client that is closed afterwards)."""
        client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.__key, max_retries=0, timeout=self.timeout)
        try:
            yield Session(self, client)
        finally:
            await client.close()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based): doubling, capped, at least Retry-After."""
        wait = min(self.backoff_cap, self.backoff * 2**attempt)
        return min(self.backoff_cap, max(wait, retry_after or 0.0))

    def ask(self, prompts: Sequence[str], sampling: Sampling, **options: Any) -> Reply:
        """One request, synchronously (for a notebook cell): see ``Session.complete``."""

        async def once() -> Reply:
            async with self.session() as session:
                return await session.complete(prompts, sampling, **options)

        return run_sync(once())

    def chat(self, messages: Sequence[dict[str, str]], sampling: Sampling, **options: Any) -> Reply:
        """One conversation, synchronously: see ``Session.converse``."""

        async def once() -> Reply:
            async with self.session() as session:
                return await session.converse(messages, sampling, **options)

        return run_sync(once())

    def moderate(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """OpenAI's moderation endpoint on ``texts`` (``POST /moderations``, with this teacher's ``model``, e.g.
        ``omni-moderation-latest``): for each text ``flagged`` and ``scores`` (category -> probability).
        Same locality check, opt-in and counted retries as any request; every attempt failing is an error."""

        async def once() -> list[dict[str, Any]]:
            async with self.session() as session:
                reply = Reply()
                answer = await session._with_retries(
                    reply, lambda _: session.client.moderations.create(model=self.model, input=list(texts)))
                if reply.error:
                    raise TeacherError(f"{self.base_url} did not moderate: {reply.error}")
                return [{"flagged": bool(r.flagged), "scores": dict(r.category_scores.model_dump(exclude_none=True))}
                        for r in answer.results]

        return run_sync(once())

    def models(self) -> list[str]:
        """The ids of the models the endpoint lists (``GET /models``), in its order; one attempt.

        The model this teacher was made with plays no part, so ``Teacher(base_url, "")`` asks an
        endpoint what it serves (after the same locality check and opt-in as any request)."""

        async def once() -> list[str]:
            async with self.session() as session:
                page = await session.client.models.list()
                return [m.id for m in page.data]

        try:
            return run_sync(once())
        except openai.AuthenticationError:
            raise _refused_key(self.base_url) from None
        except openai.APIError as exc:
            raise TeacherError(f"{self.base_url} did not list its models: {_message(exc)}") from None


class Session:
    """A teacher with an open client: sends requests, retries them, and adds up their usage."""

    def __init__(self, teacher: Teacher, client: openai.AsyncOpenAI) -> None:
        self.teacher = teacher
        self.client = client

    async def complete(self, prompts: Sequence[str], sampling: Sampling, *, n: int = 1, seed: int | None = None,
                       logit_bias: dict[str, int] | None = None, system: str | None = None) -> Reply:
        """``n`` choices for each prompt. Completions send all prompts in one request (as Alpaca did);
        chat sends one request per prompt, concurrently, with ``seed + prompt index`` as its seed, each
        prompt the user message after ``system`` when one is given (BELLE's chat requests had one)."""
        head = [{"role": "system", "content": system}] if system is not None else []
        reply = Reply(max_tokens=sampling.max_tokens)
        if self.teacher.api == "completions":
            reply.choices = await self._with_retries(reply, lambda m: self._completions(prompts, sampling, m, n, seed,
                                                                                       logit_bias, reply))
        else:
            parts = await asyncio.gather(*(
                self._with_retries(reply, lambda m, p=p, i=i: self._chat([*head, {"role": "user", "content": p}],
                                                                        sampling, m, n,
                                                                        None if seed is None else seed + i,
                                                                        logit_bias, reply))
                for i, p in enumerate(prompts)))
            reply.choices = [choices[0] for choices in parts]
        return _finished(reply, prompts)

    async def converse(self, messages: Sequence[dict[str, str]], sampling: Sampling, *, n: int = 1,
                       seed: int | None = None) -> Reply:
        """``n`` choices for one chat conversation (a system message and all), through the chat API: the
        reply's ``choices`` hold one group. Retries and usage as for ``complete``."""
        if self.teacher.api != "chat":
            raise ValueError(f"a conversation needs the chat API; this teacher uses {self.teacher.api!r}")
        reply = Reply(max_tokens=sampling.max_tokens)
        reply.choices = await self._with_retries(reply, lambda m: self._chat(list(messages), sampling, m, n, seed,
                                                                             None, reply))
        return _finished(reply, [str(m.get("content") or "") for m in messages])

    async def _with_retries(self, reply: Reply, call) -> Any:
        teacher = self.teacher
        max_tokens, attempt = reply.max_tokens, 0
        while True:
            reply.attempts += 1
            try:
                return await call(max_tokens)
            except openai.BadRequestError as exc:
                if not _context_error(exc) or max_tokens <= 1 or reply.context_cuts >= 30:
                    raise TeacherError(f"the teacher refused the request (400): {_message(exc)}") from None
                max_tokens = int(max_tokens * CONTEXT_CUT)  # Alpaca's utils.openai_completion's cut
                reply.context_cuts += 1
                reply.max_tokens = min(reply.max_tokens, max_tokens)
                continue
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                kind = _kind(exc)
                if attempt + 1 >= teacher.max_attempts:
                    reply.error = f"{kind}: {_message(exc)} (gave up after {attempt + 1} attempts)"
                    return [[]]
                reply.retries[kind] += 1
                await asyncio.sleep(teacher.delay(attempt, _retry_after(exc)))
                attempt += 1
            except openai.AuthenticationError:
                raise _refused_key(teacher.base_url) from None
            except openai.APIStatusError as exc:
                raise TeacherError(f"the teacher answered {exc.status_code}: {_message(exc)}") from None

    async def _completions(self, prompts, sampling, max_tokens, n, seed, logit_bias, reply) -> list[list[Choice]]:
        options = _options(sampling, max_tokens, n, seed, logit_bias)
        answer = await self.client.completions.create(model=self.teacher.model, prompt=list(prompts), **options)
        if len(answer.choices) != len(prompts) * n:
            raise TeacherError(f"the teacher returned {len(answer.choices)} choices for {len(prompts)} prompts x n={n}")
        ordered = sorted(answer.choices, key=lambda c: c.index)
        _add_usage(reply, answer.usage)
        return [[Choice(c.text, c.finish_reason) for c in ordered[p * n:(p + 1) * n]] for p in range(len(prompts))]

    async def _chat(self, messages, sampling, max_tokens, n, seed, logit_bias, reply) -> list[list[Choice]]:
        options = _options(sampling, max_tokens, n, seed, logit_bias)
        answer = await self.client.chat.completions.create(model=self.teacher.model, messages=messages, **options)
        _add_usage(reply, answer.usage)
        ordered = sorted(answer.choices, key=lambda c: c.index)
        return [[Choice(c.message.content or "", c.finish_reason) for c in ordered]]


def _refused_key(base_url: str) -> TeacherError:
    """A 401: the key was wrong or missing. The server's own message is left out: OpenAI's quotes part of the key."""
    return TeacherError(f"{base_url}: the server refused the API key (401)")


def _finished(reply: Reply, prompts: Sequence[str]) -> Reply:
    """A reply with its choices dropped when every attempt failed, or its usage counted here (in r50k
    tokens over ``prompts`` and the choices) when the server sent none."""
    if reply.error:
        reply.choices = []
    elif reply.usage_estimated:
        reply.prompt_tokens = sum(count_tokens(p) for p in prompts)
        reply.completion_tokens = sum(count_tokens(c.text) for group in reply.choices for c in group)
    return reply


def _options(sampling: Sampling, max_tokens: int, n: int, seed: int | None, logit_bias) -> dict[str, Any]:
    options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": sampling.temperature, "top_p": sampling.top_p,
                               "n": n}
    if sampling.stop:
        options["stop"] = list(sampling.stop)
    if seed is not None:
        options["seed"] = seed
    if logit_bias:
        options["logit_bias"] = logit_bias
    if sampling.presence_penalty:
        options["presence_penalty"] = sampling.presence_penalty
    return options


def _add_usage(reply: Reply, usage) -> None:
    if usage is None:
        reply.usage_estimated = True
        return
    reply.prompt_tokens += usage.prompt_tokens or 0
    reply.completion_tokens += usage.completion_tokens or 0


def _context_error(exc: openai.BadRequestError) -> bool:
    text = _message(exc).lower()
    return getattr(exc, "code", None) == "context_length_exceeded" or "reduce your prompt" in text \
        or "maximum context length" in text


def _kind(exc: Exception) -> str:
    if isinstance(exc, openai.RateLimitError):
        return "rate limit (429)"
    if isinstance(exc, openai.InternalServerError):
        return f"server error ({exc.status_code})"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    return "connection error"


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return str(exc)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def run_sync(coroutine: Awaitable[T]) -> T:
    """Run a coroutine to completion from synchronous code, also inside Jupyter's running event loop
    (where ``asyncio.run`` is refused): there it runs on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="alpaca-lessons-async")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
