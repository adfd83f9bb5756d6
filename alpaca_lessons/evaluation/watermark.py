"""Output watermarking as in the Alpaca demo: Kirchenbauer et al. (2023), "A Watermark for Large
Language Models", the green-list scheme with its detector.

At each step the previous token, multiplied by a secret key, seeds a generator that permutes the
vocabulary; the first ``gamma`` share of the permutation is the *green list*, and ``delta`` is added to
those tokens' logits before sampling. Text written this way holds far more green tokens than the
``gamma`` share that text written without the key holds by chance, which a one-proportion z-test shows:
z = (green - gamma T) / sqrt(T gamma (1 - gamma)) over T scored tokens. Seeding follows the paper's
reference code ("simple_1": ``torch.Generator.manual_seed(key * previous_token)`` then ``torch.randperm``),
so lists are the same on every machine; the generator runs on the CPU whatever device the model is on.

Precaution: a repeated (previous token, token) pair is scored once only. Repetitive text would
otherwise count the same green token again and again and inflate z on text that was never watermarked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import torch
from transformers import LogitsProcessor

DEFAULT_KEY = 15485863  # the reference implementation's hash key (the millionth prime)
DEFAULT_GAMMA = 0.25  # share of the vocabulary that is green
DEFAULT_DELTA = 2.0  # added to green logits


@lru_cache(maxsize=65536)
def _green_ids(previous: int, vocab_size: int, gamma: float, key: int) -> tuple[int, ...]:
    generator = torch.Generator(device="cpu").manual_seed(key * previous)
    permutation = torch.randperm(vocab_size, generator=generator)
    return tuple(sorted(permutation[: int(gamma * vocab_size)].tolist()))


@lru_cache(maxsize=65536)
def _green_set(previous: int, vocab_size: int, gamma: float, key: int) -> frozenset[int]:
    return frozenset(_green_ids(previous, vocab_size, gamma, key))


def green_list(previous: int, vocab_size: int, gamma: float = DEFAULT_GAMMA, key: int = DEFAULT_KEY) -> list[int]:
    """The green token ids (sorted) after token ``previous``: the first ``int(gamma * vocab_size)`` entries
    of ``torch.randperm(vocab_size)`` drawn from a CPU generator seeded with ``key * previous``."""
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be strictly between 0 and 1, got {gamma}")
    return list(_green_ids(int(previous), vocab_size, gamma, key))


class WatermarkLogitsProcessor(LogitsProcessor):
    """Adds ``delta`` to the logits of the green list seeded by each row's last token."""

    def __init__(self, gamma: float = DEFAULT_GAMMA, delta: float = DEFAULT_DELTA, key: int = DEFAULT_KEY) -> None:
        green_list(0, 2, gamma, key)  # validates gamma
        self.gamma, self.delta, self.key = gamma, delta, key

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        bias = torch.zeros_like(scores)
        for row, previous in enumerate(input_ids[:, -1].tolist()):
            green = torch.tensor(_green_ids(previous, scores.shape[-1], self.gamma, self.key), device=scores.device)
            bias[row, green] = self.delta
        return scores + bias


@dataclass(frozen=True)
class Detection:
    """The detector's result on one text: scored tokens, green ones among them, z-score and p-value."""

    scored: int
    green: int
    gamma: float
    z: float
    p_value: float  # one-sided: the chance of this many green tokens or more without the watermark

    @property
    def green_share(self) -> float:
        """green / scored."""
        return self.green / self.scored

    def __str__(self) -> str:
        return (f"{self.green} of {self.scored} scored tokens green ({self.green_share:.0%}, expected "
                f"{self.gamma:.0%} by chance): z = {self.z:.2f}, p = {self.p_value:.2g}")


def detect(token_ids: Sequence[int], vocab_size: int, *, gamma: float = DEFAULT_GAMMA, key: int = DEFAULT_KEY,
           ignore_repeated: bool = True) -> Detection:
    """Score every token after the first against the green list of its predecessor.

    With ``ignore_repeated`` each distinct (previous, token) pair counts once. Needs at least one scored
    token."""
    pairs = list(zip(token_ids[:-1], token_ids[1:], strict=True))
    if ignore_repeated:
        pairs = list(dict.fromkeys(pairs))
    if not pairs:
        raise ValueError("the detector needs at least two tokens")
    green = sum(int(token) in _green_set(int(prev), vocab_size, gamma, key) for prev, token in pairs)
    scored = len(pairs)
    z = (green - gamma * scored) / math.sqrt(scored * gamma * (1 - gamma))
    return Detection(scored, green, gamma, z, 1 - NormalDist().cdf(z))
