"""The artifact audit a careful data scientist runs over an instruction data set before training on it.

Each check is an exact rule (a regular expression or a comparison), so its count is exact for that rule;
what the rule means for the data is stated beside it, with examples, and with what the artifact teaches a
model trained on it. Several checks trace back to how Alpaca generated the 52K: ``<noinput>`` was mapped
to an empty input only when written exactly, and the teacher was stopped at ``"\\n20"`` and ``"20."``
(the end of a 20-task list), which also cut any output that happened to contain those characters.

Every rule runs in time linear in the length of the text (no pattern retries an unbounded repetition from
every position), and a record with a field over ``MAX_FIELD_CHARS`` is reported by its own check and left
out of the others, so one broken line cannot stall the audit.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alpaca_lessons.common.stats import Proportion, proportion
from alpaca_lessons.common.text import is_cjk, rouge_tokens
from alpaca_lessons.data import Record

Finding = tuple[int, str]  # (record index, what was found)

MAX_FIELD_CHARS = 100_000  # the longest field of the 52K has 4,181 characters


@dataclass(frozen=True)
class Check:
    """One audit rule: what it looks for, how, and what the artifact does to a model trained on it."""

    name: str
    title: str
    rule: str
    effect: str
    find: Callable[[Sequence[Record]], list[Finding]]


def _oversized(r: Record) -> str | None:
    for field in ("instruction", "input", "output"):
        if len(getattr(r, field)) > MAX_FIELD_CHARS:
            return f"{field}: {len(getattr(r, field)):,} characters"
    return None


def _scanned(records: Sequence[Record]) -> list[tuple[int, Record]]:
    """The records the content checks read, with their indices: all but those with an oversized field."""
    return [(i, r) for i, r in enumerate(records) if _oversized(r) is None]


def _per_record(test: Callable[[Record], str | None]) -> Callable[[Sequence[Record]], list[Finding]]:
    def find(records: Sequence[Record]) -> list[Finding]:
        return [(i, detail) for i, r in _scanned(records) if (detail := test(r)) is not None]
    return find


def _clip(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# --- placeholders -------------------------------------------------------------------------------------
_WRAPPING = " \t\n<>()[]{}\"'`\\.:;-"
_INPUT_PLACEHOLDERS = {"noinput", "ninput", "none", "n/a", "na", "nil", "null", "empty", "blank", "nothing",
                       "notapplicable", "noinputrequired", "noinputneeded", "noinputnecessary", "noinputprovided"}
_OUTPUT_PLACEHOLDERS = {"nooutput", "noinput", "none", "n/a", "na", "nothing", "null", "empty", "notapplicable"}


def placeholder_key(text: str) -> str:
    """A field reduced to compare with placeholders: lowercase, no spaces, wrapping punctuation removed."""
    return "".join(text.lower().split()).strip(_WRAPPING).replace("\\", "")


def _placeholder_input(r: Record) -> str | None:
    return _clip(r.input) if r.input.strip() and placeholder_key(r.input) in _INPUT_PLACEHOLDERS else None


def _placeholder_output(r: Record) -> str | None:
    return _clip(r.output) if r.output.strip() and placeholder_key(r.output) in _OUTPUT_PLACEHOLDERS else None


_NOINPUT = re.compile(r"<\s*no\s*input\s*>|\bnoinput\b", re.IGNORECASE)


def _noinput_leak(r: Record) -> str | None:
    if r.input.strip() and placeholder_key(r.input) not in _INPUT_PLACEHOLDERS and _NOINPUT.search(r.input):
        return "input: " + _clip(r.input)
    if placeholder_key(r.output) not in _OUTPUT_PLACEHOLDERS and _NOINPUT.search(r.output):
        return "output: " + _clip(r.output)
    return None


# --- the stop sequences "\n20" and "20." --------------------------------------------------------------
_MONTH = r"January|February|March|April|May|June|July|August|September|October|November|December"
_YEAR_CUT = re.compile(
    rf"(?:\b(?:in|of|on|from|to|since|by|until|during|{_MONTH})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,\s+)?"
    r"|\d(?:st|nd|rd|th)?,\s+|\d{4}-|\d{1,2}/\d{1,2}/)20$")
# Not "^\s*": from every line start \s* would run on through all the blank lines that follow (quadratic).
_LIST_ITEM = re.compile(r"(?m)^[^\S\n]*(\d+)[.)]\s")


def _cut_year(r: Record) -> str | None:
    return "…" + r.output.strip()[-50:] if _YEAR_CUT.search(r.output.strip()) else None


def last_list_item(text: str) -> int | None:
    """The number of the last item of a numbered list ("1. ..." or "1) ..." lines), if the text has 3 or more."""
    numbers = _LIST_ITEM.findall(text)
    return int(numbers[-1]) if len(numbers) >= 3 else None


def _cut_list(r: Record) -> str | None:
    return "…" + _clip(r.output.strip()[-60:]) if last_list_item(r.output) == 19 else None


def _cut_dollar(r: Record) -> str | None:
    return "…" + r.output.strip()[-50:] if re.search(r"(?:^|\s)\$$", r.output.strip()) else None


# --- duplicates ---------------------------------------------------------------------------------------
def _exact_duplicates(records: Sequence[Record]) -> list[Finding]:
    first: dict[str, int] = {}
    found = []
    for i, r in _scanned(records):
        if r.instruction in first:
            found.append((i, f"same instruction as record {first[r.instruction]}: {_clip(r.instruction)}"))
        else:
            first[r.instruction] = i
    return found


def instruction_tokens(text: str) -> list[str]:
    """The tokens near duplicates are compared by: rouge-score's, or one per letter or digit (lowercase,
    punctuation dropped) when at least half the letters are Chinese, Japanese or Korean: rouge-score keeps
    only [a-z0-9], so every Chinese instruction would be the same empty set of words."""
    if is_cjk(text):
        return [c for c in text.lower() if c.isalnum()]
    return rouge_tokens(text)


def _near_duplicates(records: Sequence[Record]) -> list[Finding]:
    first: dict[frozenset[str], int] = {}
    found = []
    for i, r in _scanned(records):
        key = frozenset(instruction_tokens(r.instruction))
        if not key:
            continue  # no words to compare ("???"): not evidence of anything
        j = first.setdefault(key, i)
        if j != i and records[j].instruction != r.instruction:
            pair = f"{_clip(r.instruction, 50)} | {_clip(records[j].instruction, 50)}"
            found.append((i, f"same words as record {j}: {pair}"))
    return found


# --- language -----------------------------------------------------------------------------------------
_STOPWORDS = {
    "English": "the of and to is in that it for you was with on as are be this have not they at but by from or an",
    "Spanish": "el la los las que de en es un una por con para se del lo su al como pero muy está son",
    "French": "le la les de des et est un une que en pour dans qui ne pas sur au avec ce il je vous nous sont",
    "German": "der die das und ist nicht ein eine zu den mit von sich auf für im dem ich sie es wir auch",
    "Italian": "il lo la gli le di che è un una per non sono con del della questo ho mi ti si",
    "Portuguese": "os as de que é um uma para com não se da em na por mais eu você",
}
_STOPWORD_SETS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_LANGUAGES_OF = {word: tuple(lang for lang, stop in _STOPWORD_SETS.items() if word in stop)
                 for word in set().union(*_STOPWORD_SETS.values())}  # each text's words are looked up once
_WORD = re.compile(r"[^\W\d_]{2,}")


_SCRIPT_LANGUAGE = {"CJK": "Chinese or Japanese (CJK)", "HIRAGANA": "Japanese", "KATAKANA": "Japanese",
                    "HANGUL": "Korean", "CYRILLIC": "Russian or another Cyrillic language", "GREEK": "Greek",
                    "ARABIC": "Arabic", "HEBREW": "Hebrew", "DEVANAGARI": "Hindi or another Devanagari language"}
_TOKEN = re.compile(r"(?<!\S)[^\s@.:]*[@.:]\S*")  # a whole token that has an "@", "." or ":" (every address has)
_LINK = re.compile(r"https?://\S|www\.\S")
_DOMAIN_END = re.compile(r"\.(?:com|org|net|io)\b")


def without_addresses(text: str) -> str:
    """The text with each web or mail address replaced by a space, in linear time.

    Exactly what ``re.sub(r"\\S+@\\S+|https?://\\S+|www\\.\\S+|\\S+\\.(?:com|org|net|io)\\b", " ", text)`` gives, but
    that pattern retries ``\\S+`` from every position of a long token: a 100 KB token took half a minute. An
    address never spans whitespace, so each token is settled by a few left-to-right scans of it."""
    if "@" not in text and "://" not in text and "www." not in text and not _DOMAIN_END.search(text):
        return text  # most texts: no token to look at
    return _TOKEN.sub(lambda token: _token_without_addresses(token.group()), text)


def _token_without_addresses(token: str) -> str:
    if "@" in token[1:-1]:
        return " "  # "\S+@\S+" matches from the first character to the end of the token
    link = _LINK.search(token)
    if link is not None and link.start() == 0:
        return " "
    last_domain = next(iter(deque(_DOMAIN_END.finditer(token), maxlen=1)), None)
    if last_domain is None or last_domain.start() == 0:  # "\S+" needs a character before the dot
        return token if link is None else token[: link.start()] + " "
    # "\S+\.com\b" matches from the first character to the last domain ending; a link may follow it
    rest = token[last_domain.end():]
    link = _LINK.search(rest)
    return " " + (rest if link is None else rest[: link.start()] + " ")


def guess_language(text: str) -> str:
    """A rough guess, no model needed: the script of most letters when it is not Latin, else the language
    whose common function words occur most (at least 3 of them, and twice as many as English's; web and
    mail addresses are ignored); 'English' otherwise. Good enough to find translations and foreign
    passages, not to classify a short phrase."""
    if not text.isascii():
        scripts = [unicodedata.name(c, "UNKNOWN").split()[0] for c in text if c.isalpha()]
        foreign = [s for s in scripts if s != "LATIN"]
        if len(foreign) >= 3 and len(foreign) >= len(scripts) / 2:
            script = max(sorted(set(foreign)), key=foreign.count)
            return _SCRIPT_LANGUAGE.get(script, f"{script.title()} script")
    words = _WORD.findall(without_addresses(text.lower()))
    hits = dict.fromkeys(_STOPWORD_SETS, 0)
    for word in words:
        for lang in _LANGUAGES_OF.get(word, ()):
            hits[lang] += 1
    best = max(hits, key=lambda lang: (hits[lang], lang == "English"))
    return best if hits[best] >= 3 and hits[best] > 2 * hits["English"] else "English"


_LANGUAGE_ASKED = re.compile(r"translat|language|spanish|french|german|italian|portuguese|japanese|chinese|"
                             r"korean|hindi|russian|greek|arabic", re.IGNORECASE)


def _non_english(r: Record) -> str | None:
    for field in ("instruction", "input", "output"):
        language = guess_language(getattr(r, field))
        if language != "English":
            asked = "asked for" if _LANGUAGE_ASKED.search(r.instruction) else "not asked for"
            return f"{field} in another language, {asked}: {language}: {_clip(getattr(r, field), 50)}"
    return None


# --- inputs -------------------------------------------------------------------------------------------
_REFERENCE = re.compile(
    r"\b(?:the following|the given|the provided|the below|this|these)\s+(?:\w+\s+){0,2}?"
    r"(?:text|sentences?|passage|paragraph|article|story|poem|list|data|dataset|code|table|email|statement|"
    r"document|input|song|lyrics|tweet|essay|review|excerpt|quote|conversation|dialogue|words)\b", re.IGNORECASE)


# Content written into the instruction itself: a second sentence ("Is the following sentence true? Fish fly."),
# or a dash before it ("Change this sentence to passive voice - Jack bought a car.").
_INLINE_CONTENT = re.compile(r"[.?!]\s+\S| [-–] \S")


def _missing_input(r: Record) -> str | None:
    instruction = r.instruction.strip()
    if r.input.strip() or any(c in instruction for c in ':"“\n') or _INLINE_CONTENT.search(instruction):
        return None  # an input is given, or the content may sit inside the instruction
    return _clip(instruction) if _REFERENCE.search(instruction) else None


def rule_precision(findings: Sequence[Finding], labels: Sequence[dict]) -> Proportion:
    """The share of a rule's findings that a reader labelled as real (``refers_to_missing_input``), with its
    Wilson interval; every finding must have a label (the labels may cover more records than the findings)."""
    verdict = {int(row["index"]): bool(row["refers_to_missing_input"]) for row in labels}
    unlabelled = [i for i, _ in findings if i not in verdict]
    if unlabelled:
        raise ValueError(f"findings without a label: {unlabelled[:5]}")
    return proportion(sum(verdict[i] for i, _ in findings), len(findings))


_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_NEEDS_READING = re.compile(r"\b(?:article|website|web ?page|page|site|image|photo|picture|video|link|url|blog|"
                            r"post|podcast)\b", re.IGNORECASE)


def _link_input(r: Record) -> str | None:
    return _clip(r.input) if _URL.search(r.input) and _NEEDS_READING.search(r.instruction) else None


def _copies_input(r: Record) -> str | None:
    return _clip(r.output) if r.input.strip() and r.output.strip() == r.input.strip() else None


CHECKS: tuple[Check, ...] = (
    Check("empty_output", "Empty outputs", "output is empty or whitespace",
          "The model learns to end its answer at once. Many are questions whose answer would begin with '20' "
          "(a year such as 2016, '20% of 200', '20 inches'): the stop sequence '\\n20' ended the teacher's "
          "reply before its first word.",
          _per_record(lambda r: None if r.output.strip() else f"instruction: {_clip(r.instruction)}")),
    Check("placeholder_output", "Placeholder outputs", "output is only '<nooutput>', 'N/A', 'None', ... "
          "(case, spaces and brackets ignored)",
          "The model learns to answer '<nooutput>' instead of doing or declining the task; most are "
          "tasks a text model cannot do (design a logo, draw), which should have been removed.",
          _per_record(_placeholder_output)),
    Check("placeholder_input", "Placeholder inputs that are not empty", "input is 'No input', '<No Input>', "
          "'Noinput', 'N/A', ... but not empty (Alpaca turned only the exact string '<noinput>' into '')",
          "These examples are formatted with an 'Input:' section holding junk, so the model sees a "
          "prompt shape that never occurs at use time and learns that inputs may be meaningless.",
          _per_record(_placeholder_input)),
    Check("noinput_leak", "'<noinput>' inside other text", "input or output contains '<noinput>' or 'noinput' "
          "but is not only a placeholder", "The model learns to write the marker '<noinput>' into answers.",
          _per_record(_noinput_leak)),
    Check("stop_cut_year", "Outputs cut by the stop sequence '20.' at a year", "output ends in '20' after a "
          "date word ('in 20', 'as of 20', 'November 3, 20', '1990-20', '07/05/20')",
          "'2020.' contains the stop sequence '20.', so the teacher stopped mid-year: the model learns to "
          "end sentences with a truncated year.", _per_record(_cut_year)),
    Check("stop_cut_list", "Numbered lists cut at item 19 by the stop sequence '\\n20'",
          "output's last numbered item is 19 (no list in the data reaches item 20)",
          "Lists asked to be 20 or more items long stop at 19; the model learns that lists end at 19 and "
          "that a requested count need not be met.", _per_record(_cut_list)),
    Check("stop_cut_dollar", "Outputs cut before a price", "output ends with ' $' ('$20.' hit the stop "
          "sequence '20.')", "The model learns to stop right before the number it was asked for.",
          _per_record(_cut_dollar)),
    Check("exact_duplicate_instruction", "Exact duplicate instructions", "instruction identical to an earlier one",
          "Duplicates weigh some tasks more than others and leak between train and validation splits.",
          _exact_duplicates),
    Check("near_duplicate_instruction", "Near duplicate instructions", "the same set of words (rouge-score "
          "tokens: lowercase, punctuation dropped; characters in Chinese, Japanese or Korean text) as an "
          "earlier instruction, in another order or form",
          "As exact duplicates, but invisible to a string comparison. (The generator's ROUGE-L filter "
          "kept every pair of instructions at or below 0.7, so few are expected.)", _near_duplicates),
    Check("non_english", "Non-English fields", "a field whose letters are mostly non-Latin, or whose function "
          "words vote for Spanish, French, German, Italian or Portuguese (see guess_language)",
          "Mostly translation tasks, where a foreign output is correct; elsewhere it is noise in an English "
          "instruction set. Check the instruction asks for that language.", _per_record(_non_english)),
    Check("missing_input", "Instructions that refer to an input that is not there", "input empty, and the "
          "instruction mentions 'the following/given/this ... text, sentence, article, ...' without a colon, "
          "double quote, line break, second sentence or ' - ' that could hold the content",
          "The model learns to answer about content it never saw: to invent the text it was asked about.",
          _per_record(_missing_input)),
    Check("link_input", "Inputs that are links the model cannot open", "input contains a URL and the "
          "instruction is about an article, page, image, video, ...",
          "The model cannot browse: the output was invented from the URL's words, and the model learns "
          "to pretend it read a page.", _per_record(_link_input)),
    Check("output_copies_input", "Outputs identical to the input", "output equals the (non-empty) input",
          "Sometimes right (a sentence with no error to fix); often a non-answer the model learns to copy.",
          _per_record(_copies_input)),
    Check("oversized_field", "Records too long to audit", f"a field longer than {MAX_FIELD_CHARS:,} characters "
          "(the other checks skip the record)",
          "Likely a broken export or lines run together: training cuts it at the context length, so the model "
          "learns a fragment.", lambda records: [(i, d) for i, r in enumerate(records) if (d := _oversized(r))]),
)


@dataclass(frozen=True)
class CheckResult:
    """What one check found in a data set."""

    check: Check
    findings: list[Finding]

    @property
    def count(self) -> int:
        """How many records the rule flags."""
        return len(self.findings)

    def breakdown(self) -> dict[str, int]:
        """Findings counted by the label before the first ': ' of their detail (e.g. the field and
        whether the instruction asked for another language), most frequent first."""
        counts = Counter(detail.split(": ", 1)[0] for _, detail in self.findings)
        return dict(counts.most_common())


def audit(records: Sequence[Record], checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Run every check over the records."""
    return [CheckResult(check, check.find(records)) for check in checks]


def format_report(results: Sequence[CheckResult], total: int, examples: int = 3) -> str:
    """The audit as text: per check its exact count, rule, effect on training and a few examples."""
    lines = [f"Artifact audit of {total:,} records ({sum(r.count > 0 for r in results)} of {len(results)} "
             "checks find something)", ""]
    for result in results:
        check = result.check
        share = result.count / total if total else 0.0
        lines.append(f"{check.title}: {result.count:,} ({share:.2%})  [{check.name}]")
        lines.append(f"  rule:   {check.rule}")
        lines.append(f"  effect: {check.effect}")
        lines.extend(f"    #{i}: {detail}" for i, detail in result.findings[:examples])
        lines.append("")
    return "\n".join(lines)


def list_endings(records: Sequence[Record]) -> dict[int, int]:
    """How many outputs' numbered lists end at each item number: the evidence for the '\\n20' stop."""
    counts: dict[int, int] = {}
    for r in records:
        if (last := last_list_item(r.output)) is not None:
            counts[last] = counts.get(last, 0) + 1
    return dict(sorted(counts.items()))
