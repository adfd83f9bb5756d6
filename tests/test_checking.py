"""The exercise checker: a right answer passes, a wrong one names the input, the values and the known mistake."""

from __future__ import annotations

import pytest

from alpaca_lessons.course.checking import Case, Mistake, NotDoneYet, check_function, same

CASES = [Case((3,), "3"), Case((10,), "10")]


def square(x: int) -> int:
    return x * x


def test_a_right_answer_passes_and_says_so(capsys):
    check_function(lambda x: x ** 2, square, CASES, name="square")
    assert capsys.readouterr().out == "✓ square: all 2 cases match the course's reference\n"


def test_a_wrong_answer_names_the_input_and_both_values():
    with pytest.raises(AssertionError) as failed:
        check_function(lambda x: x * 3, square, CASES, name="square")
    assert str(failed.value) == "square(10): expected 100, got 30"  # 3 * 3 == 3 ** 2: the first case passes


def test_a_known_mistake_gets_its_hint():
    doubled = Mistake(lambda x: 2 * x, "of x + x: squaring multiplies x by itself")
    with pytest.raises(AssertionError) as failed:
        check_function(lambda x: x + x, square, CASES, mistakes=[doubled], name="square")
    assert str(failed.value) == ("square(3): expected 9, got 6\n"
                                 "  That is the answer of x + x: squaring multiplies x by itself")


def test_an_unwritten_function_and_a_crash_are_reported_in_one_message():
    def stub(x):
        raise NotImplementedError

    with pytest.raises(NotDoneYet, match="square is not written yet"):
        check_function(stub, square, CASES, name="square")
    with pytest.raises(AssertionError, match=r"^square\(3\) raised ZeroDivisionError: division by zero$"):
        check_function(lambda x: x / 0, square, CASES, name="square")


def test_same_compares_floats_with_a_tolerance_inside_containers():
    assert same(0.1 + 0.2, 0.3) and same([1.0, (2.0, 3.0000000001)], [1, (2, 3)])
    assert not same([1.0], [1.0, 2.0]) and not same({"a": 1.0}, {"a": 1.1}) and not same("0.3", 0.4)
