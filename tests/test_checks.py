"""The verifiable checks: where each applies (hand-made instructions, both ways), how each grades
(hand-made answers that pass and fail, counts worked out by hand), and pinned counts on the real held-out split."""

from __future__ import annotations

import pytest

from alpaca_lessons.data import Record
from alpaca_lessons.evaluation.checks import (
    Limit,
    answer_options,
    applicable_counts,
    count_items,
    count_sentences,
    count_words,
    grade,
    length_limit,
    length_passes,
    list_count,
    list_passes,
    options_passes,
    slot_passes,
)


@pytest.mark.parametrize(("instruction", "n"), [
    ("List five benefits of going for a walk", 5), ("Name 3 types of clouds.", 3),
    ("Generate a list of 5 spooky places in the world.", 5), ("Identify three of the natural elements.", 3),
    ("Please provide three advantages of using data", 3), ("Come up with two non-alcoholic drinks.", 2),
    ("Name one of the benefits of AI technology.", None),  # one item is not a list
    ("Find the average of these three numbers.", None), ("Explain the three laws of motion.", None),
    ("Write a story in 3 paragraphs.", None), ("List the planets.", None)])
def test_list_count_reads_n_only_from_a_request_for_n_items(instruction, n):
    assert list_count(Record(instruction)) == n


@pytest.mark.parametrize(("answer", "items"), [
    ("1. Red\n2. Green\n3. Blue", 3), ("- a\n- b\n\nSome closing words.", 2),
    ("Three types of clouds are Cirrus, Stratus, and Cumulus.", 3), ("Ford and Toyota.", 2),
    ("Three foods are oatmeal, eggs, and leafy greens. Oatmeal is rich in fibre, and so on.", 3),
    ("The reasons are: (1) cost; (2) time; (3) risk.", 3), ("Red\nGreen", 2), ("Water.", 1)])
def test_count_items_in_lists_lines_and_sentences(answer, items):
    assert count_items(answer) == items


def test_list_passes_only_on_exactly_n_items():
    assert list_passes("1. a\n2. b\n3. c", 3)
    assert not list_passes("1. a\n2. b", 3) and not list_passes("1. a\n2. b\n3. c\n4. d", 3)


@pytest.mark.parametrize(("record", "options"), [
    (Record("Classify the following news headline as either positive or negative."), ("positive", "negative")),
    (Record("Classify this movie as comedy, horror, or action: \"The Shining\""), ("comedy", "horror", "action")),
    (Record('Classify this item as either "necessary" or "unnecessary".'), ("necessary", "unnecessary")),
    (Record("Is the following statement true or false: Stonehenge was built in 1700 BC?"), ("true", "false")),
    (Record("Is the following statement a metaphor?", "Life is a winding road."), ("yes", "no")),
    (Record("Classify the following object.", "Object: Bird\nCategories: Mammal, Insect, Fish"),
     ("mammal", "insect", "fish")),
    (Record("Select the word which best describes 'not the same'", "A. Cunning\nB. Different\nC. Noble"),
     ("cunning", "different", "noble")),
    (Record("Can you suggest a unique name for a software company?"), None),  # a request, not yes/no
    (Record("Classify each of the following animals as a predator or herbivore."), None),  # several items
    (Record("Explain A and B in one sentence.", "A: Business mogul\nB: Struggling entrepreneur"), None),
    (Record("Generate three plausible ideas for a new product or service."), None)])
def test_answer_options_in_their_four_forms_and_not_elsewhere(record, options):
    assert answer_options(record) == options


def test_options_pass_when_the_answer_names_one_as_a_whole_word():
    assert options_passes("The sentence is Negative.", ("positive", "negative"))
    assert options_passes("b. Different", ("cunning", "different"))
    assert not options_passes("It is a headline about unemployment.", ("positive", "negative"))
    assert not options_passes("Nobody knows.", ("no", "yes"))  # "no" inside "Nobody" is not the option


@pytest.mark.parametrize(("instruction", "limit"), [
    ("Rewrite this passage in 15 words or fewer.", Limit("at most", 15, "words")),
    ("Summarize the text below in less than 15 words.", Limit("less than", 15, "words")),
    ("Describe a place you have visited in under 100 words.", Limit("at most", 100, "words")),
    ("Write a 5-sentence story about a dragon.", Limit("exactly", 5, "sentences")),
    ("Summarize the paragraph in one sentence.", Limit("exactly", 1, "sentences")),
    ("Construct a sentence using the word 'apple'.", Limit("exactly", 1, "sentences")),
    ("Come up with a 3 word slogan for a phone company.", Limit("exactly", 3, "words")),
    ("Write a 150-word essay on air pollution.", None),  # a size, not an exact count to hit
    ("Write a 3-4 sentence story about a frog.", None), ("Rewrite the following sentences.", None)])
def test_length_limit_reads_relation_number_and_unit(instruction, limit):
    assert length_limit(Record(instruction)) == limit


def test_word_and_sentence_counts_and_the_three_relations():
    assert count_words("Ocean regulates climate, plays an essential part - truly!") == 8  # "-" is no word
    # split after ".", after '?"' and "!", and at the line break (a heuristic: a broken line counts twice)
    assert count_sentences('It rained. "Why?" she asked! Then\nthe sun came out') == 5
    assert length_passes("one two three", Limit("at most", 3, "words"))
    assert not length_passes("one two three", Limit("less than", 3, "words"))
    assert length_passes("First. Second.", Limit("exactly", 2, "sentences"))
    assert not length_passes("First. Second. Third.", Limit("exactly", 2, "sentences"))


def test_the_slot_check_fails_template_text_echoes_and_silence():
    record = Record("Write a short poem about the sea.", "calm")
    assert slot_passes("The sea is calm tonight.", record)
    assert slot_passes("calm waves, calm sky", record)  # repeating the input is allowed
    assert not slot_passes("", record)
    assert not slot_passes("Waves.\n\n### Instruction:\nWrite another poem.", record)
    assert not slot_passes("Below is an instruction that describes a task.", record)
    assert not slot_passes("Write a short poem about the sea, and then a long one.", record)


def test_grade_marks_checks_that_do_not_apply_and_the_references_eos():
    record = Record("Name 3 types of clouds.")
    assert grade(record, "Cirrus, stratus and cumulus.", True) == {
        "ends": True, "slot": True, "list_n": True, "options": None, "length": None}
    assert grade(record, "Cirrus", False)["ends"] is False and grade(record, "Cirrus")["ends"] is None


def test_counts_on_the_real_heldout_split(real_data):
    from alpaca_lessons.data import read_records
    from alpaca_lessons.data.splits import split_records
    from alpaca_lessons.evaluation.if_table import check_rates

    heldout = split_records(read_records("alpaca_data")).heldout
    assert applicable_counts(heldout) == {"ends": 2681, "slot": 2681, "list_n": 242, "options": 39, "length": 68}
    references = check_rates(heldout, None)  # text-davinci-003's own answers: how far each check can be trusted
    assert {name: rate["passed"] for name, rate in references.items()} == {
        "slot": 2679, "list_n": 199, "options": 39, "length": 58}
