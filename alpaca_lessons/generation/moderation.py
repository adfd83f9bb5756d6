"""Moderation before and after generation: the first of the Alpaca demo's two mitigations.

The Alpaca release (blog post, 2023-03-13) says the demo ran "a content filter using OpenAI's content
moderation API, which filters out harmful content as defined by OpenAI's usage policies". Two moderators
here share one interface, ``check(texts) -> list[Verdict]``:

* ``OpenAIModerator``, the real path: OpenAI's ``/moderations`` endpoint through the one teacher client
  (``Teacher.moderate``), so the same locality check and explicit opt-in apply as to any remote call;
* ``ProfanityModerator``, the offline default: ``alt-profanity-check``, a linear SVM over word n-grams
  trained on a few hundred thousand human-labelled comments and shipped inside its package. It is a
  *profanity* detector, far weaker than a moderation model: it flags swearing and insults, and misses harmful
  requests written politely (how to hurt someone, how to make a weapon). Lesson 09 measures both sides.

``ModeratedModel`` puts a moderator around any model the teacher server serves: a flagged prompt is not
answered and a flagged answer is withheld, each with ``finish_reason`` ``content_filter`` as OpenAI's API
reports it. The playground (``ui.playground``) checks the same two moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from alpaca_lessons.generation.teacher.base import Completion, Model, Sampling
from alpaca_lessons.generation.teacher.client import Teacher

OPENAI_MODERATION_MODEL = "omni-moderation-latest"
PROFANITY_THRESHOLD = 0.5  # the package's own predict() cut
BLOCKED_PROMPT = "[not answered: the request was flagged by moderation]"
WITHHELD_ANSWER = "[withheld: the answer was flagged by moderation]"
CONTENT_FILTER = "content_filter"  # OpenAI's finish_reason for a filtered answer


@dataclass(frozen=True)
class Verdict:
    """A moderator's decision on one text: flagged or not, its highest score and which categories crossed."""

    flagged: bool
    score: float
    categories: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = f"flagged ({', '.join(self.categories)})" if self.flagged else "not flagged"
        return f"{what}, score {self.score:.2f}"


class Moderator(Protocol):
    """Anything that moderates texts."""

    name: str

    def check(self, texts: Sequence[str]) -> list[Verdict]:
        """One verdict per text, in order."""
        ...


class ProfanityModerator:
    """The offline default: ``alt-profanity-check``'s probability that a text is offensive, flagged at 0.5."""

    name = "alt-profanity-check (offline; a profanity classifier, much weaker than a moderation model)"

    def __init__(self, threshold: float = PROFANITY_THRESHOLD) -> None:
        from profanity_check import predict_prob  # scikit-learn: imported only when moderation is used

        self.threshold = threshold
        self._predict = predict_prob

    def check(self, texts: Sequence[str]) -> list[Verdict]:
        """Verdicts for ``texts`` (one batched call to the classifier)."""
        if not texts:
            return []
        scores = self._predict(list(texts))
        return [Verdict(bool(s >= self.threshold), float(s), ("profanity",) if s >= self.threshold else ())
                for s in scores]


class OpenAIModerator:
    """OpenAI's moderation endpoint through a teacher (``Teacher.from_env(OPENAI_MODERATION_MODEL,
    allow_remote=True)`` for the real one: the opt-in is the caller's)."""

    def __init__(self, teacher: Teacher) -> None:
        self.teacher = teacher
        self.name = f"{teacher.model} at {teacher.base_url}"

    def check(self, texts: Sequence[str]) -> list[Verdict]:
        """Verdicts for ``texts``: the endpoint's ``flagged``, its top category score, the categories over 0.5."""
        if not texts:
            return []
        verdicts = []
        for result in self.teacher.moderate(texts):
            scores = result["scores"]
            top = max(scores.values(), default=0.0)
            verdicts.append(Verdict(result["flagged"], top, tuple(sorted(c for c, s in scores.items() if s >= 0.5))))
        return verdicts


class ModeratedModel:
    """A model of the teacher server with a moderator before and after it; same name, same window."""

    def __init__(self, model: Model, moderator: Moderator) -> None:
        self.model, self.moderator = model, moderator
        self.name, self.context = model.name, model.context
        self.description = f"{model.description}; moderated by {moderator.name}"

    def count_tokens(self, text: str) -> int:
        """The wrapped model's count."""
        return self.model.count_tokens(text)

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The wrapped model's chat prompt."""
        return self.model.chat_prompt(messages)

    def complete(self, prompt: str, sampling: Sampling, draw: int) -> Completion:
        """The wrapped model's answer, unless the prompt or the answer is flagged."""
        if self.moderator.check([prompt])[0].flagged:
            return Completion(BLOCKED_PROMPT, CONTENT_FILTER, 0)
        answer = self.model.complete(prompt, sampling, draw)
        if answer.text and self.moderator.check([answer.text])[0].flagged:
            return Completion(WITHHELD_ANSWER, CONTENT_FILTER, answer.completion_tokens)
        return answer
