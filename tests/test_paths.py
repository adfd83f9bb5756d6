"""Where the course's folders are: found upward from the working directory, or named by the kit."""

from __future__ import annotations

from pathlib import Path

from alpaca_lessons.common.paths import PROJECT_ENV, course_data_dir, project_root

ROOT = Path(__file__).resolve().parent.parent


def test_found_upward_from_a_folder_inside_the_checkout(monkeypatch):
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    monkeypatch.chdir(ROOT / "notebooks")
    assert project_root() == ROOT and course_data_dir() == ROOT / "data"


def test_named_by_the_variable_from_anywhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(PROJECT_ENV, raising=False)
    assert project_root() == tmp_path.resolve()  # outside a checkout: the folder itself
    monkeypatch.setenv(PROJECT_ENV, str(ROOT))
    assert course_data_dir() == ROOT / "data"
    assert project_root(tmp_path) == tmp_path.resolve()  # an explicit start is still searched from
