"""A tiny generating model for the inference, watermark and playground tests (built here, no download)."""

from __future__ import annotations

import pytest
import torch

from alpaca_lessons.models.infer import load


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer LLaMA (random weights) and a byte-level BPE tokenizer trained on a few lines: small for
    testing speed. Random weights give near-uniform next-token distributions, the easy case for a watermark."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    lines = ["Below is an instruction that describes a task.", "### Instruction:", "### Response:",
             "Name three colors.", "Red, green and blue.", "Write a short poem about the sea."] * 20
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "</s>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="</s>", pad_token="<pad>").save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=raw.get_vocab_size(), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=256, eos_token_id=1, pad_token_id=0, bos_token_id=None)
    LlamaForCausalLM(config).save_pretrained(folder)
    return load(folder)
