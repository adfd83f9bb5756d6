"""The annotator widget is a thin view: its quick entry and buttons go through the session to the file."""

import json

from alpaca_lessons.analysis.validity import AnnotationSession, sample_for_annotation
from alpaca_lessons.data import Record
from alpaca_lessons.ui.annotator import annotator

RECORDS = [Record(f"Task {i}.", "", f"Output {i}.") for i in range(6)]


def test_quick_entry_and_save_append_and_the_static_view_follows(tmp_path):
    path = tmp_path / "a.jsonl"
    session = AnnotationSession(path, sample_for_annotation(RECORDS, 3, seed=0), RECORDS, "tester")
    panel = annotator(session)
    assert "record 1 of 3" in panel.static_html() and "0 answered" in panel.static_html()
    quick = next(w for w in panel.children if getattr(w, "description", "") == "quick entry")
    quick.value = "ynn unclear input"
    stored = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(s["instruction_valid"], s["input_appropriate"], s["output_correct"], s["note"]) for s in stored] == \
        [(True, False, False, "unclear input")]
    assert "record 2 of 3" in panel.static_html() and "1 answered" in panel.static_html()
    quick.value = "maybe"  # not three y/n letters: nothing is stored
    assert len(path.read_text().splitlines()) == 1
