"""Grounding a mention in a text: the mention-finding functions moved from the contracts, and
``ground``/``ground_all`` with how each span supports the mention."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.text import normalise
from pipeline.text.grounding import Grounding, ground, ground_all
from pipeline.text.spans import closest_pair, find_mention, find_mentions, sentence_around, widen

TEXT_PACKAGE = Path(__file__).resolve().parents[3] / "pipeline" / "text"


def test_the_package_imports_no_stage_package() -> None:
    allowed = ("pipeline.text", "pipeline.models", "pipeline.errors")
    for path in TEXT_PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name == "pipeline" or name.startswith("pipeline."):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


# --------------------------------------------------------------------------- moved functions


def test_find_mention_is_tolerant_and_exact() -> None:
    text = "NASA's Cassini–Huygens mission reached Saturn in 2004."
    span = find_mention(text, "cassini huygens")
    assert span is not None and text[span[0]:span[1]] == "Cassini–Huygens"
    assert find_mention(text, "NASA's") is not None
    assert find_mention(text, "Sat") is None
    assert find_mention(text, "the Saturn") is not None


def test_underscores_count_as_spaces_in_mention_and_text() -> None:
    text = "He studied at AWH Engineering College in Kerala."
    span = find_mention(text, "AWH_Engineering_College")
    assert span is not None and text[span[0]:span[1]] == "AWH Engineering College"
    text = "see AWH_Engineering_College for details"
    span = find_mention(text, "AWH Engineering College")
    assert span is not None and text[span[0]:span[1]] == "AWH_Engineering_College"
    assert normalise("snake_case__name") == "snake case name"
    g = ground("He studied at AWH Engineering College.", "AWH_Engineering_College")
    assert g is not None and g.text == "AWH Engineering College" and g.how == "exact"


def test_inflected_mentions_and_closest_pair() -> None:
    text = "The Pirate Parties met. Later the Pirate Party launched a rocket."
    assert len(find_mentions(text, "Pirate Party")) == 1
    assert find_mentions("Two Pirate Parties met.", "pirate party") == [(4, 18)]
    pair = closest_pair("Ada met Bob. Later, Bob met Carl and Ada.", "Ada", "Carl")
    assert pair == ((37, 40), (28, 32))


def test_sentence_around_and_widen() -> None:
    text = "First one. Second has Saturn in it. Third."
    s, e = sentence_around(text, 22, 28)
    assert text[s:e] == "Second has Saturn in it."
    assert widen("the (66391) 1999 KW4 asteroid", (5, 10), "(66391)") == (4, 11)
    assert widen("to Saturn.", (3, 9), "Saturn") == (3, 9)


# --------------------------------------------------------------------------- ground: tiers


def check_span(text: str, g: Grounding | None, written: str, how: str,
               canonical: str | None = None) -> None:
    assert g is not None, "not grounded"
    assert text[g.start:g.end] == g.text == written
    assert g.how == how
    if canonical is not None:
        assert g.canonical == canonical


@pytest.mark.parametrize(("text", "mention", "written", "how", "canonical"), [
    ("Born on August 16th, 1920 in Rome.", "August 16th, 1920", "August 16th, 1920",
     "exact", "1920-08-16"),
    ("Born on August 16th, 1920 in Rome.", "16 August 1920", "August 16th, 1920", "date",
     "1920-08-16"),
    ("Born on August 16th, 1920 in Rome.", "1920-08-16", "August 16th, 1920", "date",
     "1920-08-16"),
    ("Born on 16th of August, 1920.", "Aug. 16, 1920", "16th of August, 1920", "date",
     "1920-08-16"),
    ("Crowned the 1st of January 1913.", "1913-01-01", "1st of January 1913", "date",
     "1913-01-01"),
    ("Opened 01 January 1962.", "January 1, 1962", "01 January 1962", "date", "1962-01-01"),
    ("Opened in January 1962.", "1962-01", "January 1962", "date", "1962-01"),
    ("Born 1920-08-16 in Rome.", "1920", "1920-08-16", "date", "1920"),
    ("Born 1920-08-16 in Rome.", "August 1920", "1920-08-16", "date", "1920-08"),
    ("Born on August 16th, 1920.", "1920", "1920", "exact", "1920"),
    ("The tower is 1,250 metres tall.", "1250", "1,250 metres", "number", "1250.0"),
    ("The tower is 1,250 metres tall.", "1250 (metre)", "1,250 metres", "number", "1250.0"),
    ("The tower is 1250 m tall.", "1,250 metres", "1250 m", "number", "1250.0"),
    ("It took twelve days.", "12", "twelve days", "number", "12.0"),
    ("It took twelve.", "12", "twelve", "number", "12.0"),
    ("A salute of twenty-one guns.", "21", "twenty-one", "number", "21.0"),
    ("About 1.2 million people live there.", "1200000", "1.2 million people", "number",
     "1200000.0"),
    ("It cost 3 billion dollars.", "3000000000", "3 billion dollars", "number",
     "3000000000.0"),
    ("Some 1,500,000 came.", "1.5e6", "1,500,000", "number", "1500000.0"),
    ("A speed of 4.56 km per second.", "4.56 (kilometrePerSeconds)", "4.56 km per second",
     "number", "4.56"),
    ("It fell by 12.5 per cent.", "12.5%", "12.5 per cent", "number", "12.5"),
    ("It fell by 12.5%.", "12.5%", "12.5%", "exact", "12.5"),
    ("It was −6.2 °C.", "-6.2", "−6.2", "exact", "-6.2"),
    ("It was −6.2 °C.", "-6.20", "−6.2 °C", "number", "-6.2"),
])
def test_values_ground_in_other_written_forms(text: str, mention: str, written: str, how: str,
                                              canonical: str) -> None:
    check_span(text, ground(text, mention, kind="value"), written, how, canonical)


@pytest.mark.parametrize(("text", "mention", "written", "how", "canonical"), [
    ("the U.S. economy", "US", "U.S.", "acronym", "United States"),
    ("the US economy", "U.S.", "US", "acronym", "United States"),
    ("the U.S.A. economy", "United States", "U.S.A.", "alias", "United States"),
    ("the United States economy", "USA", "United States", "alias", "United States"),
    ("the U.K. said", "United Kingdom", "U.K.", "alias", "United Kingdom"),
    ("the UK said", "U.K.", "UK", "acronym", "United Kingdom"),
    ("the U.S. said", "U.S.", "U.S.", "exact", "United States"),
    ("Nasa said", "NASA", "Nasa", "exact", "National Aeronautics and Space Administration"),
    ("NASA's probe", "NASA", "NASA", "exact", "National Aeronautics and Space Administration"),
    ("an EU decision", "European Union", "EU", "alias", "European Union"),
    ("the European Union decided", "EU", "European Union", "alias", "European Union"),
    ("a UN mission", "United Nations", "UN", "alias", "United Nations"),
    ("flew to NYC", "New York City", "NYC", "alias", "New York City"),
    ("born in Holland", "Netherlands", "Holland", "alias", "Netherlands"),
    ("The Endangered Species Board (ESB) met. Later ESB ruled.", "Endangered Species Board",
     "Endangered Species Board", "exact", "Endangered Species Board"),
    ("The Endangered Species Board (ESB) met. Later the board ruled.", "E.S.B.", "ESB",
     "acronym", "Endangered Species Board"),
    ("The Wild Places Board (WPB) met.", "WPB", "WPB", "exact", "Wild Places Board"),
    ("The Wild Places Board met.", "WPB", "Wild Places Board", "acronym",
     "Wild Places Board"),
    ("Then WPB met.", "Wild Places Board", "WPB", "acronym", "Wild Places Board"),
    ("Then the W.P.B. met.", "Wild Places Board", "W.P.B.", "acronym", "Wild Places Board"),
    ("Then the Fund for Rare Apes met.", "FRA", "Fund for Rare Apes", "acronym",
     "Fund for Rare Apes"),
])
def test_names_ground_through_acronyms_and_aliases(text: str, mention: str, written: str,
                                                   how: str, canonical: str) -> None:
    check_span(text, ground(text, mention), written, how, canonical)


def test_a_long_form_written_in_the_text_links_a_two_letter_acronym() -> None:
    text = "The Kerala Board (KB) met on Monday. On Tuesday KB ruled."
    g = ground_all(text, "Kerala Board")
    assert [(x.text, x.how) for x in g] == [("Kerala Board", "exact"), ("KB", "acronym"),
                                            ("KB", "acronym")]
    assert ground("Later KB ruled.", "Kerala Board") is None   # two letters: not by initials


def test_user_aliases_come_first() -> None:
    text = "They met in the Big Apple, not in the U.S. capital."
    aliases = {"Big Apple": "New York City", "US": "Upper Silesia"}
    check_span(text, ground(text, "New York City", aliases=aliases), "Big Apple", "alias",
               "New York City")
    check_span(text, ground(text, "Upper Silesia", aliases=aliases), "U.S.", "alias",
               "Upper Silesia")
    assert ground(text, "New York City") is None


@pytest.mark.parametrize(("text", "mention", "written", "canonical"), [
    ("The painter was Italian.", "Italy", "Italian", "Italy"),
    ("Many Italians live there.", "Italy", "Italians", "Italy"),
    ("An American author.", "United States", "American", "United States"),
    ("An American author.", "USA", "American", "United States"),
    ("An American author.", "U.S.", "American", "United States"),
    ("A French painter.", "France", "French", "France"),
    ("An Indian actor.", "India", "Indian", "India"),
    ("A Chinese firm.", "China", "Chinese", "China"),
    ("A Brazilian singer.", "Brazil", "Brazilian", "Brazil"),
    ("A Danish king.", "Denmark", "Danish", "Denmark"),
    ("A Dutch painter.", "Holland", "Dutch", "Netherlands"),
    ("A British actor.", "UK", "British", "United Kingdom"),
    ("A Dominican player.", "Dominica", "Dominican", "Dominica"),
    ("A South American band.", "South America", "South American", "South America"),
    ("He moved from Italy.", "Italian", "Italy", "Italy"),
    ("Born in the U.S. in 1950.", "American", "U.S.", "United States"),
    ("Written in French and Italian cities.", "Italy", "Italian", "Italy"),
])
def test_places_ground_in_demonyms(text: str, mention: str, written: str,
                                   canonical: str) -> None:
    check_span(text, ground(text, mention, kind="place"), written, "demonym", canonical)


# --------------------------------------------------------------------------- ground: never


@pytest.mark.parametrize(("text", "mention"), [
    ("It had 12,500 people.", "1250"),
    ("It had 125 people.", "1250"),
    ("It had 1,250.5 units.", "1,250"),
    ("It had 1,250.5 units.", "1250"),
    ("It had 1,250 units.", "250"),
    ("It had 1,250 units.", "1"),
    ("It weighed 1.25 kg.", "25"),
    ("It weighed 12.5 kg.", "12"),
    ("It was −6.2 °C.", "6.2"),
    ("It was -6.2 °C.", "6.2"),
    ("It was 6.2 °C.", "-6.2"),
    ("About 1.2 million people.", "1.2"),
    ("About 1.2 million people.", "1200"),
    ("A rate of 12.5 km.", "12.5%"),
    ("It cost 5 euros.", "$5"),
    ("The tower is 1,250 feet tall.", "1250 metres"),
    ("The tower is 1,250 feet tall.", "1,250 metres"),
    ("Born 1920-08-16.", "16"),
    ("Born 1920-08-16.", "08"),
    ("ISBN 978-1-250-31.", "250"),
    ("Dated 16/08/1920.", "16"),
    ("Dated 03/04/1920.", "1920-04-03"),
    ("At 10:30 sharp.", "30"),
    ("In the 1920s.", "1920"),
    ("On the 16th.", "16"),
    ("The COVID-19 crisis.", "19"),
    ("Flew an A320.", "320"),
    ("Born in 1920.", "1920-08-16"),
    ("Born in August 1920.", "1920-08-16"),
    ("Born on 31 February 1920.", "1920-02-28"),
    ("Born on August 17th, 1920.", "1920-08-16"),
    ("A European decimal 1,25 here.", "1.25"),
    ("A European 1.250 here.", "1,250"),
    ("Twenty ten people.", "2010"),
])
def test_values_never_ground_in_what_the_text_does_not_say(text: str, mention: str) -> None:
    assert ground(text, mention, kind="value") is None
    assert ground_all(text, mention, kind="value") == []


@pytest.mark.parametrize(("text", "mention", "kind"), [
    ("He took the bus.", "US", "name"),
    ("A USB stick.", "US", "name"),
    ("Let us go.", "US", "name"),
    ("Let us go.", "U.S.", "name"),
    ("The U.S.A. team.", "SA", "name"),
    ("The USAF base.", "USA", "name"),
    ("Who said it?", "WHO", "name"),
    ("Us and them.", "US", "name"),
    ("It is.", "IT", "name"),
    ("A genuine claim.", "UN", "name"),
    ("The union met.", "United Nations", "name"),
    ("A bus stop.", "United States", "name"),
    ("It is in the UK.", "US", "name"),
    ("The Upper Kingdom.", "UK", "name"),
    ("The painter was Italian.", "Italy", "name"),
    ("The painter was Italian.", "Italy", "value"),
    ("Written in French.", "France", "place"),
    ("Translated from Italian, by him.", "Italy", "place"),
    ("A book in the English language.", "England", "place"),
    ("An English-language paper.", "England", "place"),
    ("The Indian Ocean.", "India", "place"),
    ("He ate French fries.", "France", "place"),
    ("The Spanish flu.", "Spain", "place"),
    ("A South American band.", "United States", "place"),
    ("Born in American Samoa.", "United States", "place"),
    ("The Dominican Republic.", "Dominica", "place"),
    ("A Papua New Guinean team.", "Guinea", "place"),
    ("A New Guinean tribe.", "Guinea", "place"),
    ("A New Mexican town.", "Mexico", "place"),
    ("Born in British Columbia.", "United Kingdom", "place"),
    ("The Turks and Caicos Islands.", "Turkey", "place"),
    ("He will polish the car.", "Poland", "place"),
    ("An italian dish.", "Italy", "place"),
    ("The Italianate villa.", "Italy", "place"),
    ("Then WP met.", "Wild Places", "name"),
    ("Then WPBX met.", "Wild Places Board", "name"),
    ("The wild places board met.", "WPB", "name"),
    ("Then ESA met.", "European Space Board", "name"),
    ("", "Saturn", "name"),
    ("Saturn", "", "name"),
    ("Saturn", "   ", "name"),
])
def test_names_never_ground_in_what_the_text_does_not_say(text: str, mention: str,
                                                          kind: str) -> None:
    assert ground(text, mention, kind=kind) is None  # type: ignore[arg-type]
    assert ground_all(text, mention, kind=kind) == []  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ground: order


def test_exact_beats_every_other_tier_and_the_first_span_wins_within_one() -> None:
    text = "Italian food. Italy is far. Italy again."
    g = ground(text, "Italy", kind="place")
    assert g is not None and (g.start, g.how) == (14, "exact")
    text = "The US team, then the United States team."
    g = ground(text, "United States")
    assert g is not None and g.how == "exact" and g.text == "United States"


def test_inflected_comes_after_exact() -> None:
    g = ground("Two Pirate Parties met.", "Pirate Party")
    assert g is not None and (g.text, g.how) == ("Pirate Parties", "inflected")
    assert ground("They met in the 1920s.", "1920s") is not None


def test_ground_all_keeps_every_supporting_span_in_text_order() -> None:
    text = "An Italian painter moved to Italy; the Italians loved him. Italy!"
    found = ground_all(text, "Italy", kind="place")
    assert [(g.text, g.how) for g in found] == [
        ("Italian", "demonym"), ("Italy", "exact"), ("Italians", "demonym"), ("Italy", "exact")]
    for g in found:
        assert text[g.start:g.end] == g.text
    best = ground(text, "Italy", kind="place")
    assert best is not None and best == found[1]


def test_ground_all_drops_a_weaker_span_that_overlaps_a_stronger_one() -> None:
    text = "Born on August 16th, 1920 and again on 1920-08-16."
    found = ground_all(text, "1920", kind="value")
    assert [(g.text, g.how) for g in found] == [("1920", "exact"), ("1920-08-16", "date")]


def test_the_value_kind_does_not_read_names_and_the_name_kind_does_not_read_values() -> None:
    assert ground("The U.S. team.", "United States", kind="value") is None
    assert ground("The tower is 1,250 metres tall.", "1250") is None
    g = ground("The tower is 1250 metres tall.", "1250")
    assert g is not None and g.how == "exact"


def test_a_grounding_is_frozen() -> None:
    g = ground("Saturn is a planet.", "Saturn")
    assert g is not None
    with pytest.raises(ValueError):
        g.start = 3
