"""The local teacher server, spoken to through the real ``openai`` client (retries off, short timeouts), and
through raw sockets for the requests no client would send."""

import json
import socket
import time
from http.client import HTTPResponse

import openai
import pytest
from teacher_helpers import ALPACA_STOP, needs_mirror, replay_model, replay_server

from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation.prompts import build_request, count_tokens
from alpaca_lessons.generation.rules import parse_reply
from alpaca_lessons.generation.teacher import REPLAY_MODEL, Completion, FaultPlan, TeacherServer
from alpaca_lessons.generation.teacher.server import MAX_CHOICES


def client(server, **options):
    return openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0, timeout=10, **options)


@pytest.fixture(scope="module")
def server():
    with replay_server() as running:
        yield running


@pytest.fixture(scope="module")
def prompts():
    return [build_request(read_seed_tasks(), seed=i) for i in range(3)]


@needs_mirror
def test_models_says_what_the_replay_is(server):
    (model,) = client(server).models.list().data
    assert model.id == REPLAY_MODEL
    assert "REAL text-davinci-003" in model.description and "does not read the seed tasks" in model.description


@needs_mirror
def test_a_completion_continues_the_prompt_with_real_52k_tasks(server, prompts):
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=3072,
                                               stop=list(ALPACA_STOP), seed=7)
    (choice,) = answer.choices
    assert choice.finish_reason == "stop" and choice.index == 0
    assert choice.text.startswith(" ") and choice.text.endswith("\n###")  # stopped at "\n20"
    blocks = parse_reply(choice.text, choice.finish_reason, 4)
    assert [b.number for b in blocks] == list(range(4, 20))
    real = {r.instruction: r for r in replay_model().records}
    assert all(real[b.task.instruction].output == b.task.output for b in blocks)
    assert answer.usage.prompt_tokens == count_tokens(prompts[0])
    assert answer.usage.completion_tokens == count_tokens(choice.text)
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


@needs_mirror
def test_n_choices_for_a_list_of_prompts_are_numbered_as_openai_does(server, prompts):
    api = client(server)
    batch = api.completions.create(model=REPLAY_MODEL, prompt=prompts[:2], n=2, max_tokens=60, seed=10)
    assert [c.index for c in batch.choices] == [0, 1, 2, 3]
    assert len({c.text for c in batch.choices}) == 4
    # Choice j of prompt p is draw (seed + p) * n + j: the same prompt alone with seed + 1 gives the same texts.
    alone = api.completions.create(model=REPLAY_MODEL, prompt=prompts[1], n=2, max_tokens=60, seed=11)
    assert [c.text for c in alone.choices] == [c.text for c in batch.choices[2:]]
    again = api.completions.create(model=REPLAY_MODEL, prompt=prompts[:2], n=2, max_tokens=60, seed=10)
    assert [c.text for c in again.choices] == [c.text for c in batch.choices]
    assert batch.usage.prompt_tokens == count_tokens(prompts[0]) + count_tokens(prompts[1])


@needs_mirror
def test_max_tokens_cuts_the_reply_for_length(server, prompts):
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=50, seed=1)
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 50
    full = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=3000, seed=1)
    assert full.choices[0].text.startswith(answer.choices[0].text[:100])


@needs_mirror
def test_any_stop_sequence_ends_the_reply(server, prompts):
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=500, stop="###",
                                               seed=2)
    assert answer.choices[0].finish_reason == "stop" and "###" not in answer.choices[0].text
    assert answer.choices[0].text.count("4. Output:") == 1


@needs_mirror
def test_the_prompt_numbering_decides_where_the_reply_starts(server):
    prompt = build_request(read_seed_tasks(), k=5, seed=0)  # ends with "6. Instruction:"
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompt, max_tokens=2500,
                                               stop=list(ALPACA_STOP), seed=0)
    assert [b.number for b in parse_reply(answer.choices[0].text, "stop", 6)] == list(range(6, 20))


@needs_mirror
def test_chat_gives_the_same_text_as_completions(server, prompts):
    messages = [{"role": "user", "content": prompts[0]}]
    chat = client(server).chat.completions.create(model=REPLAY_MODEL, messages=messages, max_tokens=200, seed=5, n=2)
    completion = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=200, seed=5, n=2)
    assert [c.message.content for c in chat.choices] == [c.text for c in completion.choices]
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].finish_reason == "length"
    assert chat.usage.completion_tokens == 400


