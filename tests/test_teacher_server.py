"""The local teacher server, spoken to through the real ``openai`` client (retries off, short timeouts)."""

import openai
import pytest
from teacher_helpers import ALPACA_STOP, needs_mirror, replay_model, replay_server

from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation.prompts import build_request, count_tokens
from alpaca_lessons.generation.rules import parse_reply
from alpaca_lessons.generation.teacher import REPLAY_MODEL, FaultPlan

pytestmark = needs_mirror


def client(server, **options):
    return openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0, timeout=10, **options)


@pytest.fixture(scope="module")
def server():
    with replay_server() as running:
        yield running


@pytest.fixture(scope="module")
def prompts():
    return [build_request(read_seed_tasks(), seed=i) for i in range(3)]


def test_models_says_what_the_replay_is(server):
    (model,) = client(server).models.list().data
    assert model.id == REPLAY_MODEL
    assert "REAL text-davinci-003" in model.description and "does not read the seed tasks" in model.description


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


def test_max_tokens_cuts_the_reply_for_length(server, prompts):
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=50, seed=1)
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 50
    full = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=3000, seed=1)
    assert full.choices[0].text.startswith(answer.choices[0].text[:100])


def test_any_stop_sequence_ends_the_reply(server, prompts):
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=500, stop="###",
                                               seed=2)
    assert answer.choices[0].finish_reason == "stop" and "###" not in answer.choices[0].text
    assert answer.choices[0].text.count("4. Output:") == 1


def test_the_prompt_numbering_decides_where_the_reply_starts(server):
    prompt = build_request(read_seed_tasks(), k=5, seed=0)  # ends with "6. Instruction:"
    answer = client(server).completions.create(model=REPLAY_MODEL, prompt=prompt, max_tokens=2500,
                                               stop=list(ALPACA_STOP), seed=0)
    assert [b.number for b in parse_reply(answer.choices[0].text, "stop", 6)] == list(range(6, 20))


def test_chat_gives_the_same_text_as_completions(server, prompts):
    messages = [{"role": "user", "content": prompts[0]}]
    chat = client(server).chat.completions.create(model=REPLAY_MODEL, messages=messages, max_tokens=200, seed=5, n=2)
    completion = client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=200, seed=5, n=2)
    assert [c.message.content for c in chat.choices] == [c.text for c in completion.choices]
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].finish_reason == "length"
    assert chat.usage.completion_tokens == 400


def test_prompt_plus_max_tokens_beyond_davinci_003s_window_is_a_400(server, prompts):
    with pytest.raises(openai.BadRequestError, match="Please reduce your prompt") as caught:
        client(server).completions.create(model=REPLAY_MODEL, prompt=prompts[0], max_tokens=4000)
    assert caught.value.code == "context_length_exceeded"


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


@pytest.mark.parametrize(("kind", "error"), [("429", openai.RateLimitError), ("500", openai.InternalServerError)])
def test_injected_errors_reach_the_client_as_the_real_apis_would(kind, error):
    with replay_server(FaultPlan(rate=1.0, kinds=(kind,))) as server:
        with pytest.raises(error):
            client(server).completions.create(model=REPLAY_MODEL, prompt="1. Instruction:", max_tokens=5)
        assert server.faults.injected == {kind: 1}


def test_a_slow_answer_times_the_client_out():
    with replay_server(FaultPlan(rate=1.0, kinds=("slow",), slow_seconds=1.0)) as server:
        with pytest.raises(openai.APITimeoutError):
            client(server).with_options(timeout=0.3).completions.create(model=REPLAY_MODEL, prompt="1. Instruction:",
                                                                          max_tokens=5)


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
