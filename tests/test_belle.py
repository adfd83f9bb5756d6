"""BELLE's post-processing (generate_instruction.py lines 59-110), rule by rule, and the two novelty tests compared."""

import pytest

from alpaca_lessons.common.text import character_tokens
from alpaca_lessons.data import Record, read_seed_tasks
from alpaca_lessons.generation.belle import (
    MENTIONS_GPT,
    TOO_SIMILAR_BM25,
    check_belle_task,
    compare_filters,
    disagreements,
    leave_one_out,
    parse_belle_block,
    parse_belle_reply,
    screen_belle_reply,
)
from alpaca_lessons.generation.handwritten import CHINESE_REPLY
from alpaca_lessons.generation.novelty.bm25 import BM25Filter
from alpaca_lessons.generation.rules import BLACKLISTED, CUT, TOO_LONG, TOO_SHORT, UNPARSEABLE


def block(number, instruction, task_input="<无输入>", output="好的", colon=":"):
    n, c = number, colon
    return f"{n}. 指令{c} {instruction}\n{n}. 输入{c}\n{task_input}\n{n}. 输出{c}\n{output}\n"


def reasons(text, finish_reason="stop"):
    return [(b.task.instruction if b.task else None, b.rejection.reason if b.rejection else None)
            for b in parse_belle_reply(text, finish_reason, 4)]


def test_fields_are_read_after_either_colon_with_the_next_number_dropped():
    task = parse_belle_block(block(5, "写一首诗", "关于春天", "春风又绿江南岸", colon="："))
    assert task == Record("写一首诗", "关于春天", "春风又绿江南岸")
    assert parse_belle_block("指令: 写一首诗\n5.输入:\n<无输入>\n5.输出:\n好") == Record("写一首诗", "", "好")
    assert parse_belle_block("指令: 写一首诗\n输出: 好") is None  # no 输入


def test_an_output_that_runs_into_the_next_task_keeps_only_its_own_text():
    text = "指令: 甲任务\n输入:\n<无输入>\n输出:\n第一条\n5. 指令: 乙任务\n5. 输入:\n<无输入>\n5. 输出:\n第二条"
    assert parse_belle_block(text).output == "第一条"


def test_the_label_is_put_back_only_when_the_reply_does_not_start_with_it():
    assert reasons(" 写一首关于秋天的诗\n4. 输入:\n<无输入>\n4. 输出:\n秋风起\n###") == [("写一首关于秋天的诗", None)]
    restated = "4. 指令：写一首关于秋天的诗\n4. 输入:\n<无输入>\n4. 输出:\n秋风\n"  # a chat teacher may restate it
    assert reasons(restated) == [("写一首关于秋天的诗", None)]


def test_the_last_block_is_dropped_only_when_the_reply_ran_out_of_tokens():
    text = " 写一首关于秋天的诗\n4. 输入:\n<无输入>\n4. 输出:\n秋风\n###\n" + block(5, "介绍一下长城")
    assert reasons(text, "length") == [("写一首关于秋天的诗", None), (None, CUT)]
    assert reasons(text, "stop") == [("写一首关于秋天的诗", None), ("介绍一下长城", None)]


def test_the_blacklist_applies_to_the_whole_block_case_sensitively():
    assert reasons(block(4, "描述这个场景", output="见图片")) == [(None, BLACKLISTED)]  # in the output
    assert reasons(block(4, "打开这个链接并总结")) == [(None, BLACKLISTED)]
    assert reasons(block(4, "什么是chatgpt")) == [(None, BLACKLISTED)]
    # 'ChatGPT' is not on the list (matching is case-sensitive), but then it mentions GPT
    assert reasons(block(4, "什么是ChatGPT")) == [("什么是ChatGPT", MENTIONS_GPT)]
    assert reasons(block(4, "描述这个场景")) == [("描述这个场景", None)]


def test_an_unparseable_block_is_rejected():
    assert reasons("4. 指令: 写诗\n4. 输出: 好\n") == [(None, UNPARSEABLE)]


