"""What lesson 03 tabulates: shares and counts, on hand-made data and on the real 52K and seeds."""

import pytest
from teacher_helpers import needs_mirror

from alpaca_lessons.data import Record, read_records, read_seed_tasks
from alpaca_lessons.generation.self_instruct.compare import (
    comparison_rows,
    rule_agreement,
    summarize_records,
    summarize_self_instruct,
    table_1_summary,
)


def test_summaries_by_hand():
    tasks = [{"instruction": "a", "is_classification": True, "instances": [{"input": "x", "output": "1"},
                                                                          {"input": "y", "output": "2"}]},
             {"instruction": "b", "is_classification": False, "instances": [{"input": "", "output": "3"}]},
             {"instruction": "c", "is_classification": False, "instances": []}]
    si = summarize_self_instruct(tasks)
    assert (si.instructions, si.instances, si.with_input, si.classification) == (3, 3, 2, 1)
    assert si.per_instruction == 1.0 and si.classification_share == pytest.approx(1 / 3)
    alpaca = summarize_records([Record("a", "x", "1"), Record("b", "", "2")])
    assert alpaca.input_share == 0.5 and alpaca.classification_share is None
    rows = dict((r[0], r[1:]) for r in comparison_rows(si, alpaca, 0.3, 0.1))
    assert rows["cost per kept instance"] == ("$0.1000", "$0.0500")
    assert rows["classification tasks"] == ("33.3%", "not asked")


def test_the_papers_table_1_adds_up():
    paper = table_1_summary()
    assert round(paper.per_instruction, 2) == 1.57  # 82,439 / 52,445
    assert paper.with_input == 82_439 - 35_878 and round(paper.classification_share, 3) == 0.221


@needs_mirror
def test_the_52k_input_share_is_39_8_percent():
    alpaca = summarize_records(read_records("alpaca_data"))
    assert (alpaca.with_input, alpaca.instances, alpaca.instructions) == (20_679, 52_002, 52_002)
    assert round(alpaca.input_share, 3) == 0.398


@needs_mirror
def test_the_offline_rule_against_the_seed_labels():
    agreement = rule_agreement(read_seed_tasks("seed_tasks"))
    assert (agreement.true_positive, agreement.false_positive, agreement.false_negative,
            agreement.true_negative) == (19, 4, 7, 145)  # 26 classification seeds, 149 others
