"""The instructor kit: the release holds no solution, the release scores 0, the source full points, a planted
wrong answer less. First on a hand-made lesson (two exercises, one with a hidden test), then on every lesson of
the course that has exercises. The nbgrader runs are marked ``kit`` (``make kit``, which installs the extra)."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest

from alpaca_lessons.cli import main
from alpaca_lessons.common.paths import project_root
from alpaca_lessons.course import kit

ROOT = Path(__file__).resolve().parent.parent


def _nbgrader(grade_id: str, **fields) -> dict:
    return {"nbgrader": {"schema_version": 3, "grade_id": grade_id, **fields}}


def _code(source: str, metadata: dict | None = None, output: str | None = None) -> dict:
    outputs = [{"name": "stdout", "output_type": "stream", "text": output}] if output else []
    return {"cell_type": "code", "execution_count": 1 if output else None,
            "metadata": metadata or {}, "outputs": outputs, "source": source}


SOLUTION = '    ### BEGIN SOLUTION\n    return n * 2\n    ### END SOLUTION'
# A plausible wrong answer that passes the visible test (n = 3) and fails only the hidden one (n = -4).
PLANTED = {"l01-double": 'def double(n: int) -> int:\n    """Twice n."""\n    return abs(n) * 2'}


def write_lesson(folder: Path, name: str = "01_fixture.ipynb") -> Path:
    """A small executed lesson in nbgrader's source form: a demonstration cell sized by quick mode; exercise
    ``double`` (2 points, one visible and one hidden test) and ``greet`` (1 point); a cell using ``double``."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Lesson 01 (fixture)"},
        _code("from alpaca_lessons.common.paths import project_root\nfrom alpaca_lessons.course.quick import sized\n"
              "print(sized(1000, 10), project_root())", output="1000 /somewhere\n"),
        _code('def double(n: int) -> int:\n    """Twice n."""\n' + SOLUTION,
              _nbgrader("l01-double", grade=False, solution=True, locked=False)),
        _code("assert double(3) == 6, f'double(3): expected 6, got {double(3)}'\n### BEGIN HIDDEN TESTS\n"
              "assert double(-4) == -8, f'double(-4): expected -8, got {double(-4)}'\n### END HIDDEN TESTS",
              _nbgrader("l01-double-tests", grade=True, solution=False, locked=True, points=2)),
        _code('def greet(name: str) -> str:\n    ### BEGIN SOLUTION\n    return f"hello {name}"\n'
              "    ### END SOLUTION", _nbgrader("l01-greet", grade=False, solution=True, locked=False)),
        _code("assert greet('kit') == 'hello kit'",
              _nbgrader("l01-greet-tests", grade=True, solution=False, locked=True, points=1)),
        _code("print(double(21))", output="42\n"),
    ]
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(notebook, indent=1) + "\n")
    return folder / name


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# --- the scan and the helpers, without nbgrader -------------------------------------------------------------

def test_region_lines_split_solution_from_given_code(tmp_path):
    lesson = write_lesson(tmp_path)
    inside, outside = kit.region_lines(lesson, "solution")
    assert inside == {"return n * 2", 'return f"hello {name}"'}
    assert "def double(n: int) -> int:" in outside
    assert kit.region_lines(lesson, "hidden")[0] == {"assert double(-4) == -8, f'double(-4): expected -8, got "
                                                     "{double(-4)}'"}


def test_a_leaking_release_is_caught_line_by_line(tmp_path):
    source = write_lesson(tmp_path / "source")
    leaked = write_lesson(tmp_path / "release")  # the source itself, "released" untouched
    problems = kit.release_problems(source, leaked)
    assert "01_fixture.ipynb: solution line left in: 'return n * 2'" in problems
    assert any("hidden line left in" in p for p in problems)
    assert "01_fixture.ipynb: marker left in: '### BEGIN SOLUTION'" in problems
    assert "01_fixture.ipynb: cell 1 keeps its output" in problems


