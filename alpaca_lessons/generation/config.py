"""A generation run's settings: Alpaca's request recipe, defaults from the profile, each number checked.

``GenerationConfig`` is what ``generation.pipeline.generate`` runs and what ``alpaca-lessons generate``'s flags are
derived from (``common.options``); a field left ``None`` takes the profile's value (Alpaca's or BELLE's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alpaca_lessons.common.options import (
    check_fields,
    non_negative,
    option,
    positive,
    probability,
    temperature_range,
    unit_interval,
)
from alpaca_lessons.generation.profiles import get_profile
from alpaca_lessons.generation.teacher import Sampling

ALPACA_STOP = ("\n20", "20.", "20.")  # Alpaca's stop sequences, the duplicate included
#: Alpaca's ``logit_bias``: GPT-3's ``<|endoftext|>`` (token id 50256) banned, as its requests asked.
#: Other tokenizers (a LLaMA served by vLLM, say) have no such token: send ``logit_bias=None`` to them.
BAN_GPT3_ENDOFTEXT: dict[str, int] = {"50256": -100}

@dataclass(frozen=True)
class GenerationConfig:
    """Every number of the run; the defaults are Alpaca's. The ``generate`` command's flags are these fields.

    ``request_batch_size``, ``max_tokens`` and ``threshold`` left at None take the profile's values when the
    config is made (BELLE: 1, 1024, BM25 18). ``dataclasses.replace(config, profile=...)`` keeps the values
    already resolved: build a new config to change profile."""

    # the last request may overshoot, as Alpaca's did
    num_tasks: int = option(100, help="kept tasks to reach (default %(default)s)", check=positive)
    profile: str = "alpaca"
    num_prompt_instructions: int = option(3, help="seed tasks shown in each prompt", check=positive)
    request_batch_size: int | None = option(None, help="prompts per request (default: the profile's: Alpaca 5, "
                                                       "BELLE 1)", check=positive)
    n: int = option(1, help="completions per prompt", check=positive)
    temperature: float = option(1.0, help="sampling temperature", check=temperature_range)
    top_p: float = option(1.0, help="nucleus sampling mass", check=probability)
    max_tokens: int | None = option(None, help="completion tokens per prompt (default: the profile's: Alpaca 3072, "
                                               "BELLE 1024)", check=positive)  # Alpaca: "hard-code to maximize"
    stop: tuple[str, ...] = ALPACA_STOP
    logit_bias: dict[str, int] | None = field(default_factory=lambda: dict(BAN_GPT3_ENDOFTEXT))
    threshold: float | None = option(None, help="novelty score above which a task is rejected (default: the "
                                                "profile's: ROUGE-L 0.7, in [0, 1]; BELLE's BM25 18)",
                                     check=non_negative)
    avg_similarity: bool = option(True, help="write Alpaca's avg_similarity_score, the mean ROUGE-L against the whole "
                                             "pool (it needs an LCS with every instruction sharing a word: about 35 ms "
                                             "a task at 50K)")
    seed: int = option(0, help="seed of the prompts' sampling", check=non_negative)
    concurrency: int = option(1, help="requests in flight (output is the same at any)", check=positive)
    max_cost: float | None = option(None, help="dollars: never start a request that could take the cost (earlier "
                                               "sessions included) past this", check=non_negative)
    max_requests: int | None = option(None, help="requests to apply in this session at most", check=positive)
    max_idle_requests: int = option(20, check=positive)  # stop after this many requests in a row keep nothing

    def __post_init__(self) -> None:
        check_fields(self)
        profile = get_profile(self.profile)
        for name in ("request_batch_size", "max_tokens", "threshold"):  # None: the profile's value
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(profile, name))
        if profile.novelty == "rouge-l" and unit_interval.problem(self.threshold):
            raise ValueError(f"threshold must be {unit_interval.rule} for a ROUGE-L novelty test, got {self.threshold}")

    def sampling(self) -> Sampling:
        """The decoding settings every request carries."""
        return Sampling(self.max_tokens, self.temperature, self.top_p, tuple(self.stop))

    def teacher_seed(self, index: int) -> int:
        """The ``seed`` sent with request ``index`` (prompt ``p`` of it is ``seed + p`` on the server)."""
        return self.seed * 1_000_003 + index * self.request_batch_size
