"""Repository-wide pytest hooks: print how long each notebook took under nbval."""

from __future__ import annotations

from collections import defaultdict


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
