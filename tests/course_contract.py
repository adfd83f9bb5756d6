"""What every lesson's exercise checks must do, shared by the tests/test_course_lessonNN.py files.

``fails_with_hint``: a wrong answer fails its check (hidden cases included) with the hint that names its mistake.
``contract_tests``: for a list of (check, reference, mistakes), the three tests every checker owes: the reference
passes its check with the hidden cases, each known mistake fails with its hint, and a stub is reported as not done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from alpaca_lessons.course.checking import Mistake, NotDoneYet

Check = Callable[..., None]


def fails_with_hint(check: Check, student: Callable[..., Any], hint: str) -> str:
    """Run ``check`` on ``student`` with the hidden cases; it must fail, naming ``hint``. Returns the message."""
    with pytest.raises(AssertionError) as failed:
        check(student, hidden=True)
    assert hint in str(failed.value), str(failed.value)
    return str(failed.value)


def contract_tests(checks: Sequence[tuple[Check, Callable[..., Any], Sequence[Mistake]]]):
    """The three tests a lesson's checks owe, to assign to ``test_...`` names in the lesson's test module."""
    mistakes = [(check, mistake) for check, _, listed in checks for mistake in listed]

    @pytest.mark.parametrize("check, reference", [(c, r) for c, r, _ in checks])
    def test_the_reference_passes_its_check_hidden_cases_included(check, reference, real_data, capsys):
        check(reference, hidden=True)
        assert "✓" in capsys.readouterr().out

    @pytest.mark.parametrize("check, mistake", mistakes, ids=[m.hint[:40] for _, m in mistakes])
    def test_each_mistake_fails_with_its_hint(check, mistake, real_data):
        with pytest.raises(AssertionError) as failed:
            check(mistake.compute)
        assert f"That is the answer {mistake.hint}" in str(failed.value)

    @pytest.mark.parametrize("check", [c for c, _, _ in checks])
    def test_a_stub_is_not_done_yet(check, real_data):
        def stub(*args):
            raise NotImplementedError("write your solution here")

        with pytest.raises(NotDoneYet):
            check(stub)

    return (test_the_reference_passes_its_check_hidden_cases_included, test_each_mistake_fails_with_its_hint,
            test_a_stub_is_not_done_yet)
