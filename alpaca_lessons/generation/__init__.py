"""The Self-Instruct generation step: requests, the teacher, post-processing, novelty, resume, accounting.

``generate(output, teacher, GenerationConfig(...))`` is the whole loop; ``screen_reply`` runs Alpaca's
post-processing on one reply (what lesson 03 walks through); ``Accounting`` counts what a run did and
``teacher_prices`` prices it (the prices themselves live in ``common.prices``); ``ALPACA`` and ``BELLE``
are Alpaca's and BELLE's own recipes (``belle``: BELLE's parser, rules and BM25 test), and ``belle-rouge``
in ``PROFILES`` is the course's Chinese variant of Alpaca's filter.
"""

from __future__ import annotations

from alpaca_lessons.generation.accounting import ALPACA_REPORTED_COST, ALPACA_TASKS, Accounting, teacher_prices
from alpaca_lessons.generation.config import ALPACA_STOP, GenerationConfig
from alpaca_lessons.generation.pipeline import (
    GenerationResult,
    agenerate,
    build_requests,
    generate,
    log_path,
)
from alpaca_lessons.generation.profiles import ALPACA, BELLE, PROFILES, Profile, get_profile
from alpaca_lessons.generation.screening import Screening, near_duplicates, screen, screen_reply

__all__ = [
    "ALPACA", "ALPACA_REPORTED_COST", "ALPACA_STOP", "ALPACA_TASKS", "BELLE", "PROFILES", "Accounting",
    "GenerationConfig", "GenerationResult", "Profile", "Screening", "agenerate", "build_requests", "generate",
    "get_profile", "log_path", "near_duplicates", "screen", "screen_reply", "teacher_prices",
]
