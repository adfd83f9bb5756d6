"""Rule models behind the teacher server: the length baseline judge, and one server holding several models."""

import openai
import pytest

from alpaca_lessons.cli.teacher_cmd import load_model
from alpaca_lessons.evaluation.llm_judge import LengthJudge, judge_prompt, parse_verdict
from alpaca_lessons.generation.teacher import TeacherServer
from alpaca_lessons.generation.teacher.rule import RuleModel

LENGTH_BASELINE = LengthJudge.name

MESSAGES = judge_prompt("Say hi.", "Hello there, friend.", "Hi.")


def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0, timeout=10)


@pytest.fixture(scope="module")
def server():
    echo = RuleModel("echo", "replies with the prompt", lambda prompt: prompt)
    with TeacherServer(load_model(LENGTH_BASELINE), echo) as running:
        yield running


def test_one_server_lists_and_answers_each_of_its_models(server):
    api = client(server)
    cards = {m.id: m for m in api.models.list().data}
    assert list(cards) == ["length-baseline", "echo"]
    assert "longer answer" in cards["length-baseline"].description
    assert api.models.retrieve("echo").description == "replies with the prompt"
    echoed = api.completions.create(model="echo", prompt="one two three", max_tokens=10)
    assert echoed.choices[0].text == "one two three" and echoed.model == "echo"
    assert repr(server).startswith("TeacherServer('length-baseline', 'echo' at http://127.0.0.1:")


def test_the_length_judge_prefers_the_longer_answer_and_counts_words(server):
    answer = client(server).chat.completions.create(model=LENGTH_BASELINE, messages=MESSAGES, max_tokens=100)
    assert parse_verdict(answer.choices[0].message.content) == 1
    assert answer.choices[0].finish_reason == "stop"
    words = sum(len(m["content"].split()) for m in MESSAGES)  # the system message counts too
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (words, 8)


def test_stop_and_max_tokens_end_a_rules_reply(server):
    cut = client(server).chat.completions.create(model=LENGTH_BASELINE, messages=MESSAGES, max_tokens=3)
    assert cut.choices[0].message.content == "[{'model': 'model_1', 'rank':"
    assert (cut.choices[0].finish_reason, cut.usage.completion_tokens) == ("length", 3)
    stopped = client(server).completions.create(model="echo", prompt="keep this ### not this", stop="###")
    assert (stopped.choices[0].text, stopped.choices[0].finish_reason) == ("keep this ", "stop")


def test_a_prompt_the_judge_cannot_read_is_a_400(server):
    with pytest.raises(openai.BadRequestError, match="expected two answers"):
        client(server).chat.completions.create(model=LENGTH_BASELINE, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError, match="this server has `length-baseline`, `echo`"):
        client(server).completions.create(model="gpt-4", prompt="hi")


def test_two_models_of_one_name_are_refused():
    with pytest.raises(ValueError, match="share a name"):
        TeacherServer(load_model(LENGTH_BASELINE), load_model(LENGTH_BASELINE))
