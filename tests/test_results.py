"""results: the provenance block every result file opens with, the line lessons print from it (for the committed
files' older layouts too), and writing and reading a result."""

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy
import pytest

from alpaca_lessons.common import results
from alpaca_lessons.common.results import made_by, provenance, read_result, write_result

ROOT = Path(__file__).resolve().parents[1]


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=folder,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_provenance_says_when_where_with_what_and_from_which_commit():
    made = provenance("python bench.py --fast", ("numpy", "no-such-package"), device="CPU", torch_threads=1)
    assert list(made) == ["command", "date", "machine", "versions"] and made["command"] == "python bench.py --fast"
    date = datetime.fromisoformat(made["date"])
    assert date.utcoffset() == timedelta(0) and abs(datetime.now(timezone.utc) - date) < timedelta(minutes=1)
    machine = made["machine"]
    assert list(machine) == ["platform", "machine", "cpu", "cpu_count", "device", "torch_threads"]
    assert machine["cpu"] and machine["cpu_count"] >= 1 and machine["device"] == "CPU"
    versions = made["versions"]
    assert versions["numpy"] == numpy.__version__ and versions["no-such-package"] == "not installed"
    head = git(ROOT, "rev-parse", "HEAD")
    assert versions["python"] and versions["alpaca_lessons_commit"].removesuffix(" (modified)") == head


def test_the_commit_is_marked_modified_and_is_none_outside_a_checkout(tmp_path, monkeypatch):
    package = tmp_path / "repo" / "alpaca_lessons"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    git(package, "init", "-q")
    monkeypatch.setattr(results, "_PACKAGE_DIR", package)
    assert results._commit() is None  # a repository that does not track the package: an installed copy
    git(package, "add", "__init__.py")
    git(package, "commit", "-q", "-m", "package")
    head = git(package, "rev-parse", "HEAD")
    assert results._commit() == head
    (package / "__init__.py").write_text("x = 1\n")
    assert results._commit() == f"{head} (modified)"
    monkeypatch.setattr(results, "_PACKAGE_DIR", tmp_path)
    assert results._commit() is None  # not in a repository at all


def test_made_by_reads_the_layout_provenance_writes():
    made = provenance(None, (), device="NVIDIA H100", processes=2, fsdp=True)
    cpu, count = made["machine"]["cpu"], made["machine"]["cpu_count"]
    assert made_by(made) == (f"(run from Python) · {made['date'][:10]} · {cpu} ({count} CPUs), device: NVIDIA H100, "
                             "processes: 2, fsdp: True")


@pytest.mark.parametrize(("machine", "summary"), [
    ("Linux-6.18, x86_64, 2 CPUs", "Linux-6.18, x86_64, 2 CPUs"),  # write_result's first layout: one string
    ({"platform": "Linux-6.18", "processor": "x86_64", "device": "CPU (2 cores)", "processes": 1,
      "torch_threads": 1}, "x86_64, device: CPU (2 cores), processes: 1, torch_threads: 1"),  # run.json's
    ({"platform": "Linux-6.18", "machine": "x86_64", "cpu": "AMD EPYC", "cpu_count": 2, "python": "3.11.7"},
     "AMD EPYC (2 CPUs)"),  # the novelty benchmark's
])
def test_made_by_reads_the_older_layouts_of_committed_files(machine, summary):
    assert made_by({"command": "run it", "date": "2026-11-23 13:27 UTC", "machine": machine}) == \
        f"run it · 2026-11-23 · {summary}"


@pytest.mark.parametrize("path", ["benchmarks/results/novelty.json", "benchmarks/results/memory_cpu.json",
                                  "data/results/diversity_alpaca_data.json", "data/course_models/tuned/run.json"])
def test_every_committed_result_says_what_made_it(path):
    result = read_result(ROOT / path)
    assert made_by(result).startswith(f"{result['command']} · 2026-")


def test_a_written_result_opens_with_its_provenance(tmp_path):
    path = write_result(tmp_path / "out" / "r.json", {"score": 0.5, "note": "ünïcode"}, "python r.py", ("numpy",))
    saved = read_result(path)
    assert list(saved) == ["command", "date", "machine", "versions", "score", "note"]
    assert saved["score"] == 0.5 and "ünïcode" in path.read_text(encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == saved


def test_novelty_benchmark_summary_reads_a_result_file():
    run = {"candidates": 100, "top_k": 10, "seconds": 2.04, "kept": 90, "rejected": 10, "pairs": 20000,
           "pairs_without_lcs": 19900, "share_without_lcs": 0.995, "reference_extrapolated_seconds": 7200}
    report = {"prefix": {"candidates": 50, "reference_seconds": 61.25, "fast_seconds": 0.5, "ratio": 122.5,
                         "identical": True},
              "full": run, "full_top_k_0": {**run, "top_k": 0, "seconds": 1.0}}
    assert results.novelty_benchmark_summary(report) == [
        "prefix of 50 candidates: rouge-score 61.2 s, fast 0.50 s (122.5x); identical results: True",
        "all 100 (top-10 lists): 2.0 s, kept 90, rejected 10; 19,900 of 20,000 pairs (99.50%) decided without an LCS",
        "all 100 (decision and max score only): 1.0 s, kept 90, rejected 10; 19,900 of 20,000 pairs (99.50%) "
        "decided without an LCS",
        "rouge-score on all of them, extrapolated from its time per pair: 2.0 h",
    ]


def test_a_bad_result_file_is_one_error_naming_it(tmp_path):
    from alpaca_lessons.common.errors import DataError

    broken = tmp_path / "r.json"
    broken.write_text('{"a": 1,\n "b": }\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"r\.json:2: not a JSON result file"):
        read_result(broken)
    with pytest.raises(DataError, match="cannot read"):
        read_result(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(DataError, match="one JSON object"):
        read_result(tmp_path / "list.json")
