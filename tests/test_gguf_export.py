"""The GGUF export without llama.cpp: read back with ``gguf``'s reader, a NumPy forward pass from the file's
tensors (rotating adjacent pairs, as llama.cpp does) against the Hugging Face model's logits."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from alpaca_lessons.cli import main
from alpaca_lessons.models.gguf_export import export_gguf, gguf_name, read_gguf, to_ggml_rows, to_hf_rows
from alpaca_lessons.models.gguf_forward import gguf_logits
from alpaca_lessons.models.modeling import course_model_dir, load_causal_lm, load_tokenizer
from alpaca_lessons.models.quantize import quantized_model

PROMPT = "Below is an instruction that describes a task.\n\n### Instruction:\nGive three tips for staying healthy."
# max |logit difference| from the full-precision model (the course's tuned model) on PROMPT, measured 2026-11-30:
# 8.5e-6 (f32, f16: float rounding), 0.088 (Q8_0), 1.83 (Q4_0); checked within a factor of 1.5 either side
MEASURED_ERROR = {"f32": 1e-5, "f16": 1e-5, "q8_0": 0.088, "q4_0": 1.83}


@pytest.fixture(scope="module")
def course():
    folder = course_model_dir()
    return folder, load_causal_lm(folder).eval(), load_tokenizer(folder)


def _hf_logits(model, ids) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].double().numpy()


def test_rotary_permutation_by_hand():
    # one head of dimension 4: Hugging Face rows (r0, r1 | r2, r3) pair r0 with r2 and r1 with r3;
    # llama.cpp wants each pair adjacent: r0, r2, r1, r3
    w = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert to_ggml_rows(w, heads=1).tolist() == [[0, 1], [4, 5], [2, 3], [6, 7]]
    big = np.random.default_rng(0).standard_normal((96, 8))
    assert np.array_equal(to_hf_rows(to_ggml_rows(big, 6), 6), big)


def test_names():
    assert gguf_name("model.layers.3.mlp.up_proj.weight") == "blk.3.ffn_up.weight"
    assert gguf_name("model.embed_tokens.weight") == "token_embd.weight"
    with pytest.raises(ValueError, match="not a parameter"):
        gguf_name("model.layers.0.mlp.weird.weight")


def test_metadata_and_tokenizer(course, tmp_path):
    folder, model, tokenizer = course
    path = export_gguf(folder, tmp_path / "m.gguf", "q8_0").path
    read = read_gguf(path, with_vocab=True)
    meta = read.metadata
    assert meta["general.architecture"] == "llama" and meta["general.file_type"] == 7
    assert (meta["llama.embedding_length"], meta["llama.block_count"], meta["llama.feed_forward_length"],
            meta["llama.attention.head_count"], meta["llama.rope.dimension_count"]) == (192, 4, 512, 6, 32)
    assert meta["tokenizer.ggml.model"] == "gpt2" and meta["tokenizer.ggml.pre"] == "gpt-2"
    tokens = meta["tokenizer.ggml.tokens"]
    assert len(tokens) == 4096 and tokens[:3] == ["<pad>", "<s>", "</s>"]
    assert meta["tokenizer.ggml.token_type"][:4] == [3, 3, 3, 1]  # control, control, control, normal
    spec = json.loads((folder / "tokenizer.json").read_text())
    assert meta["tokenizer.ggml.merges"][:2] == [" ".join(m) for m in spec["model"]["merges"][:2]]
    assert (meta["tokenizer.ggml.bos_token_id"], meta["tokenizer.ggml.eos_token_id"]) == (1, 2)
    assert tokens[tokenizer("Give three tips")["input_ids"][1]] == "Give"
    # tied embeddings: no output.weight; 2 + 9 tensors per layer
    assert len(read.tensors) == 38 and "output.weight" not in read.tensors
    assert read.formats["blk.0.attn_q.weight"] == "q8_0" and read.formats["blk.0.attn_norm.weight"] == "f32"


@pytest.mark.parametrize("fmt", ["f32", "f16", "q8_0", "q4_0"])
def test_reference_forward_matches_the_hf_model(course, tmp_path, fmt):
    folder, model, tokenizer = course
    ids = tokenizer(PROMPT)["input_ids"]
    logits = gguf_logits(read_gguf(export_gguf(folder, tmp_path / f"m-{fmt}.gguf", fmt).path), ids)
    # the same weights through Hugging Face's code: equal up to float rounding
    assert np.abs(logits - _hf_logits(quantized_model(model, fmt), ids)).max() < 1e-4
    # against full precision: within the quantization error measured for the format
    error = np.abs(logits - _hf_logits(model, ids)).max()
    assert error <= MEASURED_ERROR[fmt] * 1.5
    if fmt in ("q8_0", "q4_0"):
        assert error > MEASURED_ERROR[fmt] / 1.5  # really quantized


def test_grouped_query_attention_permutes_k_by_kv_heads(course, tmp_path):
    from alpaca_lessons.models.modeling import build_model, llama_config

    folder, _, tokenizer = course
    model = build_model(llama_config("tiny", 4096, num_key_value_heads=2, tie_word_embeddings=False), seed=3)
    model.save_pretrained(tmp_path / "gqa")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(folder / name, tmp_path / "gqa" / name)
    read = read_gguf(export_gguf(tmp_path / "gqa", tmp_path / "gqa.gguf", "f32").path)
    assert read.tensors["blk.0.attn_k.weight"].shape == (32, 64) and "output.weight" in read.tensors
    ids = tokenizer(PROMPT)["input_ids"]
    assert np.abs(gguf_logits(read, ids) - _hf_logits(model.eval(), ids)).max() < 1e-4


def test_cli_exports(course, tmp_path, capsys):
    out = tmp_path / "cli.gguf"
    assert main(["export", "gguf", str(course[0]), "--quant", "q4_0", "--out", str(out)]) == 0
    assert "38 tensors, 2-D weights as q4_0" in capsys.readouterr().out
    assert read_gguf(out).metadata["general.file_type"] == 2
    assert main(["export", "gguf", str(tmp_path), "--out", str(tmp_path / "x.gguf")]) == 2
    assert "no config.json" in capsys.readouterr().err
