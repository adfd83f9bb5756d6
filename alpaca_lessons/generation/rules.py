"""Reading a teacher's reply into tasks, and the post-processing rules a task must pass.

Faithful to ``post_process_gpt3_response`` in Alpaca's ``generate_instruction.py``: the reply gets the
request's last line (``4. Instruction:``) put back in front, is split on ``###``, loses its last block
when the teacher stopped for length, and each block is split by its expected number into instruction,
input and output (``<noinput>`` means an empty input). The rules then run in Alpaca's order, and the
first one a task breaks is its reason. The novelty (ROUGE-L) test comes after these, in ``generate``.

``Rules`` holds every choice a language makes; ``ALPACA_RULES`` are Alpaca's, ``BELLE_RULES`` the
course's own Chinese adaptation of them (the ``belle-rouge`` profile: lengths in characters, BELLE's
blacklist as case-insensitive substrings, no ASCII-first rule). BELLE's real post-processing is
another parser with other rules: ``generation.belle``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from alpaca_lessons.common.text import characters, words
from alpaca_lessons.data import Record
from alpaca_lessons.generation.prompts import CHINESE, ENGLISH, RequestFormat

# Reasons, in the order a task meets them; the accounting table lists them in this order.
CUT = "cut by max_tokens"
UNPARSEABLE = "unparseable block"
TOO_SHORT = "too short"
TOO_LONG = "too long"
BLACKLISTED = "blacklisted word"
BANNED_PREFIX = "starts with a banned prefix"
PUNCTUATION_FIRST = "starts with punctuation"
NON_ASCII_FIRST = "starts with a non-ASCII character"
TOO_SIMILAR = "too similar to the pool (ROUGE-L)"
REASONS = (CUT, UNPARSEABLE, TOO_SHORT, TOO_LONG, BLACKLISTED, BANNED_PREFIX, PUNCTUATION_FIRST, NON_ASCII_FIRST,
           TOO_SIMILAR)

# Alpaca's blacklist: things a text-only model cannot see, make or do. Matched as whole words.
ALPACA_BLACKLIST = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                    "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram")
# BELLE's (data/1.5M/generate_instruction.py line 63, in its order): image, picture, photo, file, chart, layer, the
# kinds of plot, link, and mentions of OpenAI's models. BELLE matches them as case-sensitive substrings of the
# whole block (``generation.belle``); the course's belle-rouge rules match them case-insensitively in the instruction.
BELLE_BLACKLIST = ("图像", "图片", "照片", "文件", "图表", "图层", "曲线图", "折线图", "直线图", "柱形图", "饼状图",
                   "链接", "http", "OpenAI", "chatgpt", "gpt-3", "gpt-3.5", "gpt-4")
CHINESE_PUNCTUATION = "，。！？；：、“”‘’（）《》【】…—·「」『』"


@dataclass(frozen=True)
class Rules:
    """How to read a reply in one language and which instructions to keep (every number configurable)."""

    fmt: RequestFormat = ENGLISH
    label_gap: str = r"\s+"  # between "4." and the label: Alpaca's regex wants at least one space
    colons: str = ":"  # characters accepted after a label (BELLE's replies use ':' and '：')
    min_length: int = 4  # Alpaca drops len(split()) <= 3
    max_length: int = 150  # ... and > 150
    length: Callable[[str], int] = words
    blacklist: tuple[str, ...] = ALPACA_BLACKLIST
    whole_words: bool = True
    banned_prefixes: tuple[str, ...] = ("Write a program",)
    punctuation: str = string.punctuation
    ascii_first: bool = True
    _patterns: dict = field(default_factory=dict, repr=False, compare=False)  # compiled once per Rules

    @property
    def unit(self) -> str:
        """What lengths are counted in: 'words' or 'characters'."""
        return self.length.__name__

    def block_pattern(self, number: int) -> re.Pattern:
        """The regex that splits block ``number`` into its three labelled fields (7 parts; Alpaca's)."""
        if number not in self._patterns:
            labels = "|".join(re.escape(x) for x in (self.fmt.instruction, self.fmt.input, self.fmt.output))
            self._patterns[number] = re.compile(rf"{number}\.{self.label_gap}({labels})[{re.escape(self.colons)}]")
        return self._patterns[number]

    def blacklisted(self, instruction: str) -> str | None:
        """The first blacklisted word found in ``instruction`` (case-insensitive), or None.

        Whole words are Alpaca's ``\\b(word)\\b`` test, all words in one regex; otherwise substrings."""
        if not self.whole_words:
            return next((w for w in self.blacklist if w.lower() in instruction.lower()), None)
        if "blacklist" not in self._patterns:
            words = "|".join(re.escape(w) for w in self.blacklist)
            self._patterns["blacklist"] = re.compile(rf"\b({words})\b", flags=re.IGNORECASE)
        found = self._patterns["blacklist"].search(instruction)
        return found.group(1).lower() if found else None


ALPACA_RULES = Rules()
BELLE_RULES = Rules(fmt=CHINESE, label_gap=r"\s*", colons=":：", length=characters, blacklist=BELLE_BLACKLIST,
                    whole_words=False, banned_prefixes=(), punctuation=string.punctuation + CHINESE_PUNCTUATION,
                    ascii_first=False)


@dataclass(frozen=True)
class Rejection:
    """Why a block or task was dropped: one of ``REASONS`` and the particular evidence."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Block:
    """One ``###``-separated block of a reply: its expected number, raw text, and the task or the reason."""

    number: int
    text: str
    task: Record | None
    rejection: Rejection | None


def parse_reply(text: str, finish_reason: str, first_number: int, rules: Rules = ALPACA_RULES) -> list[Block]:
    """Split a reply into numbered blocks and read each into a task (Alpaca's post-processing, parse half).

    ``first_number`` is the number the request ended on (4 with 3 examples). Blank blocks (the empty
    tail after a final ``###``) are left out; every other block comes back with a task or a rejection.
    """
    label = rf"{first_number}\.\s*{re.escape(rules.fmt.instruction)}[{re.escape(rules.colons)}]"
    if not re.match(label, text.lstrip()):  # a chat teacher may restate the label; a completion never does
        text = f"{first_number}. {rules.fmt.instruction}:" + text
    pieces = re.split("###", text)
    blocks = []
    for position, piece in enumerate(pieces):
        number = first_number + position
        if not piece.strip():
            continue
        if position == len(pieces) - 1 and finish_reason == "length":
            blocks.append(Block(number, piece, None, Rejection(CUT, "the reply ran out of max_tokens here")))
            continue
        parts = rules.block_pattern(number).split(piece)
        if len(parts) != 7:
            found = (len(parts) - 1) // 2
            blocks.append(Block(number, piece, None, Rejection(
                UNPARSEABLE, f"expected '{number}.' before each of the 3 labels, found {found} such label(s)")))
            continue
        instruction, task_input, output = parts[2].strip(), parts[4].strip(), parts[6].strip()
        if task_input.lower() == rules.fmt.no_input.lower():
            task_input = ""
        blocks.append(Block(number, piece, Record(instruction, task_input, output), None))
    return blocks


def check_instruction(instruction: str, rules: Rules = ALPACA_RULES) -> Rejection | None:
    """The first post-processing rule ``instruction`` breaks, in Alpaca's order, or None if it passes."""
    length = rules.length(instruction)
    if length < rules.min_length:
        return Rejection(TOO_SHORT, f"{length} {rules.unit}; at least {rules.min_length} needed")
    if length > rules.max_length:
        return Rejection(TOO_LONG, f"{length} {rules.unit}; at most {rules.max_length} allowed")
    word = rules.blacklisted(instruction)
    if word is not None:
        return Rejection(BLACKLISTED, repr(word))
    for prefix in rules.banned_prefixes:
        if instruction.startswith(prefix):
            return Rejection(BANNED_PREFIX, repr(prefix))
    if instruction[0] in rules.punctuation:
        return Rejection(PUNCTUATION_FIRST, repr(instruction[0]))
    if rules.ascii_first and not instruction[0].isascii():
        return Rejection(NON_ASCII_FIRST, repr(instruction[0]))
    return None