def test_lessons_are_found_by_their_nbgrader_cells(tmp_path):
    write_lesson(tmp_path)
    (tmp_path / "02_plain.ipynb").write_text(json.dumps({"cells": [_code("print(1)")], "metadata": {},
                                                         "nbformat": 4, "nbformat_minor": 5}))
    assert kit.lessons_with_exercises(tmp_path) == [tmp_path / "01_fixture.ipynb"]
    (tmp_path / "06a_part.ipynb").write_text((tmp_path / "01_fixture.ipynb").read_text())
    (tmp_path / "06_notes.md").write_text("not a notebook")
    assert kit.lessons_with_exercises(tmp_path) == [tmp_path / "01_fixture.ipynb", tmp_path / "06a_part.ipynb"]
    assert [kit.lesson_id(Path(n)) for n in ("08_pairwise.ipynb", "06a_supervised.ipynb")] == ["lesson08", "lesson06a"]
    with pytest.raises(kit.KitError, match="not a lesson notebook"):
        kit.lesson_id(Path("GLOSSARY.ipynb"))


def test_plant_replaces_only_the_named_solution(tmp_path):
    planted = tmp_path / "planted.ipynb"
    kit.plant(write_lesson(tmp_path), planted, PLANTED)
    sources = [_source(c) for c in json.loads(planted.read_text())["cells"]]
    assert sources[2] == PLANTED["l01-double"] and "hello {name}" in sources[4]
    with pytest.raises(kit.KitError, match="no solution cell"):
        kit.plant(write_lesson(tmp_path), planted, {"l01-nothing": "x = 1"})


