"""The exercises' answers, pinned: a change in the package must not silently change "the correct answer"."""

from __future__ import annotations

import math

import pytest

from alpaca_lessons.course import exercises

# Each answer as the course states it, recorded 2026-11-30 from the real data; where it is arithmetic, the
# expression beside it recomputes it without the package.
PINNED = {
    "00.per_seed": round(52002 / 175),  # 297.2 examples per seed task
    "01.longest": "seed_task_135",
    "01.classification_request": round(1 - (149 * 148 * 147) / (175 * 174 * 173), 3),  # no classification in 3
    "02.prompt_tokens": 364,
    "02.reply_tasks_5": 19 - 5,  # tasks 6 to 19: the stop sequence "20." ends the reply
    "03.hash_map": "blacklisted word",
    "03.contained": round(2 * (4 / 4) * (4 / 12) / (4 / 4 + 4 / 12), 3),  # P = 1, R = 1/3: F = 0.5
    "03.lcs_to_reject": 8,  # F = LCS / 10 with equal lengths; 7 gives exactly 0.7, which is kept
    "04.thin_wedge": 4 * 2,  # 4 objects of 2 pairs each
    "04.max_coverage": 20 * 4 / 1000,  # 80 wedges of one instruction each
    "05.halve_width": 4,  # 1533 / 381 records for widths 0.05 and 0.10: the width shrinks like 1/sqrt(n)
    "05.independent_kappa": 0.0,  # p_o = 0.9² + 0.1² = 0.82 = p_e, so kappa = 0
    "06a.learned_tokens": 5,  # 'Hi there!' is 4 course-tokenizer tokens, plus the EOS
    "06a.pad_is_eos": 5 - 1,  # the same, with the EOS masked as if it were padding
    "06b.fewest_a100_40": 4,
    "07.fewest_all_green": next(t for t in range(1, 100) if math.sqrt(t * 0.75 / 0.25) >= 4),  # sqrt(3T) >= 4: 6
    "08.first_position_judge": 0.5,  # each order picks a different output: 805 ties, each worth half a win
    "08.fewest_wins": 15,  # 2 P(X <= 5) = 0.041 <= 0.05 < 2 P(X <= 6) = 0.115 for X ~ Binomial(20, 1/2)
    "09.q4_0_bits": (32 * 4 + 16) / 32,  # 4.5
    # (7 GiB - 6,738,149,376 matrix weights x 18/32 - 266,240 norm weights x 4) / (2 x 32 x 4096 x 2 bytes a token)
    "09.laptop_context": int((7 * 2**30 - (6_738_149_376 // 32 * 18 + 266_240 * 4)) // (2 * 32 * 4096 * 2)),
}


def test_the_fewest_wins_answer_matches_the_binomial():
    def two_sided(wins: int) -> float:
        return 2 * sum(math.comb(20, k) for k in range(20 - wins + 1)) / 2**20

    assert two_sided(15) <= 0.05 < two_sided(14)
    assert PINNED["08.fewest_wins"] == 15


def test_every_exercise_is_pinned():
    assert set(PINNED) == set(exercises.EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(PINNED))
def test_the_answer_is_the_pinned_one(exercise_id, real_data):
    assert exercises.is_correct(exercise_id, PINNED[exercise_id]), \
        f"{exercise_id}: the package now computes {exercises.EXERCISES[exercise_id].solve()!r}"


def test_exercises_check_answers(real_data, capsys):
    assert exercises.is_correct("02.reply_tasks_5", 14)
    assert not exercises.is_correct("02.reply_tasks_5", 16)
    assert exercises._same(" Blacklisted Word", "blacklisted word")  # strings: case and outer spaces ignored
    assert exercises.is_correct("08.fewest_wins", 15) and not exercises.is_correct("08.fewest_wins", None)
    exercises.check("02.reply_tasks_5", 14)
    exercises.check("02.reply_tasks_5", 16)
    exercises.check("01.longest", None)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[02.reply_tasks_5] correct!" and out[1].startswith("[02.reply_tasks_5] not quite. Hint:")
    assert "not answered yet" in out[3]
