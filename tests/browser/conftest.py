"""The browser suite's fixtures: one JupyterLab server for the whole run, and each lesson opened and run
once, shared by its page check and its widget scenario, two lessons running at once (``Lessons``).

Everything here is marked ``browser`` (``make browser``; ``make test`` leaves it out). It needs the
``browser`` extra (Selenium) and Debian's ``chromium`` and ``chromium-driver``; without Selenium the suite is
not collected at all, so ``make test`` on a student's environment does not see it.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LANES = int(os.environ.get("ALPACA_LESSONS_BROWSER_LANES") or 2)  # lessons running at once (one Chromium each)
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
        return (lesson_of(item) or "~", 1 if item.get_closest_marker("lesson") else 0)

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
    server = LabServer.start(make_project(REPO, scratch / "project"), scratch, REPO, jobs=LANES)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where the screenshots go: emptied at the start of the run."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


def lesson_of(item: pytest.Item) -> str | None:
    """The lesson a test is about: its ``name`` parameter, or its ``lesson`` marker."""
    marker = item.get_closest_marker("lesson")
    return marker.args[0] if marker else (item.callspec.params.get("name") if hasattr(item, "callspec") else None)


class Lessons:
    """The selected lessons, opened and run in ``LANES`` headless Chromiums at once, in test order: a lane takes
    the next lesson not yet started, runs all its cells, and keeps it open until the lesson's last test is done
    (its page check, then its scenario), so while one lesson is checked the next one is already running.
    Records each lesson's wall clock from opening to idle and its cells' seconds, for the summary."""

    timings: dict[str, tuple[float, list[float]]] = {}

    def __init__(self, lab, names: list[str], remaining: dict[str, int]) -> None:
        self.lab, self.remaining, self.todo = lab, remaining, queue.Queue()
        for name in names:
            self.todo.put(name)
        self.ready = {name: threading.Event() for name in names}
        self.done = {name: threading.Event() for name in names}
        self.pages, self.failures, self.drivers = {}, {}, []
        self.lanes = [threading.Thread(target=self._lane, daemon=True) for _ in range(min(LANES, len(names)))]
        for lane in self.lanes:
            lane.start()

    def _lane(self) -> None:
        from lab_driver import NotebookPage, chromium, open_lab

        driver = None
        while True:
            try:
                name = self.todo.get_nowait()
            except queue.Empty:
                return
            start = time.monotonic()
            try:
                if driver is None:
                    driver = chromium()
                    self.drivers.append(driver)
                    open_lab(driver, self.lab, f"lane{len(self.drivers)}")
                page = NotebookPage(driver, self.lab, name)
                page.first_run = page.run_all()
                self.pages[name], self.timings[name] = page, (time.monotonic() - start, page.first_run["seconds"])
            except Exception as exc:  # noqa: BLE001 (handed to the lesson's tests, which report it)
                self.failures[name] = exc
            self.ready[name].set()
            self.done[name].wait()
            try:
                if name in self.pages:
                    self.pages[name].close()
                self.lab.shutdown_kernels(name)  # its kernel is not needed any more
            except Exception:  # noqa: BLE001 (the suite is ending and the browser is gone)
                return

    def __call__(self, name: str):
        """The lesson's page, open and run."""
        if not self.ready[name].wait(timeout=1800):
            raise TimeoutError(f"{name}: not run within 30 minutes")
        if name in self.failures:
            raise self.failures[name]
        return self.pages[name]

    def run_cleanly(self, name: str):
        """The lesson's page for a widget scenario, which cannot start where Run All left an error output."""
        page = self(name)
        assert not page.first_run["errors"], f"{name} did not run: {page.first_run['errors']}"
        return page

    def finished(self, name: str) -> None:
        """One of the lesson's tests is done; after the last one its lane closes it and takes the next."""
        self.remaining[name] -= 1
        if self.remaining[name] == 0:
            self.done[name].set()

    def stop(self) -> None:
        for event in self.done.values():
            event.set()
        for driver in self.drivers:
            driver.quit()


def pytest_terminal_summary(terminalreporter) -> None:
    """How long each lesson took in the browser, and how much of it was the kernel running cells."""
    if Lessons.timings:
        terminalreporter.write_sep("-", "lessons in JupyterLab: wall clock (kernel running cells; slowest cell)")
        for name, (wall, cells) in Lessons.timings.items():
            slowest = max(range(len(cells)), key=cells.__getitem__)
            terminalreporter.write_line(f"{wall:6.1f} s ({sum(cells):5.1f} s; cell {slowest} {cells[slowest]:.1f} s)  "
                                        f"{name}")


@pytest.fixture(scope="session")
def lesson(lab, request) -> Lessons:
    """``lesson(name)``: the lesson's page, open and run (once per run of the suite, for all its tests)."""
    names = [lesson_of(item) for item in request.session.items if lesson_of(item)]
    lessons = Lessons(lab, list(dict.fromkeys(names)), Counter(names))
    yield lessons
    lessons.stop()


@pytest.fixture(autouse=True)
def _lesson_finished(request, lesson):
    yield
    lesson.finished(lesson_of(request.node))
