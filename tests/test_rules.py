"""Reply parsing and the post-processing rules (``generation.rules``): Alpaca's and BELLE's."""

from collections import Counter

import pytest

from alpaca_lessons.data import Record, read_records, read_seed_tasks
from alpaca_lessons.generation.rules import (
    ALPACA_RULES,
    BANNED_PREFIX,
    BELLE_RULES,
    BLACKLISTED,
    CUT,
    NON_ASCII_FIRST,
    PUNCTUATION_FIRST,
    TOO_LONG,
    TOO_SHORT,
    UNPARSEABLE,
    check_instruction,
    parse_reply,
)


def davinci_reply(records, first=4, end="\n###"):
    """Records written as davinci-003 continued a request ending in '4. Instruction:'."""
    text = ""
    for k, r in enumerate(records):
        n = first + k
        head = " " if k == 0 else f"\n###\n{n}. Instruction: "
        text += f"{head}{r.instruction}\n{n}. Input:\n{r.input or '<noinput>'}\n{n}. Output:\n{r.output}"
    return text + end


@pytest.fixture
def real_tasks(real_data):
    return read_records("alpaca_data")[100:116]


def test_a_real_format_reply_gives_back_every_task(real_tasks):
    blocks = parse_reply(davinci_reply(real_tasks), "stop", 4)
    assert [b.number for b in blocks] == list(range(4, 20))
    assert [b.task for b in blocks] == [Record(r.instruction, r.input, r.output) for r in real_tasks]
    assert any(r.input == "" for r in real_tasks) and any(r.input for r in real_tasks)


def test_noinput_means_empty_input_in_any_case():
    block = parse_reply(" Say hello to the reader.\n4. Input:\n<NoInput>\n4. Output:\nHello!", "stop", 4)[0]
    assert block.task == Record("Say hello to the reader.", "", "Hello!")


def test_a_reply_cut_for_length_loses_its_last_block(real_tasks):
    text = davinci_reply(real_tasks[:3], end="\n###\n7. Instruction: Name three rivers in Eur")
    blocks = parse_reply(text, "length", 4)
    assert [b.task is not None for b in blocks] == [True, True, True, False]
    assert blocks[-1].rejection.reason == CUT and blocks[-1].number == 7


def test_a_reply_that_stopped_keeps_its_last_block_even_if_short(real_tasks):
    # Alpaca drops the last block only when finish_reason is "length"; a stop sequence ends a reply cleanly.
    blocks = parse_reply(davinci_reply(real_tasks[:2], end=""), "stop", 4)
    assert [b.task is not None for b in blocks] == [True, True]


def test_the_blank_tail_after_the_last_separator_is_not_a_candidate(real_tasks):
    assert len(parse_reply(davinci_reply(real_tasks[:2], end="\n###\n"), "stop", 4)) == 2


def test_missing_fields_and_wrong_numbers_are_unparseable(real_tasks):
    missing_output = " Sort the numbers in ascending order.\n4. Input:\n3, 1, 2\n###\n"
    blocks = parse_reply(missing_output + "5. Instruction: Name a fruit that is red.\n5. Input:\n<noinput>\n"
                         "5. Output:\nApple", "stop", 4)
    assert blocks[0].rejection.reason == UNPARSEABLE and "found 2" in blocks[0].rejection.detail
    assert blocks[1].task.instruction == "Name a fruit that is red."
    # A teacher that skips a number: every block after the gap carries the wrong number (Alpaca drops them all).
    three = davinci_reply(real_tasks[:3])
    skipped = three.replace("6. ", "7. ").replace("5. ", "6. ")
    assert "5. " in three and "5. " not in skipped and "7. Output:" in skipped
    blocks = parse_reply(skipped, "stop", 4)
    assert blocks[0].task is not None
    assert [b.rejection.reason for b in blocks[1:]] == [UNPARSEABLE, UNPARSEABLE]


def test_labels_out_of_the_expected_number_are_not_split():
    # "14." contains "4." -- the regex looks for "4." followed by a label, as Alpaca's does.
    blocks = parse_reply(" Add the numbers.\n4. Input:\n1 and 2\n4. Output:\n3", "stop", 4)
    assert blocks[0].task == Record("Add the numbers.", "1 and 2", "3")


