"""Lesson 06's implement-it exercises (06a and 06b) and their checks.

* ``supervised_example`` (06a): one Alpaca example's ``input_ids`` and ``labels``: prompt + output + EOS, the
  prompt masked with -100, cut at ``max_length``; the oracle is ``training.sft.make_example``, the cases real
  Alpaca records tokenized with the course tokenizer plus hand-made edges (an exact fit, a cut that drops EOS).
* ``packed_mask`` (06a): the (batch, 1, L, L) boolean attention mask of a packed row from its per-token example
  ids; the oracle is ``training.sft.document_attention_mask``, and the check also runs the fact the mask exists
  for: per-example losses of a packed batch of real examples, with the student's mask, equal the padded ones on
  a tiny LLaMA to 1e-5.
* ``state_bytes_per_gpu`` (06b): the bytes of weights, gradients and AdamW state one GPU holds in full
  fine-tuning; the oracle is ``training.memory.estimate.state_bytes_per_gpu``.

Each ``MISTAKES_...`` list holds the plausible wrong answers; a check that meets one says which it is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import torch

from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import read_records
from alpaca_lessons.models.modeling import build_model, course_model_dir, llama_config, load_tokenizer
from alpaca_lessons.models.shapes import LLAMA_7B
from alpaca_lessons.training.memory.estimate import state_bytes_per_gpu
from alpaca_lessons.training.sft import (
    IGNORE_INDEX,
    MAX_LENGTH,
    document_attention_mask,
    make_example,
    model_inputs,
    pack_collate,
    pad_collate,
    per_example_losses,
    token_pairs,
    tokenize_records,
)

Ids = list[int]

# --- 06a, exercise 1: one supervised example ---------------------------------------------------------------


def reference_example(prompt_ids: Ids, output_ids: Ids, eos_id: int, max_length: int = MAX_LENGTH
                      ) -> tuple[Ids, Ids]:
    """``make_example`` as the exercise asks for it: (input_ids, labels) as lists."""
    example = make_example(prompt_ids, output_ids, eos_id, max_length)
    return list(example.input_ids), list(example.labels)


def _wrong(masked_shift: int = 0, eos: bool = True, cut: str = "both", learn_prompt: bool = False,
           shift_labels: bool = False) -> Callable[..., tuple[Ids, Ids]]:
    """A plausible wrong ``supervised_example``: the prompt mask ``masked_shift`` tokens off, no EOS, a
    different cut ("both", "none", "eos kept": EOS put back after the cut, "ids only"), the output masked
    instead of the prompt, or labels shifted by one."""
    def example(p: Ids, o: Ids, e: int, m: int = MAX_LENGTH) -> tuple[Ids, Ids]:
        full = [*p, *o, e] if eos else [*p, *o]
        ids = {"none": full, "eos kept": [*p, *o][:m - 1] + [e]}.get(cut, full[:m])
        masked = len(p) + masked_shift
        labels = [IGNORE_INDEX] * masked + (full if cut == "ids only" else ids)[masked:]
        if learn_prompt:
            labels = ids[:len(p)] + [IGNORE_INDEX] * (len(ids) - len(p))
        if shift_labels:
            labels = labels[1:] + [IGNORE_INDEX]
        return ids, labels
    return example


MISTAKES_EXAMPLE = [
    Mistake(_wrong(masked_shift=-1), "of a mask one token too short: the last prompt token is learned; exactly "
                                     "the prompt's positions get -100"),
    Mistake(_wrong(masked_shift=1), "of a mask one token too long: the output's first token is masked, so it is "
                                    "never learned"),
    Mistake(_wrong(eos=False), "without the EOS: the model never learns to stop; the output is followed by eos_id"),
    Mistake(_wrong(learn_prompt=True), "with the output masked instead of the prompt: the loss would teach the "
                                       "model to write prompts"),
    Mistake(_wrong(shift_labels=True), "of labels shifted by one: the model shifts them itself (logits at t are "
                                       "scored against label t+1); labels line up with input_ids"),
    Mistake(_wrong(cut="none"), "of an example not cut at max_length"),
    Mistake(_wrong(cut="eos kept"), "of an EOS put back after the cut: a truncated example loses its EOS (Alpaca's "
                                    "cut does), it must not teach the model to stop mid-answer"),
    Mistake(_wrong(cut="ids only"), "of input_ids cut but labels not: both are cut at max_length, to the same "
                                    "length"),
]


@cache
def _alpaca_pairs(indices: tuple[int, ...]) -> tuple[tuple[Ids, Ids], ...]:
    tokenizer = load_tokenizer(course_model_dir())
    records = read_records("alpaca_data")
    return tuple((list(p), list(o)) for p, o in token_pairs([records[i] for i in indices], tokenizer))


def example_cases(hidden: bool = False) -> list[Case]:
    """Alpaca records 5 (short, with input) and 23 (cut at 512), record 5 cut just after its prompt, and
    hand-made edges: an example that fits exactly (keeps EOS) and one a token too long (loses it)."""
    eos = 2  # the course tokenizer's </s>
    (short, short_out), (long, long_out) = _alpaca_pairs((5, 23))
    cases = [Case((short, short_out, eos), "Alpaca record 5, max_length=512"),
             Case((long, long_out, eos), "Alpaca record 23 (longer than 512 tokens), max_length=512"),
             Case(([1, 10, 11], [20, 21], eos, 6), "[1, 10, 11], [20, 21], eos_id=2, max_length=6 (fits exactly)"),
             Case(([1, 10, 11], [20, 21], eos, 5), "[1, 10, 11], [20, 21], eos_id=2, max_length=5"),
             Case((short, short_out, eos, len(short) + 2), f"Alpaca record 5, max_length={len(short) + 2}")]
    if hidden:
        indices = (0, 9, 264, 474, 1072, 1601, 52001)
        pairs = zip(indices, _alpaca_pairs(indices), strict=True)
        cases += [Case((p, o, eos), f"Alpaca record {i}") for i, (p, o) in pairs]
        cases.append(Case((short, short_out, eos, len(short) + 1), f"Alpaca record 5, max_length={len(short) + 1}"))
    return cases


def check_supervised_example(fn: Callable[..., tuple[Ids, Ids]], hidden: bool = False) -> None:
    """Check a student's ``supervised_example(prompt_ids, output_ids, eos_id, max_length=512)``."""
    check_function(fn, reference_example, example_cases(hidden), mistakes=MISTAKES_EXAMPLE,
                   name="supervised_example")


