"""The generation loop: real tasks, full accounting, same output at any concurrency, faults, resume, guards."""

import json
from collections import Counter
from dataclasses import replace

import pytest
from teacher_helpers import needs_mirror, replay_model, replay_server, teacher

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.prices import DAVINCI_003, Prices
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.common.text import character_tokens
from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation import (
    ALPACA,
    BELLE,
    Accounting,
    GenerationConfig,
    build_requests,
    generate,
    log_path,
)
from alpaca_lessons.generation.novelty import NoveltyFilter, ReferenceNoveltyFilter
from alpaca_lessons.generation.novelty.bm25 import BM25Filter
from alpaca_lessons.generation.rules import REASONS, TOO_SIMILAR
from alpaca_lessons.generation.teacher import FaultPlan, Teacher

# small for testing speed: one prompt per request and short replies (a few tasks each)
SMALL = GenerationConfig(num_tasks=30, request_batch_size=1, max_tokens=400)

pytestmark = needs_mirror


def run(server, path, config=SMALL, **options):
    return generate(path, teacher(server, **options.pop("client", {})), config, progress=False, **options)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted, fault-free run of SMALL, and its tasks file's bytes."""
    path = tmp_path_factory.mktemp("reference") / "tasks.jsonl"
    with replay_server() as server:
        result = run(server, path)
    return result, path.read_bytes()


def test_an_offline_run_keeps_real_tasks_and_accounts_for_every_candidate(reference):
    result, data = reference
    tasks = [json.loads(line) for line in data.decode().splitlines()]
    total = result.total
    assert result.status == "done" and len(tasks) == total.kept >= 30
    assert total.blocks == total.kept + sum(total.rejections.values())
    assert total.rejections["cut by max_tokens"] == total.replies  # every 400-token reply was cut
    real = {r.instruction: r for r in replay_model().records}
    seed_ids = {t.id for t in read_seed_tasks()}
    for task in tasks:
        assert (real[task["instruction"]].input, real[task["instruction"]].output) == (task["input"], task["output"])
        scores = list(task["most_similar_instructions"].values())
        assert len(scores) == 10 and scores == sorted(scores, reverse=True)
        assert task["max_similarity"] == scores[0] <= 0.7
        assert set(task["seed_tasks"]) <= seed_ids and len(task["seed_tasks"]) == 3
    assert [t["request"] for t in tasks] == sorted(t["request"] for t in tasks)
    # Alpaca's avg_similarity_score: the mean ROUGE-L against the pool as it stood (seeds, then kept tasks)
    pool = ReferenceNoveltyFilter([t.instruction for t in read_seed_tasks()], mean=True)
    for task in tasks:
        assert task["avg_similarity_score"] == pytest.approx(pool.check(task["instruction"]).mean_score, rel=1e-12)
        assert 0 < task["avg_similarity_score"] < task["max_similarity"]
        pool.add(task["instruction"])
    log = AppendOnlyStore(result.log).read()
    assert log[0]["run"]["profile"] == "alpaca" and [line["request"] for line in log[1:]] == list(range(total.requests))
    assert sum(len(line["kept"]) for line in log[1:]) == len(tasks)
    assert total.prompt_tokens > 0 and total.cost(DAVINCI_003) == pytest.approx(
        (total.prompt_tokens + total.completion_tokens) * 20 / 1e6)


def test_requests_sample_only_seeds_and_are_reproducible():
    seeds = read_seed_tasks()
    prompts, ids = build_requests(seeds, ALPACA, GenerationConfig(seed=3), 7)
    again, _ = build_requests(seeds, ALPACA, GenerationConfig(seed=3), 7)
    other, _ = build_requests(seeds, ALPACA, GenerationConfig(seed=3), 8)
    assert prompts == again and prompts != other and len(prompts) == 5
    assert all(p.endswith("###\n4. Instruction:") and len(set(i)) == 3 for p, i in zip(prompts, ids, strict=True))


