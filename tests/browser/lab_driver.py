"""JupyterLab in headless Chromium, driven as a student drives it: a server on a scratch copy of the
project, and a notebook page that runs all cells through the menus and reads what the page shows.

The server runs the course on a copy (``make_project``): the lessons with their outputs cleared, so what the
page shows was made by this run; an empty ``work/`` and a copy of ``figures/``, so the lessons' files never
land in a developer's checkout; the package, ``data/`` and the rest linked read-only. It is started with
``expose_app_in_browser``, so the page can be asked for the kernel's status and each cell's outputs
(``window.jupyterapp``, what JupyterLab's own UI tests use); every action a student takes (Run All, Restart
Kernel and Run All, clicks, typing) goes through the page itself.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from alpaca_lessons.course.kit import THREADS_ENV, threads_per_job

REPO = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.name for p in (REPO / "notebooks").glob("[0-9]*.ipynb"))  # a lesson added later is covered
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_VIEW = ".jp-OutputArea-output > .jupyter-widgets"  # a live view: the HTML fallback has no such node
WIDGET_FAILURES = ("Error displaying widget", "model not found")  # what ipywidgets shows when a view cannot render
# JupyterLab's settings for the run: no toast over the page, no autosave, every cell in the DOM (windowing
# would leave cells out of view unattached, and their widgets unrendered), each cell's run time recorded.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none", "recordTiming": True},
}
LINKED = ("alpaca_lessons", "data", "benchmarks", "pyproject.toml")  # what the lessons read from the project


def make_project(repo: Path, into: Path) -> Path:
    """A scratch project at ``into``: lessons copied with outputs cleared, ``figures/`` copied, ``work/``
    empty, the rest of what the lessons read linked to ``repo``."""
    into.mkdir(parents=True)
    for name in LINKED:
        (into / name).symlink_to(repo / name)
    shutil.copytree(repo / "figures", into / "figures")
    (into / "work").mkdir()
    shutil.copytree(repo / "notebooks", into / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for lesson in (into / "notebooks").glob("*.ipynb"):
        notebook = json.loads(lesson.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        lesson.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return into


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LabServer:
    """``jupyter lab`` from this environment, serving ``project/notebooks`` on loopback with a token."""

    project: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, project: Path, scratch: Path, repo: Path, jobs: int = 1, timeout: float = 90) -> LabServer:
        """Start the server and wait until it answers. Its kernels see ``$ALPACA_LESSONS_PROJECT=project``,
        quick mode, this checkout's package first on the path, and their share of the cores when ``jobs``
        lessons run at once."""
        settings = scratch / "settings"
        for name, values in SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {**os.environ, "ALPACA_LESSONS_PROJECT": str(project), "ALPACA_LESSONS_QUICK": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
               "JUPYTER_CONFIG_DIR": str(scratch / "config"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
        env.pop("ALPACA_LESSONS_FIGURES", None)
        env.setdefault(THREADS_ENV, str(threads_per_job(jobs)))
        port, token = free_port(), secrets.token_hex(16)
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={project / 'notebooks'}", f"--LabApp.user_settings_dir={settings}",
                   f"--LabApp.workspaces_dir={scratch / 'workspaces'}", "--LabApp.expose_app_in_browser=True"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        log = scratch / "jupyterlab.log"
        with log.open("w") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        server = cls(project, port, token, process, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                server.api("status")
                return server
            except OSError:
                time.sleep(0.3)
        server.stop()
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the server's REST API; the JSON answer (None when empty)."""
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self, path: str) -> None:
        """End the sessions of the notebook at ``path`` and their kernels."""
        for session in self.api("sessions"):
            if session["path"] == path:
                self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def chromium(width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    """The system's headless Chromium through its matching chromedriver (Debian's packages; no driver download)."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        raise RuntimeError("no chromium or chromedriver on PATH: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    options.unhandled_prompt_behavior = "accept"  # "leave this page?" at the end
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` (and the last value) if not."""
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except WebDriverException as exc:  # the page changed under us (a re-render): try again
            value = exc
        if value and not isinstance(value, Exception):
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not seen within {timeout:.0f} s (last seen: {value!r})")


_PANEL = """const path = arguments[0];
const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path);"""
_FIND_CELL = _PANEL + """
const i = panel.content.widgets.findIndex(c => c.model.sharedModel.getSource().includes(arguments[1]));"""
_STATE = _PANEL + """
const cells = panel.content.widgets.filter(c => c.model.type === 'code');
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
return {status: kernel ? kernel.status : 'none',
        counts: cells.map(c => c.model.executionCount),
        seconds: panel.content.widgets.map(c => c.model.type === 'code' && c.model.getMetadata('execution'))
            .map(e => e && e['shell.execute_reply'] ?
                 (Date.parse(e['shell.execute_reply']) - Date.parse(e['iopub.execute_input'])) / 1000 || 0 : 0),
        running: cells.filter(c => (c.node.querySelector('.jp-InputPrompt') || {}).textContent === '[*]:').length,
        errors: panel.content.widgets.flatMap((c, i) => c.model.type !== 'code' ? [] :
            c.model.outputs.toJSON().filter(o => o.output_type === 'error')
             .map(o => `cell ${i}: ${o.ename}: ${o.evalue}`)),
        widgets: panel.content.widgets.map(c => c.model.type !== 'code' ? 0 :
            c.model.outputs.toJSON().filter(o => o.data && o.data[arguments[1]]).length),
        rendered: panel.content.widgets.map(c => c.node.querySelectorAll(arguments[2]).length)};"""


def open_lab(driver: webdriver.Chrome, server: LabServer, workspace: str) -> None:
    """Load JupyterLab once in a workspace of its own (no other page's tabs); lessons are then opened inside it."""
    driver.get(server.url(f"lab/workspaces/{workspace}"))
    wait_for(lambda: driver.execute_script("return !!(window.jupyterapp && window.jupyterapp.shell"
                                           " && document.querySelector('.lm-MenuBar-item'));"),
             90, "JupyterLab loaded")
    driver.set_script_timeout(120)


class NotebookPage:
    """One lesson open in JupyterLab: run it through the menus, read its state, find its widgets."""

    def __init__(self, driver: webdriver.Chrome, server: LabServer, path: str) -> None:
        self.driver, self.server, self.path = driver, server, path
        driver.execute_script("window.jupyterapp.commands.execute('docmanager:open', {path: arguments[0]});", path)
        wait_for(lambda: self.driver.execute_script(_PANEL + "return !!(panel && panel.content.widgets.length);",
                                                    path), 60, f"{path} open in JupyterLab")
        self.driver.execute_async_script(_PANEL + "panel.sessionContext.ready.then(() => arguments[1](true));",
                                         path)

    def close(self) -> None:
        """Close the lesson's tab without the unsaved-changes dialog (the copy it ran in is thrown away)."""
        self.driver.execute_script(_PANEL + "if (panel) { panel.context.model.dirty = false; panel.close(); }",
                                   self.path)

    def state(self) -> dict[str, Any]:
        """The kernel's status, the seconds each cell ran (by cell number), and per code cell its execution count,
        outputs that are errors, widget outputs in the notebook and widget views rendered on the page."""
        return self.driver.execute_script(_STATE, self.path, WIDGET_MIME, WIDGET_VIEW)

    def menu(self, menu: str, command: str) -> None:
        """Open a menu of the menu bar and click the item that runs ``command`` (JupyterLab's command id)."""
        self.click(By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][normalize-space()='{menu}']")
        self.click(By.CSS_SELECTOR, f"li.lm-Menu-item[data-command='{command}']")

    def click(self, by: str, where: str) -> None:
        """Click the element once the page shows it (a menu or a dialog takes a moment to open)."""
        wait_for(lambda: self.driver.find_elements(by, where), 10, where)[0].click()

    def run_all(self, timeout: float = 600) -> dict[str, Any]:
        """Run > Run All Cells, then wait until every code cell ran (or an error stopped the run) and the
        kernel is idle."""
        self.menu("Run", "runmenu:run-all")
        return self.wait_done(timeout)

    def restart_and_run_all(self, timeout: float = 600) -> dict[str, Any]:
        """Run > Restart Kernel and Run All Cells…, confirmed in JupyterLab's dialog, then wait as run_all."""
        return self._restart("Run", "runmenu:restart-and-run-all", timeout)

    def restart_and_run_to(self, source: str, timeout: float = 600) -> dict[str, Any]:
        """Select the first cell whose source contains ``source``, then Kernel > Restart Kernel and Run up to
        Selected Cell…, confirmed, and wait as run_all (the cells below keep their earlier run)."""
        found = self.driver.execute_script(_FIND_CELL + "if (i >= 0) { panel.content.activeCellIndex = i; } "
                                           "return i >= 0;", self.path, source)
        assert found, f"{self.path}: no cell contains {source!r}"
        return self._restart("Kernel", "notebook:restart-and-run-to-selected", timeout)

    def _restart(self, menu: str, command: str, timeout: float) -> dict[str, Any]:
        before = self.state()["counts"]
        self.menu(menu, command)
        self.click(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept")
        wait_for(lambda: self.state()["counts"] != before, 60, "the restarted kernel starting the cells")
        return self.wait_done(timeout)

    def wait_done(self, timeout: float) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            state = self.state()
            if state["status"] in ("dead", "autorestarting", "restarting"):  # a crash: the queued cells never run
                raise AssertionError(f"{self.path}: the kernel died while running the cells ({state['status']}); "
                                     f"cells run: {sum(c is not None for c in state['counts'])} of "
                                     f"{len(state['counts'])}")
            finished = all(c is not None for c in state["counts"]) or state["errors"]
            return state if finished and not state["running"] and state["status"] == "idle" else None
        return wait_for(done, timeout, f"{self.path}: every cell run and the kernel idle", every=0.5)

    def problems(self) -> list[str]:
        """Error outputs, widgets the page did not render, and ipywidgets' failure messages on the page."""
        state = self.state()
        found = list(state["errors"])
        found += [f"cell {i}: {n} widget output(s), {r} rendered" for i, (n, r)
                  in enumerate(zip(state["widgets"], state["rendered"], strict=True)) if n != r]
        text = self.notebook().text
        found += [f"the page shows {failure!r}" for failure in WIDGET_FAILURES if failure in text]
        return found

    def notebook(self) -> WebElement:
        return self.driver.execute_script(_PANEL + "return panel.content.node;", self.path)

    def cell(self, source: str) -> WebElement:
        """The first cell whose source contains ``source``."""
        node = self.driver.execute_script(_FIND_CELL + "return i >= 0 ? panel.content.widgets[i].node : null;",
                                          self.path, source)
        assert node is not None, f"{self.path}: no cell contains {source!r}"
        return node

    def screenshot(self, folder: Path, name: str) -> list[Path]:
        """The page as it stands, and each rendered widget view on its own, as PNGs under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        shots = [folder / f"{name}.png"]
        self.driver.save_screenshot(str(shots[0]))
        views = self.notebook().find_elements(By.CSS_SELECTOR, WIDGET_VIEW)
        for k, view in enumerate(views, start=1):
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", view)
            if view.size["height"] > 0:
                shots.append(folder / f"{name}-widget{k}.png")
                view.screenshot(str(shots[-1]))
        return shots


class Widget:
    """The live widget view in one cell's output, driven by its controls' labels (what a student reads)."""

    def __init__(self, page: NotebookPage, source: str) -> None:
        self.page, self.source = page, source

    @property
    def node(self) -> WebElement:
        """The cell's rendered view (looked up afresh: JupyterLab re-renders outputs when a cell runs again)."""
        return self.page.cell(self.source).find_element(By.CSS_SELECTOR, WIDGET_VIEW)

    def shows(self) -> str:
        """The text of the view's HTML panes (the card, the request, the message), as a student reads it."""
        return "\n".join(pane.text for pane in self.node.find_elements(By.CSS_SELECTOR, ".widget-html-content"))

    def wait_shows(self, text: str, timeout: float = 30) -> str:
        """Wait until the view's HTML panes contain ``text``; what they show then."""
        return self.wait_until(lambda shown: text in shown, timeout, f"{text!r} in the widget")

    def wait_until(self, condition: Callable[[str], bool], timeout: float, what: str) -> str:
        """Wait until what the view shows meets ``condition``; fail with what it showed last."""
        last = [""]

        def check() -> str | None:
            last[0] = self.shows()
            return last[0] if condition(last[0]) else None
        try:
            return wait_for(check, timeout, what)
        except AssertionError:
            raise AssertionError(f"{what} of the cell with {self.source!r}: not seen within {timeout:.0f} s; it "
                                 f"shows {last[0][:300]!r}") from None

    def _labelled(self, css: str, label: str) -> WebElement:
        return self.node.find_element(By.XPATH, f".//div[contains(@class,'{css}')][.//label[normalize-space()="
                                                f"'{label}']]")

    def type(self, label: str, text: str, enter: bool = False) -> None:
        """Replace the text in the box labelled ``label`` (a Text or Textarea) and optionally press Enter."""
        box = self._labelled("widget-inline-hbox", label).find_element(By.CSS_SELECTOR, "input, textarea")
        box.clear()
        box.send_keys(text + ("\n" if enter else ""))

    def tick(self, label: str) -> None:
        """Click the checkbox whose description is ``label``."""
        self.node.find_element(By.XPATH, f".//label[contains(@class,'widget-label-basic')][normalize-space()="
                                         f"'{label}']//input").click()

    def slide(self, label: str, value: int) -> None:
        """Set the slider labelled ``label`` by typing into its readout, as a student can."""
        readout = self._labelled("widget-slider", label).find_element(By.CSS_SELECTOR, ".widget-readout")
        readout.click()
        readout.send_keys(Keys.CONTROL, "a")
        readout.send_keys(str(value), Keys.ENTER)

    def click(self, button: str) -> None:
        """Click the button that reads ``button``."""
        self.node.find_element(By.XPATH, f".//button[normalize-space()='{button}']").click()

    def toggle(self, row: int, option: str) -> None:
        """Click ``option`` in the ``row``-th set of toggle buttons (0-based)."""
        group = self.node.find_elements(By.CSS_SELECTOR, ".widget-toggle-buttons")[row]
        group.find_element(By.XPATH, f".//button[normalize-space()='{option}']").click()


def cell_text(page: NotebookPage, source: str) -> str:
    """The text output of the first cell whose source contains ``source``."""
    return page.cell(source).find_element(By.CSS_SELECTOR, ".jp-Cell-outputArea").text
