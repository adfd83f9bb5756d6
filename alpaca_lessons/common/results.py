"""Committed results of runs too heavy for a notebook: the numbers, and the command, date, machine and
package versions that made them, so a lesson can say exactly where a figure it reads comes from.

Every result file (a heavy run's result, a benchmark's, a training run's ``run.json``) opens with the block
``provenance`` returns::

    "command":  the command line that made it (None for a run started from Python)
    "date":     when, in UTC, ISO 8601 to the second ("2026-11-23T14:48:15+00:00")
    "machine":  {"platform", "machine" (architecture), "cpu" (model), "cpu_count", ...what the caller adds}
    "versions": {"python", each package asked for, "alpaca_lessons_commit"}

``made_by`` turns it into the one line a lesson prints, for this layout and for files written before it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alpaca_lessons.common.atomic import atomic_write
from alpaca_lessons.common.env import versions
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.paths import course_data_dir

_PACKAGE_DIR = Path(__file__).resolve().parent


def results_dir() -> Path:
    """``<project>/data/results``: where heavy runs' results are committed."""
    return course_data_dir() / "results"


def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` where there is one, else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or platform.machine())


def _commit() -> str | None:
    """The git commit of this checkout of ``alpaca_lessons``, with " (modified)" when the package's files
    differ from it; None when the package is not a git checkout (an installed copy) or git is missing."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=_PACKAGE_DIR, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        if not git("ls-files", "__init__.py"):  # inside some repository, but not tracked by it
            return None
        return git("rev-parse", "HEAD") + (" (modified)" if git("status", "--porcelain", "--", ".") else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def provenance(command: str | None, packages: tuple[str, ...], **machine_extra: Any) -> dict[str, Any]:
    """How, when and where a result was made: the block every result file opens with (layout in the module
    docstring). ``packages`` are the distributions whose versions matter to it; ``machine_extra`` adds what
    the caller knows about the machine (a training run: its device, processes, threads)."""
    return {"command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "machine": platform.machine(), "cpu": _cpu_model(),
                        "cpu_count": os.cpu_count(), **machine_extra},
            "versions": {**versions(packages), "alpaca_lessons_commit": _commit()}}


def made_by(result: dict[str, Any]) -> str:
    """One line for a lesson to print: "command · day · machine summary".

    Reads ``provenance``'s layout and the older ones committed files still have: the machine as one string,
    ``run.json``'s machine with a "processor" and no "cpu" or "cpu_count", the novelty benchmark's with
    "python"."""
    machine = result["machine"]
    if not isinstance(machine, str):
        cpu = machine.get("cpu") or machine.get("processor")
        head = f"{cpu} ({machine['cpu_count']} CPUs)" if "cpu_count" in machine else cpu
        extras = [f"{key}: {value}" for key, value in machine.items()
                  if key not in ("platform", "machine", "cpu", "cpu_count", "processor", "python")]
        machine = ", ".join([head, *extras])
    return " · ".join([result["command"] or "(run from Python)", result["date"][:10], machine])


def write_result(path: str | Path, payload: dict[str, Any], command: str, packages: tuple[str, ...]) -> Path:
    """Write ``payload`` with its provenance as indented JSON (provenance first)."""
    return atomic_write(path, json.dumps({**provenance(command, packages), **payload}, indent=1,
                                          ensure_ascii=False) + "\n")


def read_result(path: str | Path) -> dict[str, Any]:
    """A result file as written by ``write_result``; a missing or malformed file is a DataError naming it."""
    path = Path(path)
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the result file ({exc.__class__.__name__}: {exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not a JSON result file: {exc.msg}") from None
    if not isinstance(result, dict):
        raise DataError(f"{path}: a result file holds one JSON object")
    return result


def novelty_benchmark_summary(report: dict[str, Any]) -> list[str]:
    """The headline lines of a ``benchmarks/novelty_benchmark.py`` result: both filters on the prefix, the
    fast one on everything (with and without top-k lists), and the reference extrapolated to the full run."""
    prefix, lines = report["prefix"], []
    lines.append(f"prefix of {prefix['candidates']:,} candidates: rouge-score {prefix['reference_seconds']:.1f} s, "
                 f"fast {prefix['fast_seconds']:.2f} s ({prefix['ratio']:,}x); "
                 f"identical results: {prefix['identical']}")
    for key in ("full", "full_top_k_0"):
        if key in report:
            run = report[key]
            what = f"top-{run['top_k']} lists" if run["top_k"] else "decision and max score only"
            lines.append(f"all {run['candidates']:,} ({what}): {run['seconds']:.1f} s, kept {run['kept']:,}, "
                         f"rejected {run['rejected']:,}; {run['pairs_without_lcs']:,} of {run['pairs']:,} pairs "
                         f"({run['share_without_lcs']:.2%}) decided without an LCS")
    if "reference_extrapolated_seconds" in report.get("full", {}):
        hours = report["full"]["reference_extrapolated_seconds"] / 3600
        lines.append(f"rouge-score on all of them, extrapolated from its time per pair: {hours:.1f} h")
    return lines