def test_a_chat_reply_that_restates_the_label_is_not_prefixed_twice():
    text = "4. Instruction: List two prime numbers.\n4. Input:\n<noinput>\n4. Output:\n2, 3"
    assert parse_reply(text, "stop", 4)[0].task == Record("List two prime numbers.", "", "2, 3")


def test_chinese_reply_with_full_width_colons_and_no_input_marker():
    text = " 用三句话介绍长城的历史。\n4. 输入：\n<无输入>\n4. 输出：\n长城始建于春秋战国时期。\n###\n" \
           "5. 指令：把下面的句子翻译成英文。\n5. 输入:\n我爱北京。\n5. 输出:\nI love Beijing."
    tasks = [b.task for b in parse_reply(text, "stop", 4, BELLE_RULES)]
    assert tasks == [Record("用三句话介绍长城的历史。", "", "长城始建于春秋战国时期。"),
                     Record("把下面的句子翻译成英文。", "我爱北京。", "I love Beijing.")]


@pytest.mark.parametrize(("instruction", "reason"), [
    ("Name a color.", TOO_SHORT),  # 3 words: Alpaca drops len(split()) <= 3
    ("Name a primary color.", None),  # 4 words
    (" ".join(["word"] * 150), None),
    (" ".join(["word"] * 151), TOO_LONG),
    ("Describe the image below in one sentence.", BLACKLISTED),
    ("Summarize these FILES for a new colleague.", BLACKLISTED),  # case-insensitive
    ("Explain how you would go to the airport by train.", BLACKLISTED),  # a two-word entry
    ("Explain what a mapping between two sets is.", None),  # whole words only: "map" is not in "mapping"
    ("Write a program that reverses a string.", BANNED_PREFIX),
    ("write a program that reverses a string.", None),  # Alpaca's test is case-sensitive
    ('"Carpe diem" - explain this phrase.', PUNCTUATION_FIRST),
    ("¿Cuál es la capital de Francia? Answer in English.", NON_ASCII_FIRST),
    ("Explain why the sky is blue.", None),
])
def test_each_alpaca_rule(instruction, reason):
    rejection = check_instruction(instruction, ALPACA_RULES)
    assert (rejection.reason if rejection else None) == reason


def test_rules_apply_in_alpacas_order():
    # Too short and blacklisted at once: length is checked first, as in post_process_gpt3_response.
    assert check_instruction("Draw a map.").reason == TOO_SHORT
    assert check_instruction("Write a program to draw a map of Paris.").reason == BLACKLISTED
    assert check_instruction("").reason == TOO_SHORT


@pytest.mark.parametrize(("instruction", "reason"), [
    ("翻译。", TOO_SHORT),  # 3 characters
    ("翻译句子。", None),  # 4 characters; Chinese first character allowed
    ("根据这张图片写一段描述。", BLACKLISTED),  # a substring: Chinese has no word boundaries
    ("“知足常乐”是什么意思？", PUNCTUATION_FIRST),  # Chinese punctuation counts
    ("解" * 151, TOO_LONG),
    ("Write a program 打印九九乘法表。", None),  # BELLE has no "Write a program" rule
])
def test_each_belle_rule(instruction, reason):
    rejection = check_instruction(instruction, BELLE_RULES)
    assert (rejection.reason if rejection else None) == reason


def test_alpacas_rules_would_drop_every_chinese_seed(real_data):
    # Without spaces a Chinese instruction is one "word" (too short); the rest fail the ASCII-first rule.
    seeds = read_seed_tasks("belle_seed_tasks")
    verdicts = [check_instruction(t.instruction, ALPACA_RULES) for t in seeds]
    reasons = Counter(v.reason if v else "kept" for v in verdicts)
    assert reasons[TOO_SHORT] > 150 and reasons[NON_ASCII_FIRST] > 0 and reasons["kept"] == 0
    assert check_instruction("用 三 句 话 介 绍 长 城", ALPACA_RULES).reason == NON_ASCII_FIRST


def test_every_released_alpaca_task_passes_the_rules(real_data):
    failures = [(r.instruction, rej) for r in read_records("alpaca_data") if (rej := check_instruction(r.instruction))]
    assert failures == []
