"""Name variants: abbreviations and their long forms, demonyms and their places.

Two tables hold the data, each in one place and easy to extend:

- ``ALIASES``: long form → its other names. Widely used abbreviations of countries and
  organisations ("US", "UK", "EU", "UN", "NASA", "NATO", ...) and a few alternative country
  names in common use ("Holland", "Burma", "Czech Republic", "Ivory Coast"). Deliberately
  small: an entry must name one thing wherever it is written ("America", "Georgia" or "LA" do
  not).
- ``DEMONYMS``: place → the words for its people and things ("Italy" → "Italian"), for the
  world's countries, the United Kingdom's nations, some historical states and some major
  regions. A demonym may belong to several places ("Dominican": Dominica and the Dominican
  Republic; "Congolese": both Congos). ``NOT_DEMONYMS`` lists fixed phrases that start with
  a demonym but do not mean its place ("Indian Ocean", "Spanish flu").

An acronym is compared letter for letter, case kept and dots ignored: "U.S." is "US", and
neither is "us". ``long_forms_in_text`` reads "Long Name (ACRO)" pairs written in a text;
``initials`` gives the acronym a multi-word name abbreviates to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from pipeline.text.normalise import normalise

__all__ = ["ALIASES", "DEMONYMS", "NOT_DEMONYMS", "STOPWORDS", "acronym_key", "demonyms_of",
           "initials", "long_form", "long_forms_in_text", "name_forms", "name_key",
           "places_of_demonym", "same_name"]

#: long form → other names of the same thing (abbreviations, alternative names)
ALIASES: dict[str, tuple[str, ...]] = {
    # countries and unions of countries
    "United States": ("US", "USA", "United States of America"),
    "United Kingdom": ("UK", "Great Britain", "Britain",
                       "United Kingdom of Great Britain and Northern Ireland"),
    "European Union": ("EU",),
    "United Nations": ("UN",),
    "United Arab Emirates": ("UAE",),
    "Soviet Union": ("USSR", "Union of Soviet Socialist Republics"),
    "Democratic Republic of the Congo": ("DRC", "DR Congo", "Congo-Kinshasa"),
    "Republic of the Congo": ("Congo-Brazzaville",),
    "China": ("PRC", "People's Republic of China"),
    "North Korea": ("DPRK", "Democratic People's Republic of Korea"),
    "South Korea": ("ROK", "Republic of Korea"),
    "Russia": ("Russian Federation",),
    "New Zealand": ("NZ",),
    "Saudi Arabia": ("KSA",),
    "Czechia": ("Czech Republic",),
    "Netherlands": ("Holland",),
    "Myanmar": ("Burma",),
    "Ivory Coast": ("Côte d'Ivoire", "Cote d'Ivoire"),
    "East Timor": ("Timor-Leste",),
    "Eswatini": ("Swaziland",),
    "Cape Verde": ("Cabo Verde",),
    "North Macedonia": ("Republic of North Macedonia",),
    "Turkey": ("Türkiye",),
    "New York City": ("NYC",),
    # organisations
    "National Aeronautics and Space Administration": ("NASA",),
    "European Space Agency": ("ESA",),
    "North Atlantic Treaty Organization": ("NATO", "North Atlantic Treaty Organisation"),
    "World Health Organization": ("WHO", "World Health Organisation"),
    "World Trade Organization": ("WTO", "World Trade Organisation"),
    "International Monetary Fund": ("IMF",),
    "United Nations Educational, Scientific and Cultural Organization": ("UNESCO",),
    "United Nations Children's Fund": ("UNICEF",),
    "Organization of the Petroleum Exporting Countries": ("OPEC",),
    "Organisation for Economic Co-operation and Development": ("OECD",),
    "International Atomic Energy Agency": ("IAEA",),
    "European Organization for Nuclear Research": ("CERN",),
    "European Central Bank": ("ECB",),
    "Association of Southeast Asian Nations": ("ASEAN",),
    "African Union": ("AU",),
    "International Space Station": ("ISS",),
    "International Olympic Committee": ("IOC",),
    "Fédération Internationale de Football Association": ("FIFA",),
    "Union of European Football Associations": ("UEFA",),
    "Federal Bureau of Investigation": ("FBI",),
    "Central Intelligence Agency": ("CIA",),
    "British Broadcasting Corporation": ("BBC",),
    "Massachusetts Institute of Technology": ("MIT",),
    "National Basketball Association": ("NBA",),
    "National Football League": ("NFL",),
}

#: place → its demonyms (adjective first; nouns for a person where they differ and are not
#: also common words or given names: "Spaniard", "Briton", but not "Dane", "Finn" or "Pole")
DEMONYMS: dict[str, tuple[str, ...]] = {
    "Afghanistan": ("Afghan",),
    "Albania": ("Albanian",),
    "Algeria": ("Algerian",),
    "Andorra": ("Andorran",),
    "Angola": ("Angolan",),
    "Antigua and Barbuda": ("Antiguan", "Barbudan"),
    "Argentina": ("Argentine", "Argentinian"),
    "Armenia": ("Armenian",),
    "Australia": ("Australian",),
    "Austria": ("Austrian",),
    "Azerbaijan": ("Azerbaijani", "Azeri"),
    "Bahamas": ("Bahamian",),
    "Bahrain": ("Bahraini",),
    "Bangladesh": ("Bangladeshi",),
    "Barbados": ("Barbadian", "Bajan"),
    "Belarus": ("Belarusian",),
    "Belgium": ("Belgian",),
    "Belize": ("Belizean",),
    "Benin": ("Beninese",),
    "Bhutan": ("Bhutanese",),
    "Bolivia": ("Bolivian",),
    "Bosnia and Herzegovina": ("Bosnian", "Herzegovinian"),
    "Botswana": ("Botswanan", "Motswana"),
    "Brazil": ("Brazilian",),
    "Brunei": ("Bruneian",),
    "Bulgaria": ("Bulgarian",),
    "Burkina Faso": ("Burkinabé", "Burkinabe"),
    "Burundi": ("Burundian",),
    "Cambodia": ("Cambodian",),
    "Cameroon": ("Cameroonian",),
    "Canada": ("Canadian",),
    "Cape Verde": ("Cape Verdean",),
    "Central African Republic": ("Central African",),
    "Chad": ("Chadian",),
    "Chile": ("Chilean",),
    "China": ("Chinese",),
    "Colombia": ("Colombian",),
    "Comoros": ("Comorian", "Comoran"),
    "Republic of the Congo": ("Congolese",),
    "Democratic Republic of the Congo": ("Congolese",),
    "Costa Rica": ("Costa Rican",),
    "Croatia": ("Croatian", "Croat"),
    "Cuba": ("Cuban",),
    "Cyprus": ("Cypriot",),
    "Czechia": ("Czech",),
    "Denmark": ("Danish",),
    "Djibouti": ("Djiboutian",),
    "Dominica": ("Dominican",),
    "Dominican Republic": ("Dominican",),
    "East Timor": ("Timorese",),
    "Ecuador": ("Ecuadorian", "Ecuadorean"),
    "Egypt": ("Egyptian",),
    "El Salvador": ("Salvadoran", "Salvadorian"),
    "Equatorial Guinea": ("Equatorial Guinean", "Equatoguinean"),
    "Eritrea": ("Eritrean",),
    "Estonia": ("Estonian",),
    "Eswatini": ("Swazi",),
    "Ethiopia": ("Ethiopian",),
    "Fiji": ("Fijian",),
    "Finland": ("Finnish",),
    "France": ("French",),
    "Gabon": ("Gabonese",),
    "Gambia": ("Gambian",),
    "Georgia": ("Georgian",),
    "Germany": ("German",),
    "Ghana": ("Ghanaian",),
    "Greece": ("Greek", "Hellenic"),
    "Grenada": ("Grenadian",),
    "Guatemala": ("Guatemalan",),
    "Guinea": ("Guinean",),
    "Guinea-Bissau": ("Bissau-Guinean",),
    "Guyana": ("Guyanese",),
    "Haiti": ("Haitian",),
    "Honduras": ("Honduran",),
    "Hungary": ("Hungarian",),
    "Iceland": ("Icelandic", "Icelander"),
    "India": ("Indian",),
    "Indonesia": ("Indonesian",),
    "Iran": ("Iranian",),
    "Iraq": ("Iraqi",),
    "Ireland": ("Irish",),
    "Israel": ("Israeli",),
    "Italy": ("Italian",),
    "Ivory Coast": ("Ivorian",),
    "Jamaica": ("Jamaican",),
    "Japan": ("Japanese",),
    "Jordan": ("Jordanian",),
    "Kazakhstan": ("Kazakh", "Kazakhstani"),
    "Kenya": ("Kenyan",),
    "Kiribati": ("I-Kiribati",),
    "Kosovo": ("Kosovar", "Kosovan"),
    "Kuwait": ("Kuwaiti",),
    "Kyrgyzstan": ("Kyrgyz", "Kyrgyzstani"),
    "Laos": ("Laotian", "Lao"),
    "Latvia": ("Latvian",),
    "Lebanon": ("Lebanese",),
    "Lesotho": ("Basotho", "Mosotho"),
    "Liberia": ("Liberian",),
    "Libya": ("Libyan",),
    "Liechtenstein": ("Liechtensteiner",),
    "Lithuania": ("Lithuanian",),
    "Luxembourg": ("Luxembourgish", "Luxembourger"),
    "Madagascar": ("Malagasy",),
    "Malawi": ("Malawian",),
    "Malaysia": ("Malaysian",),
    "Maldives": ("Maldivian",),
    "Mali": ("Malian",),
    "Malta": ("Maltese",),
    "Marshall Islands": ("Marshallese",),
    "Mauritania": ("Mauritanian",),
    "Mauritius": ("Mauritian",),
    "Mexico": ("Mexican",),
    "Micronesia": ("Micronesian",),
    "Moldova": ("Moldovan",),
    "Monaco": ("Monégasque", "Monegasque"),
    "Mongolia": ("Mongolian",),
    "Montenegro": ("Montenegrin",),
    "Morocco": ("Moroccan",),
    "Mozambique": ("Mozambican",),
    "Myanmar": ("Burmese",),
    "Namibia": ("Namibian",),
    "Nauru": ("Nauruan",),
    "Nepal": ("Nepalese", "Nepali"),
    "Netherlands": ("Dutch",),
    "New Zealand": ("New Zealander",),
    "Nicaragua": ("Nicaraguan",),
    "Niger": ("Nigerien",),
    "Nigeria": ("Nigerian",),
    "North Korea": ("North Korean",),
    "North Macedonia": ("Macedonian",),
    "Norway": ("Norwegian",),
    "Oman": ("Omani",),
    "Pakistan": ("Pakistani",),
    "Palau": ("Palauan",),
    "Palestine": ("Palestinian",),
    "Panama": ("Panamanian",),
    "Papua New Guinea": ("Papua New Guinean",),
    "Paraguay": ("Paraguayan",),
    "Peru": ("Peruvian",),
    "Philippines": ("Filipino", "Philippine", "Filipina"),
    "Poland": ("Polish",),
    "Portugal": ("Portuguese",),
    "Qatar": ("Qatari",),
    "Romania": ("Romanian",),
    "Russia": ("Russian",),
    "Rwanda": ("Rwandan",),
    "Saint Kitts and Nevis": ("Kittitian", "Nevisian"),
    "Saint Lucia": ("Saint Lucian",),
    "Saint Vincent and the Grenadines": ("Vincentian",),
    "Samoa": ("Samoan",),
    "San Marino": ("Sammarinese",),
    "São Tomé and Príncipe": ("São Toméan", "Santomean"),
    "Saudi Arabia": ("Saudi", "Saudi Arabian"),
    "Senegal": ("Senegalese",),
    "Serbia": ("Serbian",),
    "Seychelles": ("Seychellois",),
    "Sierra Leone": ("Sierra Leonean",),
    "Singapore": ("Singaporean",),
    "Slovakia": ("Slovak", "Slovakian"),
    "Slovenia": ("Slovenian", "Slovene"),
    "Solomon Islands": ("Solomon Islander",),
    "Somalia": ("Somali",),
    "South Africa": ("South African",),
    "South Korea": ("South Korean",),
    "South Sudan": ("South Sudanese",),
    "Spain": ("Spanish", "Spaniard"),
    "Sri Lanka": ("Sri Lankan",),
    "Sudan": ("Sudanese",),
    "Suriname": ("Surinamese",),
    "Sweden": ("Swedish", "Swede"),
    "Switzerland": ("Swiss",),
    "Syria": ("Syrian",),
    "Taiwan": ("Taiwanese",),
    "Tajikistan": ("Tajik", "Tajikistani"),
    "Tanzania": ("Tanzanian",),
    "Thailand": ("Thai",),
    "Togo": ("Togolese",),
    "Tonga": ("Tongan",),
    "Trinidad and Tobago": ("Trinidadian", "Tobagonian"),
    "Tunisia": ("Tunisian",),
    "Turkey": ("Turkish", "Turk"),
    "Turkmenistan": ("Turkmen",),
    "Tuvalu": ("Tuvaluan",),
    "Uganda": ("Ugandan",),
    "Ukraine": ("Ukrainian",),
    "United Arab Emirates": ("Emirati",),
    "United Kingdom": ("British", "Briton"),
    "United States": ("American",),
    "Uruguay": ("Uruguayan",),
    "Uzbekistan": ("Uzbek", "Uzbekistani"),
    "Vanuatu": ("Ni-Vanuatu",),
    "Vatican City": ("Vatican",),
    "Venezuela": ("Venezuelan",),
    "Vietnam": ("Vietnamese",),
    "Yemen": ("Yemeni",),
    "Zambia": ("Zambian",),
    "Zimbabwe": ("Zimbabwean",),
    # territories
    "Hong Kong": ("Hongkonger", "Hong Konger"),
    "Macau": ("Macanese",),
    "Puerto Rico": ("Puerto Rican",),
    "Greenland": ("Greenlandic", "Greenlander"),
    "American Samoa": ("American Samoan",),
    "Faroe Islands": ("Faroese",),
    "New Caledonia": ("New Caledonian",),
    "French Polynesia": ("French Polynesian",),
    "French Guiana": ("French Guianese",),
    "British Virgin Islands": ("British Virgin Islander",),
    "Turks and Caicos Islands": ("Turks and Caicos Islander",),
    # nations of the United Kingdom
    "England": ("English",),
    "Scotland": ("Scottish",),
    "Wales": ("Welsh",),
    "Northern Ireland": ("Northern Irish",),
    # historical states
    "Soviet Union": ("Soviet",),
    "Yugoslavia": ("Yugoslav", "Yugoslavian"),
    "Czechoslovakia": ("Czechoslovak", "Czechoslovakian"),
    "Prussia": ("Prussian",),
    "Korea": ("Korean",),
    # regions
    "Europe": ("European",),
    "Asia": ("Asian",),
    "Africa": ("African",),
    "Oceania": ("Oceanian",),
    "North America": ("North American",),
    "South America": ("South American",),
    "Central America": ("Central American",),
    "Latin America": ("Latin American",),
    "Caribbean": ("Caribbean",),
    "West Indies": ("West Indian",),
    "Middle East": ("Middle Eastern",),
    "Scandinavia": ("Scandinavian",),
    "Balkans": ("Balkan",),
    "Arctic": ("Arctic",),
    "Antarctica": ("Antarctic",),
    "Mediterranean": ("Mediterranean",),
    "Western Europe": ("Western European",),
    "Eastern Europe": ("Eastern European",),
    "Central Europe": ("Central European",),
    "Southeast Asia": ("Southeast Asian", "South-East Asian"),
    "East Asia": ("East Asian",),
    "South Asia": ("South Asian",),
    "Central Asia": ("Central Asian",),
    "North Africa": ("North African",),
    "West Africa": ("West African",),
    "East Africa": ("East African",),
    "Sub-Saharan Africa": ("Sub-Saharan African",),
    "Siberia": ("Siberian",),
    "Tibet": ("Tibetan",),
    "Kurdistan": ("Kurdish",),
    "Bavaria": ("Bavarian",),
    "Catalonia": ("Catalan",),
    "Basque Country": ("Basque",),
    "Flanders": ("Flemish",),
    "Wallonia": ("Walloon",),
    "Sicily": ("Sicilian",),
    "Sardinia": ("Sardinian",),
    "Corsica": ("Corsican",),
    "Andalusia": ("Andalusian",),
    "Quebec": ("Quebecer", "Québécois", "Quebecois"),
    "Patagonia": ("Patagonian",),
    "Anatolia": ("Anatolian",),
    "Bengal": ("Bengali",),
    "Punjab": ("Punjabi",),
    "Kashmir": ("Kashmiri",),
    "New Guinea": ("New Guinean",),
    "British Columbia": ("British Columbian",),
    "New Mexico": ("New Mexican",),
    "Texas": ("Texan",),
    "California": ("Californian",),
    "Hawaii": ("Hawaiian",),
    "Alaska": ("Alaskan",),
    "Florida": ("Floridian",),
}

#: phrases that start with a demonym but say nothing of its place ("the Indian Ocean" is not
#: India, "the Spanish flu" did not come from Spain); matched like place names, so the
#: demonym inside them is never read alone
NOT_DEMONYMS: tuple[str, ...] = (
    "Indian Ocean", "American Indian", "East Indian", "French fries", "French horn",
    "French kiss", "French toast", "French window", "Danish pastry", "Dutch oven",
    "Dutch courage", "Swiss cheese", "Swiss army knife", "Turkish delight", "Spanish flu",
    "Indian summer", "Chinese whispers", "Arabic numerals", "Roman numerals", "Brazil nut",
    "German measles", "Mexican wave", "Scotch egg", "Great Dane", "Turkish bath",
    "British Isles", "Dutch East Indies",
)

#: words an acronym usually skips ("National Aeronautics and Space Administration" → NASA)
STOPWORDS = frozenset({"a", "an", "and", "at", "de", "der", "des", "du", "for", "in", "la",
                       "le", "of", "on", "the", "to", "und"})

_ACRONYM = re.compile(r"[A-Z][A-Za-z&]{1,11}")
_DOTTED = re.compile(r"\s*(?:[A-Za-z&]\.\s?)+[A-Za-z&]?\.?\s*")


@lru_cache(maxsize=65536)
def acronym_key(name: str) -> str | None:
    """``name`` without its dots if it reads as an acronym ("U.S." → "US", "DoD", "AT&T"),
    else None: at least two capitals, fewer small letters than capitals, case kept."""
    text = name.strip().replace(".", "").replace(" ", "") if _DOTTED.fullmatch(name) \
        else name.strip()
    if not _ACRONYM.fullmatch(text):
        return None
    upper = sum(1 for c in text if c.isupper())
    lower = sum(1 for c in text if c.islower())
    return text if upper >= 2 and lower < upper else None


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """What two writings of one name share: without a leading "the" and a possessive "'s",
    an acronym without its dots (case kept), any other name normalised."""
    bare = re.sub(r"['’]s\s*$", "", re.sub(r"^\s*(?i:the)\s+(?=\S)", "", name))
    key = acronym_key(bare)
    return key if key is not None else normalise(bare)


def same_name(a: str, b: str, aliases: Mapping[str, str] | None = None) -> bool:
    """Whether ``a`` and ``b`` name the same thing: the same ``name_key``, or forms of one
    entry of ``aliases`` (alias → name) or of ``ALIASES``."""
    if name_key(a) == name_key(b):
        return True
    return name_key(b) in {name_key(f) for f in name_forms(a, aliases)}


def initials(name: str) -> str | None:
    """The capitalised initials of a multi-word name's content words ("European Space
    Agency" → "ESA", "Department of Defense" → "DD"), or None for a single word."""
    words = [w for w in re.findall(r"[^\W_]+", name) if w.casefold() not in STOPWORDS]
    return "".join(w[0] for w in words).upper() if len(words) >= 2 else None


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for long, others in ALIASES.items():
        for form in (long, *others):
            index.setdefault(name_key(form), long)
    return index


