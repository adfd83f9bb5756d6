"""The self-instruct profile end to end against its offline teacher: the three steps, resume, kill -9, the CLI."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from teacher_helpers import needs_mirror

from alpaca_lessons.cli import main
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.data import Record
from alpaca_lessons.generation.pipeline import log_path
from alpaca_lessons.generation.self_instruct.pipeline import SelfInstructConfig, generate_self_instruct
from alpaca_lessons.generation.teacher import Teacher, TeacherServer
from alpaca_lessons.generation.teacher.self_instruct_replay import SELF_INSTRUCT_REPLAY, SelfInstructReplayModel

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_mirror
# Hand-made "52K": a classification task, a task with input, one without (its output holds "Examples", which
# upstream's parser splits on), then filler so each round has new instructions.
RECORDS = [Record("Classify the animal as a mammal or a bird.", "Sparrow", "Bird"),
           Record("Reverse the given word.", "stone", "enots"),
           Record("Name a renewable energy source.", "", "Solar power. Examples of others include wind.")] + [
           Record(f"Explain w{i}a w{i}b w{i}c w{i}d.", "", f"Answer {i}.") for i in range(60)]  # no two alike


def _run(path: Path, **options) -> object:
    with TeacherServer(SelfInstructReplayModel(seed=0, records=RECORDS)) as server:
        teacher = Teacher(server.base_url, SELF_INSTRUCT_REPLAY, timeout=10, backoff=0.001)
        return generate_self_instruct(path, teacher, SelfInstructConfig(**{"num_tasks": 30, **options}))


def test_three_steps_on_a_hand_made_52k(tmp_path):
    result = _run(tmp_path / "t.jsonl", num_tasks=63)  # every record, once: a repeat is too similar to join
    tasks = {t["instruction"]: t for t in AppendOnlyStore(tmp_path / "t.jsonl").read()}
    assert result.status == "done" and len(tasks) == 63
    clf = tasks["Classify the animal as a mammal or a bird."]
    assert clf["is_classification"] and clf["instances"] == [{"input": "Sparrow", "output": "Bird"}]
    assert tasks["Reverse the given word."]["instances"] == [{"input": "stone", "output": "enots"}]
    assert not tasks["Name a renewable energy source."]["is_classification"]
    assert [i["output"] for i in tasks["Name a renewable energy source."]["instances"]] == [
        "Solar power.", "s of others include wind."]  # upstream's split on "Example" inside an output
    assert sum(t["is_classification"] for t in tasks.values()) == 1
    assert result.steps["instances"].kept == 64
    rounds = result.steps["instructions"].requests
    assert result.steps["instructions"].prompts == 5 * rounds and result.steps["classification"].prompts == 63
    assert result.total.cost(result.prices) > 0


def test_stop_and_resume_gives_the_uninterrupted_output(tmp_path):
    reference = tmp_path / "reference.jsonl"
    assert _run(reference, num_tasks=60).status == "done"
    resumed = tmp_path / "resumed.jsonl"
    assert _run(resumed, num_tasks=60, max_requests=1).status.startswith("stopped: max_requests")
    resumed.write_bytes(resumed.read_bytes()[:-30])  # a torn last line, as a kill mid-write leaves it
    with pytest.warns(UserWarning):
        result = _run(resumed, num_tasks=60)
    assert result.status == "done" and result.repaired_tasks == 1
    assert resumed.read_bytes() == reference.read_bytes()
    with pytest.raises(Exception, match="threshold"):
        _run(resumed, num_tasks=60, threshold=0.5)


@pytest.mark.slow
def test_kill_9_then_resume_from_the_cli_gives_the_uninterrupted_output(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with TeacherServer(SelfInstructReplayModel(seed=0), latency=0.05) as server:
        def cli(output: Path) -> list[str]:
            return [sys.executable, "-m", "alpaca_lessons.cli", "generate", "--profile", "self-instruct", "--output",
                    str(output), "--base-url", server.base_url, "--model", SELF_INSTRUCT_REPLAY, "--num-tasks", "80"]
        reference = tmp_path / "reference.jsonl"
        assert subprocess.run(cli(reference), env=env, capture_output=True, timeout=300).returncode == 0
        output = tmp_path / "killed.jsonl"
        process = subprocess.Popen(cli(output), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (output.exists() and output.read_bytes().count(b"\n") >= 20) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.kill()
        process.wait()
        assert process.returncode == -9, "the run finished before it could be killed"
        final = subprocess.run(cli(output), env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0 and "status: done" in final.stdout, final.stdout + final.stderr
    assert output.read_bytes() == reference.read_bytes()
    header = json.loads(log_path(output).read_text().splitlines()[0])["run"]
    assert header["profile"] == "self-instruct" and header["teacher"] == SELF_INSTRUCT_REPLAY


def test_the_cli_refuses_alpacas_recipe_flags_with_this_profile(tmp_path, capsys):
    assert main(["generate", "--profile", "self-instruct", "--output", str(tmp_path / "t.jsonl"),
                 "--max-tokens", "100"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("alpaca-lessons: error: --profile self-instruct follows Self-Instruct's") \
        and err.rstrip().endswith("--max-tokens") and err.count("\n") == 1
    assert not (tmp_path / "t.jsonl").exists()
