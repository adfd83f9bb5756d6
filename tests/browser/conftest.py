"""The browser suite's fixtures: one JupyterLab server and one headless Chromium for the whole run, and each
lesson opened and run once, shared by its page check and its widget scenario.

Everything here is marked ``browser`` (``make browser``; ``make test`` leaves it out). It needs the
``browser`` extra (Selenium) and Debian's ``chromium`` and ``chromium-driver``; without Selenium the suite is
not collected at all, so ``make test`` on a student's environment does not see it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("ALPACA_LESSONS_BROWSER_SHOTS") or REPO / "build" / "browser")  # a CI artifact

if importlib.util.find_spec("selenium") is None:
    collect_ignore_glob = ["test_*.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here ``browser``, and run each lesson's widget scenario right after its page check,
    while the lesson is still open and run (``lesson``'s cache), instead of running the lesson twice."""
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(item.fspath).parents]
    for item in ours:
        item.add_marker(pytest.mark.browser)

    def order(item: pytest.Item) -> tuple[str, int]:  # lessons sort by name (NN_...); a scenario after its lesson
        marker = item.get_closest_marker("lesson")
        params = item.callspec.params if hasattr(item, "callspec") else {}
        return (marker.args[0] if marker else params.get("name", "~"), 1 if marker else 0)

    positions = [items.index(item) for item in ours]
    for position, item in zip(positions, sorted(ours, key=order), strict=True):
        items[position] = item


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lesson(name): a widget scenario on that lesson, run after its page check")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab on a scratch copy of the project (see ``lab_driver.make_project``), stopped at the end."""
    from lab_driver import LabServer, make_project

    scratch = tmp_path_factory.mktemp("jupyterlab")
    server = LabServer.start(make_project(REPO, scratch / "project"), scratch, REPO)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole suite."""
    from lab_driver import chromium

    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where the screenshots go: emptied at the start of the run."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


class Lessons:
    """Opens a lesson and runs all its cells once; it stays open until another lesson is asked for. Records
    each lesson's seconds (wall clock from opening to idle, and the kernel's share) for the summary."""

    timings: dict[str, tuple[float, list[float]]] = {}

    def __init__(self, lab, browser) -> None:
        from lab_driver import open_lab

        self.lab, self.browser, self.current = lab, browser, None
        open_lab(browser, lab)

    def __call__(self, name: str):
        from lab_driver import NotebookPage

        if self.current is None or self.current.path != name:
            if self.current is not None:
                self.current.close()
            self.lab.shutdown_kernels()  # one kernel at a time: the previous lesson's is not needed any more
            start = time.monotonic()
            page = NotebookPage(self.browser, self.lab, name)
            self.current, page.first_run = page, page.run_all()
            self.timings[name] = (time.monotonic() - start, page.first_run["seconds"])
        return self.current


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each lesson took in the browser, and how much of it was the kernel running cells."""
    if Lessons.timings:
        terminalreporter.write_sep("-", "lessons in JupyterLab: wall clock (kernel running cells; slowest cell)")
        for name, (wall, cells) in Lessons.timings.items():
            slowest = max(range(len(cells)), key=cells.__getitem__)
            terminalreporter.write_line(f"{wall:6.1f} s ({sum(cells):5.1f} s; cell {slowest} {cells[slowest]:.1f} s)  "
                                        f"{name}")


@pytest.fixture(scope="session")
def lesson(lab, browser) -> Lessons:
    """``lesson(name)``: the lesson's page, open and run (once per run of the suite)."""
    return Lessons(lab, browser)
