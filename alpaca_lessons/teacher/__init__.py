"""Teachers: the models that write new tasks, and how the course talks to them.

``client`` asks any OpenAI-compatible endpoint through the ``openai`` package; ``server`` is a local
OpenAI-compatible server; behind it, ``replay`` replays real text-davinci-003 generations from the
Alpaca 52K (the offline default) and ``local`` serves a Hugging Face model from a folder; ``faults``
makes the server fail on purpose.
"""

from __future__ import annotations

from .base import Completion, ContextLengthError, Sampling
from .client import Choice, Reply, Session, Teacher, TeacherError, is_local, run_sync
from .faults import FAULT_KINDS, FaultPlan
from .replay import REPLAY_DESCRIPTION, REPLAY_MODEL, ReplayModel
from .server import TeacherServer

__all__ = [
    "FAULT_KINDS", "REPLAY_DESCRIPTION", "REPLAY_MODEL", "Choice", "Completion", "ContextLengthError", "FaultPlan",
    "ReplayModel", "Reply", "Sampling", "Session", "Teacher", "TeacherError", "TeacherServer", "is_local",
    "load_model", "run_sync",
]


def load_model(spec: str = "replay", *, seed: int = 0, device: str = "cpu"):
    """``"replay"`` for the Alpaca 52K replay, else a folder holding a Hugging Face causal LM (on ``device``)."""
    if spec == "replay":
        return ReplayModel(seed=seed)
    from .local import LocalModel

    return LocalModel(spec, device=device)
