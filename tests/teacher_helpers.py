"""Shared by the generation tests: one replay model per test process, and a server started around a test."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

from alpaca_lessons.generation.teacher import REPLAY_MODEL, FaultPlan, ReplayModel, Teacher, TeacherServer

ALPACA_STOP = ("\n20", "20.", "20.")

# conftest.py has already put the mirror (the variable, else ../shared/data beside the checkout) in the
# environment; module-scoped fixtures that read the real data skip cleanly without one.
needs_mirror = pytest.mark.skipif(not Path(os.environ.get("ALPACA_LESSONS_DATA") or "/nonexistent").is_dir(),
                                  reason="no data mirror: set ALPACA_LESSONS_DATA")


@lru_cache(maxsize=1)
def replay_model() -> ReplayModel:
    """The 52K replay (read once per test process: about two seconds)."""
    model = ReplayModel(seed=0)
    assert len(model.records) == 52_002
    return model


@contextlib.contextmanager
def replay_server(faults: FaultPlan | None = None, **options) -> Iterator[TeacherServer]:
    """A replay server on a free 127.0.0.1 port, stopped when the block ends."""
    server = TeacherServer(replay_model(), faults=faults, **options).start()
    try:
        yield server
    finally:
        server.stop()


def teacher(server: TeacherServer, **options) -> Teacher:
    """A client for ``server``; tests keep retries fast."""
    options = {"timeout": 10.0, "backoff": 0.001, "backoff_cap": 0.01, **options}
    return Teacher(server.base_url, REPLAY_MODEL, **options)


@contextlib.contextmanager
def served_from_cli(model: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``alpaca-lessons teacher serve --model MODEL --port 0`` as a real subprocess; yield its base URL
    and the lines it printed up to ``serving:``; stop it afterwards."""
    process = subprocess.Popen([sys.executable, "-m", "alpaca_lessons.cli", "teacher", "serve", "--model", model,
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith("serving:")):
            line = process.stdout.readline()
            assert line, "the server exited: " + "".join(lines)
            lines.append(line)
        yield re.search(r"http://127\.0\.0\.1:\d+/v1", lines[-1]).group(0), lines
    finally:
        process.terminate()
        process.wait(timeout=30)
