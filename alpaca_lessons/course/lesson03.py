"""Lesson 03's implement-it exercises: read a teacher's reply into tasks, the rules, the LCS and ROUGE-L.

Each ``check_...`` runs the student's function and the package's tested implementation on the same inputs
(real replay replies and instructions of the Alpaca 52K, and hand-made edge cases) and names the known
mistake a wrong answer matches. The mistakes are written out below as whole alternative functions, so a
test can prove that each one fails its check with its hint.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

from rouge_score import rouge_scorer

from alpaca_lessons.common.text import rouge_tokens
from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import Record, read_records
from alpaca_lessons.generation import ALPACA, GenerationConfig, build_requests
from alpaca_lessons.generation.handwritten import ENGLISH_REPLY
from alpaca_lessons.generation.novelty import NoveltyFilter
from alpaca_lessons.generation.novelty.reference import lcs_table_length
from alpaca_lessons.generation.rules import (
    ALPACA_BLACKLIST,
    BANNED_PREFIX,
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
from alpaca_lessons.generation.teacher import ReplayModel

# Real 52K tasks (by index) with an EMPTY output: Alpaca's parser kept them, so a parser must too.
EMPTY_OUTPUT_RECORDS = (284, 1223, 1347)

# A reply WRITTEN BY HAND for the exercise (no model wrote it): a blank first input, an empty output, a
# trailing "###" (a blank last block) and a reply that stopped for a stop sequence, so nothing is cut.
EXERCISE_REPLY = (" List three uses of a paperclip.\n4. Input:\n<noinput>\n4. Output:\n\n###\n"
                  "5. Instruction: Sort the numbers from smallest to largest.\n5. Input:\n7, 2, 9\n"
                  "5. Output:\n2, 7, 9\n###\n6. Instruction: Give an antonym of the word.\n6. Input:\n<noinput>\n###\n")


# ----- Exercise 3.1: a reply into blocks (the parse half of Alpaca's post-processing)

def parse_blocks_reference(text: str, finish_reason: str, first_number: int = 4) -> list[Record | str]:
    """For each non-blank block of the reply: its task, or the reason it could not be read (``CUT``,
    ``UNPARSEABLE``). The package's ``generation.rules.parse_reply`` with Alpaca's rules."""
    return [block.task if block.task is not None else block.rejection.reason
            for block in parse_reply(text, finish_reason, first_number)]


def _parse_variant(text: str, finish_reason: str, first_number: int = 4, *, drop_cut: bool = True,
                   numbered: bool = True, empty_input: bool = True, empty_output: bool = True) -> list[Record | str]:
    """Alpaca's parse written out again, with a switch for each plausible mistake (all True: the right one)."""
    pieces = (f"{first_number}. Instruction:" + text).split("###")
    verdicts: list[Record | str] = []
    for position, piece in enumerate(pieces):
        if not piece.strip():
            continue
        if drop_cut and position == len(pieces) - 1 and finish_reason == "length":
            verdicts.append(CUT)
            continue
        label = rf"{first_number + position}\.\s+" if numbered else ""
        parts = re.split(rf"{label}(Instruction|Input|Output):", piece)
        if len(parts) != 7 or (not empty_output and not parts[6].strip()):
            verdicts.append(UNPARSEABLE)
            continue
        instruction, task_input, output = (parts[k].strip() for k in (2, 4, 6))
        if empty_input and task_input.lower() == "<noinput>":
            task_input = ""
        verdicts.append(Record(instruction, task_input, output))
    return verdicts


def _variant(**switches: bool) -> Callable[..., list[Record | str]]:
    return lambda text, finish_reason, first_number=4: _parse_variant(text, finish_reason, first_number, **switches)


MISTAKES_PARSE_BLOCKS = (
    Mistake(_variant(drop_cut=False), "of reading the last block of a reply that stopped for length: "
            "finish_reason 'length' means max_tokens cut that block short, and Alpaca drops it unread"),
    Mistake(_variant(numbered=False), "of splitting each block on the labels alone: the number in front of "
            "the next label ('5.') stays stuck to the end of the instruction and the input, and a block "
            "with the wrong number is not caught; split on the block's own number before each label"),
    Mistake(_variant(empty_input=False), "of keeping '<noinput>' as the input: it is the prompt's marker for "
            "an empty input, which the task records as ''"),
    Mistake(_variant(empty_output=False), "of rejecting a task whose output is empty: Alpaca only asks for the "
            "three numbered labels, and kept such tasks (28 of the released 52K have an empty output)"),
)


