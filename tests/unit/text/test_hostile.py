"""``injection_shapes``: names that carry Cypher or SQL after an escape are refused as a class
(issue 19: "Orléans`]->(x) DELETE x" passed the guard, which wanted more query after the
clause); real names, query words and apostrophes included, still read as names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.text.hostile import injection_shapes

#: names a document really writes, each tricky for a guard against query code: query words,
#: quotes, apostrophes, brackets, a semicolon, arrows between words, symbols
LEGITIMATE = [
    "Tinder (Match Group)", 'The "Set" Sessions', "Drop Dead Gorgeous", "Create! Studio",
    "Return of the Jedi", "Delete (band)", "C++", "AT&T", "Guns N' Roses", "O'Brien",
    "Rock 'n' Roll", "St. John's", "Mötley Crüe", "O'Neill Match Co.", "Love; Actually",
    "'Til Tuesday", "L'Oréal", "D'Angelo", "Ain't Misbehavin'", "Tom's Drop Shop",
    "Rock 'n' Roll Call", "Set (album)", "Merge Records", "Call of Duty", "Insert Coin (song)",
    "Load (album)", "Update Ltd", "Remove Before Flight", "Grant Thornton", "Alter Bridge",
    "Sunn O)))", "Panic! at the Disco", "The B-52's", "Salt-N-Pepa", "Ke$ha", "*NSYNC",
    "Earth, Wind & Fire", "Québec (province)", "Live (2003) - [Deluxe]",
    "https://example.org/a//b", "Jailbreak Games", "Clear All Ltd", "Self-Service Update",
    # an arrow between words is text, not a relationship: only an arrow that joins brackets
    # (``]->(``, ``)-[``) is pattern syntax
    "A -> B", "A <- B", "Input -> Output (set theory)",
]

#: one of each shape of the class, ending where a name could end
PAYLOADS = [
    ("Orléans`]->(x) DELETE x", "a query clause"),
    ("Orléans`]->(x)", "a graph pattern"),
    ("Orléans' DELETE", "a query clause"),
    ("x) DELETE x", "a query clause"),
    ("x'] DELETE x", "a query clause"),
    ('Acme" DETACH DELETE n', "a query clause"),
    ("Acme'; DROP TABLE x", "a query clause"),
    ("Acme; MATCH (n) RETURN n", "a query clause"),
    ("Acme'SET x.a=1", "a query clause"),
    ("L'DELETE", "a query clause"),
    ('x" CALL db.labels()', "a query clause"),
    ("x' LOAD CSV FROM 'http://e'", "a query clause"),
    ("x') MERGE (y)", "a query clause"),
    ("x'\nDELETE x", "a query clause"),
    ("MATCH (n) DETACH DELETE n", "a query clause"),
    ("Acme Rockets'}) RETURN n", "a query clause"),
    ("x' OR '1'='1", "a query condition"),
    ('Ada Byron" OR "1"="1', "a query condition"),
    ("x' -- hidden", "a query comment"),
    ("Acme Rockets /* hidden", "a query comment"),
    ("x` {id: 1}", "a graph pattern"),
    ("$id {id: 'x'} :Label", "a graph pattern"),
    ("(a)-[r]->(b)", "a graph pattern"),
    ("x)<-[:OWNS]-(m)", "a graph pattern"),
    ("x'}]", "a graph pattern"),
    ("x' (a) - [r] - (b) DELETE b", "a graph pattern"),
]


@pytest.mark.parametrize("name", LEGITIMATE)
def test_real_names_read_as_names(name: str) -> None:
    assert injection_shapes(name) == []


@pytest.mark.parametrize(("name", "shape"), PAYLOADS)
def test_each_shape_of_the_class_is_refused(name: str, shape: str) -> None:
    assert shape in injection_shapes(name)


# ---------------------------------------------------------------------- the class, by property

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                min_size=1, max_size=10)
#: clause keywords that change a graph or a database
MUTATING = ("DELETE", "DETACH DELETE", "REMOVE", "SET", "DROP", "MERGE", "CREATE", "CALL",
            "LOAD", "INSERT", "UPDATE", "ALTER", "GRANT", "TRUNCATE", "FOREACH")
#: how a payload leaves the quoted name or the bracket it was put in
ESCAPES = ("`", "'", '"', "']", "`]", "')", "\"})", "`})", ";", "';", "`]->(x)", "')-[r]-(y)",
           "`}]", "'))", "\"]", "]", "}", ")")
#: what may follow a clause (nothing at all: a name may end with the clause)
TAILS = ("", " x", " n", " x.admin = true", " (y:Pwned)", " TABLE assertions", " db.labels()",
         " x //", " x;--", "\n")


@st.composite
def legitimate_names(draw: st.DrawFn, brackets: bool = True) -> str:
    """A name of words, with the punctuation names hold (an ampersand, a comma, a dot, an
    apostrophe between letters, and with ``brackets`` a parenthesis closed within the
    name)."""
    words = draw(st.lists(_WORD, min_size=1, max_size=4))
    joints = draw(st.lists(st.sampled_from((" ", " & ", ", ", ". ", "-")),
                           min_size=len(words) - 1, max_size=len(words) - 1))
    name = words[0] + "".join(j + w for j, w in zip(joints, words[1:], strict=True))
    extra = draw(st.sampled_from(("", "'s", " Ltd.") + ((" (band)", " (2003)") if brackets
                                                        else ())))
    return name + extra


@given(name=legitimate_names(), escape=st.sampled_from(ESCAPES),
       space=st.sampled_from(("", " ", "  ", "\t")), clause=st.sampled_from(MUTATING),
       case=st.sampled_from((str.upper, str.lower, str.title)), tail=st.sampled_from(TAILS))
def test_a_name_an_escape_and_a_mutating_clause_is_always_refused(
        name: str, escape: str, space: str, clause: str, case: object, tail: str) -> None:
    assert callable(case)
    if escape[-1].isalnum() or (escape in ("'", '"') and not space):
        space = space or " "  # "O'Brien": a quote between letters is an apostrophe
    payload = f"{name}{escape}{space}{case(clause)}{tail}"
    assert injection_shapes(payload), payload


@given(name=legitimate_names(brackets=False),
       keywords=st.lists(st.sampled_from([k.title() for k in MUTATING] + [
           "Match", "Return", "With", "Union", "Select", "Where"]), min_size=1, max_size=3))
def test_names_of_words_are_never_code_whatever_the_words(name: str,
                                                          keywords: list[str]) -> None:
    """Query words in a name, before or after its words, never make it code. (After a
    parenthesis they may: "(n) DETACH DELETE n" is the query a bracket can close, and a
    clause after one is refused when more query follows it.)"""
    assert injection_shapes(f"{' '.join(keywords)} {name}") == []
    assert injection_shapes(f"{name} {' '.join(keywords)}") == []


@pytest.mark.parametrize("name", ["]" * 20_000, "`" + " " * 90_000, "] " * 30_000,
                                  "(" * 20_000 + ")" * 20_000, "x' with " * 10_000,
                                  "{" + "a" * 90_000, "'" * 50_000])
def test_the_check_stays_linear_on_hostile_lengths(name: str) -> None:
    """A model may write up to the answer's limit in one name: every pattern is tried once
    per place and cannot backtrack far (these took minutes when they could)."""
    import time

    start = time.perf_counter()
    injection_shapes(name)
    assert time.perf_counter() - start < 5.0
