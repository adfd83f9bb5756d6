"""Teachers: the models that write new tasks, and how the course talks to them.

``client`` asks any OpenAI-compatible endpoint through the ``openai`` package; ``server`` is a local
OpenAI-compatible server; behind it, ``replay`` replays real text-davinci-003 generations from the
Alpaca 52K (the offline default), ``local`` serves a Hugging Face model from a folder, and ``rule``
serves a rule such as the length baseline judge; ``faults`` makes the server fail on purpose. The server
takes model objects: the names typed on the command line are mapped to models by ``cli.teacher_cmd``.
"""

from __future__ import annotations

from alpaca_lessons.generation.teacher.base import Completion, ContextLengthError, Model, PromptError, Sampling
from alpaca_lessons.generation.teacher.client import Choice, Reply, Session, Teacher, TeacherError, is_local, run_sync
from alpaca_lessons.generation.teacher.faults import FAULT_KINDS, FaultPlan
from alpaca_lessons.generation.teacher.replay import REPLAY_DESCRIPTION, REPLAY_MODEL, ReplayModel
from alpaca_lessons.generation.teacher.server import TeacherServer

__all__ = [
    "FAULT_KINDS", "REPLAY_DESCRIPTION", "REPLAY_MODEL", "Choice", "Completion", "ContextLengthError", "FaultPlan",
    "Model", "PromptError", "ReplayModel", "Reply", "Sampling", "Session", "Teacher", "TeacherError", "TeacherServer",
    "is_local", "run_sync",
]

