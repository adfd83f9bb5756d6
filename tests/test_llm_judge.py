"""The LLM judge: messy verdicts, both orders, the length baseline, requests through the teacher client, cost."""

from __future__ import annotations

import json

import pytest

from alpaca_lessons.cli.teacher_cmd import load_model
from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.prices import PRICES, Prices
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation.llm_judge import (
    Cost,
    CostLimitError,
    LengthJudge,
    PairwiseJudge,
    answers_in_prompt,
    combine_orders,
    judge_pairs,
    judge_prompt,
    length_baseline_preference,
    parse_verdict,
    prompt_tokens,
)
from alpaca_lessons.evaluation.pairs import TIE, Pair
from alpaca_lessons.generation.prompts import count_tokens
from alpaca_lessons.generation.teacher import FaultPlan, TeacherError, TeacherServer
from alpaca_lessons.generation.teacher.rule import RuleModel


def pairs(n: int) -> list[Pair]:
    return [Pair(f"p/{i}", f"Task {i}.", f"first answer {i}", f"second answer, longer {i}", "sys-one", "sys-two")
            for i in range(n)]


@pytest.mark.parametrize(("reply", "verdict"), [
    ("[{'model': 'model_2', 'rank': 1}, {'model': 'model_1', 'rank': 2}]", 2),
    ('```python\n[\n    {"model": "model_1", "rank": 1},\n    {"model": "model_2", "rank": 2}\n]\n```', 1),
    ("Sure! Here is the ranking:\n[{'rank': 1, 'model': 'model_2'}, {'rank': 2, 'model': 'model_1'}]", 2),
    ("[{'model': 'model_1', 'rank': '2'}, {'model': 'model_2', 'rank': '1'}]", 2),
    ("[{'model': 'model_1', 'rank': 1}, {'model': 'model_2', 'rank': 1}]", None),  # both first
    ("Output (b) is better.", 2),
    ("model_1", 1),
    ("It's a tie: both are equally good.", 0),
    ("model_1 is verbose but model_2 is wrong", None),  # names both, ranks neither
    ("I cannot decide.", None),
    ("", None),
])
def test_parse_messy_verdicts(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_combining_both_orders_cancels_a_position_bias():
    assert combine_orders(2, 2) == 2 and combine_orders(1, 1) == 1
    assert combine_orders(1, 2) == 0  # each order preferred whatever sat first
    assert combine_orders(2, 0) == 2 and combine_orders(None, 1) == 1 and combine_orders(None, None) == 0


def test_length_judge_reads_the_prompt_and_prefers_the_longer():
    judge = LengthJudge()
    messages = judge_prompt("Say hi.", "Hi.", 'Hello there, "friend"! """')
    assert answers_in_prompt(messages[1]["content"])[0] == "Hi."
    assert parse_verdict(judge.reply(messages)) == 2
    assert length_baseline_preference(Pair("x", "i", "same", "same", "a", "b")) == TIE
    assert length_baseline_preference(Pair("x", "i", "a longer one", "short", "a", "b")) == 1


class Scripted:
    """A judge's rule that replies with a fixed list of texts, in turn (messy replies on purpose)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def __call__(self, prompt):
        self.seen.append(prompt)  # the conversation as the server reads it: system message, then user message
        return self.replies.pop(0)


@pytest.fixture
def server():
    scripted = Scripted([])
    rule = RuleModel("scripted", "replies from a script", scripted)
    with TeacherServer(load_model(LengthJudge.name), rule) as running:
        yield running, scripted


def connect(base_url: str, model: str) -> PairwiseJudge:
    return PairwiseJudge.connect(base_url, model, api_key="sk-test-secret", timeout=5, max_attempts=1)


def test_judge_asks_both_orders_and_counts_tokens(server, tmp_path):
    running, scripted = server
    scripted.replies += ["```\n[{'model': 'model_1', 'rank': 1}, {'model': 'model_2', 'rank': 2}]\n```",
                         "Clearly model_1."]
    judge = connect(running.base_url, "scripted")
    pair = Pair("q", "Add 2 and 3.", "5", "six", "x", "y")
    verdict = judge.judge(pair)
    assert (verdict.forward, verdict.backward, verdict.preference) == (1, 2, 0)  # position bias, cancelled
    assert '"""5"""' in scripted.seen[0].split("model_2")[0] and '"""six"""' in scripted.seen[1].split("model_2")[0]
    words = sum(len(m["content"].split()) for m in judge_prompt(pair.instruction, "5", "six"))
    # the server counts words: 10 in the fenced list, 2 in "Clearly model_1."
    assert (judge.cost.calls, judge.cost.prompt_tokens, judge.cost.completion_tokens) == (2, 2 * words, 12)
    assert judge.cost.dollars is None and "sk-test" not in repr(judge) + str(judge.cost)


def test_judge_pairs_resume_from_the_store(server, tmp_path):
    running, _ = server
    judge = connect(running.base_url, "length-baseline")
    ps = pairs(3)
    store = tmp_path / "judge.jsonl"
    first = judge_pairs(judge, ps[:2], store)
    assert [r["preference"] for r in first] == [2, 2] and judge.cost.calls == 4
    every = judge_pairs(judge, ps, store)
    assert judge.cost.calls == 6 and len(every) == 3  # only the new pair was asked
    assert json.loads(store.read_text().splitlines()[0])["pair_hash"] == ps[0].text_hash
    edited = [Pair("p/0", "Task 0.", "an edited first answer", "x", "a", "b")]
    with pytest.raises(DataError, match="different text"):
        judge_pairs(judge, edited, store)  # a stored verdict is never reused for changed text


def test_server_errors_reach_the_caller_through_the_teacher_client(server):
    running, _ = server
    judge = connect(running.base_url, "no-such-judge")
    with pytest.raises(TeacherError, match="answered 404"):
        judge.ask("i", "a", "b")
    assert sorted(judge.teacher.models()) == ["length-baseline", "scripted"]


def test_a_remote_judge_needs_explicit_consent(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")  # a key in the environment is not consent
    with pytest.raises(TeacherError, match="opt in explicitly"):
        PairwiseJudge.connect("https://api.openai.com/v1", "gpt-4-0613")
    with pytest.raises(TeacherError, match="set max_cost"):  # consent, but no cap on the spending
        PairwiseJudge.connect("https://api.openai.com/v1", "gpt-4-0613", allow_remote=True)
    judge = PairwiseJudge.connect("https://api.openai.com/v1", "gpt-4-0613", allow_remote=True, max_cost=1.0)
    assert judge.model == "gpt-4-0613" and judge.cost.prices == PRICES["gpt-4-0613"]  # nothing was sent


def test_failed_attempts_are_retried_and_counted(server):
    running, _ = server
    running.faults = FaultPlan(0.5, ("500",), seed=1)
    judge = PairwiseJudge.connect(running.base_url, "length-baseline", max_attempts=20, backoff=0.001,
                                  backoff_cap=0.01)
    verdicts = [judge.judge(p).preference for p in pairs(4)]
    assert verdicts == [2, 2, 2, 2]  # the second output is the longer in every pair
    assert running.faults.injected["500"] > 0 and judge.cost.retries == running.faults.injected["500"]
    assert judge.cost.calls == 8 and f"({judge.cost.retries} retries)" in str(judge.cost)
    running.faults = FaultPlan(1.0, ("500",))
    failing = PairwiseJudge.connect(running.base_url, "length-baseline", max_attempts=2, backoff=0.001)
    with pytest.raises(TeacherError, match="after 2 attempts"):
        failing.ask("i", "a", "b")


def test_costs_follow_the_price_table():
    cost = Cost(PRICES["gpt-4-0613"], calls=1, prompt_tokens=1000, completion_tokens=10)
    assert cost.dollars == pytest.approx(0.03 + 0.0006)  # $30 and $60 per million tokens
    assert Cost(None, prompt_tokens=1000).dollars is None


def test_openais_own_retries_are_off_so_each_paid_attempt_is_counted(server):
    running, _ = server
    running.faults = FaultPlan(1.0, ("500",))
    judge = PairwiseJudge.connect(running.base_url, "length-baseline", max_attempts=1)
    with pytest.raises(TeacherError, match="after 1 attempts"):
        judge.ask("i", "a", "b")
    assert running.stats["requests"] == 1  # the openai client would have sent it 3 times


# $1 per completion token and nothing for the prompt: the most a request can cost is max_tokens dollars,
# whatever the tokenizer says, so the bounds below are plain arithmetic.
PER_COMPLETION_TOKEN = Prices(0.0, 1e6, "a test price")


def test_a_run_that_could_pass_max_cost_is_refused_before_any_request(server, tmp_path):
    running, scripted = server
    store = tmp_path / "judge.jsonl"
    # 3 pairs x 2 orders x 5 tokens at most = $30
    judge = PairwiseJudge.connect(running.base_url, "length-baseline", max_tokens=5, prices=PER_COMPLETION_TOKEN,
                                  max_cost=29.99)
    assert judge.projected_cost(pairs(3)) == 30.0
    with pytest.raises(CostLimitError, match=r"judging 3 pairs .* up to \$30\.0000 .*max_cost=\$29\.99"):
        judge_pairs(judge, pairs(3), store)
    assert running.stats["requests"] == 0 and judge.cost.calls == 0 and not store.exists()
    enough = PairwiseJudge.connect(running.base_url, "length-baseline", max_tokens=5, prices=PER_COMPLETION_TOKEN,
                                   max_cost=30.0)
    assert [r["preference"] for r in judge_pairs(enough, pairs(3), store)] == [2, 2, 2]
    assert enough.cost.calls == 6 and enough.cost.dollars == 6 * 5  # each ranking is cut at 5 words


def test_no_request_starts_that_could_take_the_cost_past_max_cost(server):
    running, scripted = server
    judge = PairwiseJudge.connect(running.base_url, "scripted", max_tokens=10, prices=PER_COMPLETION_TOKEN,
                                  max_cost=21.0, max_attempts=1)
    scripted.replies += ["model_1", "model_2"]
    assert judge.judge(pairs(1)[0]).preference == 1  # 2 one-word replies: $2 spent, $20 was the bound
    with pytest.raises(CostLimitError, match=r"pair p/1 .* up to \$20\.0000 .*\$2\.0000 spent"):
        judge.judge(pairs(2)[1])  # $2 + $20 could pass $21: neither order is asked
    with pytest.raises(CostLimitError, match="the next request"):
        PairwiseJudge.connect(running.base_url, "scripted", max_tokens=10, prices=PER_COMPLETION_TOKEN,
                              max_cost=9.99, max_attempts=1).ask("i", "a", "b")
    assert running.stats["requests"] == 2 and scripted.seen[2:] == []


class CharacterTokens(RuleModel):
    """A rule model whose tokens are characters: a far finer tokenizer than the judge's estimate."""

    def count_tokens(self, text: str) -> int:
        return len(text)


def test_a_run_stopped_by_the_cap_on_the_way_keeps_its_verdicts_and_resumes(tmp_path):
    per_prompt_token = Prices(1e6, 0.0, "a test price")  # $1 per prompt token
    judge_rule = LengthJudge()
    with TeacherServer(CharacterTokens("chars", "the length rule, billed per character", judge_rule.rank)) as running:
        estimated = sum(prompt_tokens(judge_prompt(p.instruction, a, b)) for p in pairs(2)
                        for a, b in ((p.output_1, p.output_2), (p.output_2, p.output_1)))
        judge = PairwiseJudge.connect(running.base_url, "chars", prices=per_prompt_token, max_cost=estimated)
        assert judge.projected_cost(pairs(2)) == estimated  # so the run starts...
        store = tmp_path / "judge.jsonl"
        with pytest.raises(CostLimitError, match="pair p/1"):
            judge_pairs(judge, pairs(2), store)  # ...but the first pair is billed in characters, far past the estimate
        assert judge.cost.calls == 2 and len(AppendOnlyStore(store).read()) == 1
        again = PairwiseJudge.connect(running.base_url, "chars", prices=per_prompt_token)
        assert [r["preference"] for r in judge_pairs(again, pairs(2), store)] == [2, 2] and again.cost.calls == 2


def test_the_prompt_estimate_counts_each_message_and_the_chat_formats_tokens():
    messages = judge_prompt("Add 2 and 3.", "5", "six")
    content = count_tokens(messages[0]["content"]) + count_tokens(messages[1]["content"])
    assert prompt_tokens(messages) == content + 2 * 4 + 3  # OpenAI's cookbook: 4 per message, 3 to prime the reply


def test_a_remote_judge_needs_a_price_and_max_cost_needs_one_anywhere(server, monkeypatch):
    running, _ = server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with pytest.raises(TeacherError, match="no price is known for 'gpt-x'"):
        PairwiseJudge.connect("https://api.example.com/v1", "gpt-x", allow_remote=True)
    given = PairwiseJudge.connect("https://api.example.com/v1", "gpt-x", allow_remote=True,
                                  prices=PER_COMPLETION_TOKEN, max_cost=1.0)
    assert given.cost.prices is PER_COMPLETION_TOKEN
    assert PairwiseJudge.connect(running.base_url, "length-baseline").cost.prices is None  # local: free, unpriced
    with pytest.raises(TeacherError, match="max_cost needs prices"):
        PairwiseJudge.connect(running.base_url, "length-baseline", max_cost=1.0)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="non-negative"):
            PairwiseJudge.connect(running.base_url, "length-baseline", prices=PER_COMPLETION_TOKEN, max_cost=bad)


def test_a_second_judge_run_on_a_store_another_process_writes_is_refused_naming_it(server, tmp_path):
    from lock_helpers import held_elsewhere

    from alpaca_lessons.common.store import LockedError

    running, _ = server
    store = tmp_path / "verdicts.jsonl"
    judge = PairwiseJudge.connect(running.base_url, "length-baseline")
    with held_elsewhere(store) as holder:
        with pytest.raises(LockedError, match=f"is being written by pid {holder.pid}"):
            judge_pairs(judge, pairs(2), store)
    assert not store.exists()
    assert [r["preference"] for r in judge_pairs(judge, pairs(2), store)] == [2, 2]  # free again: it runs
