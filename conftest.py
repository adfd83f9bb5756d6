"""Repository-wide pytest hooks: each xdist worker's share of the cores; how long each notebook took under nbval."""

from __future__ import annotations

import os
from collections import defaultdict

from alpaca_lessons.course.kit import THREADS_ENV, threads_per_job

# Under pytest-xdist (`make test` runs two workers), each worker and the notebook kernels it starts get their share
# of the cores before anything imports torch: two workers of 2 torch threads each on 2 cores spin-wait on each other.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    os.environ.setdefault(THREADS_ENV, str(threads_per_job(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))


def pytest_terminal_summary(terminalreporter) -> None:
    """Sum the cell timings of each notebook and print them, slowest first."""
    totals: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            if ".ipynb" in nodeid and getattr(report, "when", "") == "call":
                totals[nodeid.split("::")[0]] += report.duration
    if totals:
        terminalreporter.write_sep("-", "notebook run times")
        for notebook, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:7.1f} s  {notebook}")
