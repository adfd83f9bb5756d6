"""The teacher client: consent for remote endpoints, counted retries, context cuts, both APIs, no key leaks."""

import asyncio
import logging
from collections import Counter

import pytest
from teacher_helpers import ALPACA_STOP, needs_mirror, replay_server, teacher

from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation.prompts import build_request
from alpaca_lessons.generation.teacher import FaultPlan, Sampling, Teacher, TeacherError, TeacherServer, run_sync
from alpaca_lessons.generation.teacher.rule import RuleModel


@pytest.fixture(scope="module")
def prompts():
    seeds = read_seed_tasks()
    return [build_request(seeds, seed=i) for i in range(5)]


def test_a_remote_endpoint_needs_explicit_consent(monkeypatch):
    with pytest.raises(TeacherError, match="opt in explicitly"):
        Teacher("https://api.openai.com/v1", "gpt-4o-mini", api_key="sk-x")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")  # a key in the environment is not consent
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")
    with pytest.raises(TeacherError, match="opt in explicitly"):
        Teacher.from_env("some-model")
    assert Teacher.from_env("some-model", allow_remote=True).base_url == "https://api.example.com/v1"
    assert Teacher("http://localhost:8000/v1", "llama").model == "llama"  # vLLM, Ollama... on this machine
    with pytest.raises(ValueError, match="end in /v1"):
        Teacher("http://127.0.0.1:8000", "llama")


@needs_mirror
def test_the_key_stays_out_of_reprs_and_errors(monkeypatch, prompts):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-SECRET-1234")
    remote = Teacher.from_env("gpt-4o-mini", allow_remote=True)
    assert "SECRET" not in repr(remote) and "SECRET" not in str(remote)
    with replay_server(api_key="sk-live-SECRET-1234") as server:
        wrong = teacher(server, api_key="sk-wrong-OTHER-99")
        with pytest.raises(TeacherError) as caught:
            wrong.ask(prompts[:1], Sampling(5))
        assert "401" in str(caught.value) and "OTHER" not in str(caught.value)
        right = teacher(server, api_key="sk-live-SECRET-1234")
        assert right.ask(prompts[:1], Sampling(5)).choices


@needs_mirror
def test_completions_send_the_batch_as_one_request_and_chat_one_per_prompt(prompts):
    sampling = Sampling(3072, stop=ALPACA_STOP)
    with replay_server() as server:
        batch = teacher(server).ask(prompts, sampling, seed=100, logit_bias={"50256": -100})
        assert server.stats["completions"] == 1
        chat = teacher(server, api="chat").ask(prompts, sampling, seed=100)
        assert server.stats["chat"] == 5
    assert [[c.text for c in g] for g in chat.choices] == [[c.text for c in g] for g in batch.choices]
    assert (chat.prompt_tokens, chat.completion_tokens) == (batch.prompt_tokens, batch.completion_tokens)
    assert all(c.finish_reason == "stop" for g in batch.choices for c in g)
    assert batch.attempts == 1 and not batch.retries and batch.error is None


@needs_mirror
def test_429s_and_500s_are_retried_and_counted(prompts):
    with replay_server(FaultPlan(rate=0.5, kinds=("429", "500"), seed=3)) as server:
        replies = [teacher(server, max_attempts=20).ask(prompts[:1], Sampling(20), seed=i) for i in range(20)]
        injected = server.faults.injected
    retries = sum((r.retries for r in replies), start=Counter())
    assert retries == {"rate limit (429)": injected["429"], "server error (500)": injected["500"]}
    assert sum(injected.values()) > 0
    assert sum(r.attempts for r in replies) == 20 + sum(injected.values())
    assert all(r.error is None and len(r.choices) == 1 for r in replies)


@needs_mirror
def test_a_request_that_fails_every_attempt_is_reported_not_dropped(prompts):
    with replay_server(FaultPlan(rate=1.0, kinds=("500",))) as server:
        reply = teacher(server, max_attempts=3).ask(prompts[:2], Sampling(20))
    assert reply.error.startswith("server error (500)") and "after 3 attempts" in reply.error
    assert reply.attempts == 3 and reply.retries == {"server error (500)": 2} and reply.choices == []


@needs_mirror
def test_timeouts_are_retried(prompts):
    with replay_server(FaultPlan(rate=0.5, kinds=("slow",), slow_seconds=1.0, seed=2)) as server:
        replies = [teacher(server, timeout=0.4, max_attempts=10).ask(prompts[:1], Sampling(10), seed=i)
                   for i in range(6)]
        slow = server.faults.injected["slow"]
    assert slow > 0 and sum(r.retries["timeout"] for r in replies) == slow
    assert all(r.choices for r in replies)


@needs_mirror
def test_too_little_room_cuts_max_tokens_by_a_fifth_as_alpaca_did(prompts):
    with replay_server() as server:
        reply = teacher(server).ask([prompts[0]], Sampling(4000, stop=ALPACA_STOP))
    assert reply.context_cuts == 1 and reply.max_tokens == 3200 and reply.choices[0][0].text


