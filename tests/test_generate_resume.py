"""kill -9 in the middle of ``alpaca-lessons generate``, then run it again: nothing lost, nothing twice."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from teacher_helpers import needs_mirror, replay_server, teacher

from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.generation import GenerationConfig, generate, log_path
from alpaca_lessons.generation.teacher import REPLAY_MODEL

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET-7f3a9"
# small for testing speed: one prompt per request, about five tasks per reply
OPTIONS = {"num_tasks": 120, "request_batch_size": 1, "max_tokens": 600, "concurrency": 2}

pytestmark = needs_mirror


def cli(output: Path, base_url: str) -> list[str]:
    return [sys.executable, "-m", "alpaca_lessons.cli", "generate", "--output", str(output), "--base-url", base_url,
            "--model", REPLAY_MODEL, "--num-tasks", str(OPTIONS["num_tasks"]), "--request-batch-size", "1",
            "--max-tokens", str(OPTIONS["max_tokens"]), "--concurrency", str(OPTIONS["concurrency"]), "--no-progress"]


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
def test_kill_9_twice_then_resume_gives_exactly_the_uninterrupted_output(tmp_path):
    reference = tmp_path / "reference.jsonl"
    with replay_server() as server:
        assert generate(reference, teacher(server), GenerationConfig(**OPTIONS), progress=False).status == "done"
    output = tmp_path / "killed.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}
    transcripts = []
    # A little latency per answer so that the kills land in the middle of the run.
    with replay_server(latency=0.03, api_key=KEY) as server:
        for threshold in (25, 70):
            process = subprocess.Popen(cli(output, server.base_url), env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 120
            while lines(output) < threshold and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            process.kill()  # SIGKILL: no cleanup, no flush, no goodbye
            transcripts += process.communicate()
            assert process.returncode == -9, "the run finished before it could be killed"
            assert threshold <= lines(output) < OPTIONS["num_tasks"]
        final = subprocess.run(cli(output, server.base_url), env=env, capture_output=True, text=True, timeout=300)
    transcripts += [final.stdout, final.stderr]
    assert final.returncode == 0, final.stdout + final.stderr
    assert "status: done" in final.stdout
    assert output.read_bytes() == reference.read_bytes()
    instructions = [t["instruction"] for t in AppendOnlyStore(output).read()]
    assert len(instructions) == len(set(instructions)) >= OPTIONS["num_tasks"]
    # The key went to the server in a header only: not to the terminal, the tasks or the log.
    for text in [*transcripts, output.read_text(), log_path(output).read_text()]:
        assert KEY not in text and "SECRET" not in text
