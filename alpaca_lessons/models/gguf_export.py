"""Write a Hugging Face LLaMA folder as a GGUF file llama.cpp can load, and read one back.

GGUF is llama.cpp's single-file format: a header of typed key-value metadata (the architecture's sizes, the
tokenizer's vocabulary and merges) followed by the tensors, each stored as f32, f16, bf16 or one of ggml's
block-quantized types (``models.quantize``). The file is written with ``gguf``, the format's own Python
package (maintained in llama.cpp's repository), so nothing here needs llama.cpp itself.

What has to match llama.cpp's expectations, beyond the names (``blk.N.attn_q.weight``...):

* **The rotary Q/K row order.** Meta's LLaMA code rotates each head's dimensions in adjacent pairs
  (0,1), (2,3)...; Hugging Face's conversion permuted the rows of ``q_proj`` and ``k_proj`` so that its
  ``rotate_half`` pairs dimension i with i + d/2 instead. llama.cpp computes the rotation the original way, so
  the export undoes the permutation (``to_ggml_rows``), as llama.cpp's ``convert_hf_to_gguf.py`` does.
* **Tied embeddings.** The course's models share the input embedding and the output layer. Only
  ``token_embd.weight`` is written: llama.cpp's LLaMA loader treats ``output.weight`` as optional and uses the
  token embedding when it is absent (checked by ``tests/test_teacher_gguf.py`` with llama-cpp-python).
* **The tokenizer** is the course's byte-level BPE, which is GPT-2's scheme: ``tokenizer.ggml.model`` is
  ``gpt2`` with the vocabulary in id order, the merges by rank, the GPT-2 pre-tokenizer regex (``gpt-2``),
  ``<s>`` added in front as the Hugging Face tokenizer does. A SentencePiece tokenizer (Meta's LLaMA) is not
  handled here: llama.cpp's own ``convert_hf_to_gguf.py`` converts those.

``read_gguf`` reads a file back into float32 arrays as stored (q/k rows in llama.cpp's order), which is what
``models.gguf_forward`` (a reference forward pass from the file's tensors, rotating adjacent pairs as
llama.cpp does) runs on: its logits match the Hugging Face model's only if the permutation is right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alpaca_lessons.models.quantize import QUANTIZED, check_format, decode, encode

FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "bf16": 32}  # gguf.LlamaFileType: the file's main format
_LAYER_NAMES = {  # Hugging Face name inside model.layers.N -> GGUF name inside blk.N
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}


def gguf_name(hf_name: str) -> str:
    """The GGUF tensor name of a Hugging Face LLaMA parameter (``model.layers.3.mlp.up_proj.weight`` ->
    ``blk.3.ffn_up.weight``)."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf_name in fixed:
        return fixed[hf_name]
    parts = hf_name.split(".")
    if parts[:2] != ["model", "layers"] or parts[-1] != "weight" or ".".join(parts[3:-1]) not in _LAYER_NAMES:
        raise ValueError(f"{hf_name}: not a parameter of a LLaMA model (no GGUF name for it)")
    return f"blk.{parts[2]}.{_LAYER_NAMES['.'.join(parts[3:-1])]}.weight"


