"""llama.cpp itself (the ``laptop`` extra: ``pip install -e '.[laptop]'``; skipped without it) loads the course's
exported GGUF, tokenizes as the Hugging Face tokenizer does, answers greedily with Alpaca's template exactly as
the package's own greedy decoding, and serves the file through the teacher server."""

from __future__ import annotations

import pytest

from alpaca_lessons.data import Record
from alpaca_lessons.generation.teacher import Sampling, Teacher, TeacherServer
from alpaca_lessons.models.gguf_export import export_gguf
from alpaca_lessons.models.infer import generate, load
from alpaca_lessons.models.modeling import course_model_dir
from alpaca_lessons.models.templates import training_prompt

pytestmark = pytest.mark.laptop
llama_cpp = pytest.importorskip("llama_cpp", reason="the laptop extra (llama-cpp-python) is not installed")

RECORDS = [Record("Give three tips for staying healthy."), Record("Name three primary colors."),
           Record("Translate the sentence into French.", "The cat sleeps.")]
NEW_TOKENS = 48


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from alpaca_lessons.generation.teacher.gguf import GGUFModel

    path = export_gguf(course_model_dir(), tmp_path_factory.mktemp("gguf") / "course-f32.gguf", "f32").path
    return GGUFModel(path)


def test_llama_cpp_tokenizes_as_hugging_face(served):
    _, tokenizer = load(course_model_dir())
    for record in RECORDS:
        prompt = training_prompt(record)
        assert served.tokenize(prompt) == tokenizer(prompt)["input_ids"]


def test_greedy_answers_match_the_package(served):
    model, tokenizer = load(course_model_dir())
    ours = generate(model, tokenizer, RECORDS, temperature=0, max_new_tokens=NEW_TOKENS, progress=False)
    for record, expected in zip(RECORDS, ours, strict=True):
        answer = served.complete(training_prompt(record), Sampling(NEW_TOKENS, temperature=0.0), draw=0)
        assert answer.text.strip() == expected.text


def test_the_teacher_server_serves_the_gguf(served):
    with TeacherServer(served) as server:
        teacher = Teacher(server.base_url, served.name, timeout=60, max_attempts=1)
        reply = teacher.ask([training_prompt(RECORDS[0])], Sampling(8, temperature=0.0))
    assert reply.error is None and reply.choices[0][0].text.strip()
