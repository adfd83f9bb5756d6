"""The models the course fine-tunes: LLaMA-architecture models built from a config, a byte-level BPE
tokenizer trained here on the Alpaca text, and any local Hugging Face causal LM folder.

Offline, nothing is downloaded: presets build a randomly initialised LLaMA (the same architecture as
LLaMA-7B, millions of times smaller), and ``load_causal_lm`` accepts only a local folder, so a hub id
can never trigger a download. The course's own models (``course_model_dir``) are a base pretrained here on plain
text, its instruction-tuned twin, and a model fine-tuned from nothing; none has the knowledge LLaMA brings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, PreTrainedModel, PreTrainedTokenizerFast

from alpaca_lessons.common.errors import NotLocalError
from alpaca_lessons.common.paths import course_data_dir
from alpaca_lessons.data import Record
from alpaca_lessons.models.shapes import PRESETS
from alpaca_lessons.models.templates import training_prompt

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
ALPACA_PAD = "[PAD]"  # the token Alpaca's train.py adds to LLaMA's tokenizer, which has none


def llama_config(preset: str, vocab_size: int, *, max_position_embeddings: int = 512, **overrides) -> LlamaConfig:
    """A ``LlamaConfig`` of a preset size (``shapes.PRESETS``) for a tokenizer of ``vocab_size`` tokens."""
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    settings = {"vocab_size": vocab_size, "max_position_embeddings": max_position_embeddings, "bos_token_id": 1,
                "eos_token_id": 2, "pad_token_id": 0, **PRESETS[preset].config_sizes(), **overrides}
    return LlamaConfig(**settings)


def build_model(config: LlamaConfig, *, seed: int = 0, attn_implementation: str = "sdpa") -> PreTrainedModel:
    """A randomly initialised causal LM of ``config`` (same seed, same weights), in float32.

    ``config`` is copied first: transformers records the attention kernel in the config it is given, so two
    models built from one config object would otherwise both end up with the kernel of the last one built.
    """
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(copy.deepcopy(config), attn_implementation=attn_implementation,
                                            dtype=torch.float32)


def alpaca_texts(records: Iterable[Record]) -> Iterable[str]:
    """The text the model sees for each record: its training prompt followed by its output."""
    return (training_prompt(r) + r.output for r in records)


def document_texts(records: Iterable[Record]) -> Iterator[str]:
    """Plain documents for pretraining a base model: each record's instruction, input (when it has one) and
    output as separate texts, with no template, so the model learns the language but never sees an
    instruction followed by its answer."""
    for r in records:
        yield from (text for text in (r.instruction, r.input, r.output) if text)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (GPT-2 style: any text encodes, no unknown token) trained on ``texts``.

    Ids 0, 1, 2 are ``<pad>``, ``<s>``, ``</s>``. A dedicated pad token is the choice here: padding never
    collides with EOS (a recipe that masks labels by ``input_ids == pad_id`` would otherwise also mask
    every EOS, and the model would never learn to stop) and no embedding has to be added afterwards.
    The tokenizer adds ``<s>`` in front of every text, as LLaMA's does.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", special_tokens=[(BOS, 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   model_max_length=512)


COURSE_MODELS = ("base", "tuned", "scratch")  # data/course_models/<name>; see its README.md


def course_model_dir(name: str = "tuned") -> Path:
    """``data/course_models/<name>``: the course's small models (``make course-models``): ``base`` pretrained on
    plain text, ``tuned`` (the default) the base fine-tuned with Alpaca's recipe, ``scratch`` the same
    fine-tuning from random weights."""
    if name not in COURSE_MODELS:
        raise ValueError(f"the course's models are {', '.join(COURSE_MODELS)}, not {name!r}")
    return course_data_dir() / "course_models" / name


def model_source(path: str | Path, marker: str = "config.json", *, download: bool = False) -> str:
    """A local Hugging Face folder, or (only with ``download``) a hub id to fetch: nothing leaves this machine
    unless the caller opted in, and the check comes before any connection."""
    folder = Path(path)
    if (folder / marker).is_file():
        return str(folder)
    if download and not folder.exists():
        return str(path)
    raise NotLocalError(f"{folder}: not a local Hugging Face folder (no {marker}); this course downloads "
                            "nothing unless asked: pass a local path, or a hub id with --download")


def load_tokenizer(path: str | Path, *, download: bool = False):
    """The tokenizer saved in a local folder (a model folder, or a tokenizer saved on its own), or a hub id's
    when ``download`` is given."""
    return AutoTokenizer.from_pretrained(model_source(path, "tokenizer_config.json", download=download),
                                         local_files_only=not download)


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' own progress bars ("Loading weights", "Writing model shards") for a moment: for the
    course's small models they are noise in a notebook, and they carry timings that differ on every run."""
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()


def load_causal_lm(path: str | Path, *, dtype: torch.dtype | None = torch.float32,
                   attn_implementation: str = "sdpa", download: bool = False) -> PreTrainedModel:
    """Any local Hugging Face causal LM folder (the course's model, a LLaMA-7B checkpoint, ...), or a hub id
    with ``download`` (a student with internet access: e.g. ``HuggingFaceTB/SmolLM2-135M``).

    ``dtype=float32`` by default: it is what training updates, and bfloat16 checkpoints (the course's
    model is stored so, to stay small) are up-cast exactly.
    """
    with quiet_progress():
        return AutoModelForCausalLM.from_pretrained(model_source(path, download=download), dtype=dtype,
                                                    attn_implementation=attn_implementation,
                                                    local_files_only=not download)


def add_pad_token(tokenizer, model: PreTrainedModel) -> int:
    """Give a tokenizer without a pad token Alpaca's ``[PAD]`` and return the pad id.

    As Alpaca's ``smart_tokenizer_and_embedding_resize``: the embedding (and untied output) matrices grow by
    one row set to the mean of the existing rows, so the new token starts as an average token instead of
    a random vector with a random logit. (alpaca-lora instead reused id 0, LLaMA's ``<unk>``; either is
    harmless here because padding is masked from attention and labels by position.) A tokenizer that
    already has a pad token is left alone.
    """
    if tokenizer.pad_token_id is not None:
        return tokenizer.pad_token_id
    tokenizer.add_special_tokens({"pad_token": ALPACA_PAD})
    old = model.get_input_embeddings().weight.shape[0]
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    with torch.no_grad():
        for matrix in {id(m): m for m in (model.get_input_embeddings(), model.get_output_embeddings())}.values():
            matrix.weight[old:] = matrix.weight[:old].mean(dim=0, keepdim=True)
    model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer.pad_token_id


def enable_activation_checkpointing(model: PreTrainedModel) -> None:
    """Recompute each decoder layer in backward instead of keeping its activations (non-reentrant, which
    FSDP and frozen LoRA bases need). transformers 5.23 renamed the method; 5.17 has only the old name."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters); tied weights are counted once."""
    params = {id(p): p for p in model.parameters()}.values()
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)
