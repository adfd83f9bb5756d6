"""models/shapes: the presets are the sizes their models have; one home for LLaMA-7B's shape."""

import pytest
from finetune_fixtures import one_thread  # noqa: F401 (an autouse fixture)

from alpaca_lessons.models.modeling import build_model, count_parameters, llama_config
from alpaca_lessons.models.shapes import LLAMA_7B, PRESETS, ModelShape


def test_parameter_counts_match_real_models():
    assert LLAMA_7B.parameters == 6_738_415_616  # LLaMA-7B's published count
    for preset, vocab in (("tiny", 300), ("course", 4096)):
        model = build_model(llama_config(preset, vocab))
        assert ModelShape.from_config(model.config).parameters == count_parameters(model)[0]
    gqa = ModelShape(1000, 64, 128, 2, 8, num_kv_heads=2)
    assert gqa.parameters == count_parameters(build_model(gqa.to_config()))[0]


def test_the_7b_presets_are_llama_7bs_shape():
    assert (LLAMA_7B.vocab_size, LLAMA_7B.hidden_size, LLAMA_7B.intermediate_size, LLAMA_7B.num_layers,
            LLAMA_7B.num_heads, LLAMA_7B.tied) == (32000, 4096, 11008, 32, 32, False)  # LLaMA-7B's params.json
    built = ModelShape.from_config(llama_config("llama-7b", 32000))
    assert built.config_sizes() == LLAMA_7B.config_sizes() and built.parameters == 6_738_415_616
    wide = ModelShape.from_config(llama_config("7b-width", 32000))
    assert wide.config_sizes() == PRESETS["7b-width"].config_sizes() and wide.num_layers == 8
    assert wide.parameters == pytest.approx(1.88e9, rel=0.01)
    tiny = llama_config("tiny", 300)
    assert (tiny.hidden_size, tiny.num_hidden_layers, tiny.tie_word_embeddings) == (64, 2, True)
