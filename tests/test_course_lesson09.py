"""Lesson 09's exercises: a right answer written here passes, each plausible wrong one fails with its hint."""

from __future__ import annotations

import numpy as np
from course_contract import contract_tests, fails_with_hint

from alpaca_lessons.course import lesson09


def q4_0_block(x):
    """Written out here, one weight at a time, from the description in ggml's reference quantizer."""
    largest = 0.0
    for value in x:
        if abs(value) > abs(largest):
            largest = value
    d = np.float32(largest) / np.float32(-8)
    inverse = np.float32(1) / d if d != 0 else np.float32(0)
    return float(np.float16(d)), [min(15, int(np.float32(v) * inverse + np.float32(8.5))) for v in x]


def inference_bytes(parameters, layers, width, context, bytes_per_weight, kv_bytes=2):
    """Weights, then per layer and position one key and one value of ``width`` numbers."""
    keys = layers * context * width * kv_bytes
    values = layers * context * width * kv_bytes
    return parameters * bytes_per_weight + keys + values


def test_the_hand_block_by_hand():
    block = np.zeros(32, np.float32)
    block[:4] = [-8.0, 2.5, -2.5, 0.5]
    d, q = lesson09.reference_q4_0_block(block)
    assert d == 1.0 and q[:4] == [0, 11, 6, 9] and q[4:] == [8] * 28


def test_llama_7b_q4_0_at_2048_tokens_by_hand():
    # 6,738,415,616 x 18/32 = 3,790,358,784 bytes of weights + 2 x 32 x 2048 x 4096 x 2 = 1 GiB of cache
    assert lesson09.reference_inference_bytes(6_738_415_616, 32, 4096, 2048, 18 / 32) == 3_790_358_784 + 2**30


def test_students_right_answers_pass(real_data, capsys):
    lesson09.check_q4_0_block(q4_0_block, hidden=True)
    lesson09.check_inference_bytes(inference_bytes, hidden=True)
    out = capsys.readouterr().out
    assert "✓ q4_0_block: all 8 cases" in out and "✓ inference_bytes: all 5 cases" in out


(test_the_reference_passes_its_check_hidden_cases_included, test_each_mistake_fails_with_its_hint,
 test_a_stub_is_not_done_yet) = contract_tests([
    (lesson09.check_q4_0_block, lesson09.reference_q4_0_block, lesson09.MISTAKES_Q4_0),
    (lesson09.check_inference_bytes, lesson09.reference_inference_bytes, lesson09.MISTAKES_MEMORY),
])


def test_the_planted_answer_is_wrong(real_data):
    namespace: dict = {}
    exec(lesson09.PLANTED["l09-inference-bytes"], namespace)  # noqa: S102 - the kit plants exactly this cell
    fails_with_hint(lesson09.check_inference_bytes, namespace["inference_bytes"], "only one of K and V")
