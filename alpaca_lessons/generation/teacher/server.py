"""A local OpenAI-compatible HTTP server (standard library only) in front of one or more models.

It answers ``GET /v1/models`` (every model it serves), ``POST /v1/completions`` (a prompt or a list of
prompts, ``n`` choices each, numbered ``prompt_index * n + j`` as OpenAI does) and
``POST /v1/chat/completions``, with ``stop``, ``max_tokens``, ``finish_reason`` and ``usage``; errors are
JSON with OpenAI's status codes (a bad ``Content-Length``, other methods and what ``http.server`` refuses by
itself too), so the real ``openai`` client reads them as it would the real API's. A request's ``model`` picks
the model that answers it. It binds 127.0.0.1 unless told otherwise. A request gets at most ``MAX_CHOICES``
choices, and none more once its client has closed the connection: no request keeps a core busy for nobody.

Randomness is reproducible: each choice is a ``draw``, ``(seed + prompt_index) * n + j`` when the request
carries a ``seed`` (else a hash of the prompt stands in for it), so the same request gets the same answer
whenever and however concurrently it is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alpaca_lessons.generation.teacher.base import Completion, ContextLengthError, Model, PromptError, Sampling
from alpaca_lessons.generation.teacher.faults import CUT, RATE_LIMIT, SERVER_ERROR, SLOW, FaultPlan

MAX_BODY = 32 * 1024 * 1024
MAX_N = 16
MAX_CHOICES = 256  # prompts × n in one request (the course sends at most 5 × 1)


class RequestError(Exception):
    """A request the server refuses: an HTTP status and OpenAI's error type and code."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.code, self.param = status, kind, code, param

    def body(self) -> dict[str, Any]:
        """The JSON error object, shaped like OpenAI's."""
        return {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}}


