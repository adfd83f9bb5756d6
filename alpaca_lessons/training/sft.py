"""Supervised examples for Alpaca's fine-tuning: template applied, tokenized, prompt masked, collated.

An example is the training prompt (one of Alpaca's two templates) followed by the output and the
end-of-sequence token. Only the output and EOS are learned: prompt positions carry the label -100,
which ``cross_entropy`` ignores. As in Alpaca's ``train.py`` the prompt and the full text are cut at
``max_length`` (512) tokens, which has two edge cases that are counted, never hidden:

* an example longer than ``max_length`` keeps its prompt and the start of its output but loses its EOS,
  so the model is taught to keep talking past the cut (Alpaca did the same; we count how often);
* an example whose prompt alone fills ``max_length`` has no label at all: it is dropped and counted
  (in Alpaca's code such an example only added padding and compute).

The prompt and the output are tokenized separately and joined, so the boundary between masked and
learned tokens is exact. (Alpaca tokenized ``prompt + output`` as one string and masked the first
``len(tokenize(prompt))`` tokens, which is off by one whenever a token straddles the boundary.)

Two collations of the same micro-batch train alike:

* ``pad_collate``: each micro-batch padded to its longest example, the original recipe;
* ``pack_collate``: the micro-batch's examples laid end to end in one row with no padding. Examples must
  not see each other, so position ids restart at 0 for each example and the attention mask is an explicit
  4D boolean (batch, 1, query, key) mask that is True only for a key in the same example at or before the
  query. A LLaMA built with ``attn_implementation="sdpa"`` passes a 4D mask to attention as it is; one built
  with ``"flex_attention"`` gets the same rule as a ``BlockMask`` (``flex_block_mask``), which skips the
  blocks that are all masked instead of computing them, the fast way to train packed rows on a GPU.
  (Position ids that restart per example are not enough on their own: without the mask, transformers
  lets every token attend to the earlier examples of its row.)

Either way the loss of an optimizer step is the sum of the token losses over every target token of the
step divided by the number of those tokens (``step_target_tokens``), whatever the micro-batch layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from alpaca_lessons.data import Record
from alpaca_lessons.models.templates import training_prompt

OBJECTIVES = ("instruction", "documents")  # what a run learns: Alpaca's masked template, or plain text
IGNORE_INDEX = -100  # the label cross_entropy skips: prompt and padding positions
MAX_LENGTH = 512  # Alpaca's model_max_length


@dataclass(frozen=True)
class SFTExample:
    """One tokenized example: ``labels`` is ``input_ids`` with the prompt positions set to -100."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    prompt_length: int
    truncated: bool  # cut at max_length: the output's end and the EOS are lost
    source: int = -1  # index of the record it came from

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def target_tokens(self) -> int:
        """How many tokens this example contributes to the loss."""
        return len(self.input_ids) - self.prompt_length


@dataclass(frozen=True)
class SFTReport:
    """What happened to the records on their way to examples."""

    records: int
    kept: int
    with_input: int  # kept examples that used the with-input template
    truncated: int  # kept, but cut at max_length (no EOS)
    dropped_prompt_too_long: int  # the prompt alone reached max_length: no labels
    max_length: int
    tokens: int  # tokens of the kept examples, prompts included (what a training epoch computes, padding aside)

    @property
    def mean_tokens(self) -> float:
        """Mean length of a kept example in tokens."""
        return self.tokens / self.kept if self.kept else 0.0

    def summary(self) -> str:
        """One line for a notebook or a log."""
        return (f"{self.records:,} records -> {self.kept:,} examples ({self.with_input:,} with input); "
                f"{self.truncated:,} truncated at {self.max_length} tokens (EOS lost); "
                f"{self.dropped_prompt_too_long:,} dropped (prompt alone >= {self.max_length} tokens)")


def make_example(prompt_ids: Sequence[int], output_ids: Sequence[int], eos_id: int, max_length: int = MAX_LENGTH,
                 source: int = -1) -> SFTExample | None:
    """Join a tokenized prompt and output (+ EOS), mask the prompt and cut at ``max_length``.

    Returns None when the prompt alone fills ``max_length`` (nothing left to learn).
    """
    if len(prompt_ids) >= max_length:
        return None
    ids = [*prompt_ids, *output_ids, eos_id]
    truncated = len(ids) > max_length
    ids = ids[:max_length]
    labels = [IGNORE_INDEX] * len(prompt_ids) + ids[len(prompt_ids):]
    return SFTExample(tuple(ids), tuple(labels), len(prompt_ids), truncated, source)


