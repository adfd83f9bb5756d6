"""``alpaca-lessons data list | fetch | verify | path``: the public data sets of the course."""

from __future__ import annotations

import argparse

from alpaca_lessons.data import get_dataset, locate, mirror_dir, verify_all
from alpaca_lessons.data.registry import cache_dir, catalog


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data`` and its actions."""
    parser = subparsers.add_parser("data", help="list, fetch and verify the course's public data sets")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every data set: name, records, license, URL").set_defaults(func=_list)
    for name, func, text in (("fetch", _fetch, "download into the cache (or find in the mirror) and verify"),
                             ("verify", _verify, "check checksums of what is present, downloading nothing")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("names", nargs="*", help="data set names (default: all)")
        sub.set_defaults(func=func)
    path = actions.add_parser("path", help="print the verified local path of one data set")
    path.add_argument("name")
    path.set_defaults(func=lambda args: print(locate(args.name)) or 0)


def _list(args: argparse.Namespace) -> int:
    print(f"mirror: {mirror_dir() or '(not set: $ALPACA_LESSONS_DATA)'}\ncache:  {cache_dir()}\n")
    print("\n".join(catalog()))
    return 0


def _report(results: dict[str, str]) -> int:
    for name, result in results.items():
        print(f"{name:<50} {result}")
    failed = sum(not r.startswith("ok") for r in results.values())
    print(f"\n{len(results) - failed} ok, {failed} failed")
    return 1 if failed else 0


def _fetch(args: argparse.Namespace) -> int:
    for name in args.names:
        get_dataset(name)  # an unknown name fails before any download starts
    return _report(verify_all(args.names or None, download=True))


def _verify(args: argparse.Namespace) -> int:
    return _report(verify_all(args.names or None, download=False))
