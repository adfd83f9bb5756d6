"""The held-out split: fixed size on the real 52K, order-independent, no question on both sides."""

import hashlib
import random

import pytest

from alpaca_lessons.data import Record, read_records
from alpaca_lessons.data.splits import is_heldout, select_split, split_records


@pytest.fixture(scope="module")
def alpaca():
    return read_records("alpaca_data")


def test_real_split_sizes_are_pinned(alpaca):
    sides = split_records(alpaca)
    assert (len(sides.train), len(sides.heldout)) == (49_321, 2_681)


def test_membership_is_the_hash_bucket_recomputed_here():
    for i in range(200):
        record = Record(f"instruction {i}", "x" if i % 3 else "")
        digest = hashlib.sha256(f"{record.instruction}\n{record.input}".encode()).digest()
        assert is_heldout(record) == (int.from_bytes(digest[:8], "big") % 100 < 5)


def test_split_ignores_order_and_keeps_repeats_together(alpaca):
    sample = alpaca[:3000]
    shuffled = sample[:]
    random.Random(0).shuffle(shuffled)
    held = {(r.instruction, r.input) for r in split_records(sample).heldout}
    assert held == {(r.instruction, r.input) for r in split_records(shuffled).heldout}
    train_keys = {(r.instruction, r.input) for r in split_records(alpaca).train}
    assert not any((r.instruction, r.input) in train_keys for r in split_records(alpaca).heldout)


def test_select_split_names_the_bad_split():
    assert select_split([Record("a")], "all") == [Record("a")]
    with pytest.raises(ValueError, match="heldout"):
        select_split([], "test")
