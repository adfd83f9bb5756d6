"""train/run: the training log a resumed run leaves reads with the last record of each step."""

from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.training.train import read_log


def test_the_log_keeps_the_last_record_of_a_replayed_step(tmp_path):
    store = AppendOnlyStore(tmp_path / "train_log.jsonl")
    for step, loss in ((1, 5.0), (2, 4.0), (3, 3.5), (2, 4.1), (3, 3.6), (4, 3.0)):  # killed after 3, resumed at 1
        store.append({"step": step, "loss": loss})
    assert [(r["step"], r["loss"]) for r in read_log(tmp_path)] == [(1, 5.0), (2, 4.1), (3, 3.6), (4, 3.0)]
