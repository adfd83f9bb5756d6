"""The self-instruct profile's offline teacher: what it answers to each of the three prompts."""

from alpaca_lessons.data import Record
from alpaca_lessons.generation.self_instruct.prompts import (
    CLASSIFICATION_HEADER,
    INPUT_FIRST_HEADER,
    OUTPUT_FIRST_HEADER,
    Templates,
    classification_prompt,
    instances_prompt,
)
from alpaca_lessons.generation.teacher import Sampling
from alpaca_lessons.generation.teacher.self_instruct_replay import SelfInstructReplayModel, looks_like_classification

TEMPLATES = Templates(CLASSIFICATION_HEADER + "Task:", INPUT_FIRST_HEADER + "Task:", OUTPUT_FIRST_HEADER + "Task:")
RECORDS = [Record(f"Instruction {i} for the list.", "in" if i % 2 else "", f"out {i}") for i in range(40)]


def test_instruction_prompts_get_real_instructions_until_the_stop_at_16():
    model = SelfInstructReplayModel(records=RECORDS)
    prompt = "Come up with a series of tasks:\n" + "".join(f"{i}. Task {i}.\n" for i in range(1, 9)) + "9."
    reply = model.complete(prompt, Sampling(1024, stop=("\n\n", "\n16", "16.", "16 .")), draw=0)
    lines = reply.text.split("\n")
    assert reply.finish_reason == "stop" and len(lines) == 7 and lines[1].startswith("10. Instruction")
    assert lines[0] == " " + model.records[0].instruction and lines[6] == f"15. {model.records[6].instruction}"


def test_classification_is_a_stated_rule():
    model = SelfInstructReplayModel(records=RECORDS)
    ask = Sampling(3, 0.0, 0.0, ("\n", "Task"))
    assert model.complete(classification_prompt(TEMPLATES, "Classify the tweet as sarcastic or not."), ask, 0).text \
        == " Yes"
    assert model.complete(classification_prompt(TEMPLATES, "Write a poem about rain."), ask, 0).text == " No"
    assert looks_like_classification("Tell me if the number is prime.")
    assert not looks_like_classification("Tell me a joke.")


def test_instances_replay_the_52k_instance_in_the_prompts_layout():
    model = SelfInstructReplayModel(records=RECORDS)
    ask = Sampling(350, 0.0, 0.0, ("Example 6", "Task:"))
    assert model.complete(instances_prompt(TEMPLATES, "instruction 1 for the list.", False), ask, 0).text == \
        "Example 1\nin\nOutput: out 1\n\n"
    assert model.complete(instances_prompt(TEMPLATES, "Instruction 2 for the list.", False), ask, 0).text == \
        "Output: out 2\n\n"
    assert model.complete(instances_prompt(TEMPLATES, "Instruction 3 for the list.", True), ask, 0).text == \
        "Class label: out 3\nin\n\n"
    assert model.complete(instances_prompt(TEMPLATES, "Not in the data.", False), ask, 0).text == ""
