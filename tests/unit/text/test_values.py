"""Canonical values: dates to ISO, numbers to a float and a unit, and where a text writes them."""

from __future__ import annotations

import pytest

from pipeline.text.dates import date_covers, find_dates, parse_date
from pipeline.text.units import unit_key, units_compatible
from pipeline.text.values import find_numbers, parse_number, same_value

# --------------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(("written", "iso"), [
    ("August 16th, 1920", "1920-08-16"),
    ("August 16, 1920", "1920-08-16"),
    ("August 16 1920", "1920-08-16"),
    ("august 16th, 1920", "1920-08-16"),
    ("16 August 1920", "1920-08-16"),
    ("16 August, 1920", "1920-08-16"),
    ("16th August 1920", "1920-08-16"),
    ("16th of August, 1920", "1920-08-16"),
    ("the 1st of January 1913", "1913-01-01"),
    ("the 2nd of March 1913", "1913-03-02"),
    ("23rd April 1616", "1616-04-23"),
    ("Aug. 16, 1920", "1920-08-16"),
    ("Aug 16, 1920", "1920-08-16"),
    ("Sept. 5, 1920", "1920-09-05"),
    ("16 Aug. 1920", "1920-08-16"),
    ("1920-08-16", "1920-08-16"),
    ("1920-08-16T00:00:00Z", "1920-08-16"),
    ("01 January 1962", "1962-01-01"),
    ("Monday, 16 August 1920", "1920-08-16"),
    ("on 16 August 1920", "1920-08-16"),
    ("16 August 1920.", "1920-08-16"),
    ("January 1962", "1962-01"),
    ("January, 1962", "1962-01"),
    ("Jan. 1962", "1962-01"),
    ("August of 1920", "1920-08"),
    ("1920-08", "1920-08"),
    ("1920", "1920"),
    ("in 1920", "1920"),
    ("29 February 2000", "2000-02-29"),
    # digits only: read where only one order is a date, or both orders give the same day
    ("16/08/1920", "1920-08-16"), ("08/16/1920", "1920-08-16"), ("16.08.1920", "1920-08-16"),
    ("01-01-1913", "1913-01-01"),
    # the day as an ordinal word
    ("the first of January 1913", "1913-01-01"), ("January twenty-first, 1913", "1913-01-21"),
    ("the thirty-first of December 2006", "2006-12-31"),
])
def test_dates_in_their_written_forms_parse_to_iso(written: str, iso: str) -> None:
    assert parse_date(written) == iso


@pytest.mark.parametrize("written", [
    "31 February 1920", "February 30, 1920", "29 February 1900", "1920-13-01", "1920-02-30",
    "1920-00", "32 January 1920", "0 January 1920",
    "03/04/1920", "04.03.1920", "1-2-1920",           # day/month order unknowable
    "16 August", "August 16th", "August",               # no year
    "the 1920s", "1920s", "'20", "20", "920", "12345", "3000", "1,920", "1920.5",
    "Maybe 1920", "Augusta 1920", "16 Augustus 1920", "", "   ", "1920 AD", "c. 1920",
])
def test_what_is_no_date_or_no_real_date_is_none(written: str) -> None:
    assert parse_date(written) is None


# --------------------------------------------------------------------------- find_dates


def test_find_dates_gives_each_date_once_with_exact_spans() -> None:
    text = ("Born on August 16th, 1920 in Rome, she moved on 01 January 1962; by January 1963 "
            "she had left, and in 1970 (on 1970-05-04) she died.")
    found = find_dates(text)
    assert [(d.written, d.iso) for d in found] == [
        ("August 16th, 1920", "1920-08-16"), ("01 January 1962", "1962-01-01"),
        ("January 1963", "1963-01"), ("1970", "1970"), ("1970-05-04", "1970-05-04")]
    for d in found:
        assert text[d.start:d.end] == d.written


def test_longest_date_wins_and_a_year_inside_a_date_is_not_reported_again() -> None:
    [d] = find_dates("on 16 August 1920.")
    assert (d.written, d.iso) == ("16 August 1920", "1920-08-16")
    [d] = find_dates("the 16th of August, 1920 was hot")
    assert d.written == "16th of August, 1920"


