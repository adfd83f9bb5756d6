"""``alpaca-lessons data``: listing and verifying the public data sets, errors without a traceback."""

from __future__ import annotations

from alpaca_lessons.cli import main


def test_cli_data_list_and_verify(real_data, capsys):
    assert main(["data", "list"]) == 0
    assert "alpaca_data" in capsys.readouterr().out
    assert main(["data", "verify", "seed_tasks", "alpaca_prompt"]) == 0
    assert "2 ok, 0 failed" in capsys.readouterr().out


def test_cli_reports_errors_without_a_traceback(capsys, monkeypatch):
    monkeypatch.delenv("ALPACA_LESSONS_DATA", raising=False)
    assert main(["data", "verify", "seed_tasks"]) == 1
    assert "0 ok, 1 failed" in capsys.readouterr().out
    assert main(["data", "fetch", "no-such-set"]) == 2
    assert "unknown data set 'no-such-set'" in capsys.readouterr().err
