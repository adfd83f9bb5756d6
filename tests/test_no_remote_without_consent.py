"""No spending without consent: every command that can call a model, run in-process with the network blocked.

``generate`` (a teacher) and ``evaluate judge`` (an LLM judge) are the commands that send requests to an
endpoint. Each is run here with a remote ``--base-url`` and ``OPENAI_API_KEY`` set, as a user with a key in
their shell would: without the opt-in flag it must end with exit code 2 and one line on stderr naming the
flag, having looked up nothing; with the opt-in, a cost cap too small or a price it cannot know refuses
before any connection. ``teacher serve`` and ``evaluate generate`` run local models only: a name that is no
folder must not be looked up on the Hub either. The key never appears in what a command prints.
"""

from __future__ import annotations

import argparse

import pytest
from network_guard import blocked_network  # noqa: F401  (a fixture)

from alpaca_lessons.cli import build_parser, main

REMOTE = "https://api.openai.com/v1"
KEY = "sk-" + "test-do-not-print-0123456789abcdef"  # split so no scanner mistakes this test value for a key


@pytest.fixture
def key_in_environment(monkeypatch):
    """A real-looking key in the environment (which is not consent), and no base URL there."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command's exit code (argparse's included), stdout and stderr; the key must be in neither."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def assert_one_line_error(err: str, *words: str) -> None:
    assert err.startswith("alpaca-lessons: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


def test_generate_and_judge_are_the_commands_that_take_an_endpoint():
    """If another command grows a --base-url, it belongs in this file."""

    def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from commands(sub, (*path, name))
        if any("--base-url" in a.option_strings for a in parser._actions):
            yield " ".join(path)

    assert sorted(commands(build_parser())) == ["evaluate judge", "generate"]


@pytest.mark.parametrize(("argv", "flag"), [
    (["generate", "--base-url", REMOTE, "--model", "gpt-4-0613"], "--real-teacher"),
    # issue 13, item 2: without --model it used to list the remote host's models, key and all, before refusing
    (["generate", "--base-url", REMOTE], "--real-teacher"),
    (["generate", "--base-url", REMOTE, "--api", "chat", "--model", "gpt-4o-mini-2024-07-18", "--max-cost", "100"],
     "--real-teacher"),
    # issue 13, item 1: the judge sent the key to any endpoint
    (["evaluate", "judge", "--base-url", REMOTE, "--model", "gpt-4-0613"], "--real-judge"),
    (["evaluate", "judge", "--base-url", REMOTE, "--model", "gpt-4-0613", "--max-cost", "100", "--limit", "1"],
     "--real-judge"),
])
def test_without_the_opt_in_nothing_is_even_looked_up(argv, flag, key_in_environment, blocked_network,  # noqa: F811
                                                       tmp_path, capsys):
    output = ["--output", str(tmp_path / "t.jsonl"), "--no-progress"] if argv[0] == "generate" else \
        ["--store", str(tmp_path / "verdicts.jsonl")]
    code, out, err = run([*argv, *output], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err, "api.openai.com is not this machine", flag)
    assert blocked_network == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "words"), [
    (["generate", "--real-teacher"], ["--real-teacher needs --model"]),
    (["generate", "--real-teacher", "--model", "gpt-x", "--max-cost", "1"], ["max_cost needs prices", "gpt-x"]),
    (["evaluate", "judge", "--real-judge", "--model", "gpt-x"], ["no price is known for 'gpt-x'", "--price-in"]),
    (["evaluate", "judge", "--real-judge", "--model", "gpt-x", "--max-cost", "1"], ["no price is known"]),
])
def test_with_the_opt_in_a_model_without_a_price_is_refused_before_any_connection(
        argv, words, key_in_environment, blocked_network, tmp_path, capsys):  # noqa: F811
    output = ["--output", str(tmp_path / "t.jsonl"), "--no-progress"] if argv[0] == "generate" else \
        ["--store", str(tmp_path / "verdicts.jsonl")]
    code, out, err = run([*argv, "--base-url", REMOTE, *output], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)
    assert blocked_network == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["generate", "--real-teacher", "--model", "gpt-4-0613"],
    ["evaluate", "judge", "--real-judge", "--model", "gpt-4-0613"],
])
def test_with_the_opt_in_and_a_known_price_a_run_without_a_cost_cap_is_refused(
        argv, real_data, key_in_environment, blocked_network, tmp_path, capsys):  # noqa: F811
    output = ["--output", str(tmp_path / "t.jsonl"), "--no-progress"] if argv[0] == "generate" else \
        ["--store", str(tmp_path / "verdicts.jsonl")]
    code, out, err = run([*argv, "--base-url", REMOTE, *output], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err, "costs money", "--max-cost")
    assert blocked_network == [] and list(tmp_path.iterdir()) == []


def test_with_the_opt_in_a_judge_run_over_max_cost_is_refused_before_any_connection(
        real_data, key_in_environment, blocked_network, tmp_path, capsys):  # noqa: F811
    store = tmp_path / "verdicts.jsonl"
    base = ["evaluate", "judge", "--base-url", REMOTE, "--real-judge", "--model", "gpt-4-0613", "--store", str(store)]
    # every pair (805, in both orders) at gpt-4-0613's $30/$60 per 1M tokens: tens of dollars at most, not $5
    code, out, err = run([*base, "--max-cost", "5"], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err, "judging 805 pairs in both orders could cost up to $", "max_cost=$5.00")
    # one pair: two prompts of a few hundred tokens and two 100-token replies cost more than a cent
    code, out, err = run([*base, "--max-cost", "0.01", "--limit", "1"], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err, "judging 1 pairs in both orders", "max_cost=$0.01")
    assert blocked_network == [] and not store.exists()


def test_with_the_opt_in_generation_over_max_cost_stops_before_the_first_request(
        real_data, key_in_environment, blocked_network, tmp_path, capsys):  # noqa: F811
    # one request of 5 prompts x 3072 tokens at gpt-4-0613's $60 per 1M completion tokens is about $0.92
    code, out, err = run(["generate", "--base-url", REMOTE, "--real-teacher", "--model", "gpt-4-0613", "--max-cost",
                          "0.5", "--output", str(tmp_path / "t.jsonl"), "--no-progress"], capsys)
    assert code == 1  # generation's "stopped" status: resumable with a larger cap
    assert out.startswith("status: stopped: the next request could take the cost past max_cost=$0.50; 0 tasks kept")
    assert "requests           0 (0 failed)" in out
    assert blocked_network == []


def test_a_base_url_in_the_environment_is_not_consent_either(real_data, key_in_environment, blocked_network,  # noqa: F811
                                                             monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", REMOTE)
    code, out, err = run(["generate", "--output", str(tmp_path / "t.jsonl"), "--num-tasks", "1", "--no-progress"],
                         capsys)
    assert code == 0 and out.startswith("teacher: alpaca-52k-replay, started here (no --base-url)")
    assert blocked_network == [] and KEY not in "".join(p.read_text() for p in tmp_path.iterdir())


@pytest.mark.parametrize("argv", [
    ["teacher", "serve", "--model", "gpt2", "--port", "0"],
    ["evaluate", "generate", "--model", "gpt2", "--limit", "1"],
])
def test_local_model_commands_never_fetch_a_model_by_name(argv, real_data, key_in_environment,
                                                          blocked_network, tmp_path, capsys):  # noqa: F811
    if argv[1] == "generate":
        argv = [*argv, "--out", str(tmp_path / "outputs.json")]
    with pytest.raises(FileNotFoundError, match="gpt2: no such model folder"):
        main(argv)
    assert KEY not in "".join(capsys.readouterr())
    assert blocked_network == [] and list(tmp_path.iterdir()) == []
