"""The exercises' answers, pinned: a change in the package must not silently change "the correct answer"."""

from __future__ import annotations

import math

import pytest

from alpaca_lessons.course import exercises

# Each answer as the course states it, recorded 2026-11-30 from the real data; where it is arithmetic, the
# expression beside it recomputes it without the package.
PINNED = {
    "00.license": "CC BY-NC 4.0",
    "00.records": 52002,
    "01.empty_inputs": 50,
    "01.longest": "seed_task_135",
    "01.belle_inputs": 126,
    "02.prompt_tokens": 364,
    "02.ending": "6. Instruction:",  # 5 examples numbered 1-5, the teacher continues at 6
    "02.largest_prompt": 4097 - 3072,  # text-davinci-003's window minus max_tokens
    "03.hash_map": "blacklisted word",
    "03.contained": round(2 * (4 / 4) * (4 / 12) / (4 / 4 + 4 / 12), 3),  # P = 1, R = 1/3: F = 0.5
    "03.lcs_to_reject": 8,  # F = LCS / 10 with equal lengths; 7 gives exactly 0.7, which is kept
    "04.thin_wedge": 4 * 2,  # 4 objects of 2 pairs each
    "04.max_coverage": 20 * 4 / 1000,  # 80 wedges of one instruction each
    "05.all_valid": 148,
    "05.wilson_low": 0.686,
    "05.placeholder_inputs": 672,
    "06.bytes_per_param": 4.0 * 4,  # float32 weights, gradients, Adam's two moments
    "06.accumulation": 128 // (8 * 4),
    "06.fewest_a100_40": 4,
    "06.lora_7b": 32 * 2 * 8 * (4096 + 4096),  # layers x (q, v) x r x (in + out)
    "06.learned_tokens": 5,
    "07.green_tokens": int(0.25 * 32000),
    "07.z_all_green": round((16 - 0.25 * 16) / math.sqrt(16 * 0.25 * 0.75), 2),
    "08.p_value": 1.0,
    "08.selfinstruct_wins": 63,
    "08.identical": 16,
}


def _wilson_low(yes: int, n: int, z: float = 1.959963984540054) -> float:
    """The Wilson score interval's lower end, written out here as the oracle for 05.wilson_low."""
    p = yes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def test_every_exercise_is_pinned():
    assert set(PINNED) == set(exercises.EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(PINNED))
def test_the_answer_is_the_pinned_one(exercise_id, real_data):
    assert exercises.is_correct(exercise_id, PINNED[exercise_id]), \
        f"{exercise_id}: the package now computes {exercises.EXERCISES[exercise_id].solve()!r}"


def test_the_wilson_answer_matches_the_formula():
    assert round(_wilson_low(150, 200), 3) == PINNED["05.wilson_low"]


def test_exercises_check_answers(real_data, capsys):
    assert exercises.is_correct("02.largest_prompt", 1025)
    assert not exercises.is_correct("02.largest_prompt", 3072)
    assert exercises.is_correct("00.license", " cc by-nc 4.0") and not exercises.is_correct("00.license", None)
    exercises.check("02.largest_prompt", 1025)
    exercises.check("02.largest_prompt", 3072)
    exercises.check("01.empty_inputs", None)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[02.largest_prompt] correct!" and out[1].startswith("[02.largest_prompt] not quite. Hint:")
    assert "not answered yet" in out[3]