def test_the_same_output_at_concurrency_1_and_8(tmp_path, reference):
    _, expected = reference
    # Slow answers for some requests make later ones finish first; replies must still apply in order.
    with replay_server(FaultPlan(rate=0.3, kinds=("slow",), slow_seconds=0.2, seed=5)) as server:
        result = run(server, tmp_path / "c8.jsonl", GenerationConfig(**{**SMALL.__dict__, "concurrency": 8}))
        assert server.faults.injected["slow"] > 0
    assert result.status == "done"
    assert (tmp_path / "c8.jsonl").read_bytes() == expected


def test_requests_in_flight_at_the_end_are_paid_for_but_not_applied(tmp_path):
    # Before any reply is in, `concurrency` requests go out; the first reply alone (16 tasks) reaches the target.
    first_only = GenerationConfig(num_tasks=10, request_batch_size=1, concurrency=4)
    path = tmp_path / "t.jsonl"
    with replay_server(FaultPlan(rate=0.3, kinds=("429",), seed=4)) as server:
        first = run(server, path, first_only)
        answered, injected = server.stats["answered"], server.faults.injected["429"]
    total = first.total
    assert (total.requests, total.discarded_requests, answered) == (1, 3, 4)
    assert total.retries["rate limit (429)"] == injected  # retries of discarded requests are counted too
    assert total.prompt_tokens > 4 * 500  # the discarded prompts are in the bill
    log = AppendOnlyStore(log_path(path)).read()
    assert [(line["request"], line["status"]) for line in log[1:]] == [(0, "ok"), (1, "discarded"),
                                                                       (2, "discarded"), (3, "discarded")]
    further = replace(first_only, num_tasks=40)
    with replay_server() as server:  # going further resumes right after the last applied request
        run(server, path, further)
        run(server, tmp_path / "straight.jsonl", replace(further, concurrency=1))
    assert path.read_bytes() == (tmp_path / "straight.jsonl").read_bytes()


def test_no_request_is_wasted_once_the_queued_ones_should_reach_the_target(tmp_path):
    with replay_server() as server:
        # 4 go out at first; from then on, each reply's 16 tasks tell how many more are worth sending.
        result = run(server, tmp_path / "t.jsonl", GenerationConfig(num_tasks=100, request_batch_size=1,
                                                                    concurrency=4))
        answered = server.stats["answered"]
    assert result.total.discarded_requests == 0 and answered == result.total.requests == 7  # 7 x 16 >= 100


@pytest.mark.slow
def test_30_percent_faults_over_200_requests_lose_no_task(tmp_path):
    config = GenerationConfig(num_tasks=10**6, request_batch_size=1, max_tokens=150, concurrency=8, max_requests=200)
    with replay_server() as server:
        clean = run(server, tmp_path / "clean.jsonl", config)
    faults = FaultPlan(rate=0.3, kinds=("429", "500", "slow"), slow_seconds=1.0, seed=11)
    with replay_server(faults) as server:
        faulty = run(server, tmp_path / "faulty.jsonl", config, client={"timeout": 0.5, "max_attempts": 12})
        injected = dict(server.faults.injected)
    retries = faulty.total.retries
    assert faulty.total.requests == 200 and faulty.total.failed_requests == 0
    assert retries["rate limit (429)"] == injected["429"] and retries["server error (500)"] == injected["500"]
    assert retries["timeout"] >= injected["slow"]
    assert 0.2 < sum(injected.values()) / (200 + sum(injected.values())) < 0.4
    assert (tmp_path / "faulty.jsonl").read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert faulty.total.kept == clean.total.kept > 0


