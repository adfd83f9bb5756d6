"""Grading's quick mode: one environment variable, read in one place."""

from __future__ import annotations

import pytest

from alpaca_lessons.course.quick import QUICK_ENV, quick_mode, sized


@pytest.mark.parametrize(("value", "expected"), [(None, 1000), ("", 1000), ("0", 1000), ("1", 10), ("yes", 10)])
def test_sized_follows_the_variable(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(QUICK_ENV, raising=False)
    else:
        monkeypatch.setenv(QUICK_ENV, value)
    assert sized(1000, 10) == expected
    assert quick_mode() == (expected == 10)