def token_pairs(records: Sequence[Record], tokenizer) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, output ids) of every record, in two batched calls: the prompt is the record's training
    template with the tokenizer's special tokens (BOS), the output is tokenized without them and without EOS."""
    # verbose=False: texts longer than the tokenizer's model_max_length are expected, they are cut later
    prompts = tokenizer([training_prompt(r) for r in records], verbose=False)["input_ids"]
    outputs = tokenizer([r.output for r in records], add_special_tokens=False, verbose=False)["input_ids"]
    return list(zip(prompts, outputs, strict=True))


def tokenize_records(records: Sequence[Record], tokenizer, max_length: int = MAX_LENGTH
                     ) -> tuple[list[SFTExample], SFTReport]:
    """Examples for every record Alpaca-style, and the report of truncated and dropped ones.

    ``tokenizer`` is a Hugging Face tokenizer whose special tokens (BOS, if it has one) are added to the
    prompt; the output is tokenized without them and followed by ``tokenizer.eos_token_id``.
    """
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token: the model could never learn to stop")
    examples, dropped = [], 0
    for index, (prompt_ids, output_ids) in enumerate(token_pairs(records, tokenizer)):
        example = make_example(prompt_ids, output_ids, tokenizer.eos_token_id, max_length, index)
        if example is None:
            dropped += 1
        else:
            examples.append(example)
    report = SFTReport(len(records), len(examples), sum(bool(records[e.source].input) for e in examples),
                       sum(e.truncated for e in examples), dropped, max_length, sum(len(e) for e in examples))
    return examples, report


def tokenize_documents(texts: Sequence[str], tokenizer, max_length: int = MAX_LENGTH
                       ) -> tuple[list[SFTExample], SFTReport]:
    """Language-modelling examples: BOS, the text, EOS, every token after BOS a target (no prompt to mask).

    The same ``SFTExample`` as instruction tuning with a one-token "prompt", so batching, packing and the loss
    are shared; ``source`` is the text's index.
    """
    if tokenizer.eos_token_id is None or tokenizer.bos_token_id is None:
        raise ValueError("documents need a tokenizer with BOS and EOS tokens")
    ids = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    examples = [make_example([tokenizer.bos_token_id], doc, tokenizer.eos_token_id, max_length, i)
                for i, doc in enumerate(ids)]
    report = SFTReport(len(ids), len(examples), 0, sum(e.truncated for e in examples), 0, max_length,
                       sum(len(e) for e in examples))
    return examples, report


def masked_view(example: SFTExample, tokenizer) -> list[tuple[int, str, bool]]:
    """(token id, token text, learned?) for every position: what the loss sees, token by token."""
    return [(i, tokenizer.decode([i]), label != IGNORE_INDEX)
            for i, label in zip(example.input_ids, example.labels, strict=True)]


def masked_table(example: SFTExample, tokenizer, *, head: int = 6, tail: int = 4) -> str:
    """The example token by token (position, token, label), the middle of the prompt elided: what the loss
    sees. Prompt rows show label -100; target rows show the id the model must predict there."""
    rows = [f"{'pos':>4}  {'token':<18} label"]
    for pos, (token_id, label) in enumerate(zip(example.input_ids, example.labels, strict=True)):
        if head <= pos < example.prompt_length - tail:
            if pos == head:
                rows.append(f"{'...':>4}  ({example.prompt_length - head - tail} more prompt tokens, all -100)")
            continue
        text = repr(tokenizer.decode([token_id]))
        rows.append(f"{pos:>4}  {text:<18} {label}" + ("   <- learned" if label != IGNORE_INDEX else ""))
    return "\n".join(rows)


def padding_share(lengths: Sequence[int], micro_batch: int, seed: int = 0) -> float:
    """Share of computed tokens that are padding when shuffled examples are padded to each micro-batch's
    longest (packing computes none)."""
    order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
    useful = computed = 0
    for start in range(0, len(order), micro_batch):
        chunk = [lengths[i] for i in order[start:start + micro_batch]]
        useful += sum(chunk)
        computed += max(chunk) * len(chunk)
    return 1 - useful / computed


