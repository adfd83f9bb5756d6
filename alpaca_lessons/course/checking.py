"""Checking a function a student wrote against the course's reference, with messages that point at the mistake.

An implement-it exercise gives the student a function to write; its test cell calls a ``check_...`` function
of the lesson's module (``course.lesson05`` ...), which runs the student's function and the package's tested
reference on the same inputs, real data where it matters, and compares. When they differ, the message says
on which input, what was expected and what came back, and, where the answer is a known plausible mistake
(an off-by-one in a mask, ROUGE on characters, the normal-approximation interval), what that mistake is.
A failed check raises ``AssertionError``, so an autograded cell scores no points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class NotDoneYet(AssertionError):
    """The function still raises ``NotImplementedError``: the exercise has not been written."""


@dataclass(frozen=True)
class Case:
    """One input to try: the arguments, and how to name them in a message."""

    args: tuple[Any, ...]
    label: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong answer: a function that computes it, and what to tell a student whose answer matches."""

    compute: Callable[..., Any]
    hint: str


def same(got: Any, expected: Any, tol: float = 1e-6) -> bool:
    """Equal, with floats (also inside lists, tuples and dicts) compared to a relative tolerance."""
    if isinstance(expected, float) or isinstance(got, float):
        try:
            return math.isclose(float(got), float(expected), rel_tol=tol, abs_tol=tol)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(expected) and all(same(g, e, tol) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k], tol) for k in expected)
    if hasattr(expected, "tolist") and hasattr(got, "tolist"):  # tensors and arrays
        return same(got.tolist(), expected.tolist(), tol)
    return got == expected


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value.tolist() if hasattr(value, "tolist") else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_function(student: Callable[..., Any], reference: Callable[..., Any], cases: Sequence[Case], *,
                   mistakes: Sequence[Mistake] = (), compare: Callable[[Any, Any], bool] = same,
                   name: str | None = None) -> None:
    """Run ``student`` and ``reference`` on every case; raise ``AssertionError`` at the first difference.

    The message names the function, the input, the expected and the returned value, and the hint of the
    first mistake in ``mistakes`` whose answer the student's equals. Prints one line when every case matches."""
    name = name or getattr(student, "__name__", "your function")
    for case in cases:
        expected = reference(*case.args, **case.kwargs)
        try:
            got = student(*case.args, **case.kwargs)
        except NotImplementedError:
            raise NotDoneYet(f"{name} is not written yet: replace `raise NotImplementedError` with your code") from None
        except Exception as exc:  # a student's bug is reported as a failed check, not a traceback into the course
            raise AssertionError(f"{name}({case.label}) raised {type(exc).__name__}: {exc}") from None
        if compare(got, expected):
            continue
        message = f"{name}({case.label}): expected {_short(expected)}, got {_short(got)}"
        for mistake in mistakes:
            try:
                matches = compare(got, mistake.compute(*case.args, **case.kwargs))
            except Exception:  # a mistake that cannot even be computed on this input is not this one
                matches = False
            if matches:
                message += f"\n  That is the answer {mistake.hint}"
                break
        raise AssertionError(message)
    print(f"✓ {name}: all {len(cases)} cases match the course's reference")