def test_without_nbgrader_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(kit.importlib.util, "find_spec", lambda name: None)
    write_lesson(tmp_path / "nbs")
    assert main(["course", "release", "--notebooks", str(tmp_path / "nbs"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(kit.INSTALL_HINT)


def test_parallel_lessons_share_the_cores_unless_told(monkeypatch):
    monkeypatch.setattr(kit.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4}, raising=False)
    assert [kit.threads_per_job(jobs) for jobs in (1, 2, 3, 5, 8)] == [5, 2, 1, 1, 1]
    monkeypatch.delenv(kit.THREADS_ENV, raising=False)
    assert kit._environment(quick=False, jobs=2)[kit.THREADS_ENV] == "2"
    monkeypatch.setenv(kit.THREADS_ENV, "3")  # the instructor's own setting wins
    assert kit._environment(quick=False, jobs=2)[kit.THREADS_ENV] == "3"


def test_a_failing_nbgrader_is_reported_by_its_exception_not_its_last_line(tmp_path, monkeypatch):
    stderr = ("[AutogradeApp | ERROR] There was an error processing assignment: lesson01\nTraceback (most recent "
              "call last):\n  File \"gradebook.py\", line 1\nsqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) "
              "UNIQUE constraint failed: student.id\n[AutogradeApp | ERROR] Please see the the above traceback for "
              "details on the specific errors on the above failures.\n")
    monkeypatch.setattr(kit.subprocess, "run", lambda *a, **k: kit.subprocess.CompletedProcess(a, 1, "", stderr))
    monkeypatch.setattr(kit.importlib.util, "find_spec", lambda name: object())
    with pytest.raises(kit.KitError) as caught:
        kit.nbgrader(tmp_path, "autograde", "lesson01")
    assert str(caught.value) == ("nbgrader autograde lesson01 failed (exit 1): sqlalchemy.exc.IntegrityError: "
                                 "(sqlite3.IntegrityError) UNIQUE constraint failed: student.id")


def test_students_are_put_in_the_gradebook_before_lessons_run_in_parallel(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(kit, "nbgrader", lambda out, *args, **kw: seen.append(
        (args, (out / args[-1]).read_text(encoding="utf-8"))))
    kit._add_students(tmp_path, ["ada", "bo, jr"])
    assert seen == [(("db", "student", "import", "students.csv"), 'id\nada\n"bo, jr"\n')]
    assert not (tmp_path / "students.csv").exists()


def test_grading_before_a_release_is_one_line(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["course", "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")]) == 2
    assert "run `alpaca-lessons course release" in capsys.readouterr().err


# --- end to end under nbgrader -------------------------------------------------------------------------------

def _students(source: Path, released: Path, planted: dict[str, str], submissions: Path, lesson: str) -> None:
    """Three submissions of one lesson: the complete source, the untouched release, the planted wrong answer."""
    for student, notebook in (("source", source), ("release", released)):
        (submissions / student / lesson).mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, submissions / student / lesson / source.name)
    kit.plant(source, submissions / "planted" / lesson / source.name, planted)


@pytest.mark.kit
def test_fixture_lesson_end_to_end(tmp_path, capsys):
    pytest.importorskip("nbgrader")
    notebooks, out = tmp_path / "notebooks", tmp_path / "course"
    source = write_lesson(notebooks)
    write_lesson(notebooks, "02_fixture.ipynb")  # a second lesson: one release for both, one not submitted
    (notebooks / "SOLUTIONS.md").write_text("the answers\n")
    (out / "source" / "lesson03").mkdir(parents=True)  # left from a lesson that has since lost its exercises
    write_lesson(out / "source" / "hw1")  # an assignment of the instructor's own: neither removed nor released
    assert main(["course", "release", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "source").iterdir()) == ["hw1", "lesson01", "lesson02"]
    assert sorted(p.name for p in (out / "release").iterdir()) == ["lesson01", "lesson02"]
    released = out / "release" / "lesson01" / "01_fixture.ipynb"
    cells = json.loads(released.read_text())["cells"]
    assert _source(cells[2]) == 'def double(n: int) -> int:\n    """Twice n."""\n    ' + kit.STUB
    assert _source(cells[3]) == "assert double(3) == 6, f'double(3): expected 6, got {double(3)}'"
    assert all(not c.get("outputs") for c in cells) and not list(out.rglob("SOLUTIONS*"))
    assert (out / "release" / "lesson02" / "02_fixture.ipynb").is_file()

    _students(source, released, PLANTED, tmp_path / "subs", "lesson01")
    assert main(["course", "grade", str(tmp_path / "subs"), "--out", str(out), "--quick"]) == 0
    rows = kit.read_grades(out / "grades.csv")  # every student x released lesson; lesson02 was not submitted
    assert {(g.lesson, g.score) for g in rows if g.lesson == "lesson02"} == {("lesson02", 0.0)}
    assert [g for g in rows if g.lesson == "lesson01"] == [  # nbgrader's order: by student id
        kit.Grade("planted", "lesson01", 1.0, 3.0), kit.Grade("release", "lesson01", 0.0, 3.0),
        kit.Grade("source", "lesson01", 3.0, 3.0)]
    assert "source   lesson01  3 / 3" in capsys.readouterr().out
    for student in ("source", "release", "planted"):
        assert (out / "feedback" / student / "lesson01" / "01_fixture.html").is_file()
    graded = json.loads((out / "autograded" / "source" / "lesson01" / "01_fixture.ipynb").read_text())
    assert "".join(graded["cells"][1]["outputs"][0]["text"]) == f"10 {project_root()}\n"  # quick mode and the checkout


@pytest.mark.kit
def test_committed_outputs_are_graded_as_they_stand(tmp_path):
    """``as_run``: a student's notebook is graded on the outputs it holds, not run again: clean outputs score
    full points and keep their text (the demonstration cell still says 1000, not quick mode's 10); an error
    output left in a test cell costs that test's points."""
    pytest.importorskip("nbgrader")
    notebooks, out = tmp_path / "notebooks", tmp_path / "course"
    source = write_lesson(notebooks)
    kit.release(notebooks, out)
    broken = json.loads(source.read_text())
    broken["cells"][5]["outputs"] = [{"output_type": "error", "ename": "AssertionError", "evalue": "",
                                      "traceback": ["AssertionError"]}]
    for student, notebook in (("as-run", json.loads(source.read_text())), ("broken", broken)):
        (tmp_path / "subs" / student / "lesson01").mkdir(parents=True)
        (tmp_path / "subs" / student / "lesson01" / source.name).write_text(json.dumps(notebook))
        grades = {g.student: g.score for g in kit.grade(tmp_path / "subs", out, quick=True, as_run=student,
                                                        feedback=False)}
        assert grades[student] == {"as-run": 3.0, "broken": 2.0}[student]
        shutil.rmtree(tmp_path / "subs" / student)
    graded = json.loads((out / "autograded" / "as-run" / "lesson01" / source.name).read_text())
    assert "".join(graded["cells"][1]["outputs"][0]["text"]) == "1000 /somewhere\n"


def planted_for(lesson: Path) -> dict[str, str]:
    """The wrong answers the lesson's module (``course.lessonNN``, shared by parts 06a and 06b) plants in this
    notebook: the ``PLANTED`` entries whose grade id is one of its solution cells."""
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in json.loads(lesson.read_text())["cells"]}
    module = importlib.import_module(f"alpaca_lessons.course.lesson{lesson.name[:2]}")
    return {grade_id: wrong for grade_id, wrong in module.PLANTED.items() if grade_id in ids}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The real lessons released once for both checks below: nbgrader's course folder."""
    pytest.importorskip("nbgrader")
    out = tmp_path_factory.mktemp("kit") / "course"
    kit.release(ROOT / "notebooks", out)
    return out


