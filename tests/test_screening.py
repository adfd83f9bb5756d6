"""Screening a reply's tasks (``generation.screening``): each block's reason, in Alpaca's order, then the
novelty filter; and why Chinese needs character tokens."""

from __future__ import annotations

from alpaca_lessons.common.text import character_tokens, rouge_tokens
from alpaca_lessons.data import read_seed_tasks
from alpaca_lessons.generation import ALPACA, BELLE, near_duplicates, screen, screen_reply
from alpaca_lessons.generation.handwritten import CHINESE_REPLY, ENGLISH_REPLY
from alpaca_lessons.generation.novelty import NoveltyFilter
from alpaca_lessons.generation.rules import (
    BANNED_PREFIX,
    BLACKLISTED,
    CUT,
    NON_ASCII_FIRST,
    PUNCTUATION_FIRST,
    TOO_LONG,
    TOO_SHORT,
    TOO_SIMILAR,
    UNPARSEABLE,
    parse_reply,
)

SEED = "Brainstorm a list of possible New Year's resolutions."  # a real seed task; block 11 adds three words


def test_each_block_of_the_handwritten_reply_meets_its_rule():
    pool = NoveltyFilter([SEED])
    screenings = screen_reply(ENGLISH_REPLY.text, ENGLISH_REPLY.finish_reason, ENGLISH_REPLY.first_number,
                              ALPACA.rules, pool)
    reasons = {s.number: None if s.kept else s.rejection.reason for s in screenings}
    # Read off the reply by hand: 5 has three words, 6 far over 150, 7 says "image", 8 starts "Write a
    # program", 9 a quote mark, 10 "¿", 11 the seed plus three words, 12 is labelled 13, 13 has no output,
    # and 14 is the block the teacher was cut off in.
    assert reasons == {4: None, 5: TOO_SHORT, 6: TOO_LONG, 7: BLACKLISTED, 8: BANNED_PREFIX, 9: PUNCTUATION_FIRST,
                       10: NON_ASCII_FIRST, 11: TOO_SIMILAR, 12: UNPARSEABLE, 13: UNPARSEABLE, 14: CUT}
    kept = screenings[0]
    assert kept.task.instruction == "Suggest three ways to reduce food waste at home." and kept.novelty.keep
    assert pool.instructions == [SEED, kept.task.instruction]  # the kept task joined the pool
    similar = next(s for s in screenings if s.number == 11)
    assert SEED in similar.rejection.detail and similar.novelty.max_score > 0.7
    assert similar.line().split()[:2] == ["11", "rejected"] and kept.line().split()[:2] == ["4", "kept"]


def test_screen_is_screen_reply_after_parsing():
    blocks = parse_reply(ENGLISH_REPLY.text, ENGLISH_REPLY.finish_reason, 4, ALPACA.rules)
    by_blocks = screen(blocks, ALPACA.rules, NoveltyFilter([SEED]))
    by_reply = screen_reply(ENGLISH_REPLY.text, ENGLISH_REPLY.finish_reason, 4, ALPACA.rules, NoveltyFilter([SEED]))
    assert by_blocks == by_reply


def test_characters_deduplicate_chinese_and_rouge_tokens_cannot(real_data):
    zh_pool = [t.instruction for t in read_seed_tasks("belle_seed_tasks")]
    screenings = {}
    for tokenizer in (rouge_tokens, character_tokens):
        pool = NoveltyFilter(zh_pool, tokenizer=tokenizer)
        screenings[tokenizer] = screen_reply(CHINESE_REPLY.text, CHINESE_REPLY.finish_reason, 4, BELLE.rules, pool)
    near_copy = "请给出下面这个词语的同义词。"
    by_rouge = next(s for s in screenings[rouge_tokens] if s.task and s.task.instruction == near_copy)
    by_chars = next(s for s in screenings[character_tokens] if s.task and s.task.instruction == near_copy)
    assert by_rouge.kept and by_rouge.novelty.max_score == 0.0
    assert by_chars.rejection.reason == TOO_SIMILAR and by_chars.novelty.max_score > 0.7
    # On the 175 Chinese seeds, rouge-score's tokens see only the ASCII fragments: its "duplicates" are false.
    false_alarms = near_duplicates(zh_pool, rouge_tokens)
    assert false_alarms and near_duplicates(zh_pool, character_tokens) == []
    for text, result in false_alarms:
        assert all(token.isascii() for token in rouge_tokens(text)) and result.max_score == 1.0
