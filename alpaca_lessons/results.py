"""Committed results of runs too heavy for a notebook: the numbers, and the command, date, machine and
package versions that made them, so a lesson can say exactly where a figure it reads comes from."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .data import read_text
from .env import versions
from .paths import course_data_dir


def results_dir() -> Path:
    """``<project>/data/results``: where heavy runs' results are committed."""
    return course_data_dir() / "results"


def provenance(command: str, packages: tuple[str, ...]) -> dict[str, Any]:
    """How, when and where a result was made."""
    return {"command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs",
            "versions": versions(packages)}


def write_result(path: str | Path, payload: dict[str, Any], command: str, packages: tuple[str, ...]) -> Path:
    """Write ``payload`` with its provenance as indented JSON (provenance first)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**provenance(command, packages), **payload}, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def read_result(path: str | Path) -> dict[str, Any]:
    """A result file as written by ``write_result``."""
    return json.loads(read_text(path))
