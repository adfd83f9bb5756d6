"""Pairwise evaluation: alignment, statistics by hand, blind judging with persistence, the LLM judge."""

from __future__ import annotations

import json
import math

import openai
import pytest

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.stats import cohen_kappa, sign_test, wilson_interval
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation import pairs as ev
from alpaca_lessons.generation.teacher import TeacherServer
from alpaca_lessons.generation.teacher.rule import RuleModel, length_judge


def pairs(n: int) -> list[ev.Pair]:
    return [ev.Pair(f"p/{i}", f"Task {i}.", f"first answer {i}", f"second answer, longer {i}", "sys-one", "sys-two")
            for i in range(n)]


# ------------------------------------------------------------------------------------------ alignment
def test_alignment_matches_merged_inputs_and_stray_whitespace():
    si = ev.SystemOutputs("si", ("Rewrite it.\n\nHello  world", "Name a color. ", "Only here."), ("r1", "r2", "r3"))
    ae = ev.SystemOutputs("ae", ("Name a color.", ev.merged_instruction("Rewrite it.", "Hello  world"), "x"),
                          ("a1", "a2", "a3"))
    aligned = ev.align(si, ae, id_prefix="t")
    assert [(p.id, p.output_1, p.output_2) for p in aligned.pairs] == [("t/0", "r1", "a2"), ("t/1", "r2", "a1")]
    assert (aligned.exact, aligned.normalised) == (1, 1)
    assert aligned.unmatched_1 == ("Only here.",) and aligned.unmatched_2 == ("x",)
    assert aligned.summary().startswith("2 pairs aligned (1 on identical text, 1 more")


def test_alignment_refuses_ambiguous_instructions():
    dup = ev.SystemOutputs("d", ("Same  text", "Same text "), ("a", "b"))
    with pytest.raises(DataError, match="normalise to the same text"):
        ev.align(ev.SystemOutputs("o", ("x",), ("y",)), dup)


def test_real_user_oriented_alignment(real_data):
    aligned = ev.user_oriented_alignment()
    assert len(aligned.pairs) == 252 and (aligned.exact, aligned.normalised) == (234, 18)
    assert {p.system_1 for p in aligned.pairs} == {"text-davinci-003 (Self-Instruct)"}
    assert {p.system_2 for p in aligned.pairs} == {"alpaca-7b"}


def test_real_gpt4_verdicts_reproduce_the_leaderboard(real_data):
    judged = ev.gpt4_judged_pairs()
    assert len(judged.pairs) == 805 and (judged.pairs[0].system_1, judged.pairs[0].system_2) == (
        "text_davinci_003", "alpaca-7b")
    rate = ev.win_rate_of(judged.preferences)
    assert (rate.wins, rate.ties, rate.losses) == (205, 16, 584)
    row = ev.leaderboard_row("alpaca-7b")
    assert rate.rate * 100 == pytest.approx(float(row["win_rate"]), abs=1e-9)  # 26.4596...
    assert rate.standard_error * 100 == pytest.approx(float(row["standard_error"]), abs=1e-9)
    draws = [p for p, v in zip(judged.pairs, judged.preferences, strict=True) if v == ev.TIE]
    assert all(p.output_1 == p.output_2 for p in draws)  # the 16 draws are identical outputs
    assert judged.cost == pytest.approx(12.4386, abs=1e-3)
    humans = ev.leaderboard_row("humans", "alpaca_eval/evaluators")
    assert float(humans["Human agreement"]) == pytest.approx(65.66, abs=0.01)
    with pytest.raises(DataError, match="no row"):
        ev.leaderboard_row("no-such-model")


# ----------------------------------------------------------------------------------------- statistics
def test_ninety_vs_eighty_nine_is_a_coin_flip():
    result = ev.win_rate(90, 73, 89)
    assert result.p_value == pytest.approx(1.0)  # 179 decisive is odd: P(X <= 89) is exactly 1/2
    assert result.rate == pytest.approx((90 + 36.5) / 252)
    assert result.low < 0.5 < result.high
    assert sign_test(9, 1) == pytest.approx(22 / 1024)  # 2 * (1 + 10) / 2^10
    assert sign_test(0, 0) == 1.0


def test_wilson_interval_by_hand():
    z = 1.959964
    half = z / (1 + z * z / 100) * math.sqrt(0.25 / 100 + z * z / 40000)
    assert wilson_interval(50, 100) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-6)  # 0.4038, 0.5962
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_agreement_and_kappa_by_hand():
    # observed 3/4; chance: P(1)=.5*.25, P(2)=.5*.75 -> 0.5; kappa = (0.75 - 0.5) / 0.5
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5)
    result = ev.agreement([1, 1, 2, 2, 0], [1, 2, 2, 2, 2])
    assert (result.same, result.n, result.same_decisive, result.decisive) == (3, 5, 3, 4)
    assert math.isnan(cohen_kappa([1, 1], [1, 1]))


