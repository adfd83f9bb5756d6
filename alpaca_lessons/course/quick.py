"""Grading's quick mode: the heaviest demonstration cells of a lesson run smaller while the kit autogrades.

nbgrader executes every cell of a submission, so grading a class re-runs each lesson's demonstrations
(training the small model, parsing thousands of instructions) once per student. What is graded is only the
test cells, which call the lesson's checkers on their own inputs. ``alpaca-lessons course grade --quick`` sets
``$ALPACA_LESSONS_QUICK=1``; a demonstration cell asks for its size through ``sized(full, quick)`` and gets the
small one. Exercise and test cells never call it: a student's grade is the same in both modes. A lesson a
student opens in Jupyter never has the variable set, so it shows the full demonstration.
"""

from __future__ import annotations

import os
from typing import TypeVar

QUICK_ENV = "ALPACA_LESSONS_QUICK"
T = TypeVar("T")


def quick_mode() -> bool:
    """Whether grading's quick mode is on (``$ALPACA_LESSONS_QUICK`` set to anything but ``""`` or ``"0"``)."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


def sized(full: T, quick: T) -> T:
    """The size a demonstration cell uses: ``full`` normally, ``quick`` in grading's quick mode."""
    return quick if quick_mode() else full
