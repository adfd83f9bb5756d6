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
    "03.handwritten_kept": 1,
    "03.hash_map": "blacklisted word",
    "03.chinese_false_duplicates": 4,
    "03.belle_bm25_seeds": 26,
    "03.davinci_cost": 2 * 0.02,  # 2K tokens at $0.02 per 1K
    "04.verb_noun": ("describe", "structure"),
    "04.top_seed_verb": "write",
    "04.seed_verbs": 45,
    "05.halve_width": 4,  # 1533 / 381 records for widths 0.05 and 0.10: the width shrinks like 1/sqrt(n)
    "05.independent_kappa": 0.0,  # p_o = 0.9² + 0.1² = 0.82 = p_e, so kappa = 0
    "06.bytes_per_param": 4.0 * 4,  # float32 weights, gradients, Adam's two moments
    "06.accumulation": 128 // (8 * 4),
    "06.fewest_a100_40": 4,
    "06.lora_7b": 32 * 2 * 8 * (4096 + 4096),  # layers x (q, v) x r x (in + out)
    "06.learned_tokens": 5,
    "07.fewest_all_green": next(t for t in range(1, 100) if math.sqrt(t * 0.75 / 0.25) >= 4),  # sqrt(3T) >= 4: 6
    "08.p_value": 1.0,
    "08.selfinstruct_wins": 63,
    "08.identical": 16,
}


def test_every_exercise_is_pinned():
    assert set(PINNED) == set(exercises.EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(PINNED))
def test_the_answer_is_the_pinned_one(exercise_id, real_data):
    assert exercises.is_correct(exercise_id, PINNED[exercise_id]), \
        f"{exercise_id}: the package now computes {exercises.EXERCISES[exercise_id].solve()!r}"


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
