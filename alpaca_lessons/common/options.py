"""Command-line options derived from a config dataclass, so that a CLI never re-types a default.

A config dataclass (``TrainConfig``, memory's ``Setup``, ...) already says each setting's name, type and
default. ``add_options`` turns its fields into ``argparse`` flags, ``from_options`` turns the parsed values
back into an instance, and ``command_line`` writes an instance as the flags that reproduce it. It lives in
``common`` rather than ``cli`` because a stage needs it too: ``python -m alpaca_lessons.training.train`` parses
these flags, and ``run_torchrun`` writes them, and no stage may import ``cli``. Per field:

* the flag is ``--`` and the name with ``-`` for ``_`` (``micro_batch_size`` -> ``--micro-batch-size``);
* the type comes from the annotation: ``int``, ``float``, ``str``, ``X | None`` (parsed as ``X``),
  ``bool`` (``--flag`` / ``--no-flag``), ``tuple[str, ...]`` (comma-separated), ``Literal[...]`` (its
  values are the choices);
* the help is the field's ``metadata["help"]`` (the convention of transformers' ``HfArgumentParser``),
  unless the caller's ``helps`` names the field; the default is the field's default;
* a number's rule is the field's ``metadata["check"]``, one of the named checks below (``positive``,
  ``non_negative``, ``unit_interval``, ``probability``, ``temperature_range``, ``port``; a ``float`` without one
  is still ``finite``). The flag parses with it, so ``--epochs -1`` ends as argparse's one-line error
  ``argument --epochs: must be > 0, got -1``, and the dataclass's ``__post_init__`` calls
  ``check_fields(self)``, so a value built in Python meets the same rule. NaN and infinities fail every
  check. Flags that no dataclass declares use the same checks as their ``type=`` (``positive.parse(int)``).

    @dataclass
    class Config:
        steps: int = option(10, help="optimizer steps", check=positive)
        mode: Literal["fast", "exact"] = "fast"

        def __post_init__(self) -> None:
            check_fields(self)

    parser = argparse.ArgumentParser()
    add_options(parser, Config)
    config = from_options(Config, parser.parse_args(["--steps", "3"]))   # Config(steps=3, mode="fast")
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr, ``prog: error: message`` (exit 2), without
    the usage block above it (``--help`` shows it). Subparsers made from it are of the same class."""

    def error(self, message: str) -> typing.NoReturn:
        """Print ``prog: error: message`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


@dataclasses.dataclass(frozen=True)
class Check:
    """A rule a number must meet, named by what it allows (``> 0``); NaN and infinities never meet one."""

    rule: str
    holds: Callable[[float], bool]

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value`` (``must be > 0``), or None when it meets the rule."""
        if isinstance(value, float) and not math.isfinite(value) or not self.holds(value):
            return f"must be {self.rule}"
        return None

    def parse(self, kind: type) -> Callable[[str], Any]:
        """An argparse ``type=``: the text as ``kind`` (int or float), refused with the rule if it breaks it."""

        def parse(text: str) -> Any:
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
            if problem := self.problem(value):
                raise argparse.ArgumentTypeError(f"{problem}, got {text}")
            return value

        parse.__name__ = kind.__name__
        return parse


finite = Check("a finite number", lambda value: True)
positive = Check("> 0", lambda value: value > 0)
non_negative = Check(">= 0", lambda value: value >= 0)
unit_interval = Check("a number in [0, 1]", lambda value: 0 <= value <= 1)
probability = Check("in (0, 1]", lambda value: 0 < value <= 1)
temperature_range = Check("in [0, 2]", lambda value: 0 <= value <= 2)  # OpenAI's range
port = Check("a port in [0, 65535]", lambda value: 0 <= value <= 65535)


def option(default: Any, *, help: str | None = None, check: Check | None = None) -> Any:  # noqa: A002
    """A dataclass field with a default, its flag's help and its number's check (in the field's metadata)."""
    metadata = {key: value for key, value in (("help", help), ("check", check)) if value is not None}
    return dataclasses.field(default=default, metadata=metadata)


