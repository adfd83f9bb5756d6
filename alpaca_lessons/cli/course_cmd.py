"""``alpaca-lessons course release|grade``: the instructor kit (nbgrader), from the lessons to a grade table."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from alpaca_lessons.common.options import positive
from alpaca_lessons.common.paths import project_root
from alpaca_lessons.course import kit

DEFAULT_OUT = "build/course"
JOBS = min(2, os.cpu_count() or 1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``course`` with ``release`` and ``grade``."""
    parser = subparsers.add_parser(
        "course", help="the instructor kit: release the exercises to students, grade their submissions",
        description="Release the lessons' exercises without their solutions and grade submissions with nbgrader "
                    f"(the instructor extra: {kit.INSTALL_HINT}).")
    actions = parser.add_subparsers(dest="action", required=True)
    out_help = f"the nbgrader course folder (default: {DEFAULT_OUT})"
    rel = actions.add_parser(
        "release", help="write the student release of every lesson with exercises",
        description="Copy each lesson with exercises into OUT/source/lessonNN, run nbgrader generate_assignment, "
                    "and check the release: no solution code, no hidden test, no output, no SOLUTIONS.md.")
    rel.add_argument("--notebooks", default=None, help="the lessons' folder (default: <project>/notebooks)")
    rel.add_argument("--out", default=DEFAULT_OUT, help=out_help)
    rel.set_defaults(func=_release)
    grd = actions.add_parser(
        "grade", help="autograde submissions; write grades.csv and feedback",
        description="Copy SUBMISSIONS/<student>/<lessonNN>/*.ipynb into OUT/submitted, run nbgrader autograde "
                    "per lesson, export OUT/grades.csv and write OUT/feedback; print the grade table.")
    grd.add_argument("submissions", metavar="SUBMISSIONS", help="a folder of <student>/<lessonNN>/*.ipynb")
    grd.add_argument("--out", default=DEFAULT_OUT, help=out_help)
    grd.add_argument("--jobs", type=positive.parse(int), default=JOBS,
                     help=f"lessons executed at once, one nbgrader process each (default: {JOBS}, the cores up to 2)")
    grd.add_argument("--quick", action="store_true",
                     help="grading's quick mode: the lessons' heaviest demonstrations run smaller; tests and "
                          "grades are unchanged")
    grd.set_defaults(func=_grade)


def _release(args: argparse.Namespace) -> int:
    notebooks = Path(args.notebooks) if args.notebooks else project_root() / "notebooks"
    released = kit.release(notebooks, Path(args.out))
    print(f"released {len(released)} notebooks to {Path(args.out) / 'release'}: no solution code, no hidden test, "
          "no output")
    return 0


def _grade(args: argparse.Namespace) -> int:
    if not Path(args.submissions).is_dir():
        raise kit.KitError(f"{args.submissions}: not a folder of submissions")
    grades = kit.grade(Path(args.submissions), Path(args.out), jobs=args.jobs, quick=args.quick)
    print(kit.table(grades))
    print(f"wrote {Path(args.out) / 'grades.csv'} and {Path(args.out) / 'feedback'}")
    return 0
