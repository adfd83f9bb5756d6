"""Each audit check on crafted records: it flags what it should and leaves the look-alikes alone."""

import random
import re
import time

import pytest

from alpaca_lessons.analysis.audit import (
    CHECKS,
    MAX_FIELD_CHARS,
    audit,
    format_report,
    guess_language,
    instruction_tokens,
    last_list_item,
    list_endings,
    placeholder_key,
    rule_precision,
    without_addresses,
)
from alpaca_lessons.cli import main
from alpaca_lessons.data import Record, write_records

CHECK = {c.name: c for c in CHECKS}


def flagged(name, records):
    return [i for i, _ in CHECK[name].find(records)]


def test_empty_output():
    assert flagged("empty_output", [Record("a", "", ""), Record("b", "", " \n"), Record("c", "", "0")]) == [0, 1]


def test_placeholder_output():
    records = [Record("Design a logo.", "", out) for out in ("<nooutput>", "<No Output>", "N/A", "None.",
                                                                "No output is needed here", "Nonetheless, yes.")]
    assert flagged("placeholder_output", records) == [0, 1, 2, 3]


def test_placeholder_inputs_but_not_the_empty_input():
    inputs = ["No input", "<No Input>", "Noinput", '"<noinput>"', "< noinput >", "\\<noinput\\>", "N/A",
              "No input required.", "", "None of the above", "Banana", "NA"]
    records = [Record("x", text, "y") for text in inputs]
    assert flagged("placeholder_input", records) == [0, 1, 2, 3, 4, 5, 6, 7, 11]
    assert placeholder_key(' `<No Input>`. ') == "noinput"


def test_noinput_marker_inside_text():
    records = [Record("x", "Joe Smith\n<noinput>", "y"), Record("x", "", "<noinput>\n\"A Leap of Faith\""),
               Record("x", "<noinput>", "y"), Record("x", "", "<noinput>"), Record("x", "no input here", "y")]
    assert flagged("noinput_leak", records) == [0, 1]  # whole-field placeholders are the other checks' job


def test_outputs_cut_at_a_year():
    outputs = ["The population was 37.9 million as of 20", "He was sworn in on November 17, 20",
               "from 1990 to 20", "Sales rose in 2014-20", "The date in UK format is 07/05/20",
               "5 x 4 = 20", "Team 4: 20", "$1382.20", "#vote2020", "20"]
    assert flagged("stop_cut_year", [Record("x", "", o) for o in outputs]) == [0, 1, 2, 3, 4]


def test_lists_cut_at_19_and_the_list_endings():
    nineteen = "\n".join(f"{k}. item" for k in range(1, 20))
    records = [Record("x", "", nineteen), Record("x", "", nineteen + "\n20. item"),
               Record("x", "", "1. a\n2. b\n3. c"), Record("x", "", "Call 19. Then 1. 2.")]
    assert flagged("stop_cut_list", records) == [0]
    assert list_endings(records) == {3: 1, 19: 1, 20: 1}


def test_outputs_cut_before_a_price():
    outputs = ["The total cost is $", "between $13 and $", "^[a-z]+$", "Am#f9dK21L$", "It costs $5"]
    assert flagged("stop_cut_dollar", [Record("x", "", o) for o in outputs]) == [0, 1]


def test_exact_and_near_duplicate_instructions():
    same = "Explain the concept of AI in simple terms."
    records = [Record(same), Record(same), Record("Explain in simple terms the concept of AI"),
               Record("Explain the concept of AI.")]
    assert flagged("exact_duplicate_instruction", records) == [1]
    assert flagged("near_duplicate_instruction", records) == [2]  # same words, other order; not the exact copy


def test_near_duplicates_in_chinese_compare_characters():
    records = [Record("写一首关于春天的诗。"), Record("解释什么是光合作用。"),  # different tasks: not duplicates
               Record("关于春天的诗，写一首"),  # the first one's characters in another order
               Record("???"), Record("!!!")]  # no words at all: nothing to compare
    assert flagged("near_duplicate_instruction", records) == [2]
    assert instruction_tokens("写诗。") == ["写", "诗"]
    assert instruction_tokens("Translate 你好 into English.") == ["translate", "into", "english"]


def test_addresses_are_blanked_as_by_the_regex():
    cases = {"mail joe@example.org today": "mail   today", "see https://ex.com/a?b=1 now": "see   now",
             "www.abc.de": " ", "google.com/maps": " /maps", "x.com/http://y.de": " / ", "café.com!": " !",
             "file.io": " ", "e.g. the end.": "e.g. the end.", "@home": "@home", "a@": "a@",
             "x.company": "x.company", ".com": ".com", "http://": "http://", "see:www.": "see:www."}
    assert {text: without_addresses(text) for text in cases} == cases


def test_addresses_match_the_old_regex_on_random_text():
    old = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\S+\.(?:com|org|net|io)\b")  # quadratic, fine when short
    pieces = ["a", "é", "_", "1", "@", ".", ":", "/", "com", "org", "net", "io", "http", "s", "www", " ", "\n", "\xa0"]
    rng = random.Random(0)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    assert [without_addresses(t) for t in texts] == [old.sub(" ", t) for t in texts]


LONG = {"word": "a" * 1_000_000, "newlines": "\n" * 1_000_000, "mail": "x@" * 500_000,  # each 1,000,000 characters
        "domains": "a.coma" * 166_666 + "a.co", "links": "http:" * 200_000, "spaces": "in" + " " * 999_998}