def pad_collate(examples: Sequence[SFTExample], pad_id: int) -> dict[str, torch.Tensor]:
    """The original recipe: right-pad every example to the micro-batch's longest.

    Returns ``input_ids``, ``labels`` (-100 at padding), a 2D ``attention_mask`` (0 at padding) and
    ``document_ids`` (the example's index in the micro-batch, -1 at padding).
    """
    width = max(len(e) for e in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full_like(input_ids, IGNORE_INDEX)
    documents = torch.full_like(input_ids, -1)
    for row, example in enumerate(examples):
        n = len(example)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        documents[row, :n] = row
    return {"input_ids": input_ids, "labels": labels, "attention_mask": (documents >= 0).long(),
            "document_ids": documents}


def document_attention_mask(document_ids: torch.Tensor) -> torch.Tensor:
    """(batch, 1, L, L) boolean mask: query q may attend key k iff both are in the same example and k <= q.

    Padding (document -1) attends to earlier padding only, so no row of the mask is all False (an all-False
    row would make attention's softmax NaN); padding carries no label, so it never reaches the loss.
    """
    length = document_ids.shape[-1]
    same = document_ids[:, :, None] == document_ids[:, None, :]
    causal = torch.ones(length, length, dtype=torch.bool, device=document_ids.device).tril()
    return (same & causal)[:, None]


def pack_collate(examples: Sequence[SFTExample], pad_id: int) -> dict[str, torch.Tensor]:
    """The micro-batch's examples end to end in one row: no padding, and no attention across examples.

    Position ids restart at 0 for every example, and ``attention_mask`` is the 4D boolean mask of
    ``document_attention_mask``. Shifting labels by one never crosses from one example into the next:
    every example starts with a prompt token, whose label is -100. ``pad_id`` is unused (nothing is
    padded) and kept so both collations are called alike.
    """
    del pad_id
    input_ids = torch.tensor([[t for e in examples for t in e.input_ids]])
    labels = torch.tensor([[t for e in examples for t in e.labels]])
    documents = torch.tensor([[d for d, e in enumerate(examples) for _ in e.input_ids]])
    positions = torch.tensor([[p for e in examples for p in range(len(e))]])
    return {"input_ids": input_ids, "labels": labels, "attention_mask": document_attention_mask(documents),
            "position_ids": positions, "document_ids": documents}


COLLATIONS = {"padded": pad_collate, "packed": pack_collate}
ATTENTIONS = ("sdpa", "flex_attention", "eager")  # the attention kernels a model can be built with here


def flex_block_mask(document_ids: torch.Tensor):
    """``document_attention_mask``'s rule as a flex-attention ``BlockMask`` on the ids' device.

    The mask is described by a function of (batch, head, query, key) rather than stored: flex attention
    evaluates it per 128 x 128 block, skips blocks that are entirely masked (most of a packed row) and
    applies it element-wise only on blocks that are partly masked.
    """
    from torch.nn.attention.flex_attention import create_block_mask

    def same_example_and_causal(b, h, q, k):
        return (document_ids[b, q] == document_ids[b, k]) & (k <= q)

    batch, length = document_ids.shape
    return create_block_mask(same_example_and_causal, batch, None, length, length, device=document_ids.device)


def model_inputs(batch: dict[str, torch.Tensor], attention: str = "sdpa") -> dict:
    """The entries of a collated batch the model takes (no labels: the loss is computed outside).

    ``attention`` is the model's attention kernel (``model.config._attn_implementation``). A packed batch
    (it has ``position_ids``) carries its per-example mask as a dense 4D tensor, which sdpa and eager
    attention take as it is; for flex attention it is rebuilt as a ``BlockMask`` from the document ids.
    """
    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {ATTENTIONS}, not {attention!r}")
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids") if k in batch}
    if attention == "flex_attention" and "position_ids" in batch:
        inputs["attention_mask"] = flex_block_mask(batch["document_ids"])
    return inputs


def token_losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each position's next token, in float32: shape (batch, L-1), 0 where ignored."""
    targets = labels[:, 1:]
    losses = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1),
                             ignore_index=IGNORE_INDEX, reduction="none")
    return losses.view(targets.shape)


def step_target_tokens(examples: Sequence[SFTExample]) -> int:
    """Target tokens of an optimizer step: the denominator of its loss, the same in both collations.

    (Each example's first target token is predicted from its last prompt token, so the count equals
    the labels that ``token_losses`` keeps.)
    """
    return sum(e.target_tokens for e in examples)


def compare_collations(model, examples: Sequence[SFTExample], pad_id: int) -> dict[str, torch.Tensor]:
    """Per-example losses of one micro-batch under each collation (they should agree to float tolerance).

    The batches go to the model's device, and the packed mask takes the form its attention kernel needs.
    """
    attention = model.config._attn_implementation
    device = next(model.parameters()).device
    losses = {}
    with torch.no_grad():
        for name, collate in COLLATIONS.items():
            batch = {k: v.to(device) for k, v in collate(examples, pad_id).items()}
            losses[name] = per_example_losses(model(**model_inputs(batch, attention)).logits, batch).cpu()
    return losses


def per_example_losses(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean token loss of each example of a collated batch, in micro-batch order (either collation)."""
    losses = token_losses(logits, batch["labels"])
    learned = batch["labels"][:, 1:] != IGNORE_INDEX
    documents = batch["document_ids"][:, 1:][learned]  # document ids number the micro-batch's examples
    n = int(batch["document_ids"].max()) + 1
    sums = losses.new_zeros(n).index_add_(0, documents, losses[learned])
    counts = losses.new_zeros(n).index_add_(0, documents, torch.ones_like(losses[learned]))
    return sums / counts
