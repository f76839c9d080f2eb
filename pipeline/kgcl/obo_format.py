"""OBO 1.4 documents, read and written line for line.

Why our own reader: applying a change must touch only the lines it names. A round trip through
a library that parses OBO into a model and writes it out again reorders tags, rewrites comments
and escapes, and turns a one-line change into a diff of the whole file. Here a document is its
stanzas, and a stanza its raw lines (line endings included); ``text()`` joins them back, so a
document nobody changed is byte-identical.

A tag line is ``tag: value {qualifiers} ! comment``; quoted strings (``def``, ``synonym``) may
hold ``!`` and ``{``; backslash escapes are OBO's. ``TAG_OF`` says which tag an OWL property is
written as (OBO-in-OWL), ``TAG_ORDER`` where a tag goes in a stanza.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from rdflib import OWL, RDFS

from pipeline.kgcl.files import read_text, write_atomically
from pipeline.kgcl.vocab import (
    CONSIDER,
    DEFINITION,
    IN_SUBSET,
    OIO,
    REPLACED_BY,
    SYNONYM_PREDICATES,
)

_STANZA = re.compile(r"^\s*\[([A-Za-z]+)\]\s*$")
_TAG = re.compile(r"^([A-Za-z0-9_-]+):[ \t]*")
_SCOPES = ("EXACT", "BROAD", "NARROW", "RELATED")
QUOTED_TAGS = frozenset({"def", "synonym"})

#: Where a new tag line goes in a stanza (OBO 1.4's order): after the last line of the same
#: tag, else before the first line of a later tag, else at the end.
TAG_ORDER = ("id", "is_anonymous", "name", "namespace", "alt_id", "def", "comment", "subset",
             "synonym", "xref", "builtin", "property_value", "domain", "range", "is_a",
             "intersection_of", "union_of", "equivalent_to", "disjoint_from", "inverse_of",
             "transitive_over", "holds_over_chain", "relationship", "created_by",
             "creation_date", "is_obsolete", "replaced_by", "consider")

#: OBO-in-OWL: the tag an OWL property is written as, and how its value is written
#: ("id": an identifier, "text": an unquoted string, "quoted": a quoted string).
TAG_OF: dict[str, tuple[str, str]] = {
    str(RDFS.subClassOf): ("is_a", "id"),
    str(RDFS.label): ("name", "text"),
    str(RDFS.comment): ("comment", "text"),
    str(DEFINITION): ("def", "quoted"),
    str(OIO["hasDbXref"]): ("xref", "text"),
    str(OIO["hasAlternativeId"]): ("alt_id", "text"),
    str(OIO["hasOBONamespace"]): ("namespace", "text"),
    str(OIO["created_by"]): ("created_by", "text"),
    str(OIO["creation_date"]): ("creation_date", "text"),
    str(IN_SUBSET): ("subset", "subset"),
    str(OWL.deprecated): ("is_obsolete", "bool"),
    str(REPLACED_BY): ("replaced_by", "id"),
    str(CONSIDER): ("consider", "id"),
    str(OWL.disjointWith): ("disjoint_from", "id"),
    str(OWL.equivalentClass): ("equivalent_to", "id"),
    str(RDFS.domain): ("domain", "id"),
    str(RDFS.range): ("range", "id"),
    str(OWL.inverseOf): ("inverse_of", "id"),
    **{str(p): ("synonym", "synonym") for p in SYNONYM_PREDICATES.values()},
}
PROPERTY_OF_TAG: dict[str, str] = {tag: iri for iri, (tag, _) in TAG_OF.items()
                                   if tag != "synonym"}


# ---------------------------------------------------------------------- escapes


_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPE = {"n": "\n", "t": "\t", "W": " "}


def unescape(raw: str) -> str:
    """OBO backslash escapes: ``\\n``, ``\\t``, ``\\W`` (space), else the escaped character."""
    if "\\" not in raw:
        return raw
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), raw)


def escape_quoted(text: str) -> str:
    """The inside of an OBO quoted string."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\t", "\\t"))


def escape_text(text: str) -> str:
    """An unquoted OBO value (``name:``, ``comment:``): ``!`` and ``{`` would start a comment
    or qualifiers, and a bare ``"`` would open a quoted string for the reader."""
    return escape_quoted(text).replace("!", "\\!").replace("{", "\\{")


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)


def read_quoted(raw: str) -> tuple[str, int] | None:
    """The unescaped text of the quoted string ``raw`` starts with, and where it ends."""
    m = _QUOTED.match(raw)
    return (unescape(m.group(1)), m.end()) if m else None


# ---------------------------------------------------------------------- lines


@dataclass(frozen=True)
class TagLine:
    """One ``tag: value {qualifiers} ! comment`` line, with where the value sits in it."""

    tag: str
    value: str
    qualifiers: str
    comment: str
    value_start: int
    value_end: int

    @cached_property
    def text(self) -> str:
        """The value unescaped (the quoted string, for ``def`` and ``synonym``)."""
        if self.tag in QUOTED_TAGS:
            q = read_quoted(self.value)
            if q is not None:
                return q[0]
        return unescape(self.value)

    @property
    def words(self) -> list[str]:
        return self.value.split()

    def quoted_span(self) -> tuple[int, int] | None:
        q = read_quoted(self.value)
        return (self.value_start, self.value_start + q[1]) if q is not None else None

    def scope(self) -> str | None:
        """A synonym's scope."""
        q = read_quoted(self.value)
        if q is None:
            return None
        rest = self.value[q[1]:].split()
        return rest[0] if rest and rest[0] in _SCOPES else None