# --- 06a, exercise 2: the packed attention mask ---------------------------------------------------------------

def _same(ids: torch.Tensor) -> torch.Tensor:
    return ids[:, :, None] == ids[:, None, :]


def _tril(ids: torch.Tensor, diagonal: int = 0) -> torch.Tensor:
    length = ids.shape[-1]
    return torch.ones(length, length, dtype=torch.bool).tril(diagonal)


MISTAKES_MASK = [
    Mistake(lambda ids: _tril(ids).expand(ids.shape[0], 1, -1, -1),
            "of a causal mask alone: every token attends to the earlier examples of its row"),
    Mistake(lambda ids: _same(ids)[:, None],
            "of a block-diagonal mask that is not causal: a token sees the later tokens of its own example"),
    Mistake(lambda ids: (_same(ids) & _tril(ids).T)[:, None],
            "of the transposed mask: query q attends the keys at or AFTER q; rows are queries, columns keys"),
    Mistake(lambda ids: (_same(ids) & _tril(ids, -1))[:, None],
            "of a mask without its diagonal: a token may attend to itself (the first token of an example has "
            "nothing else)"),
    Mistake(lambda ids: (_same(ids) & _tril(ids) & (ids >= 0)[:, :, None])[:, None],
            "of a mask whose padding rows are all False: attention's softmax over nothing is NaN; padding (-1) "
            "may attend to padding"),
    Mistake(lambda ids: _same(ids) & _tril(ids),
            "of a (batch, L, L) mask: attention wants (batch, 1, L, L), one head dimension that broadcasts"),
]


@cache
def _packed_examples() -> tuple:
    tokenizer = load_tokenizer(course_model_dir())
    records = read_records("alpaca_data")
    return tuple(tokenize_records([records[i] for i in (5, 53, 114, 0)], tokenizer)[0])


def mask_cases(hidden: bool = False) -> list[Case]:
    """The packed row of Alpaca records 5, 53, 114 and 0, a hand-made row, and two padded rows."""
    row = pack_collate(_packed_examples(), 0)["document_ids"]
    cases = [Case((torch.tensor([[0, 0, 1, 1, 1, 2]]),), "tensor([[0, 0, 1, 1, 1, 2]])"),
             Case((row,), f"the packed row of Alpaca records 5, 53, 114, 0 (shape {tuple(row.shape)})"),
             Case((torch.tensor([[0, 0, 0, -1, -1], [0, 1, 1, 1, -1]]),),
                  "tensor([[0, 0, 0, -1, -1], [0, 1, 1, 1, -1]]) (-1: padding)")]
    if hidden:
        cases += [Case((torch.zeros(2, 7, dtype=torch.long),), "two rows of one example each"),
                  Case((torch.arange(5)[None],), "five one-token examples")]
    return cases