def _check_of(spec: dataclasses.Field, kind: Any) -> Check | None:
    """The field's declared check; a float without one must still be finite."""
    return spec.metadata.get("check") or (finite if kind is float else None)


def check_fields(instance: Any) -> None:
    """Refuse a dataclass instance whose numeric fields break their checks (None passes: "not set").

    Raises ``ValueError("epochs must be > 0, got -1.0")`` for the first field that does."""
    for spec in dataclasses.fields(instance):
        value = getattr(instance, spec.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        check = _check_of(spec, type(value))
        if check and (problem := check.problem(value)):
            raise ValueError(f"{spec.name} {problem}, got {value!r}")


def flag(name: str) -> str:
    """The command-line spelling of a field name: ``micro_batch_size`` -> ``--micro-batch-size``."""
    return "--" + name.replace("_", "-")


def _split_commas(text: str) -> tuple[str, ...]:
    """A comma-separated list, as a tuple of its items."""
    return tuple(text.split(","))


def _parser_for(annotation: Any) -> tuple[type | None, tuple | None]:
    """(the type a flag parses to, its choices) for a field annotation; None for a ``tuple[str, ...]``."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in arguments if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"a union of {arguments} has no single command-line type")
        return _parser_for(inner[0])
    if origin is Literal:
        return type(arguments[0]), arguments
    if origin is tuple and arguments and arguments[-1] is Ellipsis and arguments[0] is str:
        return None, None
    if annotation in (int, float, str, bool):
        return annotation, None
    raise TypeError(f"no command-line type for {annotation!r}")


def _default(spec: dataclasses.Field) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return dataclasses.MISSING


def _selected(config: type, only: Collection[str] | None, skip: Collection[str]) -> list[dataclasses.Field]:
    chosen = [f for f in dataclasses.fields(config) if f.init and f.name not in skip
              and (only is None or f.name in only)]
    unknown = set(only or ()) - {f.name for f in dataclasses.fields(config)}
    if unknown:
        raise ValueError(f"{config.__name__} has no field(s) {sorted(unknown)}")
    return chosen


def add_options(parser: argparse.ArgumentParser, config: type, *, only: Collection[str] | None = None,
                skip: Collection[str] = (), helps: Mapping[str, str] | None = None) -> list[str]:
    """Add one flag per field of the dataclass ``config`` (those in ``only``, if given, less ``skip``).

    A field without a default becomes a required flag. Returns the names of the fields added.
    """
    hints = typing.get_type_hints(config)
    added = []
    for spec in _selected(config, only, skip):
        kind, choices = _parser_for(hints[spec.name])
        default = _default(spec)
        options: dict[str, Any] = {"help": (helps or {}).get(spec.name, spec.metadata.get("help"))}
        if default is dataclasses.MISSING:
            options["required"] = True
        else:
            options["default"] = default
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif kind is None:
            options["type"] = _split_commas
        else:
            check = None if choices else _check_of(spec, kind)
            options |= {"type": check.parse(kind) if check else kind, "choices": choices}
        parser.add_argument(flag(spec.name), **options)
        added.append(spec.name)
    return added


def from_options(config: type, args: argparse.Namespace, **values: Any) -> Any:
    """An instance of ``config`` from the parsed flags ``add_options`` added, and ``values`` for other fields."""
    parsed = {f.name: getattr(args, f.name) for f in dataclasses.fields(config)
              if f.init and f.name not in values and hasattr(args, f.name)}
    return config(**parsed, **values)


def command_line(instance: Any, *, skip: Collection[str] = ()) -> list[str]:
    """The flags that make ``add_options``' parser rebuild ``instance``: only the fields that differ from
    their defaults (a field without a default is always written)."""
    words = []
    for spec in dataclasses.fields(instance):
        value = getattr(instance, spec.name)
        if not spec.init or spec.name in skip or value == _default(spec):
            continue
        if isinstance(value, bool):
            words.append(flag(spec.name) if value else "--no-" + flag(spec.name)[2:])
        else:
            words += [flag(spec.name), ",".join(value) if isinstance(value, tuple) else str(value)]
    return words