def test_too_short_counts_characters_before_the_gpt_phrases_are_deleted():
    assert check_belle_task(Record("翻译。", "", ""))[1].reason == TOO_SHORT  # 3 characters
    assert check_belle_task(Record("翻译句子", "", ""))[1] is None  # 4
    task, rejection = check_belle_task(Record("请GPT写诗", "", ""))  # 6 characters, then "写诗"
    assert (task.instruction, rejection) == ("写诗", None)


def test_gpt_phrases_are_deleted_and_any_gpt_left_drops_the_task():
    assert check_belle_task(Record("要求GPT模型能够写一首诗", "", ""))[0].instruction == "写一首诗"
    assert check_belle_task(Record("介绍GPT的发展历史", "", ""))[1].reason == MENTIONS_GPT
    assert check_belle_task(Record("总结下面的文字", "GPT是一种语言模型", ""))[1].detail == "'GPT' in the input"
    assert check_belle_task(Record("总结下面的文字", "这是一种语言模型", ""))[1] is None


@pytest.mark.parametrize(("instruction", "task_input", "kept"), [
    ("长" * 99, "有输入", True),
    ("长" * 100, "有输入", False),  # with an input: under 100 characters
    ("示例" + "长" * 147, "有输入", True),  # 149: an instruction that gives an example may reach 149
    ("例子" + "长" * 148, "有输入", False),
    ("长" * 500, "", True),  # no input: no upper limit at all
])
def test_only_tasks_with_an_input_have_a_length_limit(instruction, task_input, kept):
    task, rejection = check_belle_task(Record(instruction, task_input, ""))
    assert (rejection is None) == kept
    assert kept or rejection.reason == TOO_LONG


def test_the_handwritten_chinese_reply_screened_the_belle_way():
    seeds = [t.instruction for t in read_seed_tasks("belle_seed_tasks")]
    screened = screen_belle_reply(CHINESE_REPLY.text, CHINESE_REPLY.finish_reason, 4, BM25Filter(seeds))
    verdicts = [(s.number, s.rejection.reason if s.rejection else "kept") for s in screened]
    assert verdicts == [(4, "kept"), (5, TOO_SIMILAR_BM25), (6, BLACKLISTED), (7, TOO_SHORT), (8, "kept"),
                        (9, "kept")]
    assert "'给出下面词语的同义词'" in screened[1].rejection.detail and "BM25 max" in screened[0].line()


def test_compare_filters_finds_where_bm25_and_rouge_disagree():
    seeds = ["给出下面词语的同义词", "写一首关于春天的诗", "计算两个数的和", "总结这篇文章", "翻译成英文"]
    # 1. the words of seed 0 in another order: BM25 sees them all (4 words of idf ln 3), the characters' LCS
    #    is 给出下面词语, F = 2 x 6 / (9 + 10) = 0.63
    # 2. a character-level near copy of a candidate kept before it: only ROUGE-L's pool (which grows) sees it
    candidates = ["同义词给出下面词语", "为咖啡店写三条宣传标语", "为咖啡店写三条宣传标语吧"]
    verdicts = compare_filters(candidates, seeds, bm25_threshold=1.0)
    assert [(v.bm25.keep, v.rouge.keep) for v in verdicts] == [(False, True), (True, True), (True, False)]
    assert [v.candidate for v in disagreements(verdicts)] == [candidates[0], candidates[2]]
    assert "REJECT" in verdicts[0].line()


def test_leave_one_out_on_belles_175_real_seeds():
    seeds = [t.instruction for t in read_seed_tasks("belle_seed_tasks")]
    by_words = leave_one_out(seeds)
    # golden: with jieba words, BM25 > 18 against the other 174 seeds for 26 of the 175 (14.9%); with
    # characters 96 (54.9%); character ROUGE-L > 0.7 for none (the highest is 0.63)
    assert sum(not v.bm25.keep for v in by_words) == 26
    assert sum(not v.rouge.keep for v in by_words) == 0
    assert max(v.rouge.max_score for v in by_words) == pytest.approx(12 / 19)
    assert len(disagreements(by_words)) == 26
    assert sum(not v.bm25.keep for v in leave_one_out(seeds, tokenizer=character_tokens)) == 96
    # each instruction was scored against the others only: its own text is never its closest match
    assert all(v.rouge.most_similar[0][0] != v.candidate and v.bm25.most_similar[0][0] != v.candidate
               for v in by_words)