@lru_cache(maxsize=1)
def _replay_replies() -> tuple[tuple[str, str, str], ...]:
    """Real replay replies (text, finish_reason, label): one request's 5 replies, one cut by max_tokens,
    and one replaying 16 real 52K tasks (the 16 a reply holds before "20."), 3 of them with an empty output."""
    records = read_records("alpaca_data")
    config = GenerationConfig(seed=0)
    prompts, _ = build_requests(ALPACA.seed_tasks(), ALPACA, config, 0)
    model = ReplayModel(seed=0)
    replies = []
    for draw, prompt in enumerate(prompts):
        reply = model.complete(prompt, config.sampling(), draw)
        replies.append((reply.text, reply.finish_reason, f"real replay reply {draw} of request 0"))
    cut = model.complete(prompts[0], replace(config.sampling(), max_tokens=300), 7)
    replies.insert(1, (cut.text, cut.finish_reason, "a real replay reply cut at max_tokens=300"))
    empty = ReplayModel(seed=0, records=[records[i] for i in EMPTY_OUTPUT_RECORDS] + records[:13])
    reply = empty.complete(prompts[0], config.sampling(), 0)
    replies.insert(2, (reply.text, reply.finish_reason, "a real replay reply holding 52K tasks with empty outputs"))
    return tuple(replies)


def parse_cases(hidden: bool = False) -> list[Case]:
    """The hand-written replies, then real replay replies (all five of request 0 when ``hidden``)."""
    cases = [Case((ENGLISH_REPLY.text, ENGLISH_REPLY.finish_reason, 4), "lesson 03's hand-written reply"),
             Case((EXERCISE_REPLY, "stop", 4), "a hand-written reply with an empty output and a trailing ###")]
    replies = _replay_replies()
    cases += [Case((text, reason, 4), label) for text, reason, label in (replies if hidden else replies[:3])]
    return cases


def check_parse_blocks(fn: Callable[[str, str, int], list], hidden: bool = False) -> None:
    """Check a student's ``parse_blocks(text, finish_reason, first_number)``."""
    check_function(fn, parse_blocks_reference, parse_cases(hidden), mistakes=MISTAKES_PARSE_BLOCKS,
                   name="parse_blocks")


# ----- Exercise 3.2: the rules an instruction must pass

def rule_broken_reference(instruction: str) -> str | None:
    """The first of Alpaca's rules ``instruction`` breaks (a reason of ``generation.rules``), or None."""
    rejection = check_instruction(instruction)
    return None if rejection is None else rejection.reason


def _rules_variant(instruction: str, *, min_words: int = 4, whole_words: bool = True, ignore_case: bool = True
                   ) -> str | None:
    """Alpaca's rules written out again, with a switch for each plausible mistake (defaults: the right ones)."""
    length = len(instruction.split())
    if length < min_words:
        return TOO_SHORT
    if length > 150:
        return TOO_LONG
    if whole_words:
        flags = re.IGNORECASE if ignore_case else 0
        hit = any(re.search(rf"\b{re.escape(word)}\b", instruction, flags) for word in ALPACA_BLACKLIST)
    else:
        text = instruction.lower() if ignore_case else instruction
        hit = any(word in text for word in ALPACA_BLACKLIST)
    if hit:
        return BLACKLISTED
    if instruction.startswith("Write a program"):
        return BANNED_PREFIX
    if instruction[0] in string.punctuation:
        return PUNCTUATION_FIRST
    return None if instruction[0].isascii() else NON_ASCII_FIRST


MISTAKES_RULE_BROKEN = (
    Mistake(lambda text: _rules_variant(text, whole_words=False), "of matching the blacklist as substrings: "
            "'graph' is inside 'paragraph' and 'draw' inside 'drawbacks'; Alpaca matches whole words only"),
    Mistake(lambda text: _rules_variant(text, ignore_case=False), "of a case-sensitive blacklist: 'Music' or "
            "'Images' at the start of an instruction must match too; Alpaca ignores case"),
    Mistake(lambda text: _rules_variant(text, min_words=5), "of an off-by-one in the length rule: Alpaca drops "
            "instructions of 3 words or fewer and keeps those of 4"),
    Mistake(lambda text: _rules_variant(text, min_words=3), "of an off-by-one in the length rule: Alpaca drops "
            "instructions of 3 words or fewer (3 words is too short)"),
)

