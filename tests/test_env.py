"""The environment report and the module map lesson 00 prints."""

from __future__ import annotations

from pathlib import Path

import alpaca_lessons
from alpaca_lessons.common.env import package_map, versions

PACKAGE = Path(alpaca_lessons.__file__).parent


def test_versions_report_python_and_packages():
    found = versions(("pytest", "surely-not-a-package"))
    assert found["python"].count(".") == 2
    assert found["surely-not-a-package"] == "not installed" and found["pytest"][0].isdigit()


def test_the_module_map_lists_every_folder_and_module_with_its_purpose():
    found = package_map()
    on_disk = {str(p.relative_to(PACKAGE).with_suffix("")).replace("/__init__", "")
               for p in PACKAGE.rglob("*.py")
               if p.name != "__main__.py" and not any(part.startswith("_") and part != "__init__.py"
                                                       for part in p.relative_to(PACKAGE).parts)}
    on_disk.discard("__init__")
    assert set(found) == on_disk
    assert all(found.values()), [name for name, purpose in found.items() if not purpose]
    assert {"data", "generation", "analysis", "models", "training", "evaluation", "common"} <= set(found)
    assert found["evaluation/watermark"].startswith("Output watermarking as in the Alpaca demo: Kirchenbauer et al.")


def test_a_lesson_that_runs_no_model_reports_without_importing_torch():
    """Lessons 01-03, 05 and 08 never touch torch; their first cell must not load it just to say 'CPU only'."""
    import subprocess
    import sys

    code = ("import sys\nfrom alpaca_lessons.common.env import report\nreport(('pytest',), accelerator=False)\n"
            "print('torch' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.splitlines()[-2:] == ["      hardware  not checked: this lesson runs no model", "False"], shown