def test_delays_double_and_respect_the_cap_and_retry_after():
    t = Teacher("http://127.0.0.1:1/v1", "m", backoff=0.5, backoff_cap=4.0)
    assert [t.delay(a) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert t.delay(0, retry_after=3.0) == 3.0 and t.delay(0, retry_after=30.0) == 4.0


def test_run_sync_works_inside_a_running_event_loop():
    async def inside():
        return run_sync(asyncio.sleep(0, result="ran"))

    assert asyncio.run(inside()) == "ran"


def test_the_cli_refuses_a_remote_teacher_without_the_flag(tmp_path, capsys):
    from alpaca_lessons.cli import main

    code = main(["generate", "--output", str(tmp_path / "t.jsonl"), "--base-url", "https://api.example.com/v1",
                 "--model", "gpt-4o-mini", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2 and "--real-teacher" in captured.err and captured.out == ""  # errors go to stderr
    assert not (tmp_path / "t.jsonl").exists()


@needs_mirror
def test_the_key_stays_out_of_debug_logs(caplog, tmp_path, prompts):
    from alpaca_lessons.generation import GenerationConfig, generate

    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    with replay_server(api_key="sk-live-SECRET-5678", verbose=True) as server:
        result = generate(tmp_path / "t.jsonl", teacher(server, api_key="sk-live-SECRET-5678"),
                          GenerationConfig(num_tasks=5, request_batch_size=1, max_tokens=300), progress=False)
    assert result.status == "done" and caplog.records  # debug logging really was on
    saved = (tmp_path / "t.jsonl").read_text() + (tmp_path / "t.requests.jsonl").read_text()
    for text in (caplog.text, saved, result.report(), repr(result)):
        assert "SECRET" not in text


def echo_server() -> TeacherServer:
    """A server whose models reply with the text they were given (no data needed)."""
    return TeacherServer(RuleModel("echo", "replies with the prompt", lambda prompt: prompt),
                         RuleModel("shout", "replies in capitals", str.upper))


def test_a_conversation_goes_through_the_chat_api_whole_with_its_usage():
    messages = [{"role": "system", "content": "You judge answers."}, {"role": "user", "content": "Which one?"}]
    with echo_server() as server:
        reply = Teacher(server.base_url, "echo", api="chat").chat(messages, Sampling(50, temperature=0.0))
        assert server.stats["chat"] == 1
    # the rule model reads the messages one after another, a blank line apart, and counts words
    assert reply.choices[0][0].text == "You judge answers.\n\nWhich one?"
    assert (reply.prompt_tokens, reply.completion_tokens, reply.attempts) == (5, 5, 1)
    with pytest.raises(ValueError, match="chat API"):
        Teacher(server.base_url, "echo").chat(messages, Sampling(5))


def test_a_system_message_goes_before_each_prompt_with_the_chat_api_only():
    sampling = Sampling(50, temperature=0.0)
    with echo_server() as server:
        chat = Teacher(server.base_url, "echo", api="chat").ask(["one", "two"], sampling, system="Be brief.")
        plain = Teacher(server.base_url, "echo").ask(["one"], sampling, system="Be brief.")
    assert [g[0].text for g in chat.choices] == ["Be brief.\n\none", "Be brief.\n\ntwo"]
    assert plain.choices[0][0].text == "one"  # a completion has no system message (BELLE's default API)


def test_the_endpoints_models_are_listed_through_the_same_client():
    from alpaca_lessons.cli.generate_cmd import _first_model

    with echo_server() as server:
        assert Teacher(server.base_url, "").models() == ["echo", "shout"]
        assert _first_model(server.base_url, None) == "echo"  # what `generate` uses without --model
        base_url = server.base_url
    with pytest.raises(TeacherError, match="did not list its models"):
        Teacher(base_url, "", timeout=2).models()  # the server has stopped
    with pytest.raises(TeacherError, match="opt in explicitly"):
        Teacher("https://api.example.com/v1", "").models()


def test_a_refused_key_is_one_error_naming_the_server_never_the_key():
    with TeacherServer(RuleModel("echo", "replies with the prompt", lambda prompt: prompt),
                       api_key="sk-right-SECRET-1") as server:
        expected = f"{server.base_url}: the server refused the API key (401)"
        wrong = Teacher(server.base_url, "echo", api_key="sk-wrong-OTHER-2", backoff=0.001)
        wrong_chat = Teacher(server.base_url, "echo", api="chat", api_key="sk-wrong-OTHER-2", backoff=0.001)
        calls = (lambda: wrong.ask(["hi"], Sampling(5)), wrong.models,
                 lambda: wrong_chat.chat([{"role": "user", "content": "hi"}], Sampling(5)))
        for call in calls:
            with pytest.raises(TeacherError) as caught:
                call()
            assert str(caught.value) == expected and "OTHER" not in str(caught.value)
        assert server.stats["requests"] == 2  # one POST for ask, one for chat: a refused key is not retried


@needs_mirror
def test_the_cli_reports_a_refused_key_in_one_line_on_stderr(tmp_path, capsys, monkeypatch):
    from alpaca_lessons.cli import main

    monkeypatch.setenv("COURSE_TEST_KEY", "sk-wrong-OTHER-2")
    with replay_server(api_key="sk-right-SECRET-1") as server:
        for model in ([], ["--model", "text-davinci-003"]):  # listing the models, or the first request
            output = tmp_path / "t.jsonl"
            code = main(["generate", "--output", str(output), "--base-url", server.base_url, "--api-key-env",
                         "COURSE_TEST_KEY", "--num-tasks", "3", "--no-progress", *model])
            captured = capsys.readouterr()
            assert code == 2 and captured.out == ""
            assert captured.err == f"alpaca-lessons: error: {server.base_url}: the server refused the API key (401)\n"
            assert list(tmp_path.iterdir()) == []  # no tasks file, and no request log with only its header
