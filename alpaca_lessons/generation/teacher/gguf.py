"""A GGUF file behind the teacher server, run by llama.cpp through ``llama-cpp-python`` (the ``laptop`` extra).

``alpaca-lessons teacher serve --model model.gguf`` serves a quantized model (``alpaca-lessons export gguf``)
with the same API as every other local model, so lesson 03 can generate with it and lesson 08 judge with it.
llama-cpp-python compiles llama.cpp when it is installed (minutes), so it is imported only here, only when a
``.gguf`` model is asked for. Sampling follows the request: temperature (0 is greedy), top_p, a seed per draw;
llama.cpp's own extras (top-k 40, min-p 0.05, a repeat penalty) are switched off so a request means the same
thing here as on the Hugging Face path.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from alpaca_lessons.generation.teacher.base import Completion, ContextLengthError, Sampling

INSTALL_HINT = "pip install -e '.[laptop]' (it compiles llama.cpp: several minutes)"


class GGUFModel:
    """A GGUF model loaded by llama.cpp; one generation at a time (a lock guards it)."""

    def __init__(self, path: str | Path, context: int = 0) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ImportError(f"serving a .gguf file needs llama-cpp-python: {INSTALL_HINT}") from None
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such GGUF file")
        self.llm = Llama(model_path=str(file), n_ctx=context, verbose=False, seed=0)
        self.name = file.name
        self.context = int(self.llm.n_ctx())
        self.description = f"{file.name} run by llama.cpp (llama-cpp-python)"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GGUFModel({self.name!r})"

    def tokenize(self, text: str) -> list[int]:
        """llama.cpp's tokens of ``text``, with the BOS the file says to add."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as llama.cpp reads it."""
        return len(self.tokenize(text))

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The messages' contents one after another (the course's GGUF files carry no chat template)."""
        return "\n\n".join(str(m.get("content") or "") for m in messages)

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """Up to ``max_tokens`` new tokens from llama.cpp, seeded by ``draw``, cut at the first stop."""
        prompt_tokens = self.count_tokens(prompt)
        if prompt_tokens + sampling.max_tokens > self.context:
            raise ContextLengthError(self.context, prompt_tokens, sampling.max_tokens)
        with self._lock:
            answer = self.llm.create_completion(
                prompt, max_tokens=sampling.max_tokens, temperature=sampling.temperature, top_p=sampling.top_p,
                top_k=0, min_p=0.0, repeat_penalty=1.0, seed=draw % 2**31, stop=list(sampling.stop) or None)
        choice = answer["choices"][0]
        return Completion(choice["text"], choice["finish_reason"] or "stop", answer["usage"]["completion_tokens"])
