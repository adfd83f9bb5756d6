"""The shared tokenizers and length counters."""

from rouge_score import rouge_scorer

from alpaca_lessons.common.text import character_tokens, characters, rouge_tokens, words


def test_rouge_tokens_are_rouge_scores_default_tokens():
    assert rouge_tokens("Don't e-mail the CAT, 42 times!") == ["don", "t", "e", "mail", "the", "cat", "42", "times"]
    assert rouge_tokens("猫在这里 naïve") == ["na", "ve"]  # rouge-score keeps only [a-z0-9]
    text = "Write a haiku about the Sea, twice."
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    # the public scorer's own tokens give the same score: an exact copy scores 1 through either path
    assert scorer.score(text, " ".join(rouge_tokens(text)))["rougeL"].fmeasure == 1.0


def test_character_tokens_drop_whitespace():
    assert character_tokens("你 好，\n世界") == ["你", "好", "，", "世", "界"]
    assert character_tokens("   ") == []


def test_counters():
    assert words("a  b\nc") == 3 and words("") == 0
    assert characters("你 好，世界") == 5 and characters(" \t") == 0


def test_is_cjk_by_the_share_of_letters():
    from alpaca_lessons.common.text import is_cjk

    assert is_cjk("给出下面词语的同义词") and is_cjk("これは日本語です") and is_cjk("한국어 문장")
    assert is_cjk("用Python写一个函数")  # 6 CJK letters of 12: half is enough
    assert not is_cjk("Write a Python function, 请") and not is_cjk("Name three colors.") and not is_cjk("123 ???")
