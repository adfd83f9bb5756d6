""""Check yourself" exercises: each answer is checked against a value the package computes.

The expected values are never typed in: each exercise holds a function that recomputes its answer
from the data with the same tested code the lessons use. Worked solutions are in
``notebooks/SOLUTIONS.md``, apart from the lessons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exercise:
    """A question, how to compute its answer, and a hint for a wrong one."""

    question: str
    solve: Callable[[], Any]
    hint: str


def _seeds():
    from alpaca_lessons.data import read_seed_tasks

    return read_seed_tasks()


def _longest_instruction_id() -> str:
    return max(_seeds(), key=lambda t: len(t.instruction.split())).id


def _classification_in_request() -> float:
    from math import comb

    seeds = _seeds()
    others = sum(not t.is_classification for t in seeds)
    return round(1 - comb(others, 3) / comb(len(seeds), 3), 3)


def _reply_tasks_with_five() -> int:
    from alpaca_lessons.generation.prompts import tasks_per_reply

    return tasks_per_reply(shown=5)


def _prompt_tokens() -> int:
    from alpaca_lessons.generation.prompts import count_tokens, generation_prompt

    return count_tokens(generation_prompt("alpaca"))


def _examples_per_seed() -> int:
    from alpaca_lessons.data import get_dataset

    return round(get_dataset("alpaca_data").records / len(_seeds()))


def _hash_map_verdict() -> str:
    from alpaca_lessons.generation.rules import check_instruction

    rejection = check_instruction("Explain how a hash map stores its keys.")
    return rejection.reason if rejection else "kept"


def _contained_rouge() -> float:
    from alpaca_lessons.common.text import rouge_tokens
    from alpaca_lessons.generation.novelty.reference import rouge_l

    return round(rouge_l(rouge_tokens("sort these four numbers"),
                         rouge_tokens("please now sort these four numbers from the smallest to the largest")), 3)


def _lcs_to_reject() -> int:
    from alpaca_lessons.generation.novelty.index import f_measure

    return next(lcs for lcs in range(11) if f_measure(lcs, 10, 10) > 0.7)


def _thin_wedge() -> int:
    from alpaca_lessons.analysis.diversity import top_verb_nouns

    pairs = [("describe", f"object{k}") for k in range(50)] * 2
    return sum(count for _, count in top_verb_nouns(pairs)[0][1])


def _max_coverage() -> float:
    from alpaca_lessons.analysis.diversity import sunburst_coverage, top_verb_nouns

    pairs = [(f"verb{v}", f"noun{n}") for v in range(100) for n in range(10)]
    return sunburst_coverage(top_verb_nouns(pairs), len(pairs))


def _fewest_a100_40() -> int | None:
    from alpaca_lessons.models.shapes import LLAMA_7B
    from alpaca_lessons.training.memory.estimate import GPUS, Setup, smallest_fit

    return smallest_fit(Setup(LLAMA_7B), GPUS["A100-40GB"])


def _learned_tokens() -> int:
    from alpaca_lessons.data import Record
    from alpaca_lessons.models.modeling import course_model_dir, load_tokenizer
    from alpaca_lessons.training.sft import tokenize_records

    examples, _ = tokenize_records([Record("Say hi.", "", "Hi there!")], load_tokenizer(course_model_dir()))
    return examples[0].target_tokens


def _learned_tokens_if_pad_is_eos() -> int:
    from alpaca_lessons.data import Record
    from alpaca_lessons.models.modeling import course_model_dir, load_tokenizer
    from alpaca_lessons.training.sft import IGNORE_INDEX, tokenize_records

    tokenizer = load_tokenizer(course_model_dir())
    example = tokenize_records([Record("Say hi.", "", "Hi there!")], tokenizer)[0][0]
    # a recipe with pad = EOS that masks labels where input_ids == pad_id also masks the EOS
    return sum(label != IGNORE_INDEX and token != tokenizer.eos_token_id
               for token, label in zip(example.input_ids, example.labels, strict=True))


def _first_position_judge() -> float:
    from alpaca_lessons.evaluation.llm_judge import combine_orders
    from alpaca_lessons.evaluation.metrics import win_rate_of
    from alpaca_lessons.evaluation.pairs import FIRST, SECOND, gpt4_judged_pairs

    # shown first: output_1 in the forward order; output_2 in the backward one (mapped back to output 2)
    return win_rate_of([combine_orders(FIRST, SECOND) for _ in gpt4_judged_pairs().pairs]).rate


def _fewest_wins_of_20() -> int:
    from alpaca_lessons.common.stats import sign_test_critical_count

    return 20 - sign_test_critical_count(20)


def _halve_width() -> int:
    from alpaca_lessons.common.stats import sample_size_for_width

    return round(sample_size_for_width(0.05) / sample_size_for_width(0.10))


def _independent_kappa() -> float:
    from alpaca_lessons.common.stats import cohen_kappa

    # 100 records, each annotator says yes to 90 of them, independently: 81 yes-yes, 9 + 9 disagreements, 1 no-no
    a = ["yes"] * 90 + ["no"] * 10
    b = ["yes"] * 81 + ["no"] * 9 + ["yes"] * 9 + ["no"]
    return round(cohen_kappa(a, b), 1) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0


def _q4_0_bits() -> float:
    from alpaca_lessons.models.quantize import FORMATS

    return FORMATS["q4_0"].bits_per_weight


def _laptop_context() -> int:
    from alpaca_lessons.models.shapes import LLAMA_7B
    from alpaca_lessons.training.memory.inference import GIB, OS_RESERVE_GIB, kv_cache_bytes, weight_bytes

    room = (8 - OS_RESERVE_GIB) * GIB - weight_bytes(LLAMA_7B, "q4_0")
    return int(room // kv_cache_bytes(LLAMA_7B, 1))


def _fewest_all_green() -> int:
    from alpaca_lessons.evaluation.watermark import detect, green_list

    ids = [0]
    while len(ids) < 2 or detect(ids, 1000).z < 4:  # add distinct (previous, green) pairs until z reaches 4
        ids.append(next(t for t in green_list(ids[-1], 1000) if t not in ids))
    return len(ids) - 1


EXERCISES: dict[str, Exercise] = {
    "00.per_seed": Exercise("Alpaca's 52,002 examples grew from 175 human-written seed tasks. About how many "
                            "examples per seed task is that (a whole number)?", _examples_per_seed,
                            "Divide the data set's size by the number of seed tasks, and round."),
    "01.longest": Exercise("Which seed task (its id) has the longest instruction in words?",
                           _longest_instruction_id, "Use `max` with `key=len(t.instruction.split())`."),
    "01.classification_request": Exercise(
        "A request shows 3 distinct seeds drawn at random from the 175. What is the chance (3 decimals) that it "
        "shows at least one of the 26 classification tasks?", _classification_in_request,
        "Count the draws with none: choose 3 of the 149 others, out of all ways to choose 3 of 175."),
    "02.prompt_tokens": Exercise("How many GPT-3 tokens is Alpaca's prompt.txt on its own?", _prompt_tokens,
                                 "`count_tokens(generation_prompt('alpaca'))`."),
    "02.reply_tasks_5": Exercise(
        "Had Alpaca shown 5 seed tasks per request instead of 3 (same prompt, same stop sequences), how many new "
        "tasks could one reply hold at most?", _reply_tasks_with_five,
        "The reply starts at the task after the last example, and the stop sequence '20.' ends it."),
    "03.hash_map": Exercise("What happens to 'Explain how a hash map stores its keys.'? ('kept' or the reason)",
                            _hash_map_verdict, "Look at Alpaca's blacklist, and remember it matches whole words."),
    "03.contained": Exercise("A 4-token instruction appears, in order, inside a 12-token pool instruction. What is "
                             "their ROUGE-L F-measure?", _contained_rouge,
                             "Precision is LCS / 4 and recall LCS / 12; F is their harmonic mean."),
    "03.lcs_to_reject": Exercise("Two instructions of 10 rouge-score tokens each: how long must their LCS be at "
                                 "least for the second to be rejected (ROUGE-L above 0.7)?", _lcs_to_reject,
                                 "With equal lengths F = LCS / 10; the filter rejects strictly above 0.7."),
    "04.thin_wedge": Exercise("A verb heads 100 verb-noun pairs spread over 50 objects, 2 pairs each. How many "
                              "instructions does its wedge hold in a sunburst of 4 objects per verb?", _thin_wedge,
                              "The outer ring keeps each verb's 4 most frequent objects only."),
    "04.max_coverage": Exercise("1,000 instructions, each with its own distinct verb-noun pair: what share of them can "
                                "a 20-verb x 4-object sunburst hold at most?", _max_coverage,
                                "Count the wedges, and how many instructions each one holds."),
    "05.halve_width": Exercise("To halve the width of a share's 95% interval, about how many times as many records "
                               "must be annotated? (an integer)", _halve_width,
                               "The width shrinks like 1/√n: see what your `sample_size` gives for 0.10 and 0.05."),
    "05.independent_kappa": Exercise("Two annotators each say yes to 90% of the records, independently of each "
                                     "other. What is Cohen's kappa between them (1 decimal)?", _independent_kappa,
                                     "Work out p_o and p_e for two raters who each say yes 90% of the time at random."),
    "06a.learned_tokens": Exercise("With the course model's tokenizer, how many positions of the example "
                                   "('Say hi.', no input, 'Hi there!') carry a label other than -100?",
                                   _learned_tokens, "The output's tokens, plus one: the EOS."),
    "06a.pad_is_eos": Exercise("Same example, but with a recipe that uses EOS as its pad token and masks the labels "
                               "wherever input_ids == pad_id: how many positions are learned now?",
                               _learned_tokens_if_pad_is_eos,
                               "The EOS is also a 'pad' now, so its label is masked too."),
    "06b.fewest_a100_40": Exercise("On how few A100 40GB GPUs (FSDP, micro-batch 4, 512 tokens, today's software) "
                                   "does full fine-tuning of LLaMA-7B fit?", _fewest_a100_40,
                                   "Try `smallest_fit` on a `Setup` of LLaMA-7B and that GPU."),
    "07.fewest_all_green": Exercise("At gamma=0.25, how few scored tokens, every one green, reach z >= 4?",
                                    _fewest_all_green, "With all T green, z = T(1 - gamma) / sqrt(T gamma (1 - gamma))"
                                    " = sqrt(T (1 - gamma) / gamma)."),
    "08.first_position_judge": Exercise(
        "A judge always prefers the answer shown first. Asked in both orders as in section 7, what win rate "
        "(a share, e.g. 0.25) does it give Alpaca-7B on the 805 pairs?", _first_position_judge,
        "Each pair is asked twice with the outputs swapped: which output does each order pick, and what does "
        "`combine_orders` make of two verdicts that disagree?"),
    "08.fewest_wins": Exercise(
        "With 20 decisive comparisons (no ties), how many wins at least does the two-sided sign test need for "
        "p <= 0.05?", _fewest_wins_of_20,
        "Call your `sign_test_p(w, 0, 20 - w)` for w = 10, 11, ... and stop at the first p <= 0.05."),
    "09.q4_0_bits": Exercise("How many bits does Q4_0 store per weight, its scale included?", _q4_0_bits,
                             "A block is 32 weights: 32 four-bit numbers and one float16 scale."),
    "09.laptop_context": Exercise(
        "LLaMA-7B in Q4_0 on an 8 GB laptop, 1 GiB left for the system: how many tokens of context does the f16 "
        "KV cache leave room for (a whole number)?", _laptop_context,
        "Room = 7 GiB - the Q4_0 weights (weight_bytes); each token adds 2 x 32 layers x 4096 values x 2 bytes."),
}


def _same(answer: Any, expected: Any) -> bool:
    if isinstance(expected, str) and isinstance(answer, str):
        return answer.strip().lower() == expected.strip().lower()
    return answer == expected


def is_correct(exercise_id: str, answer: Any) -> bool:
    """Whether ``answer`` is the computed answer (strings compare case- and space-insensitively)."""
    return answer is not None and _same(answer, EXERCISES[exercise_id].solve())


def check(exercise_id: str, answer: Any) -> None:
    """Print the verdict on ``answer``: correct, a hint, or a reminder to answer."""
    exercise = EXERCISES[exercise_id]
    if answer is None:
        print(f"[{exercise_id}] {exercise.question}\n  not answered yet: replace None with your answer.")
    elif is_correct(exercise_id, answer):
        print(f"[{exercise_id}] correct!")
    else:
        print(f"[{exercise_id}] not quite. Hint: {exercise.hint}")
