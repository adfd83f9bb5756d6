"""Self-Instruct's reading of replies and its filters, on hand-made replies (expected values worked out by hand)."""

from collections import Counter

from alpaca_lessons.generation.rules import BLACKLISTED, CUT, TOO_SHORT
from alpaca_lessons.generation.self_instruct.parse import (
    CONFLICT,
    DUPLICATE,
    EMPTY_OUTPUT,
    NO_INSTANCE,
    is_classification,
    read_instances,
    read_instructions,
)


def test_instructions_are_split_per_line_capitalized_and_checked_by_upstreams_rules():
    reply = (" Write a haiku about the SEA.\n10. Sort the list.\n11 . Draw a cat for me please.\n"
             "12. Name three Python web frameworks.")
    found = read_instructions(reply, "stop")
    assert [c.instruction for c in found] == ["Write a haiku about the sea.", "Sort the list.",
                                               "Draw a cat for me please.", "Name three python web frameworks."]
    assert [c.rejection.reason if c.rejection else None for c in found] == [None, TOO_SHORT, BLACKLISTED, None]


def test_video_is_not_on_self_instructs_list_though_it_is_on_alpacas():
    assert read_instructions(" Summarize the video lecture in five sentences.", "stop")[0].rejection is None


def test_a_reply_cut_by_max_tokens_is_dropped_whole():
    found = read_instructions(" Write a haiku about the sea.\n10. Name three rivers of Europe", "length")
    assert [c.rejection.reason for c in found] == [CUT, CUT]


def test_classification_answer():
    assert is_classification(" Yes") and is_classification("YES\n") and not is_classification(" No")
    assert not is_classification(" Y")


def test_input_first_instances_with_examples():
    reply = "Example 1\nList: 3, 1\nOutput: 1, 3\nExample 2\nList: 5, 4\nOutput: 4, 5\n"
    assert read_instances(reply, "stop", False) == ([("List: 3, 1", "1, 3"), ("List: 5, 4", "4, 5")], Counter())


def test_an_output_only_reply_is_one_instance_without_input():
    assert read_instances("Output: 85°F = 29.44°C", "stop", False) == ([("", "85°F = 29.44°C")], Counter())
    assert read_instances("no labels at all", "stop", False) == ([], Counter({NO_INSTANCE: 1}))


def test_output_first_instances_for_a_classifier():
    reply = "Class label: Positive\nSentence: I loved it.\nClass label: Negative\nSentence: Dull.\n"
    pairs, dropped = read_instances(reply, "stop", True)
    assert pairs == [("Sentence: I loved it.", "Positive"), ("Sentence: Dull.", "Negative")] and not dropped


def test_same_input_with_different_outputs_drops_every_instance_of_the_task():
    reply = "Class label: Yes\nSentence: Hi.\nClass label: No\nSentence: Hi.\nClass label: No\nSentence: Bye.\n"
    assert read_instances(reply, "stop", True) == ([], Counter({CONFLICT: 3}))


def test_empty_outputs_duplicates_the_cut_tail_and_the_limit():
    reply = ("Example 1\nA\nOutput: x\nExample 2\nA\nOutput: x\nExample 3\nB\nOutput:\nExample 4\nC\nOutput: y\n"
             "Example 5\nD\nOutput: z")
    pairs, dropped = read_instances(reply, "length", False, limit=5)
    assert pairs == [("A", "x"), ("C", "y")]  # example 5 was cut, 3 has no output, 2 repeats 1
    assert dropped == Counter({"cut by max_tokens": 1, EMPTY_OUTPUT: 1, DUPLICATE: 1})
    assert read_instances(reply, "stop", False, limit=1)[0] == [("A", "x")]
