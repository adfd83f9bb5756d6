"""cli/memory_cmd: `alpaca-lessons memory` answers Alpaca's question."""

from alpaca_lessons import cli


def test_the_command_line_answers_alpacas_question(capsys):
    assert cli.main(["memory", "--gpus", "8", "--gpu", "A100-40GB"]) == 0
    printed = capsys.readouterr().out
    assert "6,738,415,616 parameters" in printed and "fits on 8 x A100 40GB" in printed
    cli.main(["memory", "--gpu", "A10-24GB", "--micro-batch", "1"])
    assert "does NOT fit on 1 x A10 24GB" in capsys.readouterr().out
