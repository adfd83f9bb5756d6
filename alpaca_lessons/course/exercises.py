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


def _empty_inputs() -> int:
    return sum(not t.instances[0].input.strip() for t in _seeds())


def _longest_instruction_id() -> str:
    return max(_seeds(), key=lambda t: len(t.instruction.split())).id


def _belle_with_input() -> int:
    from alpaca_lessons.data import read_seed_tasks

    return sum(bool(t.instances[0].input.strip()) for t in read_seed_tasks("belle_seed_tasks"))


def _prompt_tokens() -> int:
    from alpaca_lessons.generation.prompts import count_tokens, generation_prompt

    return count_tokens(generation_prompt("alpaca"))


def _request_ending() -> str:
    from alpaca_lessons.generation.prompts import build_request

    return build_request(_seeds(), k=5, seed=1).rsplit("\n", 1)[-1]


def _largest_prompt() -> int:
    from alpaca_lessons.generation.prompts import DAVINCI_003_CONTEXT

    return DAVINCI_003_CONTEXT - 3072


def _alpaca_license() -> str:
    from alpaca_lessons.data import get_dataset

    return get_dataset("alpaca_data").license


def _alpaca_records() -> int:
    from alpaca_lessons.data import get_dataset

    return get_dataset("alpaca_data").records


def _handwritten_kept() -> int:
    from alpaca_lessons.generation import ALPACA, screen_reply
    from alpaca_lessons.generation.handwritten import ENGLISH_REPLY
    from alpaca_lessons.generation.novelty import NoveltyFilter

    pool = NoveltyFilter([t.instruction for t in ALPACA.seed_tasks()], tokenizer=ALPACA.tokenizer)
    screenings = screen_reply(ENGLISH_REPLY.text, ENGLISH_REPLY.finish_reason, ENGLISH_REPLY.first_number,
                              ALPACA.rules, pool)
    return sum(s.kept for s in screenings)


def _hash_map_verdict() -> str:
    from alpaca_lessons.generation.rules import check_instruction

    rejection = check_instruction("Explain how a hash map stores its keys.")
    return rejection.reason if rejection else "kept"


def _chinese_false_duplicates() -> int:
    from alpaca_lessons.common.text import rouge_tokens
    from alpaca_lessons.data import read_seed_tasks
    from alpaca_lessons.generation import near_duplicates

    return len(near_duplicates([t.instruction for t in read_seed_tasks("belle_seed_tasks")], rouge_tokens))


def _belle_bm25_seed_rejections() -> int:
    from alpaca_lessons.data import read_seed_tasks
    from alpaca_lessons.generation.belle import leave_one_out

    return sum(not v.bm25.keep for v in leave_one_out([t.instruction for t in read_seed_tasks("belle_seed_tasks")]))


def _davinci_cost() -> float:
    from alpaca_lessons.common.prices import DAVINCI_003

    return round(DAVINCI_003.cost(1_000, 1_000), 4)


def _verb_noun_of_example() -> tuple[str | None, str | None]:
    from alpaca_lessons.analysis.diversity import load_spacy, verb_noun

    return verb_noun(load_spacy()("Describe the structure of an atom."))


def _seed_pairs():
    from alpaca_lessons.analysis.diversity import extract_verb_nouns

    return extract_verb_nouns([t.instruction for t in _seeds()], progress=False)


def _top_seed_verb() -> str:
    from alpaca_lessons.analysis.diversity import top_verb_nouns

    return top_verb_nouns(_seed_pairs(), verbs=1)[0][0]


def _seed_distinct_verbs() -> int:
    from alpaca_lessons.analysis.diversity import summarize_verb_nouns

    return summarize_verb_nouns(_seed_pairs()).distinct_verbs


def _halve_width() -> int:
    from alpaca_lessons.common.stats import sample_size_for_width

    return round(sample_size_for_width(0.05) / sample_size_for_width(0.10))


def _independent_kappa() -> float:
    from alpaca_lessons.common.stats import cohen_kappa

    # 100 records, each annotator says yes to 90 of them, independently: 81 yes-yes, 9 + 9 disagreements, 1 no-no
    a = ["yes"] * 90 + ["no"] * 10
    b = ["yes"] * 81 + ["no"] * 9 + ["yes"] * 9 + ["no"]
    return round(cohen_kappa(a, b), 1) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0


