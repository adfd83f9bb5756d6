"""kill -9 in the middle of ``alpaca-lessons generate``, then run it again: nothing lost, nothing twice; a
second process on the same output is refused; a resumed run may not change how the teacher samples."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lock_helpers import held_elsewhere
from teacher_helpers import needs_mirror, replay_server, teacher

from alpaca_lessons.cli import main
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.generation import GenerationConfig, generate, log_path
from alpaca_lessons.generation.teacher import REPLAY_MODEL, Teacher

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET-7f3a9"
# small for testing speed: one prompt per request, about five tasks per reply
OPTIONS = {"num_tasks": 120, "request_batch_size": 1, "max_tokens": 600, "concurrency": 2}

pytestmark = needs_mirror


def cli(output: Path, base_url: str) -> list[str]:
    return [sys.executable, "-m", "alpaca_lessons.cli", *arguments(output, base_url)]


def arguments(output: Path, base_url: str) -> list[str]:
    return ["generate", "--output", str(output), "--base-url", base_url,
            "--model", REPLAY_MODEL, "--num-tasks", str(OPTIONS["num_tasks"]), "--request-batch-size", "1",
            "--max-tokens", str(OPTIONS["max_tokens"]), "--concurrency", str(OPTIONS["concurrency"]), "--no-progress"]


def environment() -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
def test_kill_9_twice_then_resume_gives_exactly_the_uninterrupted_output(tmp_path):
    reference = tmp_path / "reference.jsonl"
    with replay_server() as server:
        assert generate(reference, teacher(server), GenerationConfig(**OPTIONS), progress=False).status == "done"
    output = tmp_path / "killed.jsonl"
    env = environment()
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


def test_generate_on_an_output_another_process_writes_is_refused_naming_it(tmp_path, capsys):
    output = tmp_path / "t.jsonl"
    with held_elsewhere(output) as holder:
        code = main(arguments(output, "http://127.0.0.1:9/v1"))  # refused before anything is asked of a teacher
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"alpaca-lessons: error: {output} is being written by pid {holder.pid} (-c {output}); let it " \
        "finish or stop it first\n"
    assert not output.exists() and not log_path(output).exists()


@pytest.mark.slow
def test_two_generate_runs_on_one_output_the_second_is_refused_and_nothing_is_written_twice(tmp_path, capsys):
    options = {**OPTIONS, "num_tasks": 30, "concurrency": 1}
    reference = tmp_path / "reference.jsonl"
    with replay_server() as server:
        assert generate(reference, teacher(server), GenerationConfig(**options), progress=False).status == "done"
    output = tmp_path / "t.jsonl"
    command = [*cli(output, ""), "--concurrency", "1", "--num-tasks", "30"]
    with replay_server(latency=0.3, api_key=KEY) as server:
        command[command.index("--base-url") + 1] = server.base_url
        first = subprocess.Popen(command, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while lines(output) == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        code = main(arguments(output, server.base_url))  # a second run, started while the first one works
        still_running = first.poll() is None
        stdout, stderr = first.communicate(timeout=300)
    out, err = capsys.readouterr()
    assert still_running, "the first run finished before the second started"
    assert code == 2 and out == "" and err.startswith(f"alpaca-lessons: error: {output} is being written by pid "
                                                      f"{first.pid} (__main__.py generate --output {output} ")
    assert first.returncode == 0 and "status: done" in stdout, stdout + stderr
    assert output.read_bytes() == reference.read_bytes()  # every task once


def test_resume_refuses_other_sampling_settings_naming_both_values(tmp_path):
    path, small = tmp_path / "t.jsonl", {"num_tasks": 5, "request_batch_size": 1, "max_tokens": 300}
    with replay_server() as server:
        def run(**changes):
            return generate(path, teacher(server), GenerationConfig(**{**small, **changes}), progress=False)

        assert run().status == "done"
        log = log_path(path).read_bytes()
        changes = {"temperature": (0.7, "1.0", "0.7"), "top_p": (0.9, "1.0", "0.9"), "max_tokens": (301, "300", "301"),
                   "logit_bias": (None, "{'50256': -100}", "None"), "avg_similarity": (False, "True", "False"),
                   "stop": (("\n20",), "['\\n20', '20.', '20.']", "['\\n20']")}
        for key, (value, was, asked) in changes.items():
            with pytest.raises(DataError) as refused:
                run(**{key: value})
            assert str(refused.value) == f"{log_path(path)}:1: field '{key}' is {was} in this run but {asked} was " \
                "asked; resume with the same value or choose another output"
        assert log_path(path).read_bytes() == log  # nothing appended by the refused runs
        assert run(num_tasks=8).status == "done"  # the same settings resume (a larger target is not a change)


def test_resume_refuses_another_teacher_model_or_api(tmp_path):
    path, small = tmp_path / "t.jsonl", GenerationConfig(num_tasks=5, request_batch_size=1, max_tokens=300)
    with replay_server() as server:
        assert generate(path, teacher(server), small, progress=False).status == "done"
        log = log_path(path).read_bytes()
        other = Teacher(server.base_url, "another-model", timeout=10.0)
        with pytest.raises(DataError, match=r":1: field 'teacher' is '.+' in this run but 'another-model' was asked"):
            generate(path, other, small, progress=False)
        with pytest.raises(DataError, match=r":1: field 'api' is 'completions' in this run but 'chat' was asked"):
            generate(path, teacher(server, api="chat"), small, progress=False)
        assert log_path(path).read_bytes() == log
