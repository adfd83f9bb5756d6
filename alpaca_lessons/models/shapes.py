"""The shapes of the LLaMA-architecture models the course names: one home for each preset.

A ``ModelShape`` holds the sizes that parameter counts and memory depend on. ``PRESETS`` names the sizes the
course builds from scratch (``tiny``, ``course``) and LLaMA-7B's (``llama-7b``, and ``7b-width``, its width
with fewer layers); ``modeling.llama_config`` builds a preset, and the memory calculator estimates one.
No heavy import here: the memory calculator reads these shapes without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ModelShape:
    """The sizes of a LLaMA-architecture model that memory depends on."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int | None = None  # None: as many as query heads (LLaMA-1)
    tied: bool = False

    @property
    def kv_size(self) -> int:
        """Width of the key and value projections (smaller than hidden with grouped-query attention)."""
        return self.hidden_size * (self.num_kv_heads or self.num_heads) // self.num_heads

    @property
    def layer_parameters(self) -> int:
        """Parameters of one decoder layer: q, k, v, o, gate, up, down and two RMSNorm weights."""
        h, kv, i = self.hidden_size, self.kv_size, self.intermediate_size
        return 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h

    @property
    def embedding_parameters(self) -> int:
        """Input embeddings plus the output layer (once when tied) plus the final norm."""
        return self.vocab_size * self.hidden_size * (1 if self.tied else 2) + self.hidden_size

    @property
    def parameters(self) -> int:
        """All parameters."""
        return self.embedding_parameters + self.num_layers * self.layer_parameters

    def config_sizes(self) -> dict[str, int | bool]:
        """The ``LlamaConfig`` keyword arguments of this shape, less the vocabulary size."""
        return {"hidden_size": self.hidden_size, "intermediate_size": self.intermediate_size,
                "num_hidden_layers": self.num_layers, "num_attention_heads": self.num_heads,
                "num_key_value_heads": self.num_kv_heads or self.num_heads, "tie_word_embeddings": self.tied}

    @classmethod
    def from_config(cls, config) -> ModelShape:
        """The shape of a Hugging Face ``LlamaConfig``."""
        return cls(config.vocab_size, config.hidden_size, config.intermediate_size, config.num_hidden_layers,
                   config.num_attention_heads, config.num_key_value_heads, bool(config.tie_word_embeddings))

    def to_config(self):
        """A ``LlamaConfig`` of this shape (to build it, or to measure it)."""
        from transformers import LlamaConfig

        return LlamaConfig(vocab_size=self.vocab_size, max_position_embeddings=4096, **self.config_sizes())


# LLaMA-7B as Alpaca fine-tuned it: 6,738,415,616 parameters, separate input and output embeddings
LLAMA_7B = ModelShape(32000, 4096, 11008, 32, 32)

# Heads of 16-32 dimensions, as in small LLaMAs; the small presets tie their embeddings to halve the embedding
# memory. The vocabulary is the tokenizer's: ``vocab_size`` here is the size the course trains for each.
PRESETS: dict[str, ModelShape] = {
    # small for testing efficiency: ~0.3M parameters with a 1K vocabulary, 20 steps take about a second
    "tiny": ModelShape(1024, 64, 128, 2, 4, tied=True),
    # the course's model: ~2.6M parameters with a 4K vocabulary; trains on this CPU in minutes and is
    # about 5 MB in bfloat16, small enough to commit
    "course": ModelShape(4096, 192, 512, 4, 6, tied=True),
    # the optional stronger course model, for a GPU: ~11.2M parameters, heads of 64 (two copies, base and
    # tuned, must fit what one GPU call can bring back)
    "course-large": ModelShape(4096, 320, 864, 8, 5, tied=True),
    # LLaMA-7B's shape, for the memory calculator and GPU runs (never built on a CPU)
    "llama-7b": LLAMA_7B,
    # LLaMA-7B's width with 8 of its 32 layers (1.88B parameters with a 32K vocabulary): every matrix
    # multiply is the size of 7B's, so a GPU's throughput and utilisation on it carry over to 7B
    "7b-width": replace(LLAMA_7B, num_layers=8),
}
