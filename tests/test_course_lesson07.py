"""Lesson 07's exercises: a right answer written here passes, each plausible wrong one fails with its hint."""

from __future__ import annotations

import math

import pytest
import torch
from course_contract import fails_with_hint

from alpaca_lessons.course import lesson07
from alpaca_lessons.course.checking import NotDoneYet
from alpaca_lessons.evaluation.watermark import green_list


def watermark(input_ids, scores, gamma=0.25, delta=2.0, previous=lambda ids: ids[:, -1].tolist()):
    """Written out here: a loop over rows and green tokens, adding delta one token at a time."""
    out = scores.clone()
    for row, token in enumerate(previous(input_ids)):
        for green in green_list(token, scores.shape[-1], gamma):
            out[row, green] = out[row, green] + delta
    return out


def z_score(token_ids, vocab_size, gamma=0.25, distinct=True, first=0, sd=None):
    """The one-proportion z over distinct (previous, token) pairs, written out with a set of seen pairs."""
    seen, green, scored = set(), 0, first
    for previous, token in zip(token_ids, token_ids[1:], strict=False):
        if distinct and (previous, token) in seen:
            continue
        seen.add((previous, token))
        scored += 1
        green += token in green_list(previous, vocab_size, gamma)
    deviation = sd(scored, gamma) if sd else math.sqrt(scored * gamma * (1 - gamma))
    return (green - gamma * scored) / deviation



def test_all_green_is_green_step_by_step():
    ids = lesson07.all_green(12, 100, 0.5, start=3)
    assert ids[0] == 3 and len(ids) == 12 and len(set(zip(ids, ids[1:], strict=False))) == 11
    assert all(b in green_list(a, 100, 0.5) for a, b in zip(ids, ids[1:], strict=False))
    # 11 scored, all green at gamma 1/2: z = (11 - 5.5) / sqrt(11 / 4) = sqrt(11) = 3.3166
    assert z_score(ids, 100, 0.5) == pytest.approx(math.sqrt(11))


def test_a_right_watermark_passes(real_data, capsys):
    lesson07.check_watermark(watermark, hidden=True)
    assert "✓ watermark: all 4 cases" in capsys.readouterr().out


def test_a_watermark_that_edits_the_scores_in_place_passes(real_data):
    def in_place(input_ids, scores, gamma=0.25, delta=2.0):
        for row, token in enumerate(input_ids[:, -1].tolist()):
            scores[row, green_list(token, scores.shape[-1], gamma)] += delta
        return scores

    lesson07.check_watermark(in_place, hidden=True)


@pytest.mark.parametrize(("student", "hint"), [
    (lambda i, s, gamma=0.25, delta=2.0: watermark(i, s, gamma, delta, lambda ids: ids[:, 0].tolist()),
     "the green list of each row's first token"),
    (lambda i, s, gamma=0.25, delta=2.0: watermark(i, s, gamma, delta, lambda ids: [int(ids[0, -1])] * len(ids)),
     "the first row's green list added to every row"),
    (lambda i, s, gamma=0.25, delta=2.0: s + delta - (watermark(i, s, gamma, delta) - s),
     "NOT in the green list"),
    (lambda i, s, gamma=0.25, delta=2.0: watermark(i, torch.zeros_like(s), gamma, delta), "of the bias alone"),
])
def test_each_wrong_watermark_fails_with_its_hint(real_data, student, hint):
    fails_with_hint(lesson07.check_watermark, student, hint)


def test_a_right_z_score_passes(real_data, capsys):
    lesson07.check_z_score(z_score, hidden=True)
    assert "✓ z_score: all 12 cases" in capsys.readouterr().out


@pytest.mark.parametrize(("student", "hint"), [
    (lambda ids, v, gamma=0.25: z_score(ids, v, gamma, first=1), "with the first token counted:"),
    (lambda ids, v, gamma=0.25: z_score(ids, v, gamma, distinct=False), "with repeated (previous, token) pairs"),
    (lambda ids, v, gamma=0.25: z_score(ids, v, gamma, distinct=False, first=1),
     "with the first token counted and repeated pairs counted every time"),
    (lambda ids, v, gamma=0.25: z_score(ids, v, gamma, sd=lambda t, g: math.sqrt(t * g)), "√(T·gamma)"),
    (lambda ids, v, gamma=0.25: z_score(ids[::-1], v, gamma), "the green list of the token after it"),
    (lambda ids, v, gamma=0.25: z_score(ids, v), "with gamma fixed at 0.25"),
])
def test_each_wrong_z_score_fails_with_its_hint(real_data, student, hint):
    fails_with_hint(lesson07.check_z_score, student, hint)


def test_stubs_are_not_done_yet(real_data):
    def stub(*args, **kwargs):
        raise NotImplementedError

    with pytest.raises(NotDoneYet):
        lesson07.check_watermark(stub)
    with pytest.raises(NotDoneYet):
        lesson07.check_z_score(stub)


def test_the_planted_answer_defines_z_score_and_is_wrong(real_data):
    namespace: dict = {}
    exec(lesson07.PLANTED["l07-z-score"], namespace)  # noqa: S102 - the kit plants exactly this cell
    fails_with_hint(lesson07.check_z_score, namespace["z_score"], "with the first token counted and repeated pairs")
