"""common/options: argparse flags derived from a config dataclass's fields, and back."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

import pytest

from alpaca_lessons.common.options import (
    OneLineParser,
    add_options,
    check_fields,
    command_line,
    finite,
    flag,
    from_options,
    non_negative,
    option,
    port,
    positive,
    probability,
    temperature_range,
    unit_interval,
)


@dataclass
class Example:
    """Every kind of field the helper handles."""

    name: str  # no default: a required flag
    micro_batch_size: int = field(default=4, metadata={"help": "examples per forward pass"})
    learning_rate: float = 2e-5
    limit: int | None = None
    mode: Literal["fast", "exact"] = "fast"
    resume: bool = True
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    command: list[str] = field(default_factory=list)


def parser_for(**options) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser, Example, skip=("command",), **options)
    return parser


def test_flags_are_the_field_names_with_dashes():
    assert flag("micro_batch_size") == "--micro-batch-size"
    parser = parser_for()
    spelled = {a.dest: a.option_strings for a in parser._actions if a.dest != "help"}
    assert spelled == {"name": ["--name"], "micro_batch_size": ["--micro-batch-size"],
                       "learning_rate": ["--learning-rate"], "limit": ["--limit"], "mode": ["--mode"],
                       "resume": ["--resume", "--no-resume"], "targets": ["--targets"]}


def test_defaults_types_and_help_come_from_the_dataclass():
    args = parser_for().parse_args(["--name", "x"])
    assert vars(args) == {"name": "x", "micro_batch_size": 4, "learning_rate": 2e-5, "limit": None, "mode": "fast",
                          "resume": True, "targets": ("q_proj", "v_proj")}
    args = parser_for().parse_args(["--name", "x", "--micro-batch-size", "8", "--learning-rate", "1e-3",
                                    "--limit", "12", "--mode", "exact", "--no-resume", "--targets", "a,b,c"])
    assert (args.micro_batch_size, args.learning_rate, args.limit, args.mode, args.resume, args.targets) == \
        (8, 0.001, 12, "exact", False, ("a", "b", "c"))
    text = parser_for(helps={"limit": "use this many records"}).format_help()
    assert "examples per forward pass" in text and "use this many records" in text


def test_bad_values_and_missing_required_flags_are_refused():
    with pytest.raises(argparse.ArgumentError):
        parser_for().parse_args(["--name", "x", "--mode", "slow"])  # not one of the Literal's values
    with pytest.raises(argparse.ArgumentError):
        parser_for().parse_args(["--name", "x", "--micro-batch-size", "four"])
    with pytest.raises(SystemExit):  # argparse exits on a missing required flag even with exit_on_error=False
        parser_for().parse_args([])  # --name has no default


def test_only_picks_fields_and_unknown_names_fail():
    parser = argparse.ArgumentParser()
    assert add_options(parser, Example, only=("limit", "mode")) == ["limit", "mode"]
    assert vars(parser.parse_args([])) == {"limit": None, "mode": "fast"}
    with pytest.raises(ValueError, match="no field"):
        add_options(argparse.ArgumentParser(), Example, only=("nope",))


def test_unsupported_annotations_are_refused():
    @dataclass
    class Odd:
        shape: dict = field(default_factory=dict)

    with pytest.raises(TypeError, match="no command-line type"):
        add_options(argparse.ArgumentParser(), Odd)


def test_from_options_and_command_line_round_trip():
    parser = parser_for()
    chosen = Example("run", micro_batch_size=2, limit=5, mode="exact", resume=False, targets=("k_proj",),
                     command=["train"])
    words = command_line(chosen, skip=("command",))
    assert words == ["--name", "run", "--micro-batch-size", "2", "--limit", "5", "--mode", "exact", "--no-resume",
                     "--targets", "k_proj"]
    assert from_options(Example, parser.parse_args(words), command=["train"]) == chosen
    assert command_line(Example("run")) == ["--name", "run"]  # defaults are left out


@dataclass
class Checked:
    """Fields with declared checks, and a float without one."""

    steps: int = option(10, help="optimizer steps", check=positive)
    ratio: float = option(0.5, check=unit_interval)
    limit: int | None = option(None, check=positive)
    scale: float = 1.0  # no check: still finite
    mode: Literal["a", "b"] = "a"

    def __post_init__(self) -> None:
        check_fields(self)


@pytest.mark.parametrize(("check", "kind", "good", "bad", "message"), [
    (positive, int, ["1", "7"], ["0", "-3"], "must be > 0, got {}"),
    (positive, float, ["1e-9", "3"], ["0", "-1", "nan", "inf"], "must be > 0, got {}"),
    (non_negative, float, ["0", "2.5"], ["-0.1", "nan", "inf", "-inf"], "must be >= 0, got {}"),
    (unit_interval, float, ["0", "1", "0.7"], ["-0.01", "1.01", "nan"], "must be a number in [0, 1], got {}"),
    (probability, float, ["1", "0.001"], ["0", "1.5", "nan"], "must be in (0, 1], got {}"),
    (temperature_range, float, ["0", "2"], ["-1", "2.01", "inf"], "must be in [0, 2], got {}"),
    (port, int, ["0", "65535"], ["-1", "65536"], "must be a port in [0, 65535], got {}"),
    (finite, float, ["-5", "1e300"], ["nan", "inf", "-inf"], "must be a finite number, got {}"),
])
def test_named_checks_parse_good_text_and_refuse_bad_text_with_the_rule(check, kind, good, bad, message):
    parse = check.parse(kind)
    assert [parse(text) for text in good] == [kind(text) for text in good]
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            parse(text)
        assert str(refused.value) == message.format(text)
    with pytest.raises(argparse.ArgumentTypeError, match=f"invalid {kind.__name__} value: 'x'"):
        parse("x")


def test_declared_checks_become_the_flags_types_and_the_dataclass_refuses_the_same_values():
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser, Checked)
    args = parser.parse_args(["--steps", "3", "--ratio", "1", "--limit", "2", "--scale", "-4"])
    assert from_options(Checked, args) == Checked(steps=3, ratio=1.0, limit=2, scale=-4.0)
    for words, text in ((["--steps", "0"], "argument --steps: must be > 0, got 0"),
                        (["--ratio", "nan"], "argument --ratio: must be a number in [0, 1], got nan"),
                        (["--limit", "-1"], "argument --limit: must be > 0, got -1"),
                        (["--scale", "inf"], "argument --scale: must be a finite number, got inf")):
        with pytest.raises(argparse.ArgumentError) as refused:
            parser.parse_args(words)
        assert str(refused.value) == text
    for values, text in (({"steps": 0}, "steps must be > 0, got 0"),
                         ({"ratio": 2.0}, "ratio must be a number in [0, 1], got 2.0"),
                         ({"scale": float("nan")}, "scale must be a finite number, got nan")):
        with pytest.raises(ValueError) as refused:
            Checked(**values)
        assert str(refused.value) == text
    assert Checked(limit=None).limit is None  # None means "not set" and passes
    assert parser.format_help().count("optimizer steps") == 1


def test_a_one_line_parser_prints_only_the_error_line(capsys):
    parser = OneLineParser(prog="tool")
    parser.add_subparsers(required=True).add_parser("run").add_argument("--n", type=positive.parse(int))
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["run", "--n", "0"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "tool run: error: argument --n: must be > 0, got 0\n"
