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
  unless the caller's ``helps`` names the field; the default is the field's default.

    @dataclass
    class Config:
        steps: int = field(default=10, metadata={"help": "optimizer steps"})
        mode: Literal["fast", "exact"] = "fast"

    parser = argparse.ArgumentParser()
    add_options(parser, Config)
    config = from_options(Config, parser.parse_args(["--steps", "3"]))   # Config(steps=3, mode="fast")
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Collection, Mapping
from typing import Any, Literal


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
            options |= {"type": kind, "choices": choices}
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
