"""BELLE's own generation recipe, as ``data/1.5M/generate_instruction.py`` does it (LianjiaTech/BELLE @ 645084d).

BELLE started from Alpaca's script but changed the post-processing and the novelty test. What the script
does, with the lines it comes from:

* requests: ``encode_prompt`` (lines 32-46) is Alpaca's with Chinese labels and ``<无输入>``; 3 seed tasks
  per prompt (line 123), ``request_batch_size=1`` (line 124), ``temperature=1.0, top_p=1.0`` (125-126),
  ``max_tokens=1024`` and Alpaca's stop sequences (171-173), ``logit_bias={"50256": -100}`` (182);
  ``api="completion"`` with ``text-davinci-003`` by default (121-122), ``--api=chat
  --model_name=gpt-3.5-turbo`` for ChatGPT (its README), which sends the system message ``CHAT_SYSTEM``
  before the prompt (``utils.py`` line 120). BELLE's released data came from ChatGPT (its README);
* parsing (lines 59-90): ``N. 指令:`` is put back in front unless ``指令:``/``指令：`` is in the reply's first
  10 characters; the reply is split on ``###``; the last block is dropped when the reply ran out of
  ``max_tokens``; each block's instruction, input and output are the text after ``指令``, ``输入``, ``输出``
  (either colon), with no check of the numbers; an input containing ``无输入`` becomes empty;
* the rules, in the script's order: the **whole block** (input and output included) may not contain a
  word of ``BELLE_BLACKLIST`` (line 73, case-sensitive substrings); the instruction must be longer than 3
  characters (line 92); the phrases of ``GPT_PHRASES`` are deleted from the instruction (lines 95-96);
  a task whose instruction or input still contains ``GPT`` is dropped (line 98); a task **with an input**
  is kept only if its instruction is under 100 characters, or under 150 when it gives an example
  (``示例`` or ``例子``, lines 101-109). There is no upper length for tasks without input, no
  first-character rule and no "Write a program" rule;
* novelty: BM25 against an index built once from the seeds and the instructions loaded at start,
  rejected above 18 (``novelty.bm25``, lines 152-203).

``screen_belle_reply`` is that post-processing and test for one reply. ``leave_one_out`` and
``compare_filters`` measure how BELLE's BM25 test and the course's character ROUGE-L test judge the same
Chinese instructions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from alpaca_lessons.common.text import Tokenizer, character_tokens, jieba_tokens
from alpaca_lessons.data import Record
from alpaca_lessons.generation.novelty import NoveltyFilter, NoveltyResult
from alpaca_lessons.generation.novelty.bm25 import BELLE_THRESHOLD, BM25Filter
from alpaca_lessons.generation.rules import (
    BELLE_BLACKLIST,
    BLACKLISTED,
    CUT,
    TOO_LONG,
    TOO_SHORT,
    UNPARSEABLE,
    Block,
    Rejection,
)
from alpaca_lessons.generation.screening import Screening

#: Deleted from every instruction (generate_instruction.py lines 64-67, in its order: the order matters,
#: '要求GPT模型能够' must go before its prefix '要求GPT').
GPT_PHRASES = ('要求GPT模型能够', '要求GPT能够', '要求GPT模型', '让GPT模型', '使用GPT模型', '请向GPT模型',
               'GPT模型应', 'GPT模型应该', '请求GPT模型', '需要GPT模型回答', '请GPT模型', '请让GPT模型',
               '训练GPT模型', 'GPT模型需要', '要求GPT', '让GPT', '使用GPT', '请向GPT',
               'GPT应', 'GPT应该', '请求GPT', '需要GPT回答', '请GPT', '请让GPT',
               '训练GPT', 'GPT需要', '希望GPT模型能够', '希望GPT能够', '以便GPT模型能够', '以便GPT能够',
               '使得GPT模型能够', '使得GPT能够', '使GPT模型能够', '使GPT能够', '由GPT模型', '使GPT模型')
EXAMPLE_WORDS = ("示例", "例子")  # "example": an instruction that gives one may be longer (line 104)
MAX_WITH_INPUT = 100  # characters: a task with an input needs a shorter instruction (line 108)
MAX_WITH_EXAMPLE = 150  # ... unless the instruction gives an example (line 105)
MIN_LENGTH = 4  # characters: ``if len(inst) <= 3: continue`` (line 92)
#: The system message BELLE's ``utils.openai_completion`` sends with every chat request (utils.py line 120).
CHAT_SYSTEM = ("You are ChatGPT, a large language model trained by OpenAI. You answer as concisely as possible for "
               "each response (e.g. don\u2019t be verbose). It is very important that you answer as concisely as "
               "possible, so please remember this. If you are generating a list, do not have too many items. Keep the "
               "number of items short.")

MENTIONS_GPT = "mentions GPT"
TOO_SIMILAR_BM25 = "too similar to the index (BM25)"

_FIELD = {name: re.compile(rf"(?<={label}[:：])[\s\S]*?(?={until})")
          for name, label, until in (("instruction", "指令", "输入[:：]"), ("input", "输入", "输出[:：]"),
                                     ("output", "输出", r"$"))}
_NEXT_INSTRUCTION = re.compile(r"[\s\S]*?(?=指令[:：])")
_TRAILING_NUMBER = re.compile(r"\d+\.$")


def _field(match: re.Match) -> str:
    """A field as BELLE cleans it: stripped, a trailing ``N.`` (the next label's number) removed."""
    return _TRAILING_NUMBER.sub("", match.group().strip()).strip("\n")


def parse_belle_block(block: str) -> Record | None:
    """Instruction, input and output of one block as BELLE reads them (lines 75-90), or None."""
    found = {name: pattern.search(block) for name, pattern in _FIELD.items()}
    if not all(found.values()):
        return None
    instruction, task_input = _field(found["instruction"]), _field(found["input"])
    task_input = "" if "无输入" in task_input else task_input
    output = found["output"].group().strip().strip("\n")
    if "指令:" in output and "输入:" in output and "输出:" in output:  # no ### between tasks: keep the first
        head = _NEXT_INSTRUCTION.search(output)
        if head:
            output = _TRAILING_NUMBER.sub("", head.group().strip()).strip("\n")
    return Record(instruction, task_input, output)


def check_belle_task(task: Record) -> tuple[Record, Rejection | None]:
    """BELLE's rules for a parsed task, in its order: the task with the GPT phrases deleted, and the first
    rule it breaks (None if it passes). The blacklist is checked on the raw block, in ``parse_belle_reply``."""
    if len(task.instruction) < MIN_LENGTH:
        return task, Rejection(TOO_SHORT, f"{len(task.instruction)} characters; at least {MIN_LENGTH} needed")
    instruction = task.instruction
    for phrase in GPT_PHRASES:
        instruction = instruction.replace(phrase, "")
    task = Record(instruction, task.input, task.output, task.meta)
    if "GPT" in instruction or "GPT" in task.input:
        return task, Rejection(MENTIONS_GPT, "'GPT' in the " + ("instruction" if "GPT" in instruction else "input"))
    if task.input:
        limit = MAX_WITH_EXAMPLE if any(w in instruction for w in EXAMPLE_WORDS) else MAX_WITH_INPUT
        if len(instruction) >= limit:
            return task, Rejection(TOO_LONG, f"{len(instruction)} characters with an input; under {limit} allowed")
    return task, None


def parse_belle_reply(text: str, finish_reason: str, first_number: int) -> list[Block]:
    """A reply split into blocks, each read into a task that passes BELLE's rules or given the reason it
    does not (lines 59-110). A rejected task that parsed keeps its ``task``; blank blocks are left out."""
    if "指令:" not in text[:10] and "指令：" not in text[:10]:
        text = f"{first_number}. 指令:" + text
    pieces = re.split("###", text)
    blocks = []
    for position, piece in enumerate(pieces):
        number = first_number + position  # for display only: BELLE never checks the numbers
        if not piece.strip():
            continue
        if position == len(pieces) - 1 and finish_reason == "length":
            blocks.append(Block(number, piece, None, Rejection(CUT, "the reply ran out of max_tokens here")))
            continue
        word = next((w for w in BELLE_BLACKLIST if w in piece), None)
        if word is not None:
            blocks.append(Block(number, piece, None, Rejection(BLACKLISTED, f"{word!r} in the block")))
            continue
        task = parse_belle_block(piece)
        if task is None:
            blocks.append(Block(number, piece, None, Rejection(UNPARSEABLE, "no 指令, 输入 and 输出 in that order")))
            continue
        task, rejection = check_belle_task(task)
        blocks.append(Block(number, piece, task, rejection))
    return blocks


def screen_belle_reply(text: str, finish_reason: str, first_number: int, novelty: BM25Filter) -> list[Screening]:
    """BELLE's whole post-processing of one reply: parse, rules, then BM25 against the index."""
    screenings = []
    for block in parse_belle_reply(text, finish_reason, first_number):
        if block.rejection is not None:
            screenings.append(Screening(block.number, block.text, block.task, block.rejection, metric="BM25"))
            continue
        result = novelty.consider(block.task.instruction)
        rejection = None
        if not result.keep:
            closest = result.most_similar[0][0]
            rejection = Rejection(TOO_SIMILAR_BM25, f"BM25 {result.max_score:.1f} > {novelty.threshold:g} "
                                                    f"with {closest!r}")
        screenings.append(Screening(block.number, block.text, block.task, rejection, result, metric="BM25"))
    return screenings


@dataclass(frozen=True)
class Verdicts:
    """How the two novelty tests judge one candidate: BELLE's BM25 and the course's character ROUGE-L."""

    candidate: str
    bm25: NoveltyResult
    rouge: NoveltyResult

    @property
    def agree(self) -> bool:
        """Whether both tests keep it, or both reject it."""
        return self.bm25.keep == self.rouge.keep

    def line(self) -> str:
        """One printable line: both decisions with their scores and closest instructions."""
        def verdict(result: NoveltyResult, digits: int) -> str:
            closest = result.most_similar[0][0] if result.most_similar else ""
            return f"{'keep' if result.keep else 'REJECT'} {result.max_score:.{digits}f} ({closest})"
        return f"{self.candidate}\n    BM25 {verdict(self.bm25, 1)}\n    ROUGE-L {verdict(self.rouge, 2)}"


def compare_filters(candidates: Iterable[str], seeds: Sequence[str], *, bm25_threshold: float = BELLE_THRESHOLD,
                    rouge_threshold: float = 0.7, tokenizer: Tokenizer = jieba_tokens) -> list[Verdicts]:
    """Both tests on the same candidates, in order: BM25 against an index of the seeds (BELLE: it never
    grows), and character ROUGE-L against a pool that starts as the seeds and grows by each candidate it keeps."""
    bm25 = BM25Filter(seeds, threshold=bm25_threshold, tokenizer=tokenizer)
    rouge = NoveltyFilter(seeds, threshold=rouge_threshold, tokenizer=character_tokens)
    return [Verdicts(text, bm25.consider(text), rouge.consider(text)) for text in candidates]


def leave_one_out(instructions: Sequence[str], *, bm25_threshold: float = BELLE_THRESHOLD,
                  rouge_threshold: float = 0.7, tokenizer: Tokenizer = jieba_tokens) -> list[Verdicts]:
    """Each instruction judged by both tests against all the others (an index and a pool of the rest):
    how many real seeds each test would take for a near-duplicate of another seed."""
    tokenizer = lru_cache(maxsize=None)(tokenizer)  # each instruction is tokenized once, not once per index
    pool = NoveltyFilter(instructions, threshold=rouge_threshold, tokenizer=character_tokens, top_k=11)
    verdicts = []
    for i, text in enumerate(instructions):
        others = [*instructions[:i], *instructions[i + 1:]]
        bm25 = BM25Filter(others, threshold=bm25_threshold, tokenizer=tokenizer).check(text)
        similar = pool.check(text).most_similar
        similar.remove((text, 1.0))  # itself; the ten best of the others remain
        best = similar[0][1] if similar else 0.0
        verdicts.append(Verdicts(text, bm25, NoveltyResult(best <= rouge_threshold, best, similar[:10])))
    return verdicts


def disagreements(verdicts: Iterable[Verdicts]) -> list[Verdicts]:
    """The candidates one test keeps and the other rejects."""
    return [v for v in verdicts if not v.agree]