# Hand-made instructions, one per rule and edge, in an order where each mistake first fails on its own edge.
RULE_EXAMPLES = (
    "Summarize the paragraph into a sentence.",  # 'graph' as a substring only: kept
    "Music can change a mood: explain how.",  # 'Music' at the start: blacklisted, whatever the case
    "Suggest a good book.",  # 4 words: kept
    "Name a color.",  # 3 words: too short
    "Explain how a hash map stores its keys.",  # 'map' as a whole word
    "Write a program that prints the first ten primes.",
    "Write a poem about programs.",  # 'Write a p...' but not the banned prefix
    '"Carpe diem": explain what this phrase means.',
    "¿Cuál es la capital de Francia? Answer in English.",
    " ".join(["word"] * 151),
    " ".join(["word"] * 150),
)


@lru_cache(maxsize=1)
def _real_instructions() -> tuple[str, ...]:
    """Real instructions: the 52K's first five that hold a blacklisted word as a mere substring, then the
    four seed tasks Alpaca's rules reject (the seeds were never filtered), then the first 52K instructions."""
    from alpaca_lessons.data import read_seed_tasks

    records = read_records("alpaca_data")
    substrings = [r.instruction for r in records if any(w in r.instruction.lower() for w in ALPACA_BLACKLIST)][:5]
    rejected_seeds = [t.instruction for t in read_seed_tasks() if check_instruction(t.instruction) is not None]
    return tuple(substrings + rejected_seeds + [r.instruction for r in records[:20]])


def check_rule_broken(fn: Callable[[str], str | None], hidden: bool = False) -> None:
    """Check a student's ``rule_broken(instruction)``."""
    texts = RULE_EXAMPLES + (_real_instructions() if hidden else _real_instructions()[:9])
    check_function(fn, rule_broken_reference, [Case((t,), repr(t)) for t in texts], mistakes=MISTAKES_RULE_BROKEN,
                   name="rule_broken")


# ----- Exercise 3.3: the longest common subsequence, by its table