@needs_mirror
def test_prompt_plus_max_tokens_beyond_davinci_003s_window_is_a_400(server, prompts):
    with pytest.raises(openai.BadRequestError, match="Please reduce your prompt") as caught:
        client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=4000)
    assert caught.value.code == "context_length_exceeded"


@needs_mirror
@pytest.mark.parametrize(("request_options", "error"), [
    ({"model": "gpt-4", "prompt": "hi"}, openai.NotFoundError),
    ({"model": REPLAY_MODEL, "prompt": "hi", "n": 0}, openai.BadRequestError),
    ({"model": REPLAY_MODEL, "prompt": "hi", "stop": ["a", "b", "c", "d", "e"]}, openai.BadRequestError),
    ({"model": REPLAY_MODEL, "prompt": [1, 2, 3]}, openai.BadRequestError),
    ({"model": REPLAY_MODEL, "prompt": "hi", "temperature": 3}, openai.BadRequestError),
])
def test_bad_requests_get_json_errors_with_status_codes(server, request_options, error):
    with pytest.raises(error):
        client(server).completions.create(**request_options)


@needs_mirror
def test_a_configured_key_is_required_and_never_echoed():
    with replay_server(api_key="sk-local-SECRET-42") as server:
        with pytest.raises(openai.AuthenticationError) as caught:
            client(server).models.list()  # "anything" is the wrong key
        assert "SECRET" not in str(caught.value)
        with pytest.raises(openai.AuthenticationError):
            client(server).completions.create(model=REPLAY_MODEL, prompt="1. Instruction:", max_tokens=5)
        right = openai.OpenAI(base_url=server.base_url, api_key="sk-local-SECRET-42", max_retries=0, timeout=10)
        assert right.models.list().data
        assert right.completions.create(model=REPLAY_MODEL, prompt="1. Instruction:", max_tokens=5).choices
        assert "SECRET" not in repr(server)


@needs_mirror
@pytest.mark.parametrize(("kind", "error"), [("429", openai.RateLimitError), ("500", openai.InternalServerError)])
def test_injected_errors_reach_the_client_as_the_real_apis_would(kind, error):
    with replay_server(FaultPlan(rate=1.0, kinds=(kind,))) as server:
        with pytest.raises(error):
            client(server).completions.create(model=REPLAY_MODEL, prompt="1. Instruction:", max_tokens=5)
        assert server.faults.injected == {kind: 1}


@needs_mirror
def test_a_slow_answer_times_the_client_out():
    with replay_server(FaultPlan(rate=1.0, kinds=("slow",), slow_seconds=1.0)) as server:
        with pytest.raises(openai.APITimeoutError):
            client(server).with_options(timeout=0.3).completions.create(model=REPLAY_MODEL, prompt="1. Instruction:",
                                                                          max_tokens=5)


@needs_mirror
def test_a_cut_reply_is_a_prefix_that_ends_for_length(prompts):
    options = {"model": REPLAY_MODEL, "prompt": prompts[0], "max_tokens": 3072, "stop": list(ALPACA_STOP), "seed": 3}
    with replay_server() as plain:
        whole = client(plain).completions.create(**options).choices[0]
    with replay_server(FaultPlan(rate=1.0, kinds=("cut",))) as faulty:
        cut = client(faulty).completions.create(**options).choices[0]
    assert whole.finish_reason == "stop" and cut.finish_reason == "length"
    assert 0 < len(cut.text) < len(whole.text) and whole.text.startswith(cut.text[:-2])


def test_faults_depend_on_the_request_and_attempt_not_on_timing():
    bodies = [f'{{"prompt": "{i}"}}'.encode() for i in range(200)]
    first, second = FaultPlan(rate=0.3, seed=1), FaultPlan(rate=0.3, seed=1)
    pattern = [first.draw(b)[0] for b in bodies]
    assert [second.draw(b)[0] for b in reversed(bodies)] == pattern[::-1]
    assert 40 <= sum(k is not None for k in pattern) <= 80  # about 30%
    assert [first.draw(b)[0] for b in bodies] != pattern  # a second attempt draws afresh
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan(rate=0.1, kinds=("404",))


