"""notebooks/GLOSSARY.md: its headings are the course's fixed list, every link to it from a lesson (and within
it) lands on a heading, and its worked examples agree with the package and with rouge-score."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from alpaca_lessons.common.stats import cohen_kappa, sign_test, wilson_interval
from alpaca_lessons.common.text import rouge_tokens
from alpaca_lessons.data.records import read_records
from alpaca_lessons.evaluation.metrics import win_rate
from alpaca_lessons.generation.novelty.reference import lcs_table_length, rouge_l
from alpaca_lessons.training.memory.estimate import GPUS
from alpaca_lessons.training.memory.flops import mfu

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GLOSSARY = NOTEBOOKS / "GLOSSARY.md"

#: The headings every lesson links to (issue 14's shared design, spec14), in this order.
TERMS = ["Instruction tuning", "Self-Instruct", "Seed task", "Teacher model", "Token", "BPE tokenizer",
         "p50k and r50k", "Logit bias", "Novelty filter", "LCS", "ROUGE-L", "Verb-noun structure",
         "Wilson interval", "Cohen's kappa", "Label masking", "Padding and packing", "Attention mask", "BlockMask",
         "sdpa and flex attention", "Gradient accumulation", "Mixed precision (bf16)", "FSDP", "gloo and NCCL",
         "LoRA", "MFU", "Green-list watermark", "z-score", "Sign test", "Position bias", "Win rate", "LLM judge",
         "nbgrader", "Quantization", "Q4_0", "GGUF", "KV cache", "Perplexity", "Moderation"]

_LINK = re.compile(r"\]\(([^)\s]*)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower-case, punctuation other than '-' and '_' dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_text() -> str:
    return GLOSSARY.read_text(encoding="utf-8")


def headings() -> list[str]:
    return [line[3:].strip() for line in glossary_text().splitlines() if line.startswith("## ")]


def section(term: str) -> str:
    """The text under one ``##`` heading of the glossary."""
    text = glossary_text()
    start = text.index(f"\n## {term}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def notebook_glossary_links() -> list[tuple[str, str]]:
    """(notebook, anchor) for every markdown link to GLOSSARY.md in every lesson."""
    links = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for target in _LINK.findall("".join(cell["source"])):
                if target.split("#")[0] == "GLOSSARY.md":
                    links.append((path.name, target.partition("#")[2]))
    return links


@pytest.mark.parametrize(("heading", "expected"), [
    ("p50k and r50k", "p50k-and-r50k"), ("Cohen's kappa", "cohens-kappa"),
    ("Mixed precision (bf16)", "mixed-precision-bf16"), ("Verb-noun structure", "verb-noun-structure"),
    ("sdpa and flex attention", "sdpa-and-flex-attention"), ("ROUGE-L", "rouge-l"), ("z-score", "z-score")])
def test_anchor_is_githubs(heading, expected):
    assert anchor(heading) == expected


def test_headings_are_exactly_the_fixed_list():
    assert headings() == TERMS


def test_every_lesson_link_to_the_glossary_lands_on_a_heading():
    known = {anchor(h) for h in headings()}
    broken = [(notebook, target) for notebook, target in notebook_glossary_links() if target not in known]
    assert not broken, f"links to GLOSSARY.md with no such heading (notebook, anchor): {broken}"


def test_links_inside_the_glossary_land_on_a_heading():
    known = {anchor(h) for h in headings()}
    internal = [t[1:] for t in _LINK.findall(glossary_text()) if t.startswith("#")]
    assert internal, "the glossary cross-links its terms"
    assert sorted(set(internal) - known) == []


def test_every_term_says_where_the_course_uses_it():
    missing = [term for term in TERMS if "Used in" not in section(term) and "Used by" not in section(term)]
    assert missing == []


# ---------------------------------------------------------------- the worked examples, against the package
A = "Give three tips for staying healthy."
B = "Give me three tips for a healthy life."


def test_lcs_example_sentence_is_record_0_of_the_52k(real_data):
    assert read_records("alpaca_data")[0].instruction == A


def test_lcs_example_tokens_are_rouge_scores():
    text = section("LCS")
    assert "`a` = give three tips for staying healthy (6 tokens)" in text
    assert "`b` = give me three tips for a healthy life (8 tokens)" in text
    assert rouge_tokens(A) == "give three tips for staying healthy".split()
    assert rouge_tokens(B) == "give me three tips for a healthy life".split()


def test_lcs_table_written_by_hand_equals_the_package_on_every_prefix():
    rows = [line for line in section("LCS").splitlines() if line.startswith("| ")]
    header, body = rows[0], rows[1:]  # the |---| line does not start with "| "
    b = [cell.strip() for cell in header.strip("|").split("|")][2:]
    assert b == rouge_tokens(B)
    a_prefix: list[str] = []
    for i, row in enumerate(body):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if i:
            a_prefix.append(cells[0])
        assert [int(c) for c in cells[1:]] == [lcs_table_length(a_prefix, b[:j]) for j in range(len(b) + 1)]
    assert a_prefix == rouge_tokens(A)
    assert lcs_table_length(rouge_tokens(A), rouge_tokens(B)) == 5


def test_rouge_l_example_equals_rouge_score_and_the_package():
    score = rouge_scorer.RougeScorer(["rougeL"]).score(A, B)["rougeL"]
    assert (score.precision, score.recall) == (5 / 8, 5 / 6)
    assert score.fmeasure == pytest.approx(10 / 14)
    assert rouge_l(rouge_tokens(A), rouge_tokens(B)) == score.fmeasure
    assert f"{score.fmeasure:.3f}" == "0.714"
    assert "≈ **0.714**" in section("ROUGE-L")


def test_mfu_example():
    value = mfu(7_000_000_000, 3000, GPUS["A100-80GB"])
    assert value == pytest.approx(6 * 7e9 * 3000 / 312e12)
    assert f"≈ **{value:.1%}**" in section("MFU")


def test_wilson_example():
    low, high = wilson_interval(148, 200)
    assert f"{low:.1%}–{high:.1%}" in section("Wilson interval")


def test_kappa_example():
    # 200 items: both 'valid' 165, only the first 15, only the second 15, both 'invalid' 5 -> each says valid
    # 90%, they agree on 85%: kappa = (0.85 - 0.82) / 0.18 = 1/6.
    first = ["v"] * 165 + ["v"] * 15 + ["x"] * 15 + ["x"] * 5
    second = ["v"] * 165 + ["x"] * 15 + ["v"] * 15 + ["x"] * 5
    assert cohen_kappa(first, second) == pytest.approx(1 / 6)
    assert "≈ 0.17" in section("Cohen's kappa")


def test_sign_test_and_z_examples():
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert "≈ 0.021" in section("Sign test")
    z = (40 - 25) / 18.75 ** 0.5
    assert f"{z:.2f}" == "3.46" and "≈ 3.46" in section("z-score")


def test_win_rate_counts_ties_as_half():
    assert win_rate(2, 2, 0).rate == 0.75
    assert "(wins + ties/2)/n" in section("Win rate")