@pytest.mark.parametrize("kind", LONG)
def test_a_megabyte_field_is_audited_in_linear_time(kind):
    text = LONG[kind]
    start = time.perf_counter()
    assert guess_language(text) == "English"
    assert last_list_item(text) is None
    audit([Record("x", "", text[:MAX_FIELD_CHARS])])  # just short enough to be read by every check
    big = audit([Record("x", "", text)])
    assert time.perf_counter() - start < 2
    assert [(r.check.name, r.findings) for r in big if r.count] == [("oversized_field", [(0, "output: 1,000,000 "
                                                                                                "characters")])]


def test_oversized_fields_are_their_own_finding_and_not_scanned():
    limit = "x" * MAX_FIELD_CHARS
    records = [Record("Same."), Record("Same.", "", limit + "y"), Record("Same.", limit, ""), Record(limit + "!!")]
    assert flagged("oversized_field", records) == [1, 3]
    assert flagged("exact_duplicate_instruction", records) == [2]  # record 1 is not read
    assert flagged("empty_output", records) == [0, 2]


def test_language_guess():
    assert guess_language("Je ne suis pas sûr de ce que je devrais faire.") == "French"
    assert guess_language("El libro está sobre la mesa y no es de la casa.") == "Spanish"
    assert guess_language("外面正在下雨。") == "Chinese or Japanese (CJK)"
    assert guess_language("The cat sat on the mat in the house.") == "English"
    assert guess_language("Visit www.os-para.com, mail de@que.com or see uma.com") == "English"  # addresses ignored
    assert guess_language("α + β = γ where the angles of the triangle are in degrees") == "English"


def test_non_english_says_whether_the_instruction_asked_for_it():
    french = "Je ne suis pas sûr de ce que je devrais faire."
    records = [Record("Translate into French.", "I am not sure what to do.", french),
               Record("Describe a cat.", "", "El gato está en la mesa y no es de la casa."),
               Record("Describe a cat.", "", "The cat is on the table.")]
    result = audit(records, [CHECK["non_english"]])[0]
    assert [i for i, _ in result.findings] == [0, 1]
    assert result.breakdown() == {"output in another language, asked for": 1,
                                  "output in another language, not asked for": 1}


def test_missing_input():
    records = [Record("Summarize the following article.", "", "x"), Record("Classify this sentence.", "", "x"),
               Record("Summarize the following article.", "Some article text.", "x"),
               Record("Classify the following sentence: I am happy.", "", "x"),
               Record("Write a function that reverses a given list", "", "x"),
               Record('Is the following sentence true? "Fish fly."', "", "x"),
               Record("Is the following statement true or false? Cats cannot taste sweet food.", "", "x"),
               Record("Change this sentence from active to passive voice - Jack bought a new car.", "", "x"),
               Record("More than half of people use the internet. Classify this statement as true or false.", "", "x"),
               Record("Classify this song as either upbeat or slow.", "", "x")]
    assert flagged("missing_input", records) == [0, 1, 9]


def test_rule_precision_from_labels():
    labels = [{"index": 3, "refers_to_missing_input": True}, {"index": 5, "refers_to_missing_input": False},
              {"index": 8, "refers_to_missing_input": True}]
    share = rule_precision([(3, ""), (5, ""), (8, "")], labels)
    assert (share.successes, share.n) == (2, 3)
    assert rule_precision([(3, "")], labels).share == 1.0  # labels may cover more records than the findings
    with pytest.raises(ValueError, match="without a label"):
        rule_precision([(4, "")], labels)


def test_missing_input_precision_on_the_52k(real_data):
    """The 52K's hits, read one by one by an AI model (Claude): all 37 hits of the rule before it was
    tightened are labelled in data/annotations/missing_input_claude.jsonl, 23 of them real. The tightened rule
    keeps exactly those 23 (it was tightened after reading them: 23/23 is on the sample that shaped it)."""
    from alpaca_lessons.common.paths import course_data_dir
    from alpaca_lessons.common.store import AppendOnlyStore
    from alpaca_lessons.data import read_records

    labels = AppendOnlyStore(course_data_dir() / "annotations" / "missing_input_claude.jsonl").read()
    assert len(labels) == 37 and sum(r["refers_to_missing_input"] for r in labels) == 23
    assert all("AI model" in r["annotator"] for r in labels)
    hits = CHECK["missing_input"].find(read_records("alpaca_data"))
    assert sorted(i for i, _ in hits) == sorted(r["index"] for r in labels if r["refers_to_missing_input"])
    assert rule_precision(hits, labels).share == 1.0


def test_link_inputs_and_copied_outputs():
    records = [Record("Summarize the article.", "https://www.nytimes.com/2010/07/05/a.html", "x"),
               Record("Extract the domain name.", "https://example.com/a", "example.com"),
               Record("Fix the spelling.", "Tyrese", "Tyrese"), Record("Fix it.", "", "")]
    assert flagged("link_input", records) == [0]
    assert flagged("output_copies_input", records) == [2]


def test_report_and_cli_print_the_same_counts(tmp_path, capsys):
    records = [Record("Summarize the following article.", "No input", ""),
               Record("List 19 things.", "", "1. a\n2. b\n3. c")]
    report = format_report(audit(records), len(records), examples=1)
    assert "Empty outputs: 1 (50.00%)" in report
    assert "Placeholder inputs that are not empty: 1 (50.00%)" in report
    assert "#0: instruction: Summarize the following article." in report
    path = write_records(records, tmp_path / "d.jsonl")
    assert main(["audit", str(path), "--examples", "1"]) == 0
    assert capsys.readouterr().out.strip() == report.strip()