def _bytes_per_parameter() -> float:
    from alpaca_lessons.models.shapes import LLAMA_7B
    from alpaca_lessons.training.memory.estimate import Setup, estimate

    full = estimate(Setup(LLAMA_7B))
    return (full.weights + full.gradients + full.optimizer) / full.parameters


def _accumulation_on_8() -> int:
    from alpaca_lessons.training.train import TrainConfig, accumulation_steps

    return accumulation_steps(TrainConfig(micro_batch_size=4), world_size=8)


def _fewest_a100_40() -> int | None:
    from alpaca_lessons.models.shapes import LLAMA_7B
    from alpaca_lessons.training.memory.estimate import GPUS, Setup, smallest_fit

    return smallest_fit(Setup(LLAMA_7B), GPUS["A100-40GB"])


def _lora_7b() -> int:
    from alpaca_lessons.models.shapes import LLAMA_7B
    from alpaca_lessons.training.memory.estimate import lora_parameters

    return lora_parameters(LLAMA_7B, 8, ("q_proj", "v_proj"))


def _learned_tokens() -> int:
    from alpaca_lessons.data import Record
    from alpaca_lessons.models.modeling import course_model_dir, load_tokenizer
    from alpaca_lessons.training.sft import tokenize_records

    examples, _ = tokenize_records([Record("Say hi.", "", "Hi there!")], load_tokenizer(course_model_dir()))
    return examples[0].target_tokens


def _fewest_all_green() -> int:
    from alpaca_lessons.evaluation.watermark import detect, green_list

    ids = [0]
    while len(ids) < 2 or detect(ids, 1000).z < 4:  # add distinct (previous, green) pairs until z reaches 4
        ids.append(next(t for t in green_list(ids[-1], 1000) if t not in ids))
    return len(ids) - 1


def _ninety_vs_eighty_nine() -> float:
    from alpaca_lessons.evaluation.metrics import win_rate

    return round(win_rate(90, 73, 89).p_value, 2)


def _gpt4_selfinstruct_wins() -> int:
    from alpaca_lessons.evaluation.pairs import SECOND, gpt4_judged_pairs

    judged = gpt4_judged_pairs()
    return sum(p == SECOND and d == "selfinstruct" for p, d in zip(judged.preferences, judged.datasets, strict=True))


def _identical_pairs() -> int:
    from alpaca_lessons.evaluation.pairs import gpt4_judged_pairs

    return sum(p.output_1 == p.output_2 for p in gpt4_judged_pairs().pairs)


