"""Every command that reads or writes a file, against every bad input: one line on stderr that names the file
(and the line), exit code 2, no traceback, and nothing written.

The data files are under ``tests/bad_inputs/`` (see its README); the binary ones are made by the fixture.
Each case also says what the message must contain, so a command that fails for another reason (a missing
model, an unrelated bug) does not pass.
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from alpaca_lessons.cli import main

HERE = Path(__file__).parent / "bad_inputs"
RECORDS = [{"instruction": "Name a fruit.", "input": "", "output": "Apple."},
           {"instruction": "Sort the numbers.", "input": "3 1 2", "output": "1 2 3"}]
SEED = {"id": "seed_task_0", "name": "fruit", "instruction": "Name a vegetable.",
        "instances": [{"input": "", "output": "Carrot."}], "is_classification": False}
GZIPPED = gzip.compress(json.dumps(RECORDS).encode(), mtime=0)

# name -> (bytes, the message the reader must give after "<file>")
BINARY: dict[str, tuple[bytes, str]] = {
    "not_utf8.jsonl": (json.dumps(RECORDS[0]).encode() + b'\n{"instruction": "caf\xe9", "output": "x"}\n',
                       ":2: not UTF-8 text (byte e9 at column 21)"),
    "truncated.json.gz": (GZIPPED[: len(GZIPPED) // 2], ": truncated gzip file"),
    "zero_bytes.json.gz": (b"", ": the file is empty: no records"),
    "not_gzip.jsonl.gz": (json.dumps(RECORDS[0]).encode() + b"\n", ": not a valid gzip file"),
}
TEXT: dict[str, str] = {
    "empty.jsonl": ": the file is empty: no records",
    "blank.json": ": the file is empty: no records",
    "empty_list.json": ": the list is empty: no records",
    "text_after_list.json": ":6: malformed JSON: text after the closing ']' of the list",
    "unclosed_list.json": ":3: malformed JSON: the list is not closed with ']'",
    "malformed_line.jsonl": ":2: malformed JSON: Expecting ',' delimiter",
}
BAD = sorted([*BINARY, *TEXT])


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> Path:
    """The corpus: copies of tests/bad_inputs and the binary cases, one folder."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    for name in TEXT:
        shutil.copy(HERE / name, folder / name)
    for name, (raw, _) in BINARY.items():
        (folder / name).write_bytes(raw)
    return folder


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder holding good inputs (records.json, seeds.jsonl), a folder and a plain file."""
    (tmp_path / "records.json").write_text(json.dumps(RECORDS))
    (tmp_path / "seeds.jsonl").write_text(json.dumps(SEED) + "\n")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("not a folder\n")
    return tmp_path


def files(folder: Path) -> set[Path]:
    """Every file and folder under ``folder``: a refused command leaves neither (``train`` reads its data
    before it makes its run folder)."""
    return set(folder.rglob("*"))


def assert_one_line_error(argv: list[str], capsys, watched: Path, *, names: str, says: str) -> None:
    """``main(argv)`` exits 2 with one error line holding ``names`` then ``says``; ``watched`` gains no file."""
    before = files(watched)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("alpaca-lessons: error: ") and "Traceback" not in err
    assert f"{names}{says}" in err, err
    assert files(watched) == before  # nothing written, not even half a file or a temporary one


# -- data files: every command that reads one, every bad file ---------------------------------------

# command -> argv with {bad} (the bad file), {w} (the work folder)
DATA_COMMANDS: dict[str, list[str]] = {
    "dedup IN": ["dedup", "{bad}", "--seeds", "{w}/seeds.jsonl", "--out", "{w}/out/kept.jsonl", "--no-progress"],
    "dedup --seeds": ["dedup", "{w}/records.json", "--seeds", "{bad}", "--out", "{w}/out/kept.jsonl",
                      "--no-progress"],
    "diversity": ["diversity", "{bad}", "--no-rouge", "--no-cache", "--out", "{w}/out/fig",
                  "--result", "{w}/out/result.json"],
    "audit": ["audit", "{bad}"],
    "train --data": ["train", "--data", "{bad}", "--output-dir", "{w}/out/model", "--model", "tiny"],
    "evaluate blind --systems FIRST": ["evaluate", "blind", "--systems", "{bad}", "{w}/records.json",
                                       "--store", "{w}/out/judgments.jsonl", "--annotator", "me", "status"],
    "evaluate blind --systems SECOND": ["evaluate", "blind", "--systems", "{w}/records.json", "{bad}",
                                        "--store", "{w}/out/judgments.jsonl", "--annotator", "me", "status"],
}


def fill(argv: list[str], **values: object) -> list[str]:
    return [a.format(**{k: str(v) for k, v in values.items()}) for a in argv]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("command", sorted(DATA_COMMANDS))
def test_a_bad_data_file(command, bad, bad_dir, work, capsys):
    says = BINARY[bad][1] if bad in BINARY else TEXT[bad]
    assert_one_line_error(fill(DATA_COMMANDS[command], bad=bad_dir / bad, w=work), capsys, work,
                          names=str(bad_dir / bad), says=says)


# -- outputs: a folder, a path under a file, the input itself -----------------------------------------

# command -> argv with {out} (the output path); a command given a folder for a file, or a path under a file
OUTPUT_COMMANDS: dict[str, list[str]] = {
    "dedup --out": ["dedup", "{w}/records.json", "--seeds", "{w}/seeds.jsonl", "--out", "{out}", "--no-progress"],
    "diversity --result": ["diversity", "{w}/records.json", "--no-rouge", "--no-cache", "--out", "{w}/figs/fig",
                           "--result", "{out}"],
    "evaluate generate --out": ["evaluate", "generate", "--model", "{w}/no_model", "--out", "{out}"],
    "evaluate blind --store": ["evaluate", "blind", "--systems", "{w}/records.json", "{w}/records.json",
                               "--store", "{out}", "--annotator", "me", "status"],
    "generate --output": ["generate", "--output", "{out}", "--num-tasks", "1", "--no-progress"],
}
# the bad output -> (the path, relative to the work folder; the path named; the message)
OUTPUTS: dict[str, Callable[[Path], tuple[Path, str, str]]] = {
    "a folder": lambda w: (w / "a_folder", str(w / "a_folder"), ": is a directory"),
    "under a file": lambda w: (w / "a_file" / "x.json", str(w / "a_file" / "x.json"),
                               f": cannot be written: {w / 'a_file'} is a file, not a folder"),
}


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_an_output_that_cannot_be_written(command, output, work, capsys, monkeypatch):
    monkeypatch.setenv("ALPACA_LESSONS_FIGURES", str(work / "figs"))
    path, names, says = OUTPUTS[output](work)
    assert_one_line_error(fill(OUTPUT_COMMANDS[command], out=path, w=work), capsys, work, names=names, says=says)


def test_diversity_figures_that_cannot_be_written(work, capsys):
    # --out is a prefix: the figures are <out>_sunburst.png, <out>_lengths.png, <out>_rouge.png
    (work / "fig_lengths.png").mkdir()
    argv = ["diversity", str(work / "records.json"), "--no-rouge", "--no-cache", "--out"]
    assert_one_line_error([*argv, str(work / "fig")], capsys, work, names=str(work / "fig_lengths.png"),
                          says=": is a directory")
    assert_one_line_error([*argv, str(work / "a_file" / "fig")], capsys, work,
                          names=str(work / "a_file" / "fig_sunburst.png"), says=": cannot be written")


def test_dedup_refuses_to_overwrite_its_input(work, capsys):
    before = (work / "records.json").read_bytes()
    assert_one_line_error(["dedup", str(work / "records.json"), "--seeds", str(work / "seeds.jsonl"),
                           "--out", str(work / "records.json"), "--no-progress"], capsys, work,
                          names=str(work / "records.json"), says=": is also the input")
    assert (work / "records.json").read_bytes() == before


# -- the course's own logs (judgments, generated tasks): a line that is not UTF-8 or not JSON -----------

STORE_COMMANDS: dict[str, list[str]] = {
    "evaluate stats --file": ["evaluate", "stats", "--file", "{bad}"],
    "evaluate blind --store": ["evaluate", "blind", "--store", "{bad}", "--annotator", "me", "status"],
    "generate --output": ["generate", "--output", "{bad}", "--num-tasks", "1", "--no-progress"],
}
STORES: dict[str, tuple[bytes, str]] = {
    "not_utf8.jsonl": (b'{"a": 1}\n{"a": "caf\xe9"}\n{"a": 3}\n', ":2: malformed JSON line: not UTF-8"),
    "malformed.jsonl": (b'{"a": 1}\n{"a": \n{"a": 3}\n', ":2: malformed JSON line"),
}


@pytest.mark.parametrize("bad", sorted(STORES))
@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_a_bad_log(command, bad, work, capsys, real_data):
    raw, says = STORES[bad]
    (work / bad).write_bytes(raw)
    assert_one_line_error(fill(STORE_COMMANDS[command], bad=work / bad), capsys, work, names=str(work / bad),
                          says=says)
    assert (work / bad).read_bytes() == raw


@pytest.mark.parametrize("command", ["evaluate stats --file", "evaluate blind --store"])
def test_a_log_that_is_a_folder(command, work, capsys, real_data):
    assert_one_line_error(fill(STORE_COMMANDS[command], bad=work / "a_folder"), capsys, work,
                          names=str(work / "a_folder"), says=": is a directory")


# -- a port in use, an unknown pair id ---------------------------------------------------------------


def test_teacher_serve_on_a_port_in_use(work, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(["teacher", "serve", "--port", str(port), "--model", "length-baseline"], capsys,
                              work, names=f"127.0.0.1:{port}", says=": cannot listen there: Address already in use")


def test_evaluate_blind_record_of_an_unknown_pair_id(work, capsys, real_data):
    store = work / "judgments.jsonl"
    assert_one_line_error(["evaluate", "blind", "--store", str(store), "--annotator", "me", "record", "pair-9999",
                           "A"], capsys, work, names=str(store), says=": unknown pair id 'pair-9999'")
    assert not store.exists()
