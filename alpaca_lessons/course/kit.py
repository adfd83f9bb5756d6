"""The instructor kit: the student release of the lessons and their grading, with nbgrader.

The committed lessons are nbgrader's *source*: complete, executed, solution regions between
``### BEGIN SOLUTION`` / ``### END SOLUTION``, autograded test cells with points (some lines between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``). ``release`` copies each lesson with exercises into
``<out>/source/lessonNN/``, runs ``nbgrader generate_assignment`` (one process for every lesson) and then
checks what it wrote: no line of solution code, no hidden test, no output, no ``SOLUTIONS.md``. ``grade``
copies submissions into ``<out>/submitted/``, runs ``nbgrader autograde`` (one process per lesson, lessons in
parallel: executing them is the work), ``nbgrader export`` to ``<out>/grades.csv`` and ``nbgrader
generate_feedback`` to ``<out>/feedback/``. An nbgrader process costs about 2 s before it does anything, so
whatever executes nothing runs once for every lesson.

nbgrader is an optional dependency (the ``instructor`` extra) run as a subprocess: it calls the ``alembic``
executable itself, so this Python's ``bin`` folder goes first on ``PATH``. Lessons run from the copies under
``<out>``, so ``$ALPACA_LESSONS_PROJECT`` points them at this checkout's ``data/`` and ``$ALPACA_LESSONS_FIGURES``
keeps their plots out of the committed ``figures/``. With ``quick=True`` the kit sets ``$ALPACA_LESSONS_QUICK``
(see ``course.quick``): demonstration cells shrink, exercise and test cells are untouched.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alpaca_lessons.common.errors import DataError
from alpaca_lessons.common.paths import FIGURES_ENV, PROJECT_ENV, project_root
from alpaca_lessons.course.quick import QUICK_ENV

COURSE_ID = "alpaca-lessons"
STUB = "raise NotImplementedError('write your solution here')"
INSTALL_HINT = "install the instructor extra: pip install -e '.[instructor]'"
# Each parallel lesson's kernel gets its share of the cores (unless set): on 2 cores, two kernels of 2 torch
# threads each spin-wait on each other; lesson 07 under load took 123 s that way and 35 s with one thread each.
THREADS_ENV = "OMP_NUM_THREADS"
CELL_TIMEOUT_S = 900  # nbgrader's default is 30 s a cell; a lesson's training demonstration takes minutes
LESSON_FILE = re.compile(r"^(\d\d[a-z]?)_[^/]*\.ipynb$")  # 06a_..., a lesson in parts
# An exception line in nbgrader's output: "sqlalchemy.exc.IntegrityError: ...", "nbgrader.api.MissingEntry: ..."
_EXCEPTION = re.compile(r"^\s*[\w.]+(Error|Exception|Entry): ")
LESSONS = "lesson*"  # nbgrader's glob over the course's assignments: another assignment in the folder is left alone
MARKERS = {"solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
           "hidden": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")}
CONFIG = f'''"""nbgrader's configuration for the alpaca-lessons course (written by `alpaca-lessons course release`)."""
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = {COURSE_ID!r}
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
c.Execute.timeout = {CELL_TIMEOUT_S}
'''


class KitError(DataError):
    """The kit cannot run or its release is not clean; the command line prints it as one line."""


@dataclass(frozen=True)
class Grade:
    """One row of the grade table: a student's score on one lesson."""

    student: str
    lesson: str
    score: float
    max_score: float


def lesson_id(notebook: Path) -> str:
    """``notebooks/08_pairwise_evaluation.ipynb`` → ``lesson08``, ``06a_...`` → ``lesson06a``: the nbgrader
    assignment of a lesson notebook."""
    match = LESSON_FILE.match(notebook.name)
    if not match:
        raise KitError(f"{notebook}: not a lesson notebook (NN_name.ipynb)")
    return f"lesson{match.group(1)}"


def _cells(notebook: Path) -> list[dict]:
    try:
        return json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise KitError(f"{notebook}: not a readable notebook ({exc})") from None


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def has_exercises(notebook: Path) -> bool:
    """Whether a lesson holds nbgrader cells (a solution or an autograded test)."""
    return any(cell.get("metadata", {}).get("nbgrader", {}).get(key)
               for cell in _cells(notebook) for key in ("solution", "grade"))


def lessons_with_exercises(notebooks: Path) -> list[Path]:
    """The lesson notebooks (``NN_*.ipynb``, ``NNa_*.ipynb``, in order) that hold at least one exercise."""
    return [nb for nb in sorted(notebooks.glob("[0-9][0-9]*.ipynb")) if LESSON_FILE.match(nb.name)
            and has_exercises(nb)]


def region_lines(notebook: Path, region: str) -> tuple[set[str], set[str]]:
    """The stripped, non-blank lines inside the ``region`` ("solution" or "hidden") markers of a notebook, and
    those outside every such region (a line given on the page elsewhere is not a leak when it reappears)."""
    begin, end = MARKERS[region]
    inside, outside = set(), set()
    for cell in _cells(notebook):
        within = False
        for line in _source(cell).splitlines():
            text = line.strip()
            if text in (begin, end):
                within = text == begin
            elif text:
                (inside if within else outside).add(text)
    return inside, outside


def release_problems(source: Path, released: Path) -> list[str]:
    """What is wrong with one released notebook, given its source: solution or hidden-test lines left in,
    a marker left in, an output or an execution count kept. Empty when the release is clean."""
    problems = []
    cells = _cells(released)
    text = {line.strip() for cell in cells for line in _source(cell).splitlines()}
    for region in MARKERS:
        inside, outside = region_lines(source, region)
        problems += [f"{released.name}: {region} line left in: {line!r}" for line in sorted(inside - outside)
                     if line in text]
        problems += [f"{released.name}: marker left in: {m!r}" for m in MARKERS[region] if m in text]
    for number, cell in enumerate(cells):
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"{released.name}: cell {number} keeps its output")
    return problems


def check_release(out: Path) -> list[Path]:
    """Check every released notebook under ``<out>/release`` against its source; return them. Raises
    ``KitError`` naming the first problems, or when a ``SOLUTIONS.md`` or no notebook was released."""
    released = sorted((out / "release").glob(f"{LESSONS}/*.ipynb"))
    if not released:
        raise KitError(f"{out / 'release'}: nothing was released")
    problems = [f"{path}: solutions file released" for path in (out / "release").rglob("SOLUTIONS*")]
    for path in released:
        problems += release_problems(out / "source" / path.parent.name / path.name, path)
    if problems:
        raise KitError(f"the release is not clean ({len(problems)} problems): " + "; ".join(problems[:5]))
    return released


def plant(source: Path, target: Path, answers: dict[str, str]) -> None:
    """Write ``source`` to ``target`` with the solution cells named in ``answers`` (grade id → cell source)
    replaced: a submission with known answers, such as the wrong ones each lesson module lists in ``PLANTED``."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    missing = set(answers)
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
            missing.discard(grade_id)
    if missing:
        raise KitError(f"{source}: no solution cell {sorted(missing)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def threads_per_job(jobs: int) -> int:
    """The torch threads each of ``jobs`` parallel lessons gets: this process's cores shared out, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, jobs))


def _environment(quick: bool, jobs: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env[PROJECT_ENV] = str(project_root())
    env.setdefault(THREADS_ENV, str(threads_per_job(jobs)))
    env.pop(QUICK_ENV, None)
    if quick:
        env[QUICK_ENV] = "1"
    return env


def nbgrader(out: Path, *args: str, quick: bool = False, jobs: int = 1) -> None:
    """Run ``nbgrader ARGS`` in the course folder ``out``, one of ``jobs`` running at once (its kernels get their
    share of the cores); a failure raises ``KitError`` with its cause: the last exception line nbgrader printed
    (its own last line only says to read the traceback above), else its last line."""
    if importlib.util.find_spec("nbgrader") is None:
        raise KitError(f"nbgrader is not installed: {INSTALL_HINT}")
    env = _environment(quick, jobs)
    env[FIGURES_ENV] = str((out / "figures").resolve())
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=out, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
        cause = next((line for line in reversed(lines) if _EXCEPTION.match(line)), lines[-1])
        raise KitError(f"nbgrader {' '.join(args)} failed (exit {done.returncode}): {cause.strip()}")


def _autograde(out: Path, lessons: list[str], jobs: int, quick: bool, options: tuple[str, ...]) -> None:
    """``nbgrader autograde LESSON --force OPTIONS`` for each lesson, ``jobs`` processes at a time (one gradebook,
    which must exist: SQLite serialises their few writes, but two processes creating it at once fail)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(lambda lesson: nbgrader(out, "autograde", lesson, "--force", *options, quick=quick, jobs=jobs),
                      lessons))


def _add_students(out: Path, students: list[str]) -> None:
    """Put ``students`` in the gradebook (one ``nbgrader db student import``; a student already there is kept as
    is) before lessons are graded in parallel: each autograde creates its student when missing, by a look-up then
    an insert, so two lessons starting at once with a new student both insert it and one of them fails."""
    roster = out / "students.csv"
    with roster.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["id"], *([student] for student in students)])
    try:
        nbgrader(out, "db", "student", "import", roster.name)
    finally:
        roster.unlink()


def release(notebooks: Path, out: Path) -> list[Path]:
    """Write the student release of every lesson with exercises under ``<out>/release/``, checked clean.
    A ``lessonNN`` folder left in ``<out>/source/`` from a lesson that has lost its exercises is removed; one
    ``nbgrader generate_assignment`` releases every lesson (an assignment of the instructor's own is not touched)."""
    lessons = lessons_with_exercises(notebooks)
    if not lessons:
        raise KitError(f"{notebooks}: no lesson has an exercise (nbgrader solution or test cells)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    ids = {lesson_id(lesson) for lesson in lessons}
    for stale in (out / "source").glob(LESSONS):
        if stale.is_dir() and stale.name not in ids:
            shutil.rmtree(stale)
    for lesson in lessons:
        folder = out / "source" / lesson_id(lesson)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(lesson, folder / lesson.name)
    nbgrader(out, "generate_assignment", LESSONS, "--force")
    return check_release(out)


def collect(submissions: Path, out: Path) -> dict[str, list[str]]:
    """Copy ``SUBMISSIONS/<student>/<lessonNN>/*.ipynb`` into ``<out>/submitted/``; return the students of each
    lesson. Only lessons the release holds are taken; anything else is refused by name."""
    if not (out / "gradebook.db").is_file():
        raise KitError(f"{out}: no gradebook; run `alpaca-lessons course release --out {out}` first")
    found: dict[str, list[str]] = {}
    for notebook in sorted(submissions.glob("*/*/*.ipynb")):
        student, lesson = notebook.parent.parent.name, notebook.parent.name
        if not (out / "source" / lesson).is_dir():
            raise KitError(f"{notebook}: {lesson} is not a released lesson")
        target = out / "submitted" / student / lesson
        if student not in found.setdefault(lesson, []):
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            found[lesson].append(student)
        shutil.copy2(notebook, target / notebook.name)
    if not found:
        raise KitError(f"{submissions}: no submission (expected SUBMISSIONS/<student>/<lessonNN>/*.ipynb)")
    return found


def read_grades(path: Path) -> list[Grade]:
    """The rows of nbgrader's CSV export, as ``Grade`` records."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [Grade(row["student_id"], row["assignment"], float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(handle)]


def grade(submissions: Path, out: Path, *, jobs: int = 2, quick: bool = False, as_run: str | None = None,
          feedback: bool = True) -> list[Grade]:
    """Autograde every submission (lessons in ``jobs`` parallel processes), export ``<out>/grades.csv`` and write
    feedback to ``<out>/feedback/`` (refreshed for every graded submission); return the grades of the lessons
    submitted, by student then lesson.

    ``as_run`` names one student whose notebooks are graded on the outputs they hold, without running them again
    (CI's copy of the committed lessons, whose outputs nbval has just reproduced cell by cell); every other
    submission is executed as always. ``feedback=False`` skips the per-student HTML (a check that reads only the
    scores)."""
    lessons = collect(submissions, out)
    executed_lessons = sorted(lesson for lesson, students in lessons.items() if set(students) - {as_run})
    if min(jobs, len(executed_lessons)) > 1:
        _add_students(out, sorted({s for lesson in executed_lessons for s in lessons[lesson]} - {as_run}))
    if any(as_run in students for students in lessons.values()):
        nbgrader(out, "autograde", LESSONS, "--force", "--student", as_run, "--Execute.enabled=False",
                 "--ClearOutput.enabled=False", quick=quick)  # nothing runs: one process for every lesson
    not_as_run = (f"--CourseDirectory.student_id_exclude={as_run}",) if as_run is not None else ()
    _autograde(out, executed_lessons, jobs, quick, not_as_run)
    nbgrader(out, "export", "--to", "grades.csv")
    if feedback:
        nbgrader(out, "generate_feedback", "*", "--force")  # one process for every graded notebook
    grades = [g for g in read_grades(out / "grades.csv") if g.student in lessons.get(g.lesson, ())]
    return sorted(grades, key=lambda g: (g.student, g.lesson))


def table(grades: list[Grade]) -> str:
    """The grade table as aligned text: student, lesson, score / max."""
    width = max([len("student"), *(len(g.student) for g in grades)])
    rows = [f"{'student':<{width}}  lesson    score"]
    rows += [f"{g.student:<{width}}  {g.lesson}  {g.score:g} / {g.max_score:g}" for g in grades]
    return "\n".join(rows)