def test_an_impossible_date_hides_its_year_too() -> None:
    assert find_dates("on 31 February 1920 nothing happened") == []


@pytest.mark.parametrize("text", [
    "in the 1920s", "ISBN 978-1-920-00000", "dated 03/04/1920", "at 19:20", "about 1,920 men",
    "1920.5 km", "a 1920 metres climb", "$1920", "1920% growth", "−1920", "A1920 road",
    "COVID-1920", "some 5000 years ago", "12 August",
])
def test_numbers_that_are_not_years_are_no_dates(text: str) -> None:
    assert find_dates(text) == []


def test_a_range_of_years_is_two_years() -> None:
    assert [d.iso for d in find_dates("the war of 1914-1918")] == ["1914", "1918"]


def test_date_covers_a_less_precise_date_only() -> None:
    assert date_covers("1920-08-16", "1920") and date_covers("1920-08-16", "1920-08")
    assert date_covers("1920-08", "1920") and date_covers("1920", "1920")
    assert not date_covers("1920", "1920-08-16") and not date_covers("1920-08", "1920-08-16")
    assert not date_covers("1920-08-16", "1920-08-1") and not date_covers("19200", "1920")


# --------------------------------------------------------------------------- parse_number


@pytest.mark.parametrize(("written", "value", "unit"), [
    ("1250", 1250.0, None),
    ("1,250", 1250.0, None),
    ("1,250,000", 1250000.0, None),
    ("1,250.5", 1250.5, None),
    ("1,250 metres", 1250.0, "metres"),
    ("45 minutes", 45.0, "minutes"),
    ("45-minute", 45.0, "minute"),
    ("4.56 (kilometrePerSeconds)", 4.56, "kilometrePerSeconds"),
    ("6603633000.0 (kilometres)", 6603633000.0, "kilometres"),
    ("−6.2", -6.2, None),
    ("-6.2", -6.2, None),
    ("+3", 3.0, None),
    ("12.5%", 12.5, "%"),
    ("12.5 %", 12.5, "%"),
    ("12.5 per cent", 12.5, "per cent"),
    ("twelve", 12.0, None),
    ("Twelve", 12.0, None),
    ("twenty-one", 21.0, None),
    ("twenty one", 21.0, None),
    ("one hundred and five", 105.0, None),
    ("fifteen hundred", 1500.0, None),
    ("two million", 2e6, None),
    ("forty-five minutes", 45.0, "minutes"),
    ("zero", 0.0, None),
    ("1.2 million", 1.2e6, None),
    ("3 billion", 3e9, None),
    ("1.5e6", 1.5e6, None),
    ("1.5E+06", 1.5e6, None),
    ("$3 billion", 3e9, "$"),
    ("$3bn", 3e9, "$"),
    ("£1.2m", 1.2e6, "£"),
    ("5km", 5.0, "km"),
    ("20 °C", 20.0, "°C"),
    ("0.5", 0.5, None),
])
def test_numbers_in_their_written_forms(written: str, value: float, unit: str | None) -> None:
    q = parse_number(written)
    assert q is not None
    assert q.value == pytest.approx(value, rel=1e-12)
    assert q.unit == unit


@pytest.mark.parametrize("written", [
    "1,25", "1.250.000", "1.250,5", "192.168.1.1", "3.2.1", "1,2,3", "1/2", "½", "10:30",
    "1920-08-16", "978-1-250", "1920s", "16th", "3D", "A320", "COVID-19", "one two",
    "twenty ten", "and", "hundred and", "12 and 13", "", "   ", "metres", "first", "a dozen",
    "1.2.", "-$5",
])
def test_what_is_no_single_number_is_none(written: str) -> None:
    assert parse_number(written) is None


# --------------------------------------------------------------------------- find_numbers


def test_find_numbers_with_exact_spans_values_and_units() -> None:
    text = ("The tower is 1,250 metres tall; 12,500 people and 125 dogs came, −6.2 °C at "
            "night, 12.5% more, twenty-one guns, $3 billion and two million more, 1.5e6 too.")
    found = find_numbers(text)
    assert [(n.written, n.value, n.unit) for n in found] == [
        ("1,250 metres", 1250.0, "metres"), ("12,500 people", 12500.0, "people"),
        ("125", 125.0, None), ("−6.2 °C", -6.2, "°C"), ("12.5%", 12.5, "%"),
        ("twenty-one", 21.0, None), ("$3 billion", 3e9, "$"), ("two million", 2e6, None),
        ("1.5e6", 1.5e6, None)]
    for n in found:
        assert text[n.start:n.end] == n.written