@lru_cache(maxsize=1 << 16)
def parse_tag_line(line: str) -> TagLine | None:
    """A tag line (without its line ending), or None for blank and comment-only lines.
    (Cached: documents are re-read line by line while changes apply and diffs compare.)"""
    m = _TAG.match(line)
    if m is None:
        return None
    start = m.end()
    in_quote, brace, bang = False, None, None
    i = start
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            in_quote = not in_quote
        elif not in_quote:
            if c == "!":
                bang = i
                break
            if c == "{" and brace is None:
                brace = i
        i += 1
    body_end = bang if bang is not None else len(line)
    body = line[start:body_end].rstrip()
    value_end = start + len(body)
    qualifiers = ""
    if brace is not None and body.endswith("}"):
        qualifiers = line[brace:value_end]
        value_end = start + len(line[start:brace].rstrip())
    comment = line[bang + 1:].strip() if bang is not None else ""
    return TagLine(m.group(1), line[start:value_end], qualifiers, comment, start, value_end)


def strip_eol(line: str) -> str:
    """A line without its line ending."""
    return line.rstrip("\r\n")


def eol(line: str) -> str:
    """A line's line ending (empty on a last line without one)."""
    return line[len(strip_eol(line)):]


# ---------------------------------------------------------------------- documents


@dataclass
class Stanza:
    """A stanza's raw lines: ``[Term]`` first (none for the header), trailing blank lines last."""

    lines: list[str]

    @property
    def kind(self) -> str:
        m = _STANZA.match(strip_eol(self.lines[0])) if self.lines else None
        return m.group(1) if m else ""

    def tags(self, *names: str) -> Iterator[tuple[int, TagLine]]:
        prefixes = tuple(f"{n}:" for n in names)
        for i, line in enumerate(self.lines):
            if prefixes and not line.startswith(prefixes):
                continue
            tl = parse_tag_line(strip_eol(line))
            if tl is not None and (not names or tl.tag in names):
                yield i, tl

    def values(self, tag: str) -> list[str]:
        return [tl.text for _, tl in self.tags(tag)]

    @property
    def id(self) -> str | None:
        for line in self.lines:
            if line.startswith("id:"):
                tl = parse_tag_line(strip_eol(line))
                return tl.text.strip() if tl is not None else None
        return None


@dataclass
class OboDocument:
    """An OBO file as its header and stanzas; ``text()`` gives the file back, byte for byte."""

    stanzas: list[Stanza]
    newline: str = "\n"
    _index: dict[str, Stanza] | None = field(default=None, repr=False, compare=False)
    _xrefs: dict[str, Stanza] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> OboDocument:
        stanzas = [Stanza([])]
        for line in text.splitlines(keepends=True):
            if _STANZA.match(strip_eol(line)):
                stanzas.append(Stanza([]))
            stanzas[-1].lines.append(line)
        first = text.splitlines(keepends=True)[:1]
        newline = "\r\n" if first and first[0].endswith("\r\n") else "\n"
        return cls(stanzas, newline)

    @classmethod
    def read(cls, path: str | Path) -> OboDocument:
        return cls.parse(read_text(path))

    def text(self) -> str:
        return "".join(line for s in self.stanzas for line in s.lines)

    def write(self, path: str | Path) -> None:
        write_atomically(path, self.text())

    def copy(self) -> OboDocument:
        return OboDocument([Stanza(list(s.lines)) for s in self.stanzas], self.newline)

    @property
    def header(self) -> Stanza:
        return self.stanzas[0]

    def index(self) -> dict[str, Stanza]:
        if self._index is None:
            self._index = {s.id: s for s in self.stanzas[1:] if s.id}
        return self._index

    def invalidate(self) -> None:
        self._index = None
        self._xrefs = None

    def typedef_xrefs(self) -> dict[str, Stanza]:
        """Typedefs by the CURIEs they cross-reference (``BFO:0000050`` → ``part_of``)."""
        if self._xrefs is None:
            self._xrefs = {}
            for s in self.stanzas[1:]:
                if s.kind == "Typedef":
                    for value in s.values("xref"):
                        for word in value.split()[:1]:
                            self._xrefs.setdefault(word, s)
        return self._xrefs

    def get(self, entity_id: str) -> Stanza | None:
        return self.index().get(entity_id)

    def name_of(self, entity_id: str) -> str | None:
        stanza = self.get(entity_id)
        names = stanza.values("name") if stanza is not None else []
        return names[0] if names else None

    def subsets(self) -> set[str]:
        return {tl.words[0] for _, tl in self.header.tags("subsetdef") if tl.words}

    def idspaces(self) -> dict[str, str]:
        return {tl.words[0]: tl.words[1] for _, tl in self.header.tags("idspace")
                if len(tl.words) >= 2}

    def canonical(self) -> Counter[tuple[str, str]]:
        """What the document says, ignoring line order, comments and whitespace: equal for
        documents that differ only in how they are laid out."""
        out: Counter[tuple[str, str]] = Counter()
        for s in self.stanzas:
            key = f"{s.kind}:{s.id or ''}"
            for _, tl in s.tags():
                out[(key, f"{tl.tag}: {' '.join(tl.value.split())} {tl.qualifiers}".strip())] += 1
            if s.kind:
                out[(key, "[stanza]")] += 1
        return out


__all__ = ["PROPERTY_OF_TAG", "QUOTED_TAGS", "TAG_OF", "TAG_ORDER", "OboDocument", "Stanza",
           "TagLine", "eol", "escape_quoted", "escape_text", "parse_tag_line", "read_quoted",
           "strip_eol", "unescape"]
