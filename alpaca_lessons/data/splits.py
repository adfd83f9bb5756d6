"""The course's fixed split of Alpaca's 52K: a held-out set no course model ever trains on.

A record is held out when a hash of its instruction and input falls in one of ``HELDOUT_BUCKETS`` of
``BUCKETS`` buckets (5%: 2,681 of the 52,002). A hash, rather than a seeded shuffle, keeps the split
the same whatever order the records come in, and puts records with the same instruction and input (the 52K
has repeats) on the same side, so no held-out question was seen in training under another index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from alpaca_lessons.data.records import Record

BUCKETS = 100
HELDOUT_BUCKETS = 5
SPLITS = ("all", "train", "heldout")


def is_heldout(record: Record) -> bool:
    """Whether ``record`` belongs to the held-out split (a pure function of its instruction and input)."""
    key = f"{record.instruction}\n{record.input}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % BUCKETS < HELDOUT_BUCKETS


@dataclass(frozen=True)
class Split:
    """The records on each side of the split, each side in the order the records came in."""

    train: list[Record]
    heldout: list[Record]


def split_records(records: list[Record]) -> Split:
    """Divide ``records`` into the training side and the held-out side."""
    train: list[Record] = []
    heldout: list[Record] = []
    for record in records:
        (heldout if is_heldout(record) else train).append(record)
    return Split(train, heldout)


def select_split(records: list[Record], split: str) -> list[Record]:
    """The records of one side: ``"all"``, ``"train"`` or ``"heldout"``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if split == "all":
        return records
    sides = split_records(records)
    return sides.train if split == "train" else sides.heldout
