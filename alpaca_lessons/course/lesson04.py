"""Lesson 04's implement-it exercises: Self-Instruct's verb-noun rule on a spaCy parse, and the sunburst's data.

Each ``check_...`` runs the student's function and the package's tested implementation
(``analysis.diversity.verb_noun`` and ``top_verb_nouns``) on the same inputs: real instructions (the 175 seed
tasks and the Alpaca 52K) parsed by the course's spaCy model, and hand-made pairs for the ties and edges. The
plausible mistakes are written out as whole alternative functions, so a test proves each fails with its hint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from alpaca_lessons.analysis.diversity import (
    SunburstTree,
    VerbNoun,
    extract_verb_nouns,
    load_spacy,
    top_verb_nouns,
    verb_noun,
)
from alpaca_lessons.course.checking import Case, Mistake, check_function
from alpaca_lessons.data import read_records, read_seed_tasks

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


# ----- Exercise 4.1: the verb-noun rule

def _descend(token: Token, word: Callable[[Token], str], is_object: Callable[[Token], bool], descend: bool
             ) -> VerbNoun:
    """The rule from ``token`` with the word form, the object test and the descent as parameters."""
    if token.pos_ == "VERB":
        noun = next((child for child in token.children if is_object(child)), None)
        return word(token), None if noun is None else word(noun)
    first = next(token.children, None)
    return (None, None) if first is None or not descend else _descend(first, word, is_object, descend)


def _rule(word: Callable[[Token], str] = lambda t: t.lemma_,
          is_object: Callable[[Token], bool] = lambda t: t.dep_ == "dobj" and t.pos_ == "NOUN",
          descend: bool = True) -> Callable[[Doc], VerbNoun]:
    def rule(doc: Doc) -> VerbNoun:
        first = next(iter(doc.sents), None)
        return (None, None) if first is None else _descend(first.root, word, is_object, descend)
    return rule


def _first_verb(doc: Doc) -> VerbNoun:
    """The first VERB of the first sentence (not its root), with its direct object."""
    verb = next((t for t in next(doc.sents) if t.pos_ == "VERB"), None)
    if verb is None:
        return None, None
    noun = next((c for c in verb.children if c.dep_ == "dobj" and c.pos_ == "NOUN"), None)
    return verb.lemma_, None if noun is None else noun.lemma_


def _first_noun_after_verb(doc: Doc) -> VerbNoun:
    """The root verb as the rule finds it, then the first NOUN that follows it in the sentence."""
    verb, _ = verb_noun(doc)
    if verb is None:
        return None, None
    root = next(t for t in next(doc.sents) if t.lemma_ == verb and t.pos_ == "VERB")
    noun = next((t for t in doc[root.i + 1:] if t.pos_ == "NOUN"), None)
    return verb, None if noun is None else noun.lemma_


_NOT_LEMMA = "of the words as written: the rule takes lemmas ('Give' -> 'give', 'tips' -> 'tip')"
_ANY_NOUN = "of a noun that is not the verb's direct object: the object is the verb's child with dep_ 'dobj'"
MISTAKES_VERB_NOUN = (
    Mistake(_first_verb, "of the first verb of the sentence: the rule starts at the sentence's ROOT, and only "
            "if the root is not a verb moves to its first child"),
    Mistake(_rule(descend=False), "of stopping at a root that is not a verb: the rule then moves to the root's "
            "FIRST child and tries again"),
    Mistake(_rule(word=lambda t: t.text), _NOT_LEMMA),
    Mistake(_rule(word=lambda t: t.lower_), _NOT_LEMMA),
    Mistake(_rule(is_object=lambda t: t.pos_ == "NOUN"), _ANY_NOUN),
    Mistake(_first_noun_after_verb, _ANY_NOUN),
    Mistake(_rule(is_object=lambda t: t.dep_ == "dobj"), "of a direct object of any part of speech: the rule "
            "wants a dobj whose POS is NOUN (not a pronoun or a proper noun)"),
)

# Hand-picked instructions, each where one of the mistakes goes wrong.
VERB_NOUN_EXAMPLES = (
    "Give three tips for staying healthy.",
    "Give me a phrase that I can use to express I am very happy.",
    "What are the three primary colors?",
    "Describe the structure of an atom.",
    "Make a list of five fruits.",
    "Explain why the sky is blue.",
    "Tell me about it.",
    "Find the word in the sentence.",
)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    return load_spacy()


def verb_noun_cases(hidden: bool = False) -> list[Case]:
    """The hand-picked instructions, the 175 seed tasks' (40 without ``hidden``), then 200 of the 52K."""
    texts = list(VERB_NOUN_EXAMPLES) + [t.instruction for t in read_seed_tasks()][: 175 if hidden else 40]
    if hidden:
        texts += [r.instruction for r in read_records("alpaca_data")[:200]]
    return [Case((doc,), repr(text)) for text, doc in zip(texts, _nlp().pipe(texts), strict=True)]


