"""Verifiable instruction following: checks a program grades without a judge, in the spirit of IFEval
(Zhou et al., 2023, arXiv 2311.07911), found in Alpaca's own instructions rather than appended to them.

IFEval adds constraints to prompts ("Your answer must contain exactly 3 bullet points", "Answer with less
than 100 words", "Answer with one of the following options: ...") and grades each with a small function
(its ``instructions.py``: exact bullet count, "less than" / "at least" word and sentence counts, a response
that contains one of the options). The 52K carries such constraints in its own words ("List five ...",
"in 50 words or less", "Classify ... as positive or negative"), so each check here is two pure functions:
``applies(record)`` reads the instruction and input and returns the check's parameter (or None when the
check does not apply) and ``passes(answer, parameter)`` grades an answer. Two checks apply to every
answer: it ended with the end-of-sequence token before the token limit, and it sits in the template's
response slot (it does not start another ``### Instruction:`` block or echo the prompt).

The detectors are regular expressions: they miss some phrasings and the item and sentence counters are
heuristics. How far to trust each is measured, not assumed: the table grades text-davinci-003's reference
answers (the record's ``output``) with the same functions, and a check the references mostly fail would be
a broken check, not a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from alpaca_lessons.data import Record

NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
           "one": 1, "a single": 1, "a": 1, "single": 1}
_N = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"


def number(word: str) -> int:
    """A count written as digits or as an English word (one to ten)."""
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


# ------------------------------------------------------------------------------------------- list N items
_LIST_RE = re.compile(
    r"^(?:please\s+|you need to\s+|can you\s+)?(?:list|name|give|provide|suggest|generate|identify|brainstorm|"
    r"write down|offer|state|outline|recommend|come up with|think of|find|create|make)\b"
    r"(?:\s+(?:me|us|a list of|a list containing|the|some|of))*\s+" + _N + r"\s+(?:of\s+)?(?:the\s+)?"
    r"(?:[\w'-]+\s+){0,3}?[\w'-]*s\b", re.I)
_MARKER_RE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*\S")
_INLINE_RE = re.compile(r"(?:^|\s)\(?\d{1,2}[.)]\s+(?=\S)")


def list_count(record: Record) -> int | None:
    """N for an instruction that asks for N items ("List five ...", "Name 3 types of clouds", "Generate a
    list of 5 ...", N from 2 to 10), else None."""
    match = _LIST_RE.match(record.instruction.strip())
    if match is None:
        return None
    n = number(match.group(1))
    return n if 2 <= n <= 10 else None


def count_items(answer: str) -> int:
    """The number of items in an answer: its numbered or bulleted lines when it has at least two; else its
    inline numbers ("1) ...; 2) ..."); else its non-empty lines when there are several; else the parts of its
    first sentence (after a colon, if any) split at commas, semicolons and "and"/"or" ("Three types are
    Cirrus, Stratus, and Cumulus." is three: the later sentences describe the items, they are not more)."""
    lines = [line for line in answer.splitlines() if line.strip()]
    marked = [line for line in lines if _MARKER_RE.match(line)]
    if len(marked) >= 2:
        return len(marked)
    inline = _INLINE_RE.findall(answer)
    if len(inline) >= 2:
        return len(inline)
    if len(lines) >= 2:
        return len(lines)
    first = re.split(r"(?<=[.!?])\s+", answer.strip())[0]
    first = first.split(":", 1)[1] if ":" in first else first
    parts = re.split(r"\s*[,;]\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", first)
    return len([p for p in parts if p.strip(" .")])


def list_passes(answer: str, n: int) -> bool:
    """The answer has exactly ``n`` items (:func:`count_items`)."""
    return count_items(answer) == n


# ------------------------------------------------------------------------------ one of the given options
_YES_NO_RE = re.compile(r"^(?!(?:can|could|will|would) you\b)(?:is|are|does|do|did|was|were|can|could|will|would|"
                        r"should|has|have)\b[^?]*\?\s*$", re.I)  # "Can you suggest ...?" is a request, not yes/no
_LETTERED_RE = re.compile(r"^\s*\(?[A-Ea-e][).]\s+(.+?)\s*$", re.M)  # "A: ..." names people, not choices
_OPTIONS_RE = re.compile(r"(?:^|\n)\s*(?:categories|options|choices|labels)\s*:\s*([^\n]+)", re.I)
_CLASSIFY_RE = re.compile(r"^(?:classify|categori[sz]e|determine|decide|identify|tell|label|is|are|does|do|was|"
                          r"were|can|which)\b", re.I)
_MULTI_ITEM_RE = re.compile(r"\b(?:each|every|these|items|words|animals|numbers|objects|list|sentences|things)\b",
                            re.I)
_LEAD_RE = re.compile(r".*(?:\bas|\binto|\bbetween|\beither|\bwhether|\bis it|\bis|\bare|:|\s-|\(|—)\s+", re.I | re.S)
_ARTICLE_RE = re.compile(r"^(?:either\s+)?(?:an?|the)\s+", re.I)


def _split_options(text: str) -> tuple[str, ...]:
    """The options of a phrase like ``a comedy, a drama, or a thriller``: articles and quotes dropped."""
    parts = re.split(r"\s*,\s*(?:or\s+)?|\s+or\s+", text.strip())
    options = []
    for part in parts:
        option = _ARTICLE_RE.sub("", part.strip(" \"'“”.?!()")).strip(" \"'“”")
        if option:
            options.append(option.lower())
    return tuple(options)


def answer_options(record: Record) -> tuple[str, ...] | None:
    """The options a single-answer classification or question lists, lowercased, else None.

    Four forms: lettered choices ("A) ...", "b. ...", two or more lines) in the input or instruction; a list
    after "Categories:" / "Options:" / "Choices:" / "Labels:" in the instruction or input;
    an "X or Y" / "X, Y, or Z" alternative in a classify / determine / is-question instruction ("Classify the
    headline as either positive or negative", "true or false"); a yes/no question ("Is the following statement
    a metaphor?" gives yes and no). Instructions about several items at once ("Classify each of the
    following animals") are left out: their answer is a labelled list, not one option."""
    for text in (record.input, record.instruction):
        lettered = _LETTERED_RE.findall(text)
        if len(lettered) >= 2:
            return tuple(option.lower().rstrip(".") for option in lettered)
    listed = _OPTIONS_RE.search(record.instruction) or _OPTIONS_RE.search(record.input)
    if listed:
        options = _split_options(listed.group(1))
        return options if 2 <= len(options) <= 8 else None
    instruction = record.instruction.strip()
    if not _CLASSIFY_RE.match(instruction) or _MULTI_ITEM_RE.search(instruction):
        return None
    if " or " not in instruction:
        return ("yes", "no") if _YES_NO_RE.match(instruction) else None
    head, _, tail = instruction.rpartition(" or ")
    if head.lower().endswith(" true") or head.lower().endswith(" yes"):  # "true or false", "yes or no"
        return (head.rsplit(" ", 1)[1].lower(), re.match(r"\W*(\w+)", tail).group(1).lower())
    last = re.match(r"\s*((?:an?\s+|the\s+)?[\"'“]?[\w-]+(?:\s+[\w-]+)?[\"'”]?)", tail)
    if last is None or tail[last.end():].strip()[:1] not in ("", ".", "?", ":", ",", ")", ";"):
        return None
    options = _split_options(_LEAD_RE.sub("", head) + " or " + last.group(1))
    if not 2 <= len(options) <= 6 or any(len(o.split()) > 3 or o in ("not", "no") for o in options):
        return None
    return options


def options_passes(answer: str, options: Sequence[str]) -> bool:
    """The answer names at least one of ``options`` (whole words, any case): IFEval's constrained response
    is followed when the response contains one of its options."""
    text = answer.lower()
    return any(re.search(rf"(?<!\w){re.escape(option)}(?!\w)", text) for option in options)


# --------------------------------------------------------------------------------- word and sentence limits
@dataclass(frozen=True)
class Limit:
    """A length constraint: ``relation`` ("at most", "less than" or "exactly") ``n`` ``unit`` (words or
    sentences)."""

    relation: str
    n: int
    unit: str

    def __str__(self) -> str:
        return f"{self.relation} {self.n} {self.unit}"


_LIMIT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:less|fewer) than " + _N + r" (words|sentences)\b", re.I), "less than"),
    (re.compile(r"\b(?:no more than|not more than|at most|maximum of|max(?:imum)?|up to|under|within|not exceeding) "
                + _N + r" (words|sentences)\b", re.I), "at most"),
    (re.compile(r"\b" + _N + r" (words|sentences) or (?:less|fewer)\b", re.I), "at most"),
    (re.compile(r"\b(?:in|with|using|of) (?:exactly )?" + _N + r" (words|sentences)\b(?! or)", re.I), "exactly"),
    (re.compile(r"(?<![-\d])\b" + _N + r"[- ](word|sentence)\b", re.I), "exactly"),  # not "3-4 sentence"
    (re.compile(r"\b(?:in|as|into|using) (a single|one|single) (sentence)\b", re.I), "exactly"),
)
_ONE_SENTENCE_RE = re.compile(r"^(?:please\s+)?(?:write|generate|create|construct|compose|make up|come up with|"
                              r"produce|give|provide|form)\s+(a|one)\s+(?:single\s+|short\s+|new\s+|simple\s+|"
                              r"complete\s+)?(sentence)\b(?!s)", re.I)