EXERCISES: dict[str, Exercise] = {
    "00.license": Exercise("Which license covers the Alpaca 52K data (and any model trained on it)?",
                           _alpaca_license, "Look at `alpaca-lessons data list` or the NOTICE file."),
    "00.records": Exercise("How many examples does the Alpaca data set hold?", _alpaca_records,
                           "The registry records the count: `get_dataset('alpaca_data').records`."),
    "01.empty_inputs": Exercise("How many of the 175 seed tasks have an empty input?", _empty_inputs,
                                "Count tasks whose first instance has `input == ''`."),
    "01.longest": Exercise("Which seed task (its id) has the longest instruction in words?",
                           _longest_instruction_id, "Use `max` with `key=len(t.instruction.split())`."),
    "01.belle_inputs": Exercise("How many of BELLE's 175 Chinese seed tasks have an input?", _belle_with_input,
                                "Same count as for the English seeds, on `read_seed_tasks('belle_seed_tasks')`."),
    "02.prompt_tokens": Exercise("How many GPT-3 tokens is Alpaca's prompt.txt on its own?", _prompt_tokens,
                                 "`count_tokens(generation_prompt('alpaca'))`."),
    "02.ending": Exercise("With 5 example tasks, what is the last line of a request?", _request_ending,
                          "The teacher continues the list at the next number."),
    "02.largest_prompt": Exercise("With max_tokens=3072, how many prompt tokens fit text-davinci-003's window?",
                                  _largest_prompt, "prompt + max_tokens <= 4097."),
    "03.handwritten_kept": Exercise("How many tasks of the hand-written English reply pass every filter?",
                                    _handwritten_kept, "Run `screen_reply` on it against a pool of the 175 seeds."),
    "03.hash_map": Exercise("What happens to 'Explain how a hash map stores its keys.'? ('kept' or the reason)",
                            _hash_map_verdict, "Look at Alpaca's blacklist, and remember it matches whole words."),
    "03.chinese_false_duplicates": Exercise(
        "Fed in order, how many of BELLE's 175 seed instructions would rouge-score's tokens reject as near-duplicates?",
        _chinese_false_duplicates, "`near_duplicates(instructions, rouge_tokens)`: count what it returns."),
    "03.belle_bm25_seeds": Exercise(
        "Scored with BM25 over jieba words against the other 174, how many of BELLE's 175 seeds score above 18?",
        _belle_bm25_seed_rejections, "`leave_one_out(instructions)`: count the verdicts whose `bm25.keep` is False."),
    "03.davinci_cost": Exercise("In dollars, what did 1,000 prompt + 1,000 completion tokens of text-davinci-003 cost?",
                                _davinci_cost, "$0.02 per 1K tokens, prompt and completion alike."),
    "04.verb_noun": Exercise("What (verb, noun) does the rule extract from 'Describe the structure of an atom.'?",
                             _verb_noun_of_example, "`verb_noun(nlp(text))`; lemmas, lowercase, as a tuple."),
    "04.top_seed_verb": Exercise("Which root verb heads the most verb-noun pairs among the 175 seed tasks?",
                                 _top_seed_verb, "The first entry of `top_verb_nouns(seed_pairs)`."),
    "04.seed_verbs": Exercise("How many distinct verbs do the seeds' verb-noun pairs use?", _seed_distinct_verbs,
                              "`summarize_verb_nouns(seed_pairs).distinct_verbs`."),
    "05.halve_width": Exercise("To halve the width of a share's 95% interval, about how many times as many records "
                               "must be annotated? (an integer)", _halve_width,
                               "The width shrinks like 1/√n: see what your `sample_size` gives for 0.10 and 0.05."),
    "05.independent_kappa": Exercise("Two annotators each say yes to 90% of the records, independently of each "
                                     "other. What is Cohen's kappa between them (1 decimal)?", _independent_kappa,
                                     "Work out p_o and p_e for two raters who each say yes 90% of the time at random."),
    "06.bytes_per_param": Exercise("How many bytes per parameter do weights, gradients and AdamW state take in full "
                                   "fine-tuning with float32 master weights?", _bytes_per_parameter,
                                   "Weights, gradients and each of Adam's two moments are float32."),
    "06.accumulation": Exercise("With 8 GPUs and a micro-batch of 4, how many accumulation steps make Alpaca's batch "
                                "of 128?", _accumulation_on_8, "128 = micro-batch x accumulation x GPUs."),
    "06.fewest_a100_40": Exercise("On how few A100 40GB GPUs (FSDP, micro-batch 4, 512 tokens, today's software) "
                                  "does full fine-tuning of LLaMA-7B fit?", _fewest_a100_40,
                                  "`smallest_fit(Setup(LLAMA_7B), GPUS['A100-40GB'])`."),
    "06.lora_7b": Exercise("How many trainable parameters does LoRA r=8 on q_proj and v_proj give LLaMA-7B?",
                           _lora_7b, "r x (in + out) per adapted matrix, two matrices in each of 32 layers."),
    "06.learned_tokens": Exercise("With the course model's tokenizer, how many positions of the example "
                                  "('Say hi.', no input, 'Hi there!') carry a label other than -100?", _learned_tokens,
                                  "The output's tokens, plus one: the EOS."),
    "07.fewest_all_green": Exercise("At gamma=0.25, how few scored tokens, every one green, reach z >= 4?",
                                    _fewest_all_green, "With all T green, z = T(1 - gamma) / sqrt(T gamma (1 - gamma))"
                                    " = sqrt(T (1 - gamma) / gamma)."),
    "08.p_value": Exercise("The two-sided sign-test p-value of 90 wins vs 89 losses (2 decimals)?",
                           _ninety_vs_eighty_nine, "Ties are dropped; 179 decisive comparisons, a fair coin."),
    "08.selfinstruct_wins": Exercise("On how many of the 252 Self-Instruct pairs did GPT-4 prefer Alpaca-7B?",
                                     _gpt4_selfinstruct_wins, "Count preference 2 where dataset == 'selfinstruct'."),
    "08.identical": Exercise("How many of the 805 AlpacaEval pairs have two identical outputs?", _identical_pairs,
                             "Compare output_1 and output_2; AlpacaEval scored these as draws without GPT-4."),
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
