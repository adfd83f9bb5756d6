"""``alpaca-lessons evaluate``: the public numbers, statistics, and blind judging from a terminal."""

from __future__ import annotations

import json

from teacher_helpers import served_from_cli

from alpaca_lessons.cli import main
from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.evaluation.pairs import gpt4_judged_pairs


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
    assert code == 2 and "opt in explicitly" in capsys.readouterr().out
    assert not (tmp_path / "v.jsonl").exists()
