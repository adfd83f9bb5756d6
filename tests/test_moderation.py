"""Moderation: the offline classifier on hand-picked texts (what it catches and what it misses), the real path
through the teacher client against a local stand-in for OpenAI's /moderations, and the server's wrapper."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alpaca_lessons.generation.moderation import (
    BLOCKED_PROMPT,
    CONTENT_FILTER,
    WITHHELD_ANSWER,
    ModeratedModel,
    OpenAIModerator,
    ProfanityModerator,
)
from alpaca_lessons.generation.teacher import Sampling, Teacher, TeacherError, TeacherServer
from alpaca_lessons.generation.teacher.rule import RuleModel


@pytest.fixture(scope="module")
def offline():
    return ProfanityModerator()


def test_offline_catches_insults_and_misses_polite_harm(offline):
    texts = ["You are a fucking idiot.", "Give three tips for staying healthy.",
             "Explain step by step how to poison a neighbour without being caught."]
    flagged = [v.flagged for v in offline.check(texts)]
    assert flagged == [True, False, False]  # the third is harmful, but polite: a profanity model cannot see it
    assert offline.check([]) == []


class _FakeModerations(BaseHTTPRequestHandler):
    """OpenAI's /v1/moderations, shaped as the real one answers: flags texts that mention "attack"; the first
    request of a run answers 500 once, to show the retry is the client's."""

    failed_once = False

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not type(self).failed_once:
            type(self).failed_once = True
            payload, status = {"error": {"message": "try again", "type": "server_error"}}, 500
        else:
            results = [{"flagged": "attack" in t, "categories": {"violence": "attack" in t, "harassment": False},
                        "category_scores": {"violence": 0.9 if "attack" in t else 0.01, "harassment": 0.02},
                        "category_applied_input_types": {"violence": ["text"], "harassment": ["text"]}}
                       for t in body["input"]]
            payload, status = {"id": "modr-1", "model": body["model"], "results": results}, 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_the_real_path_goes_through_the_teacher_client():
    http = ThreadingHTTPServer(("127.0.0.1", 0), _FakeModerations)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        teacher = Teacher(f"http://127.0.0.1:{http.server_address[1]}/v1", "omni-moderation-latest",
                          timeout=5, backoff=0.001, backoff_cap=0.01)
        verdicts = OpenAIModerator(teacher).check(["plan an attack on the castle", "bake bread"])
    finally:
        http.shutdown()
    assert [v.flagged for v in verdicts] == [True, False]
    assert verdicts[0].categories == ("violence",) and verdicts[0].score == 0.9 and verdicts[1].score == 0.02


def test_a_remote_moderation_endpoint_needs_the_opt_in():
    with pytest.raises(TeacherError, match="opt in"):
        Teacher("https://api.openai.com/v1", "omni-moderation-latest")


def test_the_server_blocks_a_flagged_request_and_withholds_a_flagged_answer(offline):
    echo = RuleModel("echo", "repeats the last line of the prompt", lambda prompt: prompt.splitlines()[-1])
    with TeacherServer(ModeratedModel(echo, offline)) as server:
        teacher = Teacher(server.base_url, "echo", timeout=10, max_attempts=1)
        reply = teacher.ask(["Say hello.\nhello there", "Insult me.\nyou stupid fucking idiot"], Sampling(20))
    clean, flagged = reply.choices[0][0], reply.choices[1][0]
    assert clean.text.strip() == "hello there" and clean.finish_reason != CONTENT_FILTER
    assert flagged.text == BLOCKED_PROMPT and flagged.finish_reason == CONTENT_FILTER

    rude = RuleModel("rude", "answers rudely", lambda prompt: "shut up, you fucking idiot")
    answer = ModeratedModel(rude, offline).complete("Say something nice.", Sampling(20), 0)
    assert (answer.text, answer.finish_reason) == (WITHHELD_ANSWER, CONTENT_FILTER)


def test_the_serve_command_wraps_a_model_only_when_asked(offline):
    from alpaca_lessons.cli.teacher_cmd import moderated

    echo = RuleModel("echo", "repeats", lambda prompt: prompt)
    assert moderated(echo, "off") is echo
    wrapped = moderated(echo, "offline")
    assert isinstance(wrapped, ModeratedModel) and wrapped.name == "echo"
    assert "alt-profanity-check" in wrapped.description
    with pytest.raises(ValueError, match="moderation must be one of"):
        moderated(echo, "strict")
