"""Where the course's own folders are: ``figures/`` for saved plots, ``data/`` for the course's own files."""

from __future__ import annotations

import os
from pathlib import Path

FIGURES_ENV = "ALPACA_LESSONS_FIGURES"
PROJECT_ENV = "ALPACA_LESSONS_PROJECT"  # set by the instructor kit, which runs lessons from copies outside notebooks/


def project_root(start: Path | None = None) -> Path:
    """The checkout holding ``pyproject.toml`` and ``notebooks/``, searched upward from ``start``
    (default: the working directory, which is ``notebooks/`` inside Jupyter); else ``start`` itself.
    ``$ALPACA_LESSONS_PROJECT``, when set and no ``start`` is given, names it directly."""
    if start is None and os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "alpaca_lessons").is_dir():
            return folder
    return here


def figures_dir() -> Path:
    """Where plots are saved: ``$ALPACA_LESSONS_FIGURES``, else ``<project>/figures``."""
    folder = Path(os.environ.get(FIGURES_ENV) or project_root() / "figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def course_data_dir() -> Path:
    """The course's own data (annotation files, committed results): ``<project>/data``."""
    return project_root() / "data"


def work_dir() -> Path:
    """The student's own files that lessons write (annotations in progress, generated data): ``<project>/work``,
    ignored by git."""
    return project_root() / "work"