def packed_loss_gap(mask_fn: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Largest difference between the per-example losses of Alpaca examples packed in one row with
    ``mask_fn``'s mask and the same examples padded, on a randomly initialised tiny LLaMA (sdpa attention)."""
    examples = _packed_examples()
    model = build_model(llama_config("tiny", 4096), seed=0).eval()  # the course tokenizer's 4,096 ids
    packed, padded = pack_collate(examples, 0), pad_collate(examples, 0)
    packed["attention_mask"] = mask_fn(packed["document_ids"])
    with torch.no_grad():
        losses = [per_example_losses(model(**model_inputs(batch)).logits, batch) for batch in (packed, padded)]
    return float((losses[0] - losses[1]).abs().max())


def check_packed_mask(fn: Callable[[torch.Tensor], torch.Tensor], hidden: bool = False) -> None:
    """Check a student's ``packed_mask(document_ids)`` against the package's mask, then by its purpose:
    packed losses equal padded ones to 1e-5."""
    check_function(fn, document_attention_mask, mask_cases(hidden), mistakes=MISTAKES_MASK, name="packed_mask")
    got = fn(torch.tensor([[0, 0, 1]]))
    if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
        raise AssertionError(f"packed_mask returned {type(got).__name__} of dtype {getattr(got, 'dtype', None)}: "
                             "return a torch.bool tensor (True: may attend); a 0/1 float mask is ADDED to scores")
    gap = packed_loss_gap(fn)
    if gap >= 1e-5:
        raise AssertionError(f"packed and padded per-example losses differ by {gap:.2e} with your mask")
    print("✓ packed_mask: per-example losses packed with your mask = padded, to 1e-5, on a tiny LLaMA")


# --- 06b, exercise 3: the training state's bytes on one GPU -----------------------------------------------------

MISTAKES_STATE = [
    Mistake(lambda n, g=1, s=False: 4 * n / (g if s else 1),
            "of the weights alone: the gradients and Adam's state are as big or bigger"),
    Mistake(lambda n, g=1, s=False: 8 * n / (g if s else 1),
            "of weights and gradients without AdamW's state: Adam keeps two float32 moments per parameter"),
    Mistake(lambda n, g=1, s=False: 12 * n / (g if s else 1),
            "with one Adam moment: AdamW keeps two (the mean and the mean square of the gradient)"),
    Mistake(lambda n, g=1, s=False: 14 * n / (g if s else 1),
            "with bfloat16 weights: training keeps float32 master weights (an update of 2e-5 vanishes in bf16)"),
    Mistake(lambda n, g=1, s=False: 16 * n,
            "of no sharding: FSDP's full shard splits weights, gradients and optimizer state over the GPUs"),
    Mistake(lambda n, g=1, s=False: 16 * n / g,
            "of sharding without FSDP: plain data parallelism keeps a full copy of the state on every GPU"),
]


def state_cases(hidden: bool = False) -> list[Case]:
    """LLaMA-7B on 1 GPU, FSDP over 4 and 8, plain data parallelism over 8; hidden: the course model."""
    n = LLAMA_7B.parameters
    cases = [Case((n, 1, False), "LLaMA-7B, 1 GPU"), Case((n, 4, True), "LLaMA-7B, 4 GPUs, sharded=True"),
             Case((n, 8, False), "LLaMA-7B, 8 GPUs, sharded=False")]
    if hidden:
        cases += [Case((2_557_632, 2, True), "the course model, 2 processes, sharded=True"),
                  Case((n, 1, True), "LLaMA-7B, 1 GPU, sharded=True")]
    return cases


def check_state_bytes(fn: Callable[[int, int, bool], float], hidden: bool = False) -> None:
    """Check a student's ``state_bytes_per_gpu(parameters, gpus, sharded)``."""
    check_function(fn, state_bytes_per_gpu, state_cases(hidden), mistakes=MISTAKES_STATE,
                   name="state_bytes_per_gpu")


# One complete wrong solution per notebook: the instructor kit plants each to prove a wrong answer loses points.
PLANTED = {
    "l06-supervised-example": '''def supervised_example(prompt_ids: list[int], output_ids: list[int], eos_id: int,
                       max_length: int = 512) -> tuple[list[int], list[int]]:
    """input_ids and labels of one example: prompt + output + EOS, the prompt masked with -100, cut."""
    input_ids = (list(prompt_ids) + list(output_ids) + [eos_id])[:max_length]
    labels = [-100] * (len(prompt_ids) - 1) + input_ids[len(prompt_ids) - 1:]
    return input_ids, labels
''',
    "l06-state-bytes": '''def state_bytes_per_gpu(parameters: int, gpus: int = 1, sharded: bool = False) -> float:
    """Bytes of weights, gradients and AdamW state one GPU holds in full fine-tuning."""
    return 16 * parameters / gpus
''',
}