def length_limit(record: Record) -> Limit | None:
    """The word or sentence limit an instruction states ("in 50 words or less", "in less than 15 words",
    "a 5-sentence story", "in one sentence", "Write a sentence ..."), else None. An exact word count of 20 or
    more ("a 150-word essay") is a size rather than a limit, and is left out."""
    for pattern, relation in _LIMIT_PATTERNS:
        match = pattern.search(record.instruction)
        if match:
            limit = Limit(relation, number(match.group(1)), match.group(2).lower().rstrip("s") + "s")
            # "a 150-word essay" is a size, not a count to hit exactly (and past 128 new tokens): not graded
            return None if limit.unit == "words" and relation == "exactly" and limit.n >= 20 else limit
    match = _ONE_SENTENCE_RE.match(record.instruction.strip())
    return Limit("exactly", 1, "sentences") if match else None


def count_words(answer: str) -> int:
    """Words: whitespace-separated tokens with at least one letter or digit."""
    return sum(1 for token in answer.split() if any(c.isalnum() for c in token))


def count_sentences(answer: str) -> int:
    """Sentences: text split after ``.``, ``!`` or ``?`` before a space, and at line breaks (a heuristic:
    "Dr. Smith" counts as two)."""
    pieces = re.split(r"(?<=[.!?])[\"'”)]*\s+|\n+", answer.strip())
    return sum(1 for p in pieces if any(c.isalnum() for c in p))


