"""A local Hugging Face causal LM behind the teacher server (``alpaca-lessons teacher serve --model PATH``).

Any folder that ``AutoModelForCausalLM`` and ``AutoTokenizer`` load works: a small LLaMA built for the
tests, the course's own model, or a real checkpoint. Sampling follows the request (temperature, top_p,
a seed per draw); stop sequences are applied to the decoded text, as OpenAI's API does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from alpaca_lessons.generation.teacher.base import Completion, ContextLengthError, Sampling, cut_at_stop


class LocalModel:
    """A causal LM loaded from a local folder; one generation at a time (a lock guards the model)."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        import torch

        from alpaca_lessons.models.infer import load

        folder = Path(path)
        self.model, self.tokenizer = load(folder, device)  # float32 on a CPU, the checkpoint's dtype on a GPU
        self.device = device
        self.name = folder.name
        self.description = f"a local Hugging Face causal LM ({type(self.model).__name__}) loaded from {folder.name}/"
        self.context = int(getattr(self.model.config, "max_position_embeddings", 2048))
        self._lock = threading.Lock()
        self._torch = torch

    def __repr__(self) -> str:
        return f"LocalModel({self.name!r})"

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model reads it (special tokens the tokenizer adds included)."""
        return len(self.tokenizer(text)["input_ids"])

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The tokenizer's chat template when it has one, else the messages' contents one after another."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        return "\n\n".join(str(m.get("content") or "") for m in messages)

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """Sample up to ``max_tokens`` new tokens with ``torch.manual_seed(draw)``; cut at the first stop."""
        torch = self._torch
        inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        prompt_tokens = inputs["input_ids"].shape[1]
        if prompt_tokens + sampling.max_tokens > self.context:
            raise ContextLengthError(self.context, prompt_tokens, sampling.max_tokens)
        sample = sampling.temperature > 0
        options = {"do_sample": sample, "max_new_tokens": sampling.max_tokens,
                   "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id}
        if sample:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        with self._lock, torch.no_grad():
            torch.manual_seed(draw % 2**63)
            new = self.model.generate(**inputs, **options)[0, prompt_tokens:].tolist()
        eos = self.tokenizer.eos_token_id
        ended = eos is not None and eos in new
        if ended:
            new = new[: new.index(eos)]
        text, stopped = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), sampling.stop)
        if stopped:
            return Completion(text, "stop", len(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return Completion(text, "stop" if ended else "length", len(new) + ended)