@pytest.mark.parametrize("text", [
    "a European 1,25 decimal", "version 3.2.1", "host 192.168.1.1", "ISBN 978-1-250-31",
    "the 1920s", "the 16th", "an A320", "COVID-19", "in 3D", "at 10:30", "half is 1/2",
    "16/08/1920", "on 16 August 1920", "1920-08-16",
])
def test_numbers_inside_something_longer_are_not_numbers(text: str) -> None:
    assert find_numbers(text) == []


def test_a_year_alone_is_a_number_too_and_a_range_gives_both_ends() -> None:
    assert [n.value for n in find_numbers("in 1920")] == [1920.0]
    assert [n.value for n in find_numbers("pages 10-20")] == [10.0, 20.0]


def test_a_hyphen_before_a_number_after_a_word_or_number_is_no_minus_sign() -> None:
    assert [n.value for n in find_numbers("from 5 -3 degrees")] == [5.0, -3.0]
    assert [n.value for n in find_numbers("1990-1995")] == [1990.0, 1995.0]


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(("written", "key"), [
    ("metres", "m"), ("Meter", "m"), ("m", "m"), ("km", "km"), ("kilometres", "km"),
    ("kilometrePerSeconds", "km/s"), ("km per second", "km/s"), ("km/s", "km/s"),
    ("kilometres per second", "km/s"), ("squareKilometre", "km2"), ("km²", "km2"),
    ("square kilometres", "km2"), ("sq km", "km2"), ("cubicMetrePerSecond", "m3/s"),
    ("%", "%"), ("per cent", "%"), ("percent", "%"), ("minutes", "min"), ("(minute)", "min"),
    ("kph", "km/h"), ("°C", "°C"), ("kelvin", "K"), ("people", "inhabitants"),
])
def test_unit_key(written: str, key: str) -> None:
    assert unit_key(written) == key


@pytest.mark.parametrize("written", ["apples", "per", "foo per bar", "", "in", "pounds"])
def test_unknown_units_have_no_key(written: str) -> None:
    assert unit_key(written) is None


def test_units_conflict_only_when_both_are_written_and_differ() -> None:
    assert units_compatible(None, "metres") and units_compatible("km", None)
    assert units_compatible("metres", "m") and units_compatible("kilometrePerSeconds", "km/s")
    assert not units_compatible("metres", "feet") and not units_compatible("%", "km")
    assert not units_compatible("apples", "km") and units_compatible("apples", "apple")
    assert not units_compatible("apples", "pears")


# --------------------------------------------------------------------------- same_value


@pytest.mark.parametrize(("a", "b"), [
    ("August 16th, 1920", "1920-08-16"), ("16th of August, 1920", "Aug. 16, 1920"),
    ("January 1962", "1962-01"), ("in 1920", "1920"),
    ("1250", "1,250"), ("1250", "1,250 metres"), ("1,250 metres", "1250 m"),
    ("twenty-one", "21"), ("1.2 million", "1,200,000"), ("1.5e6", "1500000"),
    ("12.5%", "12.5 per cent"), ("4.56 (kilometrePerSeconds)", "4.56 km/s"), ("−6.2", "-6.2"),
    ("1920", "1920.0"),
])
def test_same_value(a: str, b: str) -> None:
    assert same_value(a, b) and same_value(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("1920", "August 16th, 1920"), ("1920-08", "1920-08-16"), ("16 August 1920", "17 August 1920"),
    ("1250", "12,500"), ("1250", "125"), ("1,250 metres", "1,250 feet"), ("6.2", "−6.2"),
    ("1.2", "1.2 million"), ("12.5%", "12.5 km"), ("Paris", "paris"), ("1,25", "1.25"),
    ("1920s", "1920"),
])
def test_not_the_same_value(a: str, b: str) -> None:
    assert not same_value(a, b) and not same_value(b, a)