def check_verb_noun(fn: Callable[[Doc], VerbNoun], hidden: bool = False) -> None:
    """Check a student's ``verb_noun(doc)`` on parsed real instructions."""
    check_function(fn, verb_noun, verb_noun_cases(hidden), mistakes=MISTAKES_VERB_NOUN, name="verb_noun")


# ----- Exercise 4.2: the sunburst's data

def _top_variant(pairs: Iterable[VerbNoun], verbs: int = 20, nouns: int = 4, *, rank: str = "all",
                 with_none: bool = False, alphabetical: bool = True) -> SunburstTree:
    """The top verbs and their top objects, with the ranking and the tie-break as parameters."""
    pairs = list(pairs)
    counts = Counter((v, n) for v, n in pairs if v and n)
    per_verb: dict[str, list[tuple[str, int]]] = {}
    for (v, n), c in counts.items():
        per_verb.setdefault(v, []).append((n, c))
    missing = Counter(v for v, n in pairs if v and not n) if with_none else Counter()
    order = {v: k for k, (v, _) in enumerate(pairs)}  # first appearance, for a tie-break that is not alphabetical
    tie = (lambda key: key) if alphabetical else (lambda key: order[key])

    def top_nouns(v: str) -> list[tuple[str, int]]:
        return sorted(per_verb[v], key=lambda nc: (-nc[1], tie(nc[0]) if alphabetical else 0))[:nouns]

    score = {"all": lambda v: sum(c for _, c in per_verb[v]) + missing[v],
             "top": lambda v: sum(c for _, c in top_nouns(v)),
             "distinct": lambda v: len(per_verb[v])}[rank]
    chosen = sorted(per_verb, key=lambda v: (-score(v), tie(v)))[:verbs]
    return [(v, top_nouns(v)) for v in chosen]


MISTAKES_TOP_VERB_NOUNS = (
    Mistake(lambda p, verbs=20, nouns=4: _top_variant(p, verbs, nouns, with_none=True), "of counting a verb's "
            "pairs that have no noun: the sunburst only holds verb-noun pairs with both"),
    Mistake(lambda p, verbs=20, nouns=4: _top_variant(p, verbs, nouns, rank="top"), "of ranking a verb by its top "
            "objects only: a verb is ranked by ALL the verb-noun pairs it heads"),
    Mistake(lambda p, verbs=20, nouns=4: _top_variant(p, verbs, nouns, rank="distinct"), "of ranking a verb by how "
            "many different objects it takes: it is ranked by how many pairs it heads"),
    Mistake(lambda p, verbs=20, nouns=4: _top_variant(p, verbs, nouns, alphabetical=False), "of breaking ties by "
            "order of appearance: ties go alphabetically (verbs and nouns), so the picture is deterministic"),
)

# Hand-made: 'describe' heads 5 pairs of 5 objects; 'create' has 3 pairs without a noun; 'create' and 'add' tie.
TIES = ([("describe", n) for n in ("planet", "city", "atom", "dog", "tree")] + [("give", "tip")] * 3
        + [("create", None)] * 3 + [("create", "list")] * 2 + [("add", "number")] * 2 + [(None, None)] * 4)


@lru_cache(maxsize=1)
def _real_pairs() -> tuple[tuple[VerbNoun, ...], tuple[VerbNoun, ...]]:
    """(verb, noun) of the 175 seed tasks and of the first 2,000 instructions of the 52K (the package's rule)."""
    seeds = extract_verb_nouns([t.instruction for t in read_seed_tasks()], _nlp(), progress=False)
    alpaca = extract_verb_nouns([r.instruction for r in read_records("alpaca_data")[:2000]], _nlp(), progress=False)
    return tuple(seeds), tuple(alpaca)


def check_top_verb_nouns(fn: Callable[..., SunburstTree], hidden: bool = False) -> None:
    """Check a student's ``top_verb_nouns(pairs, verbs=20, nouns=4)``."""
    seeds, alpaca = _real_pairs()
    cases = [Case((TIES, 3, 2), "the hand-made pairs with ties, verbs=3, nouns=2"),
             Case((list(seeds),), "the 175 seed tasks' pairs"), Case((list(alpaca[:500]),), "500 of the 52K's pairs")]
    if hidden:
        cases += [Case((list(alpaca),), "2,000 of the 52K's pairs"), Case((list(seeds), 5, 1), "seeds, 5 x 1"),
                  Case(([],), "no pairs")]
    check_function(fn, top_verb_nouns, cases, mistakes=MISTAKES_TOP_VERB_NOUNS, name="top_verb_nouns")


# ----- The instructor kit plants this wrong answer to prove that a wrong solution loses points.
PLANTED = {"l04-verb-noun": '''def verb_noun(doc):
    """(verb, noun): the root verb of the first sentence and its first direct object, as lemmas."""
    sentence = next(doc.sents)
    verb = next((t for t in sentence if t.pos_ == "VERB"), None)  # the first verb, not the root: planted
    if verb is None:
        return None, None
    noun = next((c for c in verb.children if c.dep_ == "dobj" and c.pos_ == "NOUN"), None)
    return verb.lemma_, None if noun is None else noun.lemma_
'''}