@pytest.mark.kit
def test_every_lesson_releases_without_its_solutions_and_has_a_planted_wrong_answer(course):
    """Every real lesson: the release holds no solution line, hidden test, marker, output or SOLUTIONS file
    (``kit.release`` scans it and raises otherwise), every solution cell became the stub, and every lesson
    notebook has a PLANTED wrong answer for the grading check below."""
    lessons = kit.lessons_with_exercises(ROOT / "notebooks")
    assert len(lessons) >= 9  # 01-05, 06a, 06b, 07, 08
    for lesson in lessons:
        released = course / "release" / kit.lesson_id(lesson) / lesson.name
        solutions = [c for c in json.loads(released.read_text())["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert solutions and all("raise NotImplementedError" in "".join(c["source"]) for c in solutions), lesson
        assert planted_for(lesson), f"{lesson.name}: its lesson module's PLANTED has no wrong answer for it"


@pytest.mark.kit
def test_every_lesson_with_exercises(course, tmp_path):
    """The full check on every real lesson, in CI: one autograde run per lesson (lessons two at a time, one torch
    thread each, quick mode) grading three students: the source, the release, the lesson module's PLANTED wrong
    answer."""
    lessons = kit.lessons_with_exercises(ROOT / "notebooks")
    for lesson in lessons:
        name, planted = kit.lesson_id(lesson), planted_for(lesson)
        assert planted, f"{lesson.name}: its lesson module's PLANTED has no wrong answer for this notebook"
        _students(lesson, course / "release" / name / lesson.name, planted, tmp_path / "subs", name)
    # the source is graded on its committed outputs, which make test's nbval has just reproduced cell by cell;
    # the release and the planted answer are executed (test_committed_outputs_are_graded_as_they_stand); the
    # feedback HTML is checked on the fixture lesson
    grades = {(g.student, g.lesson): g for g in kit.grade(tmp_path / "subs", course, jobs=2, quick=True,
                                                          as_run="source", feedback=False)}
    for lesson in map(kit.lesson_id, lessons):
        full = grades["source", lesson].max_score
        assert full > 0 and grades["source", lesson].score == full, lesson
        assert grades["release", lesson].score == 0, lesson
        assert grades["planted", lesson].score < full, lesson
