"""A minimal local OpenAI-compatible server for judge models (standard library only).

It answers ``GET /v1/models`` and ``POST /v1/chat/completions`` with ``usage``, and errors as JSON with
OpenAI's status codes, so the real ``openai`` client talks to it as to the real API. A judge model is
any object with a ``name`` and ``reply(messages) -> str`` (such as :class:`evaluate.LengthJudge`).
Tokens are counted as whitespace-separated words: the server prices nothing, the count only feeds the
client's cost accounting. It binds 127.0.0.1.

This is the evaluation lessons' stand-in for the course's teacher server (``alpaca_lessons/teacher``);
once that lands, a judge model is served there instead and this module goes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class JudgeModel(Protocol):
    """What the server needs from a judge: a name and a reply to a chat conversation."""

    name: str

    def reply(self, messages: Sequence[dict[str, str]]) -> str:
        """The assistant's reply to ``messages``."""
        ...


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops connections when clients connect at once
    allow_reuse_address = True


class JudgeServer:
    """Serve judge models on 127.0.0.1 (port 0 picks a free port); use as a context manager."""

    def __init__(self, models: Sequence[JudgeModel], port: int = 0) -> None:
        self.models = {m.name: m for m in models}
        handler = type("Handler", (_Handler,), {"models": self.models})
        self._server = _HTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The address to give the ``openai`` client (ends in ``/v1``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> JudgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each keep-alive request waits ~40 ms for a delayed ACK
    models: dict[str, JudgeModel] = {}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: requests are not logged."""

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                      "code": code}})

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "local"} for name in self.models]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._error(404, f"no route {self.path}")
        try:
            body = json.loads(raw)
            messages = body["messages"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return self._error(400, "the body must be JSON with 'model' and 'messages'")
        model = self.models.get(body.get("model"))
        if model is None:
            return self._error(404, f"The model {body.get('model')!r} does not exist", "model_not_found")
        try:
            text = model.reply(messages)
        except ValueError as exc:
            return self._error(400, str(exc))
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(text.split())
        self._send(200, {
            "id": f"chatcmpl-local-{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": model.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })
