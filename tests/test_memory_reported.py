"""memory/reported: every setup users reported is predicted as it turned out."""

import pytest

from alpaca_lessons.training.memory.reported import REPORTED


def test_every_reported_outcome_is_predicted():
    assert len(REPORTED) == 7 and {r.outcome for r in REPORTED} == {"worked", "out of memory"}
    for case in REPORTED:
        assert case.predicted == case.outcome, case.label
        assert sum(case.estimate.at_peak().values()) == pytest.approx(case.estimate.peak / 2**30)