class ClientGone(Exception):
    """The client closed the connection before its answer was written: stop working on it."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    request_queue_size = 512  # the default 5 drops connections when many clients connect at once
    allow_reuse_address = True


class TeacherServer:
    """Serve ``model`` (and any ``more`` models) on ``host:port`` (port 0 picks a free one); ``start()`` runs it
    in a thread. A request's ``model`` picks among them; ``model`` is the first, the one the command line names."""

    def __init__(self, model: Model, *more: Model, host: str = "127.0.0.1", port: int = 0,
                 faults: FaultPlan | None = None, latency: float = 0.0, api_key: str | None = None,
                 verbose: bool = False) -> None:
        self.model = model
        self.served: dict[str, Model] = {m.name: m for m in (model, *more)}
        if len(self.served) != 1 + len(more):
            raise ValueError(f"two models share a name: {[m.name for m in (model, *more)]}")
        self.faults = faults or FaultPlan()
        self.latency = latency
        self.verbose = verbose
        self.stats: Counter = Counter()
        self._key_digest = hashlib.sha256(api_key.encode()).digest() if api_key else None
        self._lock = threading.Lock()
        self._http = _HTTPServer((host, port), _Handler)
        self._http.teacher = self
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"TeacherServer({', '.join(map(repr, self.served))} at {self.base_url})"

    def __enter__(self) -> TeacherServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._http.server_address[1]

    @property
    def base_url(self) -> str:
        """What to give the ``openai`` client: ``http://host:port/v1``."""
        return f"http://{self._http.server_address[0]}:{self.port}/v1"

    def start(self) -> TeacherServer:
        """Serve in a background thread; returns at once."""
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), name="teacher-server",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI's way)."""
        try:
            self._http.serve_forever()
        finally:
            self._http.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()

    def count(self, name: str) -> None:
        """Add one to a statistic (thread-safe)."""
        with self._lock:
            self.stats[name] += 1

    def authorized(self, header: str | None) -> bool:
        """Whether the Authorization header carries the configured key (always, when none is configured)."""
        if self._key_digest is None:
            return True
        given = (header or "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), self._key_digest)

    # The endpoints ---------------------------------------------------------------------------------
    def models(self) -> dict[str, Any]:
        """``GET /v1/models``: every model served, each with a description of what it is."""
        return {"object": "list", "data": [_model_card(m) for m in self.served.values()]}

    def model_named(self, name: object) -> Model:
        """The model a request names; 404 (OpenAI's ``model_not_found``) when this server has none by that name."""
        if isinstance(name, str) and name in self.served:
            return self.served[name]
        names = ", ".join(f"`{n}`" for n in self.served)
        raise RequestError(404, f"The model `{name}` does not exist; this server has {names}.",
                           code="model_not_found", param="model")

    def answer(self, path: str, body: bytes, client_gone: Callable[[], bool] = lambda: False) -> dict[str, Any]:
        """Answer a POST: parse, maybe inject a fault, run the model until ``client_gone()``, shape the JSON."""
        request = _parse_json(body)
        chat = path.endswith("/chat/completions")
        self.count("chat" if chat else "completions")
        model = self.model_named(request.get("model"))
        fault, rng = self.faults.draw(body)
        if self.latency:
            time.sleep(self.latency)
        if fault == RATE_LIMIT:
            raise RequestError(429, "Rate limit reached (a fault injected by the local teacher).", "rate_limit_error",
                               "rate_limit_exceeded")
        if fault == SERVER_ERROR:
            raise RequestError(500, "The server had an error (a fault injected by the local teacher).",
                               "server_error")
        if fault == SLOW:
            time.sleep(self.faults.slow_seconds)
        prompts = [model.chat_prompt(_messages(request))] if chat else _prompts(request)
        sampling = _sampling(request, chat, model, prompts)
        n = _int(request, "n", 1, 1, MAX_N)
        if len(prompts) * n > MAX_CHOICES:
            raise RequestError(400, f"A request may ask for at most {MAX_CHOICES} choices (prompts × n); this one "
                               f"asks for {len(prompts)} × {n}. Send fewer prompts per request.", param="prompt")
        seed = request.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise RequestError(400, "'seed' must be an integer", param="seed")
        draws = [_draw(prompt, seed, p) * n + j for p, prompt in enumerate(prompts) for j in range(n)]
        choices = []
        for i, draw in enumerate(draws):
            if client_gone():
                raise ClientGone
            choices.append(_complete(model, prompts[i // n], sampling, draw))
        if fault == CUT:
            victim = rng.randrange(len(choices))
            choices[victim] = _cut(model, prompts[victim // n], sampling, choices[victim], draws[victim], rng)
        usage = {"prompt_tokens": sum(model.count_tokens(p) for p in prompts),
                 "completion_tokens": sum(c.completion_tokens for c in choices)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self.count("answered")
        return _shape(chat, model.name, choices, usage, self.stats["answered"])


def _model_card(model: Model) -> dict[str, Any]:
    return {"id": model.name, "object": "model", "created": 0, "owned_by": "alpaca-lessons",
            "description": model.description}


def _complete(model: Model, prompt: str, sampling: Sampling, draw: int) -> Completion:
    try:
        return model.complete(prompt, sampling, draw)
    except ContextLengthError as exc:
        raise RequestError(400, str(exc), code="context_length_exceeded", param="max_tokens") from None
    except PromptError as exc:
        raise RequestError(400, str(exc)) from None


def _cut(model: Model, prompt: str, sampling: Sampling, whole: Completion, draw: int, rng) -> Completion:
    """The same choice again, stopped early as if ``max_tokens`` were a fraction of its length."""
    if whole.completion_tokens < 2:
        return whole
    shorter = max(1, int(whole.completion_tokens * rng.uniform(0.2, 0.8)))
    cut = _complete(model, prompt, Sampling(shorter, sampling.temperature, sampling.top_p, sampling.stop), draw)
    return Completion(cut.text, "length", cut.completion_tokens)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects
    disable_nagle_algorithm = True  # otherwise each keep-alive request waits ~40 ms for a delayed ACK
    timeout = 120  # idle keep-alive connections close after this
    server_version = "alpaca-lessons-teacher"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        if self.server.teacher.verbose:  # the request line only: headers (and the API key) are never logged
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        teacher = self.server.teacher
        named = teacher.served.get(self.path.removeprefix("/v1/models/"))
        if not teacher.authorized(self.headers.get("Authorization")):
            self._send(401, RequestError(401, "Incorrect API key provided.", code="invalid_api_key").body())
        elif self.path.rstrip("/") == "/v1/models":
            self._send(200, teacher.models())
        elif named is not None and self.path.startswith("/v1/models/"):
            self._send(200, _model_card(named))
        else:
            self._send(404, RequestError(404, f"no route GET {self.path}").body())

    def do_POST(self) -> None:  # noqa: N802
        teacher = self.server.teacher
        try:
            length = _content_length(self.headers.get("Content-Length"))
        except RequestError as exc:  # where the body ends is unknown: answer, then close the connection
            self.close_connection = True
            self._send(exc.status, exc.body())
            return
        body = self.rfile.read(length)
        teacher.count("requests")
        try:
            if not teacher.authorized(self.headers.get("Authorization")):
                raise RequestError(401, "Incorrect API key provided.", code="invalid_api_key")
            if self.path not in ("/v1/completions", "/v1/chat/completions"):
                raise RequestError(404, f"no route POST {self.path}")
            answer = teacher.answer(self.path, body, self._client_gone)
        except ClientGone:
            teacher.count("abandoned")
            self.close_connection = True
        except RequestError as exc:
            teacher.count(f"status {exc.status}")
            self._send(exc.status, exc.body())
        except Exception as exc:  # a bug or a model failure: still an OpenAI-shaped 500, never a dropped socket
            teacher.count("status 500")
            if teacher.verbose:
                traceback.print_exc()
            self._send(500, RequestError(500, f"{type(exc).__name__}: {exc}", "server_error").body())
        else:
            self._send(200, answer)

    def _not_allowed(self) -> None:
        """PUT, DELETE, PATCH, OPTIONS and HEAD: a JSON 405, then close (the body, if any, is not read)."""
        self.close_connection = True
        error = RequestError(405, f"Invalid method for URL ({self.command} {self.path}): use GET or POST.")
        self._send(405, error.body(), {"Allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _not_allowed  # noqa: N815 (http.server's naming)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What ``http.server`` refuses by itself (an unknown method, a header too long): JSON, not its HTML page."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        self._send(code, RequestError(code, message or self.responses.get(code, ("error",))[0]).body())

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): nobody to answer
            self.close_connection = True

    def _client_gone(self) -> bool:
        """Whether the client has closed the connection: a peek that does not wait reads end-of-file or a reset."""
        connection, timeout = self.connection, self.connection.gettimeout()
        connection.settimeout(0)
        try:
            return connection.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:  # nothing to read: still waiting for its answer
            return False
        except OSError:
            return True
        finally:
            connection.settimeout(timeout)


# Request parsing -------------------------------------------------------------------------------------
def _draw(prompt: str, seed: int | None, index: int) -> int:
    """The first draw of prompt ``index``: the request's seed plus the index, else a hash of the prompt."""
    return seed + index if seed is not None else int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16)


def _content_length(header: str | None) -> int:
    """The body's length: 0 without the header; 400 unless it is a non-negative integer, 413 above ``MAX_BODY``."""
    text = "0" if header is None else header.strip()
    if not (text.isascii() and text.isdigit()):
        raise RequestError(400, f"Content-Length must be a non-negative integer, got {header[:40]!r}")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:  # (int() refuses over 4,300 digits)
        raise RequestError(413, f"request body too large: at most {MAX_BODY:,} bytes")
    return int(digits)


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError(400, "the body must be a JSON object")
    if request.get("stream"):
        raise RequestError(400, "stream=true is not supported by the local teacher", param="stream")
    return request


def _prompts(request: dict[str, Any]) -> list[str]:
    prompt = request.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise RequestError(400, "'prompt' must be a string or a non-empty list of strings", param="prompt")
    return prompts


def _messages(request: dict[str, Any]) -> list[dict]:
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise RequestError(400, "'messages' must be a non-empty list of objects", param="messages")
    if not any(m.get("role") == "user" for m in messages):
        raise RequestError(400, "'messages' needs at least one user message", param="messages")
    return messages


def _int(request: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = request.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(400, f"'{name}' must be an integer from {low} to {high}, got {value!r}", param=name)
    return value


def _float(request: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = request.get(name)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(400, f"'{name}' must be a number from {low} to {high}, got {value!r}", param=name)
    return float(value)


def _sampling(request: dict[str, Any], chat: bool, model: Model, prompts: list[str]) -> Sampling:
    stop = request.get("stop")
    stops = [stop] if isinstance(stop, str) else (stop or [])
    if not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(s, str) for s in stops):
        raise RequestError(400, "'stop' must be a string or a list of at most 4 strings", param="stop")
    context = model.context
    if chat:  # chat models write until done by default: the room the window leaves
        room = max(1, context - max(model.count_tokens(p) for p in prompts))
        limit = request.get("max_completion_tokens", request.get("max_tokens"))
        max_tokens = room if limit is None else _int({"max_tokens": limit}, "max_tokens", room, 1, 10**7)
    else:
        max_tokens = _int(request, "max_tokens", 16, 1, 10**7)
    return Sampling(max_tokens, _float(request, "temperature", 1.0, 0.0, 2.0), _float(request, "top_p", 1.0, 0.0, 1.0),
                    tuple(stops))


def _shape(chat: bool, name: str, choices: list[Completion], usage: dict[str, int], serial: int) -> dict[str, Any]:
    if chat:
        shaped = [{"index": i, "message": {"role": "assistant", "content": c.text}, "finish_reason": c.finish_reason,
                   "logprobs": None} for i, c in enumerate(choices)]
        return {"id": f"chatcmpl-local-{serial}", "object": "chat.completion", "created": int(time.time()),
                "model": name, "choices": shaped, "usage": usage}
    shaped = [{"index": i, "text": c.text, "finish_reason": c.finish_reason, "logprobs": None}
              for i, c in enumerate(choices)]
    return {"id": f"cmpl-local-{serial}", "object": "text_completion", "created": int(time.time()), "model": name,
            "choices": shaped, "usage": usage}