def test_cut_replies_lose_their_last_block_and_are_counted(tmp_path):
    with replay_server(FaultPlan(rate=0.5, kinds=("cut",), seed=1)) as server:
        result = run(server, tmp_path / "t.jsonl", GenerationConfig(num_tasks=40, request_batch_size=2))
    # (a request sent just before the target was reached is served but never applied)
    assert 0 < result.total.finish_reasons["length"] <= server.faults.injected["cut"]
    assert result.total.rejections["cut by max_tokens"] >= result.total.finish_reasons["length"]


def test_resume_after_the_tasks_file_lost_its_tail(tmp_path, reference):
    _, expected = reference
    path = tmp_path / "t.jsonl"
    with replay_server() as server:
        run(server, path, GenerationConfig(**{**SMALL.__dict__, "num_tasks": 12}))
        # A crash between the log line and the tasks: the last two tasks never reached the file, one torn.
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:-2]) + lines[-2][:25])
        with pytest.warns(UserWarning):
            result = run(server, path)
    assert result.repaired_tasks == 2 and result.resumed_tasks == len(lines)
    assert path.read_bytes() == expected


def test_resume_after_a_torn_log_line_redoes_that_request(tmp_path, reference):
    _, expected = reference
    path = tmp_path / "t.jsonl"
    with replay_server() as server:
        run(server, path, GenerationConfig(**{**SMALL.__dict__, "num_tasks": 12}))
        log = log_path(path)
        lines = log.read_bytes().splitlines(keepends=True)
        last = json.loads(lines[-1])
        log.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])  # killed while logging the last request
        tasks = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(tasks[: len(tasks) - len(last["kept"])]))
        with pytest.warns(UserWarning):
            result = run(server, path)
    assert result.total.requests == result.session.requests + last["request"]
    assert path.read_bytes() == expected
    assert [line.get("request") for line in AppendOnlyStore(log).read()[1:]] == list(range(result.total.requests))


def test_resume_refuses_other_settings_or_a_missing_log(tmp_path):
    path = tmp_path / "t.jsonl"
    with replay_server() as server:
        run(server, path, GenerationConfig(num_tasks=5, request_batch_size=1, max_tokens=300))
        with pytest.raises(DataError, match=r"t\.requests\.jsonl:1: field 'seed' is 0 in this run but 1 was asked"):
            run(server, path, GenerationConfig(num_tasks=5, request_batch_size=1, max_tokens=300, seed=1))
        log_path(path).unlink()
        with pytest.raises(DataError, match="request log t.requests.jsonl is missing"):
            run(server, path, GenerationConfig(num_tasks=5, request_batch_size=1, max_tokens=300))


def test_a_request_that_fails_for_good_stops_the_run_and_is_redone_on_resume(tmp_path, reference):
    _, expected = reference
    path = tmp_path / "t.jsonl"
    with replay_server(FaultPlan(rate=1.0, kinds=("500",))) as server:
        failed = run(server, path, client={"max_attempts": 2})
    assert failed.status.startswith("stopped: a request failed every attempt")
    assert failed.total.failed_requests == 1 and failed.total.kept == 0 and AppendOnlyStore(path).read() == []
    with replay_server() as server:
        result = run(server, path)
    assert result.status == "done" and path.read_bytes() == expected
    assert result.total.failed_requests == 1 and result.total.retries["server error (500)"] == 1


def test_max_cost_stops_before_spending_more(tmp_path, reference):
    done, _ = reference
    cap = done.total.cost(DAVINCI_003) / 2  # half of what the whole run costs
    with replay_server() as server:
        result = run(server, tmp_path / "t.jsonl", GenerationConfig(**{**SMALL.__dict__, "max_cost": cap,
                                                                         "concurrency": 4}))
    assert "max_cost" in result.status and 0 < result.total.cost(DAVINCI_003) <= cap


def test_max_cost_needs_a_price_table(tmp_path):
    with replay_server() as server:
        unknown = Teacher(server.base_url, "some-local-model")
        with pytest.raises(ValueError, match="max_cost needs prices"):
            generate(tmp_path / "u.jsonl", unknown, GenerationConfig(max_cost=1.0), progress=False)