def test_position_bias_counts_left_wins():
    bias = ev.position_bias(["A"] * 9 + ["B"] + ["tie"] * 3)
    assert (bias.left, bias.right, bias.ties) == (9, 1, 3)
    assert bias.left_share == pytest.approx(0.9) and bias.p_value == pytest.approx(22 / 1024)
    with pytest.raises(ValueError):
        ev.position_bias(["left"])


def test_length_preference_counts_decisive_pairs_of_different_length():
    ps = [ev.Pair("a", "i", "short", "much longer", "x", "y"), ev.Pair("b", "i", "long one", "s", "x", "y"),
          ev.Pair("c", "i", "same", "same", "x", "y")]
    assert ev.length_preference(ps, [2, 2, 0]) == (1, 2)


# -------------------------------------------------------------------------------------- blind judging
def test_blind_sides_are_seeded_reproducible_and_hidden():
    items = ev.blind_items(pairs(200), seed=3)
    again = ev.blind_items(pairs(200), seed=3)
    assert [(i.pair.id, i.swapped) for i in items] == [(i.pair.id, i.swapped) for i in again]
    other = ev.blind_items(pairs(200), seed=4)
    assert [i.swapped for i in items] != [i.swapped for i in other]
    assert 70 < sum(i.swapped for i in items) < 130  # a fair coin per pair
    sides = {i.pair.id: i.swapped for i in items}
    subset = ev.blind_items(pairs(200)[::7], seed=3)  # a pair's side does not depend on the others
    assert all(sides[i.pair.id] == i.swapped for i in subset)
    assert all("sys-" not in i.text() for i in items)  # no system names in what the judge reads


def test_blind_choice_maps_back_to_the_outputs():
    pair = pairs(1)[0]
    kept, swapped = ev.BlindItem(pair, False), ev.BlindItem(pair, True)
    assert (kept.answer_a, swapped.answer_a) == (pair.output_1, pair.output_2)
    assert [kept.preference(c) for c in ev.CHOICES] == [1, 2, 0]
    assert [swapped.preference(c) for c in ev.CHOICES] == [2, 1, 0]
    with pytest.raises(ValueError):
        kept.preference("left")


def test_session_appends_at_once_resumes_and_reveals_only_at_the_end(tmp_path):
    path = tmp_path / "j.jsonl"
    session = ev.BlindSession(pairs(3), path, "tester (a person)", seed=1)
    first = session.current()
    session.record(first.pair.id, "A", " clearer ")
    assert len(path.read_text().splitlines()) == 1  # on disk before anything else happens
    with pytest.raises(RuntimeError, match="2 items left"):
        session.reveal()
    resumed = ev.BlindSession(pairs(3), path, "tester (a person)", seed=1)
    assert resumed.done == 1 and resumed.current().pair.id != first.pair.id
    assert resumed.judgments()[0]["reason"] == "clearer"
    for item in resumed.pending():
        resumed.record(item.pair.id, "B" if item.swapped else "A")  # always the first output
    result = resumed.reveal()
    assert result["sys-one"].wins == 2 + (not first.swapped) and result["sys-two"].wins == int(first.swapped)


def test_session_skips_a_torn_last_line_and_rejudges_that_item(tmp_path):
    path = tmp_path / "j.jsonl"
    session = ev.BlindSession(pairs(3), path, "t", seed=0)
    a, b = session.pending()[:2]
    session.record(a.pair.id, "tie")
    session.record(b.pair.id, "A")
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # the process died while writing the second judgment
    with pytest.warns(UserWarning, match="incomplete last record skipped"):
        resumed = ev.BlindSession(pairs(3), path, "t", seed=0)
    assert resumed.done == 1 and resumed.current().pair.id == b.pair.id
    with pytest.warns(UserWarning, match="moved to"):
        resumed.record(b.pair.id, "B")
    assert [r["choice"] for r in AppendOnlyStore(path).read()] == ["tie", "B"]


