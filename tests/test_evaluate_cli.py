"""``alpaca-lessons evaluate``: the public numbers, statistics, and blind judging from a terminal."""

from __future__ import annotations

import json

import pytest
from teacher_helpers import served_from_cli

from alpaca_lessons.cli import main
from alpaca_lessons.cli.teacher_cmd import load_model
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation.llm_judge import LengthJudge
from alpaca_lessons.evaluation.pairs import gpt4_judged_pairs
from alpaca_lessons.generation.teacher import TeacherServer


def test_gpt4_and_align_recompute_the_public_numbers(real_data, capsys):
    assert main(["evaluate", "gpt4"]) == 0
    out = capsys.readouterr().out
    assert "recomputed win rate 26.4596%, leaderboard 26.4596%" in out and "205 wins, 16 ties, 584 losses" in out
    assert main(["evaluate", "align"]) == 0
    assert capsys.readouterr().out.startswith("252 pairs aligned (234 on identical text, 18 more")


def test_stats_from_counts_with_a_power_calculation(capsys):
    assert main(["evaluate", "stats", "--counts", "90", "73", "89", "--power", "0.55"]) == 0
    out = capsys.readouterr().out
    assert "sign test p = 1\n" in out and "comparisons" in out and "for 80% power" in out
    assert main(["evaluate", "stats"]) == 2


def test_stats_of_the_shipped_annotations(real_data, capsys):
    from alpaca_lessons.common.paths import course_data_dir

    path = course_data_dir() / "annotations" / "pairwise_claude.jsonl"
    assert main(["evaluate", "stats", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Claude (Anthropic AI model)" in out and "not a human" in out and "left (A) won" in out


def test_blind_judging_of_any_two_systems_in_a_terminal(tmp_path, capsys):
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    first.write_text(json.dumps([{"instruction": f"Task {i}.", "output": f"one {i}"} for i in range(3)]))
    second.write_text(json.dumps([{"instruction": f"Task {i}. ", "output": f"two {i}"} for i in range(3)]))
    store = tmp_path / "j.jsonl"
    base = ["evaluate", "blind", "--store", str(store), "--annotator", "a tester", "--systems", str(first),
            str(second), "--sample", "3"]
    assert main([*base, "show", "--count", "1"]) == 0
    shown = capsys.readouterr().out
    pair_id = shown.split("##### pair ")[1].split("\n")[0]
    assert "=== ANSWER A ===" in shown and "one.json" not in shown and "progress: 0/3" in shown
    assert main([*base, "record", pair_id, "tie", "--reason", "same"]) == 0
    assert AppendOnlyStore(store).read()[0]["reason"] == "same"
    for _ in range(2):
        main([*base, "show"])
        pair_id = capsys.readouterr().out.split("##### pair ")[1].split("\n")[0]
        main([*base, "record", pair_id, "A"])
    capsys.readouterr()
    assert main([*base, "status"]) == 0
    assert "3/3 judged" in capsys.readouterr().out


def test_the_length_judge_served_by_teacher_serve_judges_from_the_command_line(real_data, tmp_path, capsys):
    with served_from_cli("length-baseline") as (base_url, lines):
        assert lines[0] == "model:   length-baseline\n"
        store = tmp_path / "verdicts.jsonl"
        args = ["evaluate", "judge", "--base-url", base_url, "--model", "length-baseline", "--store", str(store)]
        assert main([*args, "--limit", "12"]) == 0
    assert "length-baseline on 12 pairs" in capsys.readouterr().out
    # The rule, applied here by hand: the longer output (whitespace stripped) wins, equal lengths tie.
    lengths = [(len(p.output_1.strip()), len(p.output_2.strip())) for p in gpt4_judged_pairs().pairs[:12]]
    expected = [1 if a > b else 2 if b > a else 0 for a, b in lengths]
    assert set(expected) == {1, 2}  # both sides win somewhere in these pairs
    assert [r["preference"] for r in AppendOnlyStore(store).read()] == expected


def test_the_judge_refuses_a_remote_endpoint_without_the_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    code = main(["evaluate", "judge", "--base-url", "https://api.example.com/v1", "--model", "gpt-4-0613",
                 "--store", str(tmp_path / "v.jsonl"), "--limit", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("alpaca-lessons: error: api.example.com is not this machine") and "--real-judge" in err
    assert not (tmp_path / "v.jsonl").exists()


@pytest.mark.parametrize(("limit", "message"), [("-5", "must be > 0, got -5"), ("0", "must be > 0, got 0"),
                                                ("2.5", "invalid int value: '2.5'")])
def test_the_judges_limit_is_a_positive_whole_number(limit, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:  # -5 used to judge pairs[:-5]: 800 pairs, 1,600 calls
        main(["evaluate", "judge", "--base-url", "http://127.0.0.1:1/v1", "--model", "m", "--store",
              str(tmp_path / "v.jsonl"), "--limit", limit])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err == f"alpaca-lessons evaluate judge: error: argument --limit: {message}\n"


@pytest.mark.parametrize("flag", ["--max-cost", "--price-in", "--price-out"])
@pytest.mark.parametrize("value", ["-1", "nan", "inf", "ten"])
def test_the_judges_dollar_flags_are_non_negative_amounts(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "judge", "--base-url", "http://127.0.0.1:1/v1", "--model", "m", "--store",
              str(tmp_path / "v.jsonl"), flag, value])
    assert exited.value.code == 2 and f"argument {flag}:" in capsys.readouterr().err


@pytest.fixture
def length_server():
    with TeacherServer(load_model(LengthJudge.name)) as running:
        yield running


def test_the_judges_max_cost_from_the_command_line(real_data, length_server, tmp_path, capsys):
    store = tmp_path / "v.jsonl"
    base = ["evaluate", "judge", "--base-url", length_server.base_url, "--model", "length-baseline", "--store",
            str(store), "--limit", "3"]
    assert main([*base, "--max-cost", "1"]) == 2  # a local model has no price: a cap cannot be kept
    assert capsys.readouterr().err == ("alpaca-lessons: error: max_cost needs prices: none are known for "
                                       "'length-baseline' (prices=Prices(...), or --price-in and --price-out on "
                                       "the command line)\n")
    assert main([*base, "--price-in", "1"]) == 2
    assert "give both --price-in and --price-out" in capsys.readouterr().err
    # $1 per completion token, prompts free: 3 pairs x 2 orders x 100 tokens at most = $600
    priced = [*base, "--price-in", "0", "--price-out", "1000000"]
    assert main([*priced, "--max-cost", "599.99"]) == 2
    err = capsys.readouterr().err
    assert "judging 3 pairs in both orders could cost up to $600.0000" in err and err.count("\n") == 1
    assert length_server.stats["requests"] == 0 and not store.exists()
    assert main([*priced, "--max-cost", "600"]) == 0
    assert length_server.stats["requests"] == 6 and len(AppendOnlyStore(store).read()) == 3
    assert "length-baseline on 3 pairs" in capsys.readouterr().out