def length_passes(answer: str, limit: Limit) -> bool:
    """The answer's word or sentence count satisfies ``limit``."""
    count = count_words(answer) if limit.unit == "words" else count_sentences(answer)
    if limit.relation == "less than":
        return count < limit.n
    return count <= limit.n if limit.relation == "at most" else count == limit.n


# ---------------------------------------------------------------------------------- the template's slot
TEMPLATE_MARKERS = ("### Instruction", "### Input", "### Response", "Below is an instruction that describes a task")


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def slot_passes(answer: str, record: Record) -> bool:
    """The answer is an answer in the response slot: not empty, no template header or preamble in it, and
    not a continuation that starts by repeating the instruction word for word (repeating the input is
    allowed: editing tasks answer with the input changed a little)."""
    if not answer.strip() or any(marker.lower() in answer.lower() for marker in TEMPLATE_MARKERS):
        return False
    echo = _normal(record.instruction)
    return len(echo.split()) < 4 or not _normal(answer).startswith(echo)


# --------------------------------------------------------------------------------------------- the checks
@dataclass(frozen=True)
class Check:
    """One verifiable check: its name, what it asks, where it applies (record -> parameter or None), and how
    an answer is graded (answer, parameter, record -> pass). ``needs_ending``: graded on whether generation
    ended with EOS, so it does not apply to reference answers."""

    name: str
    description: str
    applies: Callable[[Record], Any]
    passes: Callable[[str, Any, Record], bool]
    needs_ending: bool = False


CHECKS: tuple[Check, ...] = (
    Check("ends", "stops with end-of-sequence before the token limit", lambda r: True,
          lambda answer, ended, r: bool(ended), needs_ending=True),
    Check("slot", "answers in the response slot (no template header, no echo of the prompt)", lambda r: True,
          lambda answer, _, r: slot_passes(answer, r)),
    Check("list_n", "'list N ...': exactly N items", list_count, lambda answer, n, r: list_passes(answer, n)),
    Check("options", "'X or Y' / listed options / yes-no: names one of the options", answer_options,
          lambda answer, options, r: options_passes(answer, options)),
    Check("length", "a stated word or sentence limit is respected", length_limit,
          lambda answer, limit, r: length_passes(answer, limit)),
)


def grade(record: Record, answer: str, ended: bool | None = None) -> dict[str, bool | None]:
    """Each check's verdict on ``answer`` to ``record``: True, False, or None where it does not apply (and
    for the EOS check when ``ended`` is None: a reference answer was not generated here)."""
    verdicts: dict[str, bool | None] = {}
    for check in CHECKS:
        parameter = ended if check.needs_ending else check.applies(record)
        verdicts[check.name] = None if parameter is None else check.passes(answer, parameter, record)
    return verdicts


def applicable_counts(records: Sequence[Record]) -> dict[str, int]:
    """How many of ``records`` each check applies to (the EOS and slot checks apply to every record)."""
    return {check.name: sum(check.applies(r) is not None for r in records) for check in CHECKS}
