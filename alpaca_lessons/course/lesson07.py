"""Lesson 07's implement-it exercises: the watermark's logit processor and the detector's z-score.

The student writes ``watermark(input_ids, scores, gamma, delta)`` (add ``delta`` to the green list of each row's
last token) and ``z_score(token_ids, vocab_size, gamma)`` (the one-proportion z-test over the distinct
(previous, token) pairs), both with ``evaluation.watermark.green_list``. They are checked against the course's
``WatermarkLogitsProcessor`` and ``detect`` on real text (Alpaca outputs in the course tokenizer's ids, Alpaca's
template as a left-padded batch) and on hand-made sequences; the known wrong answers (the first token scored,
repeated pairs counted, √(Tγ) as the deviation, the wrong token's green list, the first row's list for all rows)
are recognised and named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import torch

from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import read_records
from alpaca_lessons.evaluation.watermark import DEFAULT_GAMMA, WatermarkLogitsProcessor, detect, green_list
from alpaca_lessons.models.modeling import course_model_dir, load_tokenizer
from alpaca_lessons.models.templates import training_prompt


@lru_cache(maxsize=1)
def _tokenizer():
    return load_tokenizer(course_model_dir())


def all_green(length: int, vocab_size: int, gamma: float = DEFAULT_GAMMA, start: int = 0) -> list[int]:
    """``length`` token ids from ``start``, each in the green list of the one before it and no (previous, token)
    pair twice: the most watermarked text there can be."""
    ids = [start]
    while len(ids) < length:
        ids.append(next(t for t in green_list(ids[-1], vocab_size, gamma) if t not in ids))
    return ids


# ------------------------------------------------------------------ exercise 7.1: the logit processor
def _bias(input_ids: torch.Tensor, scores: torch.Tensor, previous: Sequence[int], gamma: float, delta: float,
          green: bool = True) -> torch.Tensor:
    out = scores.clone()
    for row, token in enumerate(previous):
        mask = torch.zeros(scores.shape[-1], dtype=torch.bool)
        mask[green_list(token, scores.shape[-1], gamma)] = True
        out[row, mask if green else ~mask] += delta
    return out


MISTAKES_WATERMARK = (
    Mistake(lambda ids, s, gamma=DEFAULT_GAMMA, delta=2.0: _bias(ids, s, ids[:, 0].tolist(), gamma, delta),
            "with the green list of each row's first token: the list is seeded by the token just before the one "
            "being chosen, the row's last."),
    Mistake(lambda ids, s, gamma=DEFAULT_GAMMA, delta=2.0: _bias(ids, s, [int(ids[0, -1])] * len(ids), gamma, delta),
            "with the first row's green list added to every row: each row continues its own text, so each has its "
            "own last token and its own list."),
    Mistake(lambda ids, s, gamma=DEFAULT_GAMMA, delta=2.0: _bias(ids, s, ids[:, -1].tolist(), gamma, delta, False),
            "with delta added to the tokens that are NOT in the green list."),
    Mistake(lambda ids, s, gamma=DEFAULT_GAMMA, delta=2.0: _bias(ids, torch.zeros_like(s), ids[:, -1].tolist(),
                                                                 gamma, delta),
            "of the bias alone: the processor returns the model's scores with delta added on the green tokens."),
)


def _reference_watermark(input_ids: torch.Tensor, scores: torch.Tensor, gamma: float = DEFAULT_GAMMA,
                         delta: float = 2.0) -> torch.Tensor:
    return WatermarkLogitsProcessor(gamma, delta)(input_ids, scores)


def check_watermark(fn: Callable[..., torch.Tensor], hidden: bool = False) -> None:
    """Check ``fn(input_ids, scores, gamma=0.25, delta=2.0)`` against ``WatermarkLogitsProcessor``: a hand-made
    batch in a vocabulary of 16, then three Alpaca records in the course tokenizer's ids, Alpaca's template and
    the first three words of the answer (a batch mid-generation, each row ending in a different token), padded on
    the left, with seeded random scores over its 4,096 tokens; with ``hidden``, other gamma and delta."""
    small = torch.tensor([[5, 1], [5, 2], [7, 3]])
    generator = torch.Generator().manual_seed(0)
    tokenizer = _tokenizer()
    texts = [training_prompt(r) + " ".join(r.output.split()[:3]) for r in read_records("alpaca_data")[:3]]
    real = tokenizer(texts, return_tensors="pt", padding=True, padding_side="left")["input_ids"]
    cases = [Case((small, torch.randn(3, 16, generator=generator)), "[[5, 1], [5, 2], [7, 3]], scores over 16"),
             Case((real, torch.randn(3, len(tokenizer), generator=generator)),
                  f"three Alpaca prompts three words into their answers {tuple(real.shape)}, "
                  f"scores over {len(tokenizer)}")]
    if hidden:
        cases += [Case(cases[1].args, cases[1].label + ", gamma=0.5, delta=4.0", {"gamma": 0.5, "delta": 4.0}),
                  Case((torch.tensor([[9]]), torch.zeros(1, 40)), "[[9]], zeros over 40")]

    def on_copies(input_ids: torch.Tensor, scores: torch.Tensor, **options: float) -> torch.Tensor:
        return fn(input_ids.clone(), scores.clone(), **options)  # a function that edits in place changes no case

    check_function(on_copies, _reference_watermark, cases, mistakes=MISTAKES_WATERMARK,
                   name=getattr(fn, "__name__", "watermark"))


# ------------------------------------------------------------------ exercise 7.2: the detector's z-score
def _z(green: int, scored: int, gamma: float, sd: Callable[[int, float], float] | None = None) -> float:
    return (green - gamma * scored) / (sd(scored, gamma) if sd else math.sqrt(scored * gamma * (1 - gamma)))


def _pairs(ids: Sequence[int], distinct: bool = True) -> list[tuple[int, int]]:
    pairs = list(zip(ids[:-1], ids[1:], strict=True))
    return list(dict.fromkeys(pairs)) if distinct else pairs


def _green(pairs: Sequence[tuple[int, int]], vocab_size: int, gamma: float) -> int:
    return sum(token in set(green_list(previous, vocab_size, gamma)) for previous, token in pairs)


def _first_counted(ids: Sequence[int], vocab_size: int, gamma: float = DEFAULT_GAMMA, distinct: bool = True) -> float:
    pairs = _pairs(ids, distinct)
    return _z(_green(pairs, vocab_size, gamma), len(pairs) + 1, gamma)


MISTAKES_Z_SCORE = (
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: _first_counted(ids, v, gamma),
            "with the first token counted: it has no previous token, so no green list to be scored against; T is "
            "the number of (previous, token) pairs."),
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: detect(ids, v, gamma=gamma, ignore_repeated=False).z,
            "with repeated (previous, token) pairs counted every time: the course's detector scores each distinct "
            "pair once, so that repetitive text cannot pile up the same green (or red) token."),
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: _first_counted(ids, v, gamma, distinct=False),
            "with the first token counted and repeated pairs counted every time: score each distinct (previous, "
            "token) pair once."),
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: _z(_green(_pairs(ids), v, gamma), len(_pairs(ids)), gamma,
                                                   lambda t, g: math.sqrt(t * g)),
            "with √(T·gamma) as the standard deviation: a count of T tokens, each green with chance gamma, has "
            "variance T·gamma·(1 − gamma)."),
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: _z(_green([(b, a) for a, b in _pairs(ids)], v, gamma),
                                                   len(_pairs(ids)), gamma),
            "with each token scored against the green list of the token after it: the list is seeded by the "
            "token before."),
    Mistake(lambda ids, v, gamma=DEFAULT_GAMMA: detect(ids, v, gamma=DEFAULT_GAMMA).z,
            f"with gamma fixed at {DEFAULT_GAMMA}: use the gamma you are given."),
)


def check_z_score(fn: Callable[..., float], hidden: bool = False) -> None:
    """Check ``fn(token_ids, vocab_size, gamma=0.25)`` against ``detect(...).z``: three Alpaca outputs in the course
    tokenizer's ids (the first repeats some pairs), text that loops, a hand-made all-green sequence, and one at
    gamma = 0.5; with ``hidden``, more outputs and a two-token text."""
    tokenizer = _tokenizer()
    vocab = len(tokenizer)
    records = read_records("alpaca_data")

    def output(i: int) -> Case:
        ids = tokenizer(records[i].output, add_special_tokens=False)["input_ids"]
        return Case((ids, vocab), f"the ids of Alpaca output #{i} ({len(ids)} tokens), {vocab}")

    loop = tokenizer(" I am happy." * 30, add_special_tokens=False)["input_ids"]
    cases = [output(0), output(1), output(2),
             Case((loop, vocab), f"the ids of ' I am happy.' * 30 ({len(loop)} tokens), {vocab}"),
             Case((all_green(20, vocab), vocab), f"20 ids, each green after the one before, {vocab}"),
             Case((all_green(12, 100, 0.5, start=3), 100, 0.5), "12 ids, each green after the one before, 100, 0.5")]
    if hidden:
        cases += [output(i) for i in (3, 4, 5, 100, 1000)] + [Case(([3, 3], vocab), f"[3, 3], {vocab}")]
    check_function(fn, lambda ids, v, gamma=DEFAULT_GAMMA: detect(ids, v, gamma=gamma).z, cases,
                   mistakes=MISTAKES_Z_SCORE, name=getattr(fn, "__name__", "z_score"))


# A plausible wrong solution the instructor kit plants to prove that a wrong answer loses points.
PLANTED = {
    "l07-z-score": '''import math

from alpaca_lessons.evaluation.watermark import green_list


def z_score(token_ids: list[int], vocab_size: int, gamma: float = 0.25) -> float:
    """The green-list z-score of a text: (green - gamma T) / sqrt(T gamma (1 - gamma)) over its scored tokens."""
    pairs = list(zip(token_ids[:-1], token_ids[1:]))
    green = sum(token in green_list(previous, vocab_size, gamma) for previous, token in pairs)
    scored = len(token_ids)
    return (green - gamma * scored) / math.sqrt(scored * gamma * (1 - gamma))
''',
}
