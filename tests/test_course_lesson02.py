"""Lesson 02's exercise checks: the right answer passes, each plausible wrong answer fails with its hint.

The students' functions are written out here from Alpaca's ``generate_instruction.py`` and
``utils.openai_completion`` (read, not imported), each wrong one with one mistake; expected values are worked
by hand."""

from __future__ import annotations

import re

import pytest
from course_contract import fails_with_hint

from alpaca_lessons.course import lesson02
from alpaca_lessons.course.checking import NotDoneYet
from alpaca_lessons.data import Record


def student_encode(header, examples, *, newline="\n", collapse=True, colon=True, noinput=True, start=1,
                   last=None, tail="{n}. Instruction:", squash_io=False):
    """A student's ``encode_prompt``; the keyword arguments plant one mistake each."""
    out = header + newline
    for i, ex in enumerate(examples, start=start):
        ins = " ".join(ex.instruction.split()) if collapse else ex.instruction.strip()
        ins = ins.rstrip(":") if colon else ins
        inp = ex.input if (ex.input or not noinput) else "<noinput>"
        inp, outp = (" ".join(inp.split()), " ".join(ex.output.split())) if squash_io else (inp, ex.output)
        out += f"###\n{i}. Instruction: {ins}\n{i}. Input:\n{inp}\n{i}. Output:\n{outp}\n"
    n = last if last is not None else start + len(examples)
    return out + "###\n" + tail.format(n=n)


def test_hand_made_request_by_hand():
    expected = ("Header.\n###\n1. Instruction: Sort these words\n1. Input:\n<noinput>\n1. Output:\na b\n"
                "###\n2. Instruction: Add the numbers.\n2. Input:\n1 +  2\n2. Output:\n3\n###\n3. Instruction:")
    assert student_encode("Header.", lesson02.HAND_MADE) == expected


def test_the_right_encoder_passes(real_data, capsys):
    lesson02.check_encode_prompt(student_encode, hidden=True)
    assert "all 5 cases match" in capsys.readouterr().out



@pytest.mark.parametrize(("mistake", "kwargs"), [
    (0, {"newline": ""}),
    (1, {"collapse": False}),
    (2, {"colon": False}),
    (3, {"noinput": False}),
    (4, {"start": 0}),
    (5, {"last": 0}),
    (6, {"tail": ""}),
    (7, {"tail": "{n}. Instruction: "}),
    (8, {"tail": "{n}. Instruction:\n"}),
    (9, {"squash_io": True}),
])
def test_each_encoding_mistake_fails_with_its_hint(real_data, mistake, kwargs):
    if mistake == 5:  # ends with the last example's number
        def wrong(header, examples):
            return student_encode(header, examples, last=len(examples))
    else:
        def wrong(header, examples):
            return student_encode(header, examples, **kwargs)
    message = fails_with_hint(lesson02.check_encode_prompt, wrong, lesson02.MISTAKES_ENCODE[mistake].hint)
    assert message.startswith("encode_prompt(") and "expected '" in message and "got '" in message


def test_the_planted_encoder_fails(real_data):
    namespace = {"Record": Record}
    exec(lesson02.PLANTED["l02-encode-prompt"], namespace)
    fails_with_hint(lesson02.check_encode_prompt, namespace["encode_prompt"], "'<noinput>'")


def test_stubs_are_not_done_yet(real_data):
    def stub(*args, **kwargs):
        raise NotImplementedError("write your solution here")
    for check in (lesson02.check_encode_prompt, lesson02.check_alpaca_max_tokens):
        with pytest.raises(NotDoneYet):
            check(stub)


def student_max_tokens(prompt_tokens, max_tokens=3072, context=4097, *, pick=max, cut=lambda m, o: int(m * 0.8),
                       strict=False, once=False):
    """A student's ``alpaca_max_tokens``; the keyword arguments plant one mistake each."""
    original = max_tokens
    while pick(prompt_tokens) + max_tokens > context or (strict and pick(prompt_tokens) + max_tokens >= context):
        max_tokens = cut(max_tokens, original)
        if once:
            break
    return max_tokens


def test_cuts_by_hand():
    # 3072 -> 2457 -> 1965 -> 1572 -> 1257 -> 1005
    assert [student_max_tokens(b) for b in lesson02.HAND_MADE_BATCHES] == [3072, 1005, 2457, 1005]


def test_real_batches(real_data, capsys):
    batches = lesson02.sampled_batches()
    assert len(batches) == 40 and all(len(b) == 5 for b in batches)
    cut = [student_max_tokens(b) for b in batches]
    assert sum(m < 3072 for m in cut) == 13 and min(cut) == 1965  # pinned 2026-12: 13 of 40 batches were cut
    lesson02.check_alpaca_max_tokens(student_max_tokens, hidden=True)
    assert "all 48 cases match" in capsys.readouterr().out


@pytest.mark.parametrize(("mistake", "kwargs"), [
    (0, {"pick": lambda p: p[0]}),
    (1, {"pick": lambda p: sum(p) / len(p)}),
    (2, {"once": True}),
    (3, {"strict": True}),
    (5, {"cut": lambda m, o: m - int(o * 0.2)}),
    (6, {"cut": lambda m, o: round(m * 0.8)}),
    (7, {"cut": lambda m, o: m * 0.8}),
])
def test_each_cut_mistake_fails_with_its_hint(real_data, mistake, kwargs):
    fails_with_hint(lesson02.check_alpaca_max_tokens, lambda p, max_tokens=3072, context=4097: student_max_tokens(
        p, max_tokens, context, **kwargs), lesson02.MISTAKES_CUTS[mistake].hint)


def test_the_exact_room_mistake(real_data):
    def exact_room(p, max_tokens=3072, context=4097):
        return min(max_tokens, context - max(p))

    fails_with_hint(lesson02.check_alpaca_max_tokens, exact_room, lesson02.MISTAKES_CUTS[4].hint)


def test_the_reference_collapses_like_alpacas_regex():
    # Alpaca: re.sub(r"\s+", " ", instruction).strip().rstrip(":"); str.split() splits on the same whitespace here
    text = "  Sort these\n\n  words:  "
    assert re.sub(r"\s+", " ", text).strip().rstrip(":") == " ".join(text.split()).rstrip(":") == "Sort these words"
