"""Generation with the Alpaca template for any local Hugging Face causal LM: batched, left-padded,
each sequence ending at the end-of-sequence token, sampling by default as AlpacaEval's ``alpaca-7b``
configuration did (temperature 0.7, top_p 1.0, ``models_configs/alpaca-7b/configs.yaml``), and a progress bar
over an instruction set that ``progress=False`` turns off (the lessons' committed runs).

Alpaca's web demo did not publish its decoding settings, so nothing here claims to reproduce them.

The same code runs the course's small model on a laptop CPU and a 7B checkpoint on a GPU: only the path
and the device change. Nothing is downloaded: ``path`` must be a local folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from alpaca_lessons.data import Record
from alpaca_lessons.models.modeling import quiet_progress
from alpaca_lessons.models.templates import training_prompt

TEMPERATURE, TOP_P = 0.7, 1.0  # AlpacaEval's alpaca-7b config (models_configs/alpaca-7b/configs.yaml)


def load(path: str | Path, device: str = "cpu"):
    """(model, tokenizer) from a local folder, in eval mode (float32 on a CPU), the tokenizer padding on the left.

    Decoder-only models continue the last position of each row, so a batch must be padded on the left;
    a tokenizer without a pad token pads with its end-of-sequence token."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such model folder (give a local path; nothing is downloaded)")
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # On a CPU, compute in float32 whatever the checkpoint's dtype: the course model is stored in bfloat16 to
    # stay small, and bfloat16 matrix products on CPUs without native support run ~20x slower (measured here).
    dtype = torch.float32 if torch.device(device).type == "cpu" else "auto"
    with quiet_progress():  # no "Loading weights" bar: noise in a notebook, with timings that change every run
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
    return model, tokenizer


@dataclass(frozen=True)
class Generation:
    """One response: its text, the token ids the model produced (end-of-sequence and padding removed), and
    whether it ended with the end-of-sequence token (False: it ran into ``max_new_tokens``)."""

    text: str
    token_ids: tuple[int, ...]
    ended: bool


@torch.no_grad()
def generate(model, tokenizer, records: Sequence[Record], *, batch_size: int = 8, max_new_tokens: int = 256,
             temperature: float = TEMPERATURE, top_p: float = TOP_P, top_k: int = 0, seed: int = 0,
             processors: Sequence[LogitsProcessor] = (), progress: bool = True) -> list[Generation]:
    """One response per record, prompted with Alpaca's training template.

    ``temperature=0`` decodes greedily. ``top_k=0`` turns off the top-50 cut that ``generate`` applies by
    default, so sampling is exactly temperature plus nucleus (top_p), as specified. ``seed`` seeds torch
    before each batch, so a rerun with the same batches gives the same text on the same hardware.
    ``processors`` (a watermark) act on the logits."""
    if tokenizer.padding_side != "left":
        raise ValueError("decoder-only generation needs left padding: load the tokenizer with padding_side='left'")
    prompts = [training_prompt(r) for r in records]
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": top_k} if temperature > 0 else \
        {"do_sample": False}
    outputs: list[Generation] = []
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    starts = range(0, len(prompts), batch_size)
    for start in tqdm(starts, desc="generating", unit="batch", disable=not progress):
        torch.manual_seed(seed + start)
        batch = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True).to(model.device)
        tokens = model.generate(**batch, max_new_tokens=max_new_tokens, eos_token_id=tokenizer.eos_token_id,
                                pad_token_id=tokenizer.pad_token_id,
                                logits_processor=LogitsProcessorList(processors), **sampling)
        new = tokens[:, batch["input_ids"].shape[1]:]
        for row in new.tolist():
            ended = eos in row
            row = row[: row.index(eos)] if ended else row  # the response ends at its first EOS
            ids = tuple(t for t in row if t != pad)
            outputs.append(Generation(tokenizer.decode(ids, skip_special_tokens=True).strip(), ids, ended))
    return outputs
