"""Each lesson, opened in JupyterLab and run with Run All Cells, finishes without an error output and with
every widget rendered: what nbval, which never draws a page, cannot see. A screenshot of the page and of each
widget is saved under ``build/browser/`` (CI keeps it), so a maintainer can look at what a student sees."""

from __future__ import annotations

import pytest
from lab_driver import LESSONS


@pytest.mark.parametrize("name", LESSONS, ids=[n.removesuffix(".ipynb") for n in LESSONS])
def test_lesson_runs_in_jupyterlab(name, lesson, shots):
    page = lesson(name)
    page.screenshot(shots, name.removesuffix(".ipynb"))
    assert page.problems() == []
    assert None not in page.state()["counts"], "a cell did not run"