def long_form(name: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The long form ``name`` stands for: through ``aliases`` (alias → name) first, then
    ``ALIASES``; a long form stands for itself. None when neither table knows ``name``."""
    key = name_key(name)
    for alias, full in (aliases or {}).items():
        if name_key(alias) == key or name_key(full) == key:
            return full
    return _alias_index().get(key)


def name_forms(name: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every other name of the thing ``name`` names, from ``aliases`` and ``ALIASES``
    (not ``name`` itself; empty when neither table knows it)."""
    key = name_key(name)
    out: list[str] = []
    for alias, full in (aliases or {}).items():
        if name_key(alias) == key:
            out.append(full)
        elif name_key(full) == key:
            out.append(alias)
    long = _alias_index().get(key)
    if long is not None:
        out.extend((long, *ALIASES[long]))
    seen = {key}
    result: list[str] = []
    for form in out:
        if name_key(form) not in seen:
            seen.add(name_key(form))
            result.append(form)
    return tuple(result)


# --------------------------------------------------------------------------- in a text

_ACRONYM_IN_PARENS = re.compile(r"\(\s*([A-Za-z][A-Za-z.&]{1,15})\s*\)")
_NAME_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_NAME_GAP = re.compile(r"[ \t]*(?:-|,)?[ \t]*|[ \t]+")
#: how far before "(ACRO)" the long name is looked for
_NAME_WINDOW = 300


def _acronym_letters(label: str) -> str | None:
    key = acronym_key(label)
    return "".join(c for c in key if c.isupper()) if key else None


@lru_cache(maxsize=512)
def _long_forms(text: str) -> tuple[tuple[str, str, int, int], ...]:
    found: list[tuple[str, str, int, int]] = []
    for m in _ACRONYM_IN_PARENS.finditer(text):
        letters = _acronym_letters(m.group(1))
        if letters is None:
            continue
        words = list(_NAME_WORD.finditer(text, max(0, m.start() - _NAME_WINDOW), m.start()))
        need = len(letters) - 1
        gap_end = m.start()
        first: int | None = None
        last_end: int | None = None
        for w in reversed(words):
            if not _NAME_GAP.fullmatch(text, w.end(), gap_end):
                break
            gap_end = w.start()
            word = w.group()
            if word.casefold() in STOPWORDS:
                if first is None:       # the name must end on a content word
                    break
                continue
            if word[0] != letters[need]:
                break
            if last_end is None:
                last_end = w.end()
            first = w.start()
            need -= 1
            if need < 0:
                break
        if need < 0 and first is not None and last_end is not None:
            found.append((text[first:last_end], m.group(1).strip(), first, last_end))
    return tuple(found)


def long_forms_in_text(text: str) -> list[tuple[str, str]]:
    """Every "Long Name (ACRO)" written in ``text`` as ``(long name, acronym)``, in order.

    The long name is the run of words just before the parenthesis whose content words (not
    "of", "and", "the", ...) start with the acronym's capitals, in order, joined by spaces,
    hyphens or commas: "the European Space Agency (ESA)" gives ("European Space Agency",
    "ESA"); "United Nations Educational, Scientific and Cultural Organization (UNESCO)"
    gives the whole name."""
    return [(long, acro) for long, acro, _, _ in _long_forms(text)]


# --------------------------------------------------------------------------- demonyms


@lru_cache(maxsize=1)
def _demonym_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for place, words in DEMONYMS.items():
        for w in words:
            index.setdefault(w.casefold(), []).append(place)
    return {k: tuple(v) for k, v in index.items()}


def places_of_demonym(word: str) -> tuple[str, ...]:
    """The places ``word`` is a demonym of ("Italian" → ("Italy",); "Italians" too; "Dominican"
    → ("Dominica", "Dominican Republic")), or () when it is none."""
    w = " ".join(word.split()).casefold()
    index = _demonym_index()
    if w in index:
        return index[w]
    return index.get(w[:-1], ()) if w.endswith("s") else ()


def demonyms_of(place: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The demonyms of ``place`` or of the place it is another name of ("USA" → "American")."""
    key = name_key(place)
    out: list[str] = []
    for p, words in DEMONYMS.items():
        if name_key(p) == key:
            out.extend(words)
    long = long_form(place, aliases)
    if long is not None and long in DEMONYMS and name_key(long) != key:
        out.extend(DEMONYMS[long])
    return tuple(dict.fromkeys(out))