def _substring_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common SUBSTRING (contiguous run) of two token lists."""
    best, row = 0, [0] * (len(b) + 1)
    for x in a:
        new = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            new[j] = row[j - 1] + 1 if x == y else 0
        best, row = max(best, *new), new
    return best


def _shared_tokens(a: Sequence[str], b: Sequence[str]) -> int:
    """Tokens the two lists share, counted with repeats, order ignored."""
    left = list(b)
    count = 0
    for x in a:
        if x in left:
            left.remove(x)
            count += 1
    return count


def _greedy_matches(a: Sequence[str], b: Sequence[str]) -> int:
    """Each token of ``a`` matched to its first occurrence in ``b`` after the previous match."""
    count, start = 0, 0
    for x in a:
        if x in b[start:]:
            start = b.index(x, start) + 1
            count += 1
    return count


MISTAKES_LCS = (
    Mistake(_substring_length, "of the longest common SUBSTRING: a subsequence may skip tokens in between, "
            "it only has to keep their order"),
    Mistake(_shared_tokens, "of counting the tokens the two share, ignoring order: a subsequence keeps the "
            "order of both lists (that count is only an upper bound on the LCS)"),
    Mistake(_greedy_matches, "of a greedy match, each token taking the first match it finds: an early match can "
            "block a longer subsequence; the table tries both ways at every cell"),
)

LCS_EXAMPLES = (
    ("the cat sat on the mat".split(), "the dog sat on a mat".split()),
    (list("ABCBDAB"), list("BDCABA")),  # the textbook case: LCS 4 ("BCBA")
    (["a", "b", "c"], ["c", "b", "a"]),
    ([], ["a"]),
)


@lru_cache(maxsize=1)
def real_pairs() -> tuple[tuple[str, str], ...]:
    """Real instruction pairs from the 52K that overlap: each of instructions 300-339 with the most similar of
    the first 300 (by the package's novelty filter), so the scores spread over 0.1-0.8, not all near 0."""
    instructions = [r.instruction for r in read_records("alpaca_data")[:340]]
    pool = NoveltyFilter(instructions[:300], top_k=1)
    return tuple((text, pool.check(text).most_similar[0][0]) for text in instructions[300:])


def check_lcs_length(fn: Callable[[list[str], list[str]], int], hidden: bool = False) -> None:
    """Check a student's ``lcs_length(a, b)`` on token lists."""
    pairs = [(rouge_tokens(a), rouge_tokens(b)) for a, b in real_pairs()[: 40 if hidden else 8]]
    cases = [Case((a, b), f"{a}, {b}") for a, b in list(LCS_EXAMPLES) + pairs]
    check_function(fn, lcs_table_length, cases, mistakes=MISTAKES_LCS, name="lcs_length")


# ----- Exercise 3.4: ROUGE-L, rouge-score's way

_SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_score_f(candidate: str, reference: str) -> float:
    """rouge-score's public API: the rougeL F-measure (what Alpaca's filter compares with 0.7)."""
    return _SCORER.score(reference, candidate)["rougeL"].fmeasure


def _f(lcs: int, candidate: int, reference: int) -> float:
    return 0.0 if lcs == 0 else 2 * lcs / (candidate + reference)


def _rouge_variant(tokenize: Callable[[str], Sequence[str]], score: Callable[[int, int, int], float]
                   ) -> Callable[[str, str], float]:
    def rouge(candidate: str, reference: str) -> float:
        a, b = tokenize(candidate), tokenize(reference)
        return score(lcs_table_length(a, b), len(a), len(b)) if a and b else 0.0
    return rouge


_TOKENS_HINT = ("of tokens that are not rouge-score's: it lowercases and keeps only letters and digits "
                "('Poem.' and 'poem' are the same token)")
MISTAKES_ROUGE_L = (
    Mistake(_rouge_variant(list, _f), "of ROUGE-L on characters: rouge-score compares word tokens"),
    Mistake(_rouge_variant(lambda t: list(t.lower()), _f), "of ROUGE-L on characters: rouge-score compares word "
            "tokens"),
    Mistake(_rouge_variant(rouge_tokens, lambda lcs, c, r: lcs / c), "of the precision alone (LCS / candidate "
            "length): ROUGE-L's F-measure combines precision and recall"),
    Mistake(_rouge_variant(rouge_tokens, lambda lcs, c, r: lcs / r), "of the recall alone (LCS / reference "
            "length): ROUGE-L's F-measure combines precision and recall"),
    Mistake(_rouge_variant(rouge_tokens, lambda lcs, c, r: (lcs / c + lcs / r) / 2), "of the arithmetic mean of "
            "precision and recall: the F-measure is their harmonic mean"),
    Mistake(lambda a, b: _f(_substring_length(rouge_tokens(a), rouge_tokens(b)), len(rouge_tokens(a)),
                            len(rouge_tokens(b))) if rouge_tokens(a) and rouge_tokens(b) else 0.0,
            "of the longest common SUBSTRING: ROUGE-L is built on the longest common subsequence"),
    Mistake(_rouge_variant(str.split, _f), _TOKENS_HINT),
    Mistake(_rouge_variant(lambda t: t.lower().split(), _f), _TOKENS_HINT),
)

ROUGE_EXAMPLES = (
    ("Give three tips for staying healthy.", "Give me three tips, please, for staying fit and healthy!"),
    ("Write a poem about the sea.", "write a POEM about the SEA"),
    ("Name a color.", "Translate the sentence into French."),  # nothing in common: 0, not a division by zero
    ("?!", "Name a color."),  # no rouge-score token at all: 0
)


def check_rouge_l(fn: Callable[[str, str], float], hidden: bool = False) -> None:
    """Check a student's ``rouge_l(candidate, reference)`` against rouge-score itself."""
    pairs = list(ROUGE_EXAMPLES) + list(real_pairs()[: 40 if hidden else 8])
    check_function(fn, rouge_score_f, [Case(pair, f"{pair[0]!r}, {pair[1]!r}") for pair in pairs],
                   mistakes=MISTAKES_ROUGE_L, name="rouge_l")


# ----- The instructor kit plants this wrong answer to prove that a wrong solution loses points.
PLANTED = {"l03-rule-broken": '''def rule_broken(instruction: str) -> str | None:
    """The first of Alpaca's rules the instruction breaks, or None."""
    length = len(instruction.split())
    if length <= 3:
        return TOO_SHORT
    if length > 150:
        return TOO_LONG
    if any(word in instruction.lower() for word in ALPACA_BLACKLIST):  # substrings: the planted mistake
        return BLACKLISTED
    if instruction.startswith("Write a program"):
        return BANNED_PREFIX
    if instruction[0] in string.punctuation:
        return PUNCTUATION_FIRST
    return None if instruction[0].isascii() else NON_ASCII_FIRST
'''}