def test_several_annotators_share_a_store_and_changed_text_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    one, two = ev.BlindSession(pairs(2), path, "one", seed=0), ev.BlindSession(pairs(2), path, "two", seed=0)
    one.record("p/0", "A")
    two.record("p/0", "B")
    two.record("p/0", "tie")  # a change of mind: the last judgment counts
    by_annotator = ev.read_judgments(path, pairs(2))
    assert {k: [r["choice"] for r in v] for k, v in by_annotator.items()} == {"one": ["A"], "two": ["tie"]}
    assert ev.BlindSession(pairs(2), path, "two", seed=0).done == 1
    changed = [ev.Pair("p/0", "Task 0.", "edited", "x", "a", "b")]
    with pytest.raises(DataError, match="different text"):
        ev.BlindSession(changed, path, "one", seed=0)
    with pytest.raises(DataError, match="hash"):
        ev.read_judgments(path, changed)
    with pytest.raises(ValueError):
        ev.BlindSession(pairs(2), path, "  ")


# ------------------------------------------------------------------------------------------ LLM judge
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
    assert ev.parse_verdict(reply) == verdict


def test_combining_both_orders_cancels_a_position_bias():
    assert ev.combine_orders(2, 2) == 2 and ev.combine_orders(1, 1) == 1
    assert ev.combine_orders(1, 2) == 0  # each order preferred whatever sat first
    assert ev.combine_orders(2, 0) == 2 and ev.combine_orders(None, 1) == 1 and ev.combine_orders(None, None) == 0


def test_length_judge_reads_the_prompt_and_prefers_the_longer():
    judge = ev.LengthJudge()
    messages = ev.judge_prompt("Say hi.", "Hi.", 'Hello there, "friend"! """')
    assert ev.answers_in_prompt(messages[1]["content"])[0] == "Hi."
    assert ev.parse_verdict(judge.reply(messages)) == 2
    assert ev.length_baseline_preference(ev.Pair("x", "i", "same", "same", "a", "b")) == ev.TIE
    assert ev.length_baseline_preference(ev.Pair("x", "i", "a longer one", "short", "a", "b")) == 1


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
    with TeacherServer(length_judge(), RuleModel("scripted", "replies from a script", scripted)) as running:
        yield running, scripted


def connect(base_url: str, model: str) -> ev.PairwiseJudge:
    return ev.PairwiseJudge.connect(base_url, model, api_key="sk-test-secret", timeout=5, max_retries=0)


def test_judge_asks_both_orders_and_counts_tokens(server, tmp_path):
    running, scripted = server
    scripted.replies += ["```\n[{'model': 'model_1', 'rank': 1}, {'model': 'model_2', 'rank': 2}]\n```",
                         "Clearly model_1."]
    judge = connect(running.base_url, "scripted")
    pair = ev.Pair("q", "Add 2 and 3.", "5", "six", "x", "y")
    verdict = judge.judge(pair)
    assert (verdict.forward, verdict.backward, verdict.preference) == (1, 2, 0)  # position bias, cancelled
    assert '"""5"""' in scripted.seen[0].split("model_2")[0] and '"""six"""' in scripted.seen[1].split("model_2")[0]
    words = sum(len(m["content"].split()) for m in ev.judge_prompt(pair.instruction, "5", "six"))
    # the server counts words: 10 in the fenced list, 2 in "Clearly model_1."
    assert (judge.cost.calls, judge.cost.prompt_tokens, judge.cost.completion_tokens) == (2, 2 * words, 12)
    assert judge.cost.dollars is None and "sk-test" not in repr(judge) + str(judge.cost)


def test_judge_pairs_resume_from_the_store(server, tmp_path):
    running, _ = server
    judge = connect(running.base_url, "length-baseline")
    ps = pairs(3)
    store = tmp_path / "judge.jsonl"
    first = ev.judge_pairs(judge, ps[:2], store)
    assert [r["preference"] for r in first] == [2, 2] and judge.cost.calls == 4
    every = ev.judge_pairs(judge, ps, store)
    assert judge.cost.calls == 6 and len(every) == 3  # only the new pair was asked
    assert json.loads(store.read_text().splitlines()[0])["pair_hash"] == ps[0].text_hash


def test_server_errors_reach_the_client_as_api_errors(server):
    running, _ = server
    judge = connect(running.base_url, "no-such-judge")
    with pytest.raises(openai.NotFoundError):
        judge.ask("i", "a", "b")
    models = openai.OpenAI(base_url=running.base_url, api_key="x", max_retries=0, timeout=5).models.list()
    assert sorted(m.id for m in models) == ["length-baseline", "scripted"]


def test_costs_follow_the_price_table():
    cost = ev.Cost(ev.PRICES["gpt-4-0613"], calls=1, prompt_tokens=1000, completion_tokens=10)
    assert cost.dollars == pytest.approx(0.03 + 0.0006)