def to_ggml_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    """Undo Hugging Face's rotary permutation of a q/k projection: within each head, HF row i and row i + d/2
    (a rotated pair) become rows 2i and 2i + 1, where llama.cpp expects them."""
    rows, cols = weight.shape
    return weight.reshape(heads, 2, rows // heads // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def to_hf_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    """The inverse of ``to_ggml_rows``."""
    rows, cols = weight.shape
    return weight.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def _tokenizer_metadata(folder: Path) -> dict:
    """Tokens in id order, their types, merges and special ids from a folder's ``tokenizer.json``."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no tokenizer.json (a byte-level BPE tokenizer is needed; for a "
                                "SentencePiece tokenizer use llama.cpp's convert_hf_to_gguf.py)")
    spec = json.loads(path.read_text(encoding="utf-8"))
    model = spec["model"]
    if model.get("type") != "BPE" or (spec.get("pre_tokenizer") or {}).get("type") != "ByteLevel":
        raise ValueError(f"{path}: not a byte-level BPE tokenizer (GPT-2 style), which is what this export writes")
    vocab = {**model["vocab"], **{t["content"]: t["id"] for t in spec.get("added_tokens", [])}}
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError(f"{path}: token ids are not 0..{len(tokens) - 1} without gaps")
    special = {t["content"] for t in spec.get("added_tokens", []) if t.get("special")}
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    ids = {name: vocab.get(config.get(f"{name}_token")) for name in ("bos", "eos", "pad")}
    return {"tokens": tokens, "types": [3 if t in special else 1 for t in tokens], "merges": merges, **ids}


@dataclass(frozen=True)
class Exported:
    """What ``export_gguf`` wrote."""

    path: Path
    fmt: str
    tensors: int
    size: int  # bytes of the file

    def __str__(self) -> str:
        return f"{self.path}: {self.tensors} tensors, 2-D weights as {self.fmt}, {self.size / 2**20:.2f} MiB"


def export_gguf(model_dir: str | Path, out: str | Path, fmt: str = "q8_0") -> Exported:
    """Write the LLaMA model in ``model_dir`` (a local Hugging Face folder) to ``out`` with its 2-D weights in
    ``fmt`` (``f32``, ``f16``, ``bf16``, ``q8_0`` or ``q4_0``) and its norm weights in f32, as llama.cpp does."""
    import gguf

    from alpaca_lessons.models.modeling import load_causal_lm

    check_format(fmt)
    folder = Path(model_dir)
    model = load_causal_lm(folder)
    config = model.config
    if config.model_type != "llama":
        raise ValueError(f"{folder}: a {config.model_type} model; this export writes LLaMA-architecture models")
    tokenizer = _tokenizer_metadata(folder)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(folder.name)
    writer.add_file_type(FILE_TYPES[fmt])
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    rope = getattr(config, "rope_parameters", None) or {"rope_theta": getattr(config, "rope_theta", 10000.0)}
    writer.add_rope_freq_base(float(rope["rope_theta"]))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokenizer["tokens"])
    writer.add_token_types(tokenizer["types"])
    writer.add_token_merges(tokenizer["merges"])
    for name, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                      ("pad", writer.add_pad_token_id)):
        if tokenizer[name] is not None:
            add(tokenizer[name])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    count = 0
    for hf_name, parameter in model.state_dict().items():
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # llama.cpp falls back to token_embd.weight
        weight = parameter.float().numpy()
        if hf_name.endswith(("q_proj.weight", "k_proj.weight")):
            heads = config.num_attention_heads if "q_proj" in hf_name else config.num_key_value_heads
            weight = to_ggml_rows(weight, heads)
        kind = fmt if weight.ndim == 2 else "f32"
        data = encode(weight, kind)
        raw = getattr(gguf.GGMLQuantizationType, kind.upper())
        if kind in QUANTIZED or kind == "bf16":
            writer.add_tensor(gguf_name(hf_name), data.view(np.uint8), raw_dtype=raw)
        else:
            writer.add_tensor(gguf_name(hf_name), data)
        count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Exported(Path(out), fmt, count, Path(out).stat().st_size)


@dataclass
class GGUFModel:
    """A GGUF file read back: its metadata and every tensor as float32, (out, in) as in PyTorch, in the file's
    row order (q/k rows in llama.cpp's adjacent-pair order: ``to_hf_rows`` gives Hugging Face's), keyed by
    GGUF name, with each tensor's stored format."""

    metadata: dict
    tensors: dict[str, np.ndarray]
    formats: dict[str, str]


def _value(field):
    """A metadata field's value: a string, a number, or a list of them."""
    import gguf

    if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
        return [field.contents(i) for i in range(len(field.data))]
    return field.contents()


def read_gguf(path: str | Path, *, with_vocab: bool = False) -> GGUFModel:
    """Read a GGUF file written by ``export_gguf`` (or llama.cpp's converter, for LLaMA): metadata (the token
    list and merges only ``with_vocab``) and dequantized tensors."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    skip = () if with_vocab else ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type")
    metadata = {key: _value(field) for key, field in reader.fields.items()
                if not key.startswith("GGUF.") and key not in skip}
    tensors, formats = {}, {}
    for tensor in reader.tensors:
        fmt = tensor.tensor_type.name.lower()
        shape = tuple(int(n) for n in reversed(tensor.shape))  # ggml lists the fastest-moving dimension first
        raw = np.asarray(tensor.data)
        data = raw.view(np.uint8).view(np.uint16) if fmt == "bf16" else raw
        tensors[tensor.name], formats[tensor.name] = decode(data, fmt).reshape(shape), fmt
    return GGUFModel(metadata, tensors, formats)
