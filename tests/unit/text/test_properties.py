"""Properties of values and grounding over generated inputs (derandomized, no example database
written into the checkout)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.text.dates import find_dates, parse_date
from pipeline.text.grounding import ground, ground_all
from pipeline.text.values import find_numbers, parse_number, same_value


def examples(n: int) -> settings:
    """Deterministic, bounded, no example database written into the checkout."""
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
SHORT = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.", "Sept.", "Oct.",
         "Nov.", "Dec."]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


#: every written form of a full date the parser supports
DAY_FORMS: list[Callable[[date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {ordinal(d.day)}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day} {d.year}",
    lambda d: f"{SHORT[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day:02d} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{ordinal(d.day)} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{ordinal(d.day)} of {MONTHS[d.month - 1]}, {d.year}",
    lambda d: f"the {ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day} {SHORT[d.month - 1]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1].upper()} {d.day}, {d.year}",
]
MONTH_FORMS: list[Callable[[date], str]] = [
    lambda d: f"{MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{SHORT[d.month - 1]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1]}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} of {d.year}",
]
DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(2999, 12, 31))
DAY_FORM = st.sampled_from(DAY_FORMS)


@examples(300)
@given(DATES, DAY_FORM)
def test_any_full_date_in_any_form_parses_back_to_its_iso_value(d: date,
                                                                 form: Callable[[date], str]
                                                                 ) -> None:
    assert parse_date(form(d)) == d.isoformat()


@examples(150)
@given(DATES, st.sampled_from(MONTH_FORMS))
def test_any_month_in_any_form_parses_back(d: date, form: Callable[[date], str]) -> None:
    assert parse_date(form(d)) == d.isoformat()[:7]
    assert parse_date(str(d.year)) == parse_date(f"in {d.year}") == d.isoformat()[:4]


@examples(200)
@given(DATES, DAY_FORM, DAY_FORM)
def test_a_date_grounds_in_any_other_form_of_it_with_an_exact_span(
        d: date, written: Callable[[date], str], mention: Callable[[date], str]) -> None:
    text = f"It happened on {written(d)}, in town."
    [found] = find_dates(text)
    assert found.iso == d.isoformat() and text[found.start:found.end] == found.written
    g = ground(text, mention(d), kind="value")
    assert g is not None and g.canonical == d.isoformat()
    assert text[g.start:g.end] == g.text and g.how in ("exact", "date")
    assert g.start < found.end and found.start < g.end
    assert same_value(written(d), mention(d))


@examples(200)
@given(DATES, DATES, DAY_FORM, DAY_FORM)
def test_a_date_never_grounds_in_another_date(a: date, b: date, written: Callable[[date], str],
                                              mention: Callable[[date], str]) -> None:
    if a == b:
        return
    text = f"It happened on {written(b)}, in town."
    assert ground(text, mention(a), kind="value") is None
    assert not same_value(written(b), mention(a))


@examples(300)
@given(st.integers(min_value=0, max_value=10**15))
def test_any_integer_with_thousands_separators_parses_back(n: int) -> None:
    q = parse_number(f"{n:,}")
    assert q is not None and q.value == float(n) and q.unit is None
    text = f"The count was {n:,} in all."
    [found] = find_numbers(text)
    assert found.value == float(n) and found.written == f"{n:,}"
    assert text[found.start:found.end] == found.written
    g = ground(text, str(n), kind="value")
    assert g is not None and g.canonical == repr(float(n)) and g.text == f"{n:,}"


@examples(200)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_any_decimal_with_separators_parses_back(n: int, frac: int) -> None:
    written = f"{n:,}.{frac:03d}"
    q = parse_number(written)
    assert q is not None and q.value == float(f"{n}.{frac:03d}")
    assert same_value(written, f"{n}.{frac:03d}")


@examples(300)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9),
       st.booleans(), st.booleans())
def test_a_number_never_grounds_in_another_number(a: int, b: int, sep_a: bool,
                                                  sep_b: bool) -> None:
    if a == b:
        return
    text = f"It had {b:,} items." if sep_b else f"It had {b} items."
    mention = f"{a:,}" if sep_a else str(a)
    assert ground(text, mention, kind="value") is None
    assert ground_all(text, mention, kind="value") == []


ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(n: int, hyphen: bool = True, conjunction: bool = True) -> str:
    """``n`` (0 to 999,999,999) in English words, the test's own renderer."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + (("-" if hyphen else " ") + ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + (
            (" and " if conjunction else " ") + in_words(rest, hyphen, conjunction)
            if rest else "")
    for size, word in ((10**6, "million"), (10**3, "thousand")):
        if n >= size:
            rest = n % size
            head = in_words(n // size, hyphen, conjunction) + " " + word
            return head + (" " + in_words(rest, hyphen, conjunction) if rest else "")
    raise AssertionError(n)


@examples(300)
@given(st.integers(min_value=0, max_value=999_999_999), st.booleans(), st.booleans())
def test_any_number_in_words_parses_back(n: int, hyphen: bool, conjunction: bool) -> None:
    words = in_words(n, hyphen, conjunction)
    q = parse_number(words)
    assert q is not None and q.value == float(n), words
    text = f"There were {words} of them."
    [found] = find_numbers(text)
    assert found.value == float(n) and found.written == words


TEXT = st.lists(st.sampled_from([*"0123456789,.-−/:%$ aAUSsIty_()\n", "August ", "16th ",
                                 "1920", "Italian", "U.S.", " million", "twenty", "-one",
                                 " of ", "European Space Agency", "ESA", "(", ")"]),
                max_size=30).map("".join)


@examples(300)
@given(TEXT, TEXT, st.sampled_from(["name", "place", "value"]))
def test_every_span_is_exact_in_the_text_whatever_the_input(text: str, mention: str,
                                                            kind: str) -> None:
    for d in find_dates(text):
        assert text[d.start:d.end] == d.written and parse_date(d.written) == d.iso
    for n in find_numbers(text):
        assert text[n.start:n.end] == n.written
    found = ground_all(text, mention, kind=kind)  # type: ignore[arg-type]
    for g in found:
        assert text[g.start:g.end] == g.text
    assert [(g.start, g.end) for g in found] == sorted((g.start, g.end) for g in found)
    best = ground(text, mention, kind=kind)  # type: ignore[arg-type]
    assert (best is None) == (not found)
    if best is not None:
        assert best in found
