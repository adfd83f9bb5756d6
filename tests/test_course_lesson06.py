"""course/lesson06: each reference passes its check, each named mistake fails it with its hint, a stub is
NotDoneYet; the expected values here are written out by hand, not computed by the reference."""

from __future__ import annotations

import pytest
import torch
from finetune_fixtures import one_thread  # noqa: F401 (an autouse fixture)

from alpaca_lessons.course import lesson06
from alpaca_lessons.course.checking import NotDoneYet
from alpaca_lessons.models.shapes import LLAMA_7B
from alpaca_lessons.training.memory.estimate import state_bytes_per_gpu
from alpaca_lessons.training.sft import document_attention_mask

pytestmark = pytest.mark.usefixtures("real_data")


def stub(*args, **kwargs):
    raise NotImplementedError("write your solution here")


def supervised_example(prompt_ids, output_ids, eos_id, max_length=512):
    """A student's answer, written independently of the package."""
    input_ids = (list(prompt_ids) + list(output_ids) + [eos_id])[:max_length]
    return input_ids, [-100] * len(prompt_ids) + input_ids[len(prompt_ids):]


def packed_mask(document_ids):
    """A student's answer with explicit loops over positions (no broadcasting, unlike the package's)."""
    batch, length = document_ids.shape
    mask = torch.zeros(batch, 1, length, length, dtype=torch.bool)
    for b in range(batch):
        for q in range(length):
            for k in range(q + 1):
                mask[b, 0, q, k] = bool(document_ids[b, q] == document_ids[b, k])
    return mask


def test_the_reference_example_by_hand():
    assert lesson06.reference_example([1, 10, 11], [20, 21], 2, 6) == ([1, 10, 11, 20, 21, 2], [-100] * 3 + [20, 21, 2])
    assert lesson06.reference_example([1, 10, 11], [20, 21], 2, 5) == ([1, 10, 11, 20, 21], [-100] * 3 + [20, 21])


@pytest.mark.parametrize("hidden", [False, True])
def test_a_right_example_passes(hidden, capsys):
    lesson06.check_supervised_example(supervised_example, hidden=hidden)
    assert capsys.readouterr().out.startswith("✓ supervised_example: all")


def test_the_real_cases_include_a_cut_example():
    cases = lesson06.example_cases(hidden=True)
    (prompt, output, _), = [c.args for c in cases if "record 23 " in c.label]
    assert len(prompt) < 512 < len(prompt) + len(output) + 1  # record 23 really is cut at 512


@pytest.mark.parametrize("mistake", lesson06.MISTAKES_EXAMPLE, ids=lambda m: m.hint[:40])
def test_each_example_mistake_fails_with_its_hint(mistake):
    with pytest.raises(AssertionError) as failed:
        lesson06.check_supervised_example(mistake.compute)
    assert f"That is the answer {mistake.hint}" in str(failed.value)


def test_the_example_mistakes_by_hand():
    short, eos_kept = lesson06.MISTAKES_EXAMPLE[0].compute, lesson06.MISTAKES_EXAMPLE[6].compute
    assert short([1, 10, 11], [20, 21], 2, 6)[1] == [-100, -100, 11, 20, 21, 2]
    assert eos_kept([1, 10, 11], [20, 21], 2, 5) == ([1, 10, 11, 20, 2], [-100] * 3 + [20, 2])


def test_a_stub_is_not_done_yet():
    for check in (lesson06.check_supervised_example, lesson06.check_packed_mask, lesson06.check_state_bytes):
        with pytest.raises(NotDoneYet):
            check(stub)


def test_the_package_mask_by_hand():
    expected = [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]
    assert document_attention_mask(torch.tensor([[0, 0, 1, 1]]))[0, 0].int().tolist() == expected


@pytest.mark.parametrize("hidden", [False, True])
def test_a_right_mask_passes_and_packed_losses_equal_padded(hidden, capsys):
    lesson06.check_packed_mask(packed_mask, hidden=hidden)
    out = capsys.readouterr().out
    assert "✓ packed_mask: all" in out and "per-example losses packed with your mask = padded" in out


@pytest.mark.parametrize("mistake", lesson06.MISTAKES_MASK, ids=lambda m: m.hint[:40])
def test_each_mask_mistake_fails_with_its_hint(mistake):
    with pytest.raises(AssertionError) as failed:
        lesson06.check_packed_mask(mistake.compute)
    assert f"That is the answer {mistake.hint}" in str(failed.value)


def test_the_losses_tell_a_cross_example_mask_from_the_right_one():
    assert lesson06.packed_loss_gap(packed_mask) < 1e-5
    assert lesson06.packed_loss_gap(lesson06.MISTAKES_MASK[0].compute) > 1e-3  # causal only: examples mix
    assert lesson06.packed_loss_gap(lesson06.MISTAKES_MASK[1].compute) > 1e-3  # not causal: the future leaks


def test_a_float_mask_with_the_right_values_is_refused():
    with pytest.raises(AssertionError, match="return a torch.bool tensor"):
        lesson06.check_packed_mask(lambda ids: packed_mask(ids).float())


def test_state_bytes_by_hand(capsys):
    assert state_bytes_per_gpu(LLAMA_7B.parameters) == 16 * 6_738_415_616  # Alpaca's "7 x 4 x 4 = 112 GB"
    lesson06.check_state_bytes(lambda n, gpus=1, sharded=False: 16 * n / (gpus if sharded else 1), hidden=True)
    assert capsys.readouterr().out.startswith("✓ state_bytes_per_gpu: all 5 cases")


@pytest.mark.parametrize("mistake", lesson06.MISTAKES_STATE, ids=lambda m: m.hint[:40])
def test_each_state_mistake_fails_with_its_hint(mistake):
    with pytest.raises(AssertionError) as failed:
        lesson06.check_state_bytes(mistake.compute)
    assert f"That is the answer {mistake.hint}" in str(failed.value)


@pytest.mark.parametrize("grade_id", sorted(lesson06.PLANTED))
def test_each_planted_answer_fails_its_check(grade_id):
    namespace: dict = {}
    exec(lesson06.PLANTED[grade_id], namespace)  # the wrong solution cell an instructor's CI plants
    check, name = {"l06-supervised-example": (lesson06.check_supervised_example, "supervised_example"),
                   "l06-state-bytes": (lesson06.check_state_bytes, "state_bytes_per_gpu")}[grade_id]
    with pytest.raises(AssertionError, match="That is the answer"):
        check(namespace[name])