class CountingModel:
    """A stand-in model that answers "ok" after ``seconds`` and counts its calls."""

    name, description, context = "counting", "answers 'ok', slowly if asked", 1_000_000

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds, self.calls = seconds, 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(self, prompt, sampling, draw) -> Completion:
        self.calls += 1
        time.sleep(self.seconds)
        return Completion("ok", "stop", 1)

    def chat_prompt(self, messages) -> str:
        return messages[-1]["content"]


def raw(server: TeacherServer, head: str, body: bytes = b"") -> tuple[HTTPResponse, dict]:
    """Send a hand-written request (``head`` without the blank line) and read the answer as JSON."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        response = HTTPResponse(connection, method=head.split()[0])
        response.begin()
        data = response.read()
        return response, json.loads(data) if data else {}


def post(body: dict) -> tuple[str, bytes]:
    data = json.dumps(body).encode()
    return f"POST /v1/completions HTTP/1.1\nHost: x\nContent-Length: {len(data)}", data


@pytest.mark.parametrize("length", ["-5", "abc", "1e3", "", "0x10", "\u0661"])
def test_a_bad_content_length_is_a_400_json_error(length, capfd):
    with TeacherServer(CountingModel()) as server:
        response, answer = raw(server, f"POST /v1/completions HTTP/1.1\nHost: x\nContent-Length: {length}",
                               b'{"model": "counting", "prompt": "hi"}')
        assert response.status == 400 and response.getheader("Content-Type") == "application/json"
        assert "Content-Length must be a non-negative integer" in answer["error"]["message"]
        assert response.getheader("Connection") == "close"  # where that body ends is unknown
        huge, answer = raw(server, "POST /v1/completions HTTP/1.1\nHost: x\nContent-Length: " + "9" * 5000)
        assert huge.status == 413 and answer["error"]["message"].startswith("request body too large")
    assert "Traceback" not in capfd.readouterr().err


def test_work_per_request_is_capped():
    model = CountingModel()
    with TeacherServer(model) as server:
        response, answer = raw(server, *post({"model": "counting", "prompt": ["hi"] * 10_000, "n": 16}))
        assert response.status == 400 and answer["error"]["param"] == "prompt"
        message = answer["error"]["message"]
        assert f"at most {MAX_CHOICES} choices" in message and "10000 × 16" in message
        assert model.calls == 0
        response, answer = raw(server, *post({"model": "counting", "prompt": ["hi"] * (MAX_CHOICES // 16), "n": 16}))
        assert response.status == 200 and len(answer["choices"]) == MAX_CHOICES == model.calls


def test_the_server_stops_writing_choices_for_a_client_that_left():
    model = CountingModel(seconds=0.02)  # a full answer would take MAX_CHOICES x 20 ms, about 5 s
    with TeacherServer(model) as server:
        head, body = post({"model": "counting", "prompt": ["hi"] * MAX_CHOICES})
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
            time.sleep(0.3)  # the client gives up
        deadline = time.monotonic() + 3
        while server.stats["abandoned"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.stats["abandoned"] == 1
        stopped_at = model.calls
        time.sleep(0.3)
        assert model.calls == stopped_at < MAX_CHOICES // 2


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_a_json_405(method):
    with TeacherServer(CountingModel()) as server:
        response, answer = raw(server, f"{method} /v1/completions HTTP/1.1\nHost: x\nContent-Length: 2", b"{}")
        assert response.status == 405 and response.getheader("Content-Type") == "application/json"
        assert response.getheader("Allow") == "GET, POST"
        assert answer["error"]["message"] == f"Invalid method for URL ({method} /v1/completions): use GET or POST."
        assert answer["error"]["type"] == "invalid_request_error"
        head, _ = raw(server, "HEAD /v1/models HTTP/1.1\nHost: x")
        assert head.status == 405  # and no body, as HEAD requires
        unknown, answer = raw(server, "BREW /v1/models HTTP/1.1\nHost: x")
        assert unknown.status == 501 and answer["error"]["message"] == "Unsupported method ('BREW')"
        too_long, answer = raw(server, "GET /v1/models HTTP/1.1\nX-Long: " + "a" * 70_000)
        assert too_long.status == 431 and answer["error"]["message"] == "Line too long"
