"""common/options: argparse flags derived from a config dataclass's fields, and back."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

import pytest

from alpaca_lessons.common.options import add_options, command_line, flag, from_options


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
