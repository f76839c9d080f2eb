"""Name variants: acronyms, the alias table, "Long Name (ACRO)" in a text, demonyms."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.text.name_tables import ALIASES, DEMONYMS, NOT_DEMONYMS
from pipeline.text.names import (
    acronym_key,
    demonyms_of,
    initials,
    long_form,
    long_forms_in_text,
    name_forms,
    name_key,
    places_of_demonym,
    same_name,
)


@pytest.mark.parametrize(("name", "key"), [
    ("U.S.", "US"), ("US", "US"), ("U.S.A.", "USA"), ("USA", "USA"), ("U. S.", "US"),
    ("N.A.S.A.", "NASA"), ("DoD", "DoD"), ("AT&T", "AT&T"), ("UNESCO", "UNESCO"),
    ("Us", None), ("us", None), ("Nasa", None), ("Dr.", None), ("St. Louis", None),
    ("United States", None), ("A", None), ("I.", None),
])
def test_acronym_key_ignores_dots_and_keeps_case(name: str, key: str | None) -> None:
    assert acronym_key(name) == key


def test_name_key_sets_aside_the_article_the_possessive_and_dots() -> None:
    assert name_key("the U.S.") == name_key("US") == "US"
    assert name_key("NASA's") == "NASA"
    assert name_key("The Netherlands") == name_key("netherlands")
    assert name_key("us") != name_key("US")


@pytest.mark.parametrize(("short", "long"), [
    ("U.S.", "United States"), ("US", "United States"), ("USA", "United States"),
    ("U.S.A.", "United States"), ("United States of America", "United States"),
    ("U.K.", "United Kingdom"), ("UK", "United Kingdom"), ("EU", "European Union"),
    ("UN", "United Nations"), ("NYC", "New York City"),
    ("NASA", "National Aeronautics and Space Administration"),
    ("Holland", "Netherlands"), ("Burma", "Myanmar"), ("the Czech Republic", "Czechia"),
    ("United States", "United States"),
])
def test_long_form_from_the_table(short: str, long: str) -> None:
    assert long_form(short) == long


def test_user_aliases_come_before_the_table_and_work_both_ways() -> None:
    aliases = {"US": "Upper Silesia", "Big Apple": "New York City"}
    assert long_form("U.S.", aliases) == "Upper Silesia"
    assert long_form("Big Apple", aliases) == "New York City"
    assert long_form("New York City", aliases) == "New York City"
    assert "Big Apple" in name_forms("New York City", aliases)
    assert "NYC" in name_forms("New York City", aliases)


def test_name_forms_and_same_name() -> None:
    assert set(name_forms("US")) == {"United States", "USA", "United States of America"}
    assert name_forms("Atlantis") == ()
    assert same_name("U.S.", "United States") and same_name("USA", "US")
    assert same_name("the Netherlands", "Holland") and not same_name("us", "United States")
    assert not same_name("UK", "US")


def test_initials_skip_function_words() -> None:
    assert initials("European Space Agency") == "ESA"
    assert initials("National Aeronautics and Space Administration") == "NASA"
    assert initials("Department of Defense") == "DD"
    assert initials("Saturn") is None and initials("the Moon") is None


def test_long_forms_in_text() -> None:
    text = ("The European Space Agency (ESA) and the National Aeronautics and Space "
            "Administration (NASA) worked with the Department of Defense (DoD) and the United "
            "Nations Educational, Scientific and Cultural Organization (UNESCO). A pie (PI) and "
            "a Big Red Dog (XYZ) are not pairs; the United Nations (UN) is.")
    assert long_forms_in_text(text) == [
        ("European Space Agency", "ESA"),
        ("National Aeronautics and Space Administration", "NASA"),
        ("Department of Defense", "DoD"),
        ("United Nations Educational, Scientific and Cultural Organization", "UNESCO"),
        ("United Nations", "UN"),
    ]


def test_long_forms_need_the_name_just_before_the_parenthesis() -> None:
    assert long_forms_in_text("European Space Agency. Then (ESA) alone.") == []
    assert long_forms_in_text("the european space agency (ESA)") == []
    assert long_forms_in_text("(ESA)") == []


# --------------------------------------------------------------------------- demonyms


@pytest.mark.parametrize(("word", "places"), [
    ("Italian", ("Italy",)), ("Italians", ("Italy",)), ("French", ("France",)),
    ("American", ("United States",)), ("Indian", ("India",)), ("Chinese", ("China",)),
    ("Brazilian", ("Brazil",)), ("Danish", ("Denmark",)), ("Dutch", ("Netherlands",)),
    ("British", ("United Kingdom",)), ("Swiss", ("Switzerland",)),
    ("Dominican", ("Dominica", "Dominican Republic")),
    ("Congolese", ("Republic of the Congo", "Democratic Republic of the Congo")),
    ("South American", ("South America",)), ("European", ("Europe",)),
    ("  italian ", ("Italy",)), ("Italy", ()), ("Rome", ()), ("", ()),
])
def test_places_of_demonym(word: str, places: tuple[str, ...]) -> None:
    assert places_of_demonym(word) == places


def test_demonyms_of_a_place_or_of_another_name_of_it() -> None:
    assert demonyms_of("Italy") == ("Italian",)
    assert demonyms_of("USA") == demonyms_of("United States") == ("American",)
    assert demonyms_of("U.K.") == ("British", "Briton")
    assert demonyms_of("Holland") == ("Dutch",)
    assert demonyms_of("Atlantis") == ()


def test_the_tables_are_consistent() -> None:
    # no name of one alias entry is a name of another
    keys = Counter(name_key(f) for long, others in ALIASES.items() for f in (long, *others))
    assert [k for k, n in keys.items() if n > 1] == []
    # every place has demonyms, written as proper names
    assert all(words and all(w[0].isupper() for w in words) for words in DEMONYMS.values())
    # a place named in both tables is named by the same long form
    for place in DEMONYMS:
        assert long_form(place) in (None, place)
    # every non-demonym phrase starts with a demonym or names something else entirely
    assert all(p[0].isupper() for p in NOT_DEMONYMS)
    assert len(DEMONYMS) >= 250 and len(ALIASES) >= 40
