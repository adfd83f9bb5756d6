"""``alpaca-lessons teacher serve``: a local OpenAI-compatible server (the 52K replay, the length judge, a folder).

``load_model`` is where a model's name, as typed, becomes a model object: the server and the stages
below only ever receive the object. Tests and lessons that start a server use it too.
"""

from __future__ import annotations

import argparse
import os
import sys

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.options import non_negative, port, unit_interval
from alpaca_lessons.evaluation.llm_judge import LengthJudge
from alpaca_lessons.generation.moderation import (
    OPENAI_MODERATION_MODEL,
    ModeratedModel,
    OpenAIModerator,
    ProfanityModerator,
)
from alpaca_lessons.generation.teacher import FAULT_KINDS, FaultPlan, Model, ReplayModel, TeacherServer, is_local
from alpaca_lessons.generation.teacher.client import Teacher
from alpaca_lessons.generation.teacher.gguf import GGUFModel
from alpaca_lessons.generation.teacher.local import LocalModel
from alpaca_lessons.generation.teacher.rule import RuleModel
from alpaca_lessons.generation.teacher.self_instruct_replay import SELF_INSTRUCT_REPLAY, SelfInstructReplayModel

REPLAY = "replay"


def load_model(spec: str = REPLAY, *, seed: int = 0, device: str = "cpu") -> Model:
    """``"replay"`` for the Alpaca 52K replay (shuffled with ``seed``), ``"self-instruct-replay"`` for the
    Self-Instruct profile's offline teacher, ``"length-baseline"`` for lesson 08's baseline judge
    (:class:`LengthJudge` served as a rule), a ``.gguf`` file (llama.cpp, the ``laptop`` extra), else a folder
    holding a Hugging Face causal LM (on ``device``)."""
    if spec == REPLAY:
        return ReplayModel(seed=seed)
    if spec == SELF_INSTRUCT_REPLAY:
        return SelfInstructReplayModel(seed=seed)
    if spec == LengthJudge.name:
        judge = LengthJudge()
        return RuleModel(judge.name, judge.description, judge.rank)
    if spec.endswith(".gguf"):
        return GGUFModel(spec)
    return LocalModel(spec, device=device)


MODERATION = ("off", "offline", "openai")


def moderated(model: Model, moderation: str = "off") -> Model:
    """``model`` as is (``off``), or with moderation before and after it: ``offline`` (alt-profanity-check) or
    ``openai`` (OpenAI's moderation endpoint at ``OPENAI_BASE_URL`` with ``OPENAI_API_KEY``: choosing it is the
    opt-in to sending every prompt and answer there)."""
    if moderation == "off":
        return model
    if moderation == "offline":
        return ModeratedModel(model, ProfanityModerator())
    if moderation == "openai":
        return ModeratedModel(model, OpenAIModerator(Teacher.from_env(OPENAI_MODERATION_MODEL, allow_remote=True)))
    raise ValueError(f"moderation must be one of {', '.join(MODERATION)}, not {moderation!r}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``teacher`` and its action ``serve``."""
    parser = subparsers.add_parser("teacher", help="run a local OpenAI-compatible teacher server")
    actions = parser.add_subparsers(dest="action", required=True)
    serve = actions.add_parser("serve", help="serve /v1/models, /v1/completions and /v1/chat/completions",
                               description="Serve a teacher model over OpenAI's API on this machine.")
    serve.add_argument("--port", type=port.parse(int), default=8000, help="port (0: any free one; default 8000)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--model", default=REPLAY,
                       help="'replay' (real text-davinci-003 outputs from the Alpaca 52K; the default), "
                            f"'{SELF_INSTRUCT_REPLAY}' (the self-instruct profile's offline teacher), "
                            f"'{LengthJudge.name}' (lesson 08's baseline judge: the longer answer wins) or a folder "
                            "holding a Hugging Face causal LM, or a .gguf file (llama.cpp: the laptop extra)")
    serve.add_argument("--device", default="cpu", help="where a model folder runs: cpu, cuda, mps (default cpu)")
    serve.add_argument("--seed", type=non_negative.parse(int), default=0,
                       help="the replay's shuffle of the 52K (default 0)")
    serve.add_argument("--fault-rate", type=unit_interval.parse(float), default=0.0,
                       help="share of attempts that meet a fault (0-1)")
    serve.add_argument("--faults", default=",".join(FAULT_KINDS),
                       help=f"comma-separated kinds to inject (default: {','.join(FAULT_KINDS)})")
    serve.add_argument("--slow-seconds", type=non_negative.parse(float), default=2.0,
                       help="delay of a 'slow' fault (default 2)")
    serve.add_argument("--fault-seed", type=non_negative.parse(int), default=0,
                       help="seed of the fault pattern (default 0)")
    serve.add_argument("--latency", type=non_negative.parse(float), default=0.0,
                       help="seconds added to every answer (default 0)")
    serve.add_argument("--api-key-env", metavar="NAME",
                       help="require the key held in this environment variable (default: accept any key)")
    serve.add_argument("--moderate", choices=MODERATION, default="off",
                       help="moderation before and after each answer: off (default), offline (alt-profanity-check, "
                            "a weak profanity classifier) or openai (OpenAI's moderation endpoint; choosing it sends "
                            "every prompt and answer to OPENAI_BASE_URL)")
    serve.add_argument("--verbose", action="store_true", help="log each request line (never headers or keys)")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            print(f"alpaca-lessons: error: ${args.api_key_env} is empty", file=sys.stderr)
            return 2
    faults = FaultPlan(args.fault_rate, tuple(k.strip() for k in args.faults.split(",") if k.strip()),
                       args.slow_seconds, args.fault_seed)
    try:
        model = moderated(load_model(args.model, seed=args.seed, device=args.device), args.moderate)
    except ImportError as exc:
        raise DataError(str(exc)) from None
    try:
        server = TeacherServer(model, host=args.host, port=args.port, faults=faults, latency=args.latency,
                               api_key=key, verbose=args.verbose)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise DataError(f"{args.host}:{args.port}: cannot listen there: {exc.strerror or exc}") from None
    if not is_local(server.base_url):
        print(f"warning: listening on {args.host}: other machines can reach this server")
    print(f"model:   {server.model.name}\n         {server.model.description}")
    if faults.rate:
        print(f"faults:  {faults.rate:.0%} of attempts ({', '.join(faults.kinds)})")
    print(f"serving: {server.base_url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    return 0