def test_a_run_that_keeps_nothing_stops_after_the_idle_limit(tmp_path):
    config = GenerationConfig(num_tasks=10, request_batch_size=1, max_tokens=300, threshold=0.0, max_idle_requests=3)
    with replay_server() as server:
        result = run(server, tmp_path / "t.jsonl", config)
    assert result.status == "stopped: 3 requests in a row kept no task"
    assert result.total.requests == 3 and result.total.kept == 0
    assert set(result.total.rejections) <= {TOO_SIMILAR, "cut by max_tokens"}


def test_the_belle_profile_runs_end_to_end_with_belles_settings_and_bm25(tmp_path):
    config = GenerationConfig(profile="belle", num_tasks=10)
    assert (config.request_batch_size, config.max_tokens, config.threshold) == (1, 1024, 18.0)
    prompts, _ = build_requests(read_seed_tasks("belle_seed_tasks"), BELLE, config, 0)
    assert len(prompts) == 1 and prompts[0].endswith("###\n4. 指令:")
    with replay_server() as server:
        result = run(server, tmp_path / "zh.jsonl", config)
    # The replay has English tasks only (said in its description), judged as BELLE judges: BM25 over jieba
    # words against the 175 Chinese seeds, which share almost no word with them.
    assert result.status == "done"
    zh_seeds = [t.instruction for t in read_seed_tasks("belle_seed_tasks")]
    task = json.loads((tmp_path / "zh.jsonl").read_text().splitlines()[0])
    expected = BM25Filter(zh_seeds).check(task["instruction"])
    assert task["max_similarity"] == expected.max_score <= 18
    assert task["avg_similarity_score"] == pytest.approx(expected.mean_score)


def test_a_resumed_belle_run_decides_exactly_as_an_uninterrupted_one(tmp_path):
    config = GenerationConfig(profile="belle", num_tasks=12, max_tokens=500)
    with replay_server() as server:
        run(server, tmp_path / "whole.jsonl", config)
        run(server, tmp_path / "parts.jsonl", replace(config, max_requests=2))
        resumed = run(server, tmp_path / "parts.jsonl", config)
    assert resumed.resumed_tasks > 0
    assert (tmp_path / "parts.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()


def test_belle_rouge_is_the_courses_variant_character_rouge_against_the_growing_pool(tmp_path):
    config = GenerationConfig(profile="belle-rouge", num_tasks=10)
    assert (config.request_batch_size, config.max_tokens, config.threshold) == (1, 1024, 0.7)
    with replay_server() as server:
        result = run(server, tmp_path / "zh.jsonl", config)
    assert result.status == "done"
    task = json.loads((tmp_path / "zh.jsonl").read_text().splitlines()[0])
    closest, score = next(iter(task["most_similar_instructions"].items()))
    by_characters = NoveltyFilter([closest], tokenizer=character_tokens).check(task["instruction"]).max_score
    assert score == by_characters > 0


def test_accounting_adds_up_and_round_trips():
    a = Accounting(requests=1, blocks=10, kept=4, rejections=Counter({TOO_SIMILAR: 6}), prompt_tokens=1000,
                   completion_tokens=3000)
    b = Accounting.from_dict(json.loads(json.dumps(a.to_dict())))
    assert b == a
    b += a
    assert (b.requests, b.kept, b.rejections[TOO_SIMILAR]) == (2, 8, 12)
    prices = Prices(1.0, 2.0)
    assert a.cost(prices) == pytest.approx(0.007)
    assert a.projected_cost(prices, tasks=100) == pytest.approx(0.007 / 4 * 100)
    table = a.rejection_table()
    assert [row[0] for row in table] == [*REASONS, "kept"] and sum(row[1] for row in table) == a.blocks
    assert "unknown" in a.format(None) and "$0.0070" in a.format(prices)
