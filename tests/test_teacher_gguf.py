"""llama.cpp itself (the ``laptop`` extra: ``pip install -e '.[laptop]'``; skipped without it) loads the course's
exported GGUF, tokenizes as the Hugging Face tokenizer does, answers greedily with Alpaca's template exactly as
the package's own greedy decoding, and serves the file through the teacher server. Without the extra, asking for
a GGUF model says how to install it."""



from __future__ import annotations

import importlib.util

import pytest

from alpaca_lessons.data import Record
from alpaca_lessons.generation.teacher import Sampling, Teacher, TeacherServer
from alpaca_lessons.models.gguf_export import export_gguf
from alpaca_lessons.models.infer import generate, load
from alpaca_lessons.models.modeling import course_model_dir
from alpaca_lessons.models.templates import training_prompt

HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
laptop = pytest.mark.skipif(not HAS_LLAMA_CPP, reason="the laptop extra (llama-cpp-python) is not installed")

RECORDS = [Record("Give three tips for staying healthy."), Record("Name three primary colors."),
           Record("Translate the sentence into French.", "The cat sleeps.")]
NEW_TOKENS = 48


@pytest.mark.skipif(HAS_LLAMA_CPP, reason="llama-cpp-python is installed")
def test_without_the_extra_the_error_says_how_to_install(tmp_path):
    from alpaca_lessons.cli import main

    assert main(["teacher", "serve", "--model", str(tmp_path / "m.gguf"), "--port", "0"]) == 2


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from alpaca_lessons.generation.teacher.gguf import GGUFModel

    path = export_gguf(course_model_dir(), tmp_path_factory.mktemp("gguf") / "course-f32.gguf", "f32").path
    return GGUFModel(path)


@pytest.mark.laptop
@laptop
def test_llama_cpp_tokenizes_as_hugging_face(served):
    _, tokenizer = load(course_model_dir())
    for record in RECORDS:
        prompt = training_prompt(record)
        assert served.tokenize(prompt) == tokenizer(prompt)["input_ids"]


@pytest.mark.laptop
@laptop
def test_greedy_answers_match_the_package(served):
    model, tokenizer = load(course_model_dir())
    ours = generate(model, tokenizer, RECORDS, temperature=0, max_new_tokens=NEW_TOKENS, progress=False)
    for record, expected in zip(RECORDS, ours, strict=True):
        answer = served.complete(training_prompt(record), Sampling(NEW_TOKENS, temperature=0.0), draw=0)
        assert answer.text.strip() == expected.text


@pytest.mark.laptop
@laptop
def test_the_teacher_server_serves_the_gguf(served):
    with TeacherServer(served) as server:
        teacher = Teacher(server.base_url, served.name, timeout=60, max_attempts=1)
        reply = teacher.ask([training_prompt(RECORDS[0])], Sampling(8, temperature=0.0))
    assert reply.error is None and reply.choices[0][0].text.strip()
