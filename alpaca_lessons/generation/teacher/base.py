"""What every model behind the local teacher server provides, and the rules they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    """Decoding settings of one request, as the OpenAI API names them."""

    max_tokens: int = 16  # the completions API's own default
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    presence_penalty: float = 0.0  # sent when not 0 (Self-Instruct: 2 and 1.5); the course's local models ignore it


@dataclass(frozen=True)
class Completion:
    """One choice: the text, why it ended ("stop" or "length"), and its length in the model's tokens."""

    text: str
    finish_reason: str
    completion_tokens: int


class PromptError(ValueError):
    """A prompt the model cannot answer (the API answers 400 with the message)."""


class ContextLengthError(PromptError):
    """The prompt plus ``max_tokens`` does not fit the model's window (the API answers 400)."""

    def __init__(self, context: int, prompt_tokens: int, max_tokens: int) -> None:
        # Worded like OpenAI's error, whose "Please reduce your prompt" Alpaca's client looked for.
        super().__init__(
            f"This model's maximum context length is {context} tokens, however you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in your prompt; {max_tokens} for the "
            "completion). Please reduce your prompt; or completion length.")


class Model(Protocol):
    """A text model the server can answer with."""

    name: str
    description: str
    context: int  # the window: prompt tokens + max_tokens must fit in it

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the tokens this model bills by."""
        ...

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """Continue ``prompt``; ``draw`` seeds the randomness, so equal draws give equal text."""
        ...

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The text the model continues for a chat conversation."""
        ...


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the earliest stop sequence (not included), and whether one was found."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def last_user_message(messages: Sequence[dict]) -> str:
    """The content of the last user message (what a completion model is asked to continue)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    raise ValueError("the conversation has no user message")
