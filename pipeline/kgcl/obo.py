"""OBO 1.4 documents, read and written line for line, and KGCL change requests applied to them.

Why our own reader: applying a change must touch only the lines it names. A round trip through
a library that parses OBO into a model and writes it out again reorders tags, rewrites comments
and escapes, and turns a one-line change into a diff of the whole file. Here a document is its
stanzas, and a stanza its raw lines (line endings included); ``text()`` joins them back, so a
document nobody changed is byte-identical, and a change adds, removes or rewrites exactly the
tag lines it names: ``name:``, ``synonym: "x" EXACT []``, ``def:``, ``subset:``, ``is_a:``,
``relationship:``, ``is_obsolete:``, ``replaced_by:``, ``consider:``, ``property_value:``, other
OBO-in-OWL tags (``comment:``, ``xref:``, …) and whole ``[Term]`` stanzas.

A tag line is ``tag: value {qualifiers} ! comment``; quoted strings (``def``, ``synonym``) may
hold ``!`` and ``{``; backslash escapes are OBO's. KGCL references resolve as in OWL: an id
(``GO:0005634``, or its IRI ``<http://purl.obolibrary.org/obo/GO_0005634>``), a relation by its
Typedef id's cross-reference (``BFO:0000050`` is ``part_of`` when the Typedef says
``xref: BFO:0000050``) or a quoted ``name:``. OBO has no language tags, so a command that gives
one is refused rather than silently dropping it. ``create synonym`` without a scope writes
``RELATED``, OBO's default.

Changes apply to a copy of the document and replace it only when every command succeeded.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NoReturn

from kgcl_schema.datamodel.kgcl import (
    AddNodeToSubset,
    Change,
    ClassCreation,
    EdgeCreation,
    EdgeDeletion,
    NewSynonym,
    NewTextDefinition,
    NodeAnnotationChange,
    NodeCreation,
    NodeDeepening,
    NodeDeletion,
    NodeMove,
    NodeObsoletion,
    NodeObsoletionWithDirectReplacement,
    NodeRename,
    NodeShallowing,
    NodeTextDefinitionChange,
    NodeUnobsoletion,
    PlaceUnder,
    PredicateChange,
    RemoveNodeFromSubset,
    RemoveSynonym,
    RemoveTextDefinition,
    RemoveUnder,
    SynonymReplacement,
)
from rdflib import OWL, RDFS

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.files import read_text, write_atomically
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.kgcl.vocab import (
    CONSIDER,
    DEFAULT_PREFIXES,
    DEFINITION,
    IN_SUBSET,
    OBSOLESCENCE_REASON,
    OIO,
    REPLACED_BY,
    SYNONYM_PREDICATES,
    PrefixMap,
    is_iri,
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
_RANK = {t: i for i, t in enumerate(TAG_ORDER)}

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


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def _eol(line: str) -> str:
    return line[len(_strip_eol(line)):]


# ---------------------------------------------------------------------- documents


@dataclass
class Stanza:
    """A stanza's raw lines: ``[Term]`` first (none for the header), trailing blank lines last."""

    lines: list[str]

    @property
    def kind(self) -> str:
        m = _STANZA.match(_strip_eol(self.lines[0])) if self.lines else None
        return m.group(1) if m else ""

    def tags(self, *names: str) -> Iterator[tuple[int, TagLine]]:
        prefixes = tuple(f"{n}:" for n in names)
        for i, line in enumerate(self.lines):
            if prefixes and not line.startswith(prefixes):
                continue
            tl = parse_tag_line(_strip_eol(line))
            if tl is not None and (not names or tl.tag in names):
                yield i, tl

    def values(self, tag: str) -> list[str]:
        return [tl.text for _, tl in self.tags(tag)]

    @property
    def id(self) -> str | None:
        for line in self.lines:
            if line.startswith("id:"):
                tl = parse_tag_line(_strip_eol(line))
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
            if _STANZA.match(_strip_eol(line)):
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


@dataclass(frozen=True)
class OboApplyResult:
    """What a request did to a document: the lines it added and removed, each with the id of
    its stanza."""

    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    commands: int
    dry_run: bool = False


# ---------------------------------------------------------------------- applying


class _Reject(Exception):
    pass


def _changed_lines(old: OboDocument, new: OboDocument
                   ) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The non-blank lines, with their stanza's id, of the stanzas that differ."""
    def by_key(doc: OboDocument) -> dict[str, list[Stanza]]:
        out: dict[str, list[Stanza]] = {}
        for s in doc.stanzas:
            out.setdefault((s.id or "") if s.kind else "", []).append(s)
        return out

    a, b = by_key(old), by_key(new)
    before: Counter[tuple[str, str]] = Counter()
    after: Counter[tuple[str, str]] = Counter()
    for key in a.keys() | b.keys():
        old_lines = [line for s in a.get(key, []) for line in s.lines]
        new_lines = [line for s in b.get(key, []) for line in s.lines]
        if old_lines != new_lines:
            before.update((key, _strip_eol(x)) for x in old_lines if x.strip())
            after.update((key, _strip_eol(x)) for x in new_lines if x.strip())
    return before, after


def _reject(message: str) -> NoReturn:
    raise _Reject(message)


class OboEditor:
    """Applies parsed KGCL changes to a working copy of an OBO document."""

    def __init__(self, doc: OboDocument) -> None:
        self.original = doc
        self.doc = doc.copy()
        self.prefixes = PrefixMap(doc.idspaces())

    def apply(self, parsed: Sequence[ParsedChange], *, dry_run: bool = False) -> OboApplyResult:
        for pc in parsed:
            handler = _HANDLERS.get(type(pc.change))
            try:
                if handler is None:
                    _reject(f"{type(pc.change).__name__} is not supported")
                handler(self, pc.change)
            except _Reject as exc:
                raise ChangeRequestError(f"line {pc.line}: {pc.text!r}: {exc}") from None
        before, after = _changed_lines(self.original, self.doc)
        added = tuple(sorted((after - before).elements()))
        removed = tuple(sorted((before - after).elements()))
        if not dry_run:
            self.original.stanzas = self.doc.stanzas
            self.original.invalidate()
        return OboApplyResult(added=added, removed=removed, commands=len(parsed),
                              dry_run=dry_run)

    # ------------------------------------------------------------------ references

    def obo_id(self, value: str) -> str:
        """An id as the document writes it: ``GO:0005634`` for its OBO IRI
        (``<http://purl.obolibrary.org/obo/GO_0005634>``) or ``obo:GO_0005634``; a CURIE of
        the document's own id spaces as it is."""
        if not is_iri(value):
            prefix = value.partition(":")[0]
            if prefix not in DEFAULT_PREFIXES:
                return value
            iri = self.prefixes.expand(value)
            if iri is None:
                _reject(f"{value!r} is not a CURIE or IRI")
        else:
            iri = value
        for prefix, ns in sorted(self.doc.idspaces().items(), key=lambda t: -len(t[1])):
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        curie = self.prefixes.contract(iri)
        if curie is not None and curie.partition(":")[0] not in DEFAULT_PREFIXES:
            return curie
        return value

    def by_name(self, label: str, kinds: tuple[str, ...] = ("Term", "Typedef", "Instance")
                ) -> Stanza:
        found = [s for s in self.doc.stanzas[1:]
                 if s.kind in kinds and label in s.values("name")]
        if not found:
            _reject(f"no entity is named {label!r}")
        if len(found) > 1:
            _reject(f"the name {label!r} is ambiguous ({', '.join(s.id or '?' for s in found)});"
                    " use the id")
        return found[0]

    def ref(self, value: str | None, kind: str | None = None) -> str:
        """The id a reference names (the entity need not exist)."""
        if not value:
            _reject("the command names no entity")
        if kind == "literal":
            _reject(f'a literal ("{value}") cannot name an entity')
        if kind == "label" or (len(value) >= 2 and value[0] == value[-1] == "'"):
            return self.by_name(value if kind == "label" else value[1:-1]).id or ""
        oid = self.obo_id(value)
        if self.doc.get(oid) is None:
            typedef = self.typedef_by_xref(oid)
            if typedef is not None:
                return typedef.id or oid
        return oid

    def typedef_by_xref(self, curie: str) -> Stanza | None:
        return self.doc.typedef_xrefs().get(curie)

    def stanza(self, value: str | None, kind: str | None = None) -> Stanza:
        oid = self.ref(value, kind)
        stanza = self.doc.get(oid)
        if stanza is None:
            _reject(f"unknown entity {oid}")
        return stanza

    def predicate(self, value: str, kind: str | None) -> tuple[str, str]:
        """(tag, relation): ``("is_a", "")``, an OBO-in-OWL tag, or ``("relationship", R)``."""
        if kind != "label" and not (value.startswith("'") and value.endswith("'")):
            iri = self.prefixes.expand(value)
            if iri is not None and iri in TAG_OF:
                return TAG_OF[iri][0], iri
        return "relationship", self.ref(value, kind)

    # ------------------------------------------------------------------ lines

    def line(self, text: str) -> str:
        return text + self.doc.newline

    def comment_for(self, target: str) -> str:
        name = self.doc.name_of(target)
        return f" ! {escape_text(name)}" if name else ""

    def insert(self, stanza: Stanza, tag: str, text: str) -> None:
        """A new tag line at its place in the stanza."""
        rank = _RANK.get(tag, len(TAG_ORDER))
        tags = list(stanza.tags())
        same = [i for i, tl in tags if tl.tag == tag]
        later = [i for i, tl in tags if _RANK.get(tl.tag, len(TAG_ORDER)) > rank]
        if same:
            at = same[-1] + 1
        elif later:
            at = later[0]
        else:
            at = tags[-1][0] + 1 if tags else len(stanza.lines)
        if at > 0 and not _eol(stanza.lines[at - 1]):
            stanza.lines[at - 1] += self.doc.newline
        stanza.lines.insert(at, self.line(text))

    @staticmethod
    def remove(stanza: Stanza, index: int) -> None:
        del stanza.lines[index]

    def replace(self, stanza: Stanza, index: int, text: str) -> None:
        stanza.lines[index] = text + (_eol(stanza.lines[index]) or "")

    def replace_span(self, stanza: Stanza, index: int, start: int, end: int, new: str) -> None:
        old = _strip_eol(stanza.lines[index])
        self.replace(stanza, index, old[:start] + new + old[end:])

    def retarget(self, stanza: Stanza, index: int, tl: TagLine, value: str,
                 target: str | None) -> None:
        """Rewrite a line's value, keep its qualifiers, give it the comment of its target."""
        old = _strip_eol(stanza.lines[index])
        quals = f" {tl.qualifiers}" if tl.qualifiers else ""
        comment = self.comment_for(target) if target else (f" ! {tl.comment}"
                                                           if tl.comment else "")
        self.replace(stanza, index, old[:tl.value_start] + value + quals + comment)

    # ------------------------------------------------------------------ edges

    def edge_lines(self, stanza: Stanza, tag: str, rel: str, target: str
                   ) -> list[tuple[int, TagLine]]:
        if tag == "relationship":
            return [(i, tl) for i, tl in stanza.tags("relationship")
                    if tl.words[:2] == [rel, target]]
        return [(i, tl) for i, tl in stanza.tags(tag) if tl.words[:1] == [target]]

    def edge_value(self, tag: str, rel: str, target: str) -> str:
        return f"{rel} {target}" if tag == "relationship" else target

    def ancestors(self, entity_id: str) -> set[str]:
        seen: set[str] = set()
        todo = [entity_id]
        while todo:
            stanza = self.doc.get(todo.pop())
            for _, tl in stanza.tags("is_a") if stanza is not None else ():
                parent = tl.words[0] if tl.words else ""
                if parent and parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def is_obsolete(self, stanza: Stanza) -> bool:
        return any(v.strip().lower() == "true" for v in stanza.values("is_obsolete"))

    def subset(self, name: str) -> str:
        if ":" in name or is_iri(name):
            name = re.split(r"[#/:]", name)[-1]
        if name not in self.doc.subsets():
            _reject(f"unknown subset {name!r} (no subsetdef in the header)")
        return name


def _no_language(*languages: str | None) -> None:
    if any(languages):
        _reject("OBO format has no language tags")


def _node(ed: OboEditor, c: Any) -> Stanza:
    return ed.stanza(c.about_node, c.about_node_representation)


def _rename(ed: OboEditor, c: NodeRename) -> None:
    _no_language(c.old_language, c.new_language)
    stanza = _node(ed, c) if c.about_node else ed.by_name(c.old_value)
    found = [(i, tl) for i, tl in stanza.tags("name") if tl.text == c.old_value]
    if not found:
        have = ", ".join(repr(v) for v in stanza.values("name")) or "nothing"
        _reject(f"{stanza.id} is named {have}, not {c.old_value!r}")
    if c.new_value == c.old_value:
        _reject("the new name is the old one")
    i, tl = found[0]
    ed.replace_span(stanza, i, tl.value_start, tl.value_end, escape_text(c.new_value))


def _new_stanza(ed: OboEditor, c: Any, name: str | None) -> None:
    if c.about_node_representation in ("label", "literal"):
        _reject("a new entity needs an id (CURIE or <IRI>), not a label")
    oid = ed.obo_id(c.about_node)
    if ed.doc.get(oid) is not None:
        _reject(f"{oid} already exists")
    nl = ed.doc.newline
    lines = [f"[Term]{nl}", f"id: {oid}{nl}"] + ([f"name: {escape_text(name)}{nl}"]
                                                  if name else [])
    stanzas = ed.doc.stanzas
    terms = [k for k, s in enumerate(stanzas) if s.kind == "Term"]
    before = [k for k in terms if (stanzas[k].id or "") < oid]
    at = (before[-1] + 1) if before else (terms[0] if terms else len(stanzas))
    prev = stanzas[at - 1]
    if prev.lines and not _eol(prev.lines[-1]):
        prev.lines[-1] += nl
    if prev.lines and prev.lines[-1].strip():
        prev.lines.append(nl)  # a blank line between stanzas
    if at < len(stanzas):
        lines.append(nl)
    stanzas.insert(at, Stanza(lines))
    ed.doc.invalidate()


def _create_node(ed: OboEditor, c: NodeCreation) -> None:
    _no_language(c.language)
    _new_stanza(ed, c, c.name)


def _create_class(ed: OboEditor, c: ClassCreation) -> None:
    _new_stanza(ed, c, None)


def _synonym_lines(stanza: Stanza, text: str, scope: str | None = None
                   ) -> list[tuple[int, TagLine]]:
    return [(i, tl) for i, tl in stanza.tags("synonym")
            if tl.text == text and (scope is None or tl.scope() == scope)]


def _new_synonym(ed: OboEditor, c: NewSynonym) -> None:
    _no_language(c.language)
    stanza = _node(ed, c)
    scope = (c.qualifier or "related").upper()
    if _synonym_lines(stanza, c.new_value, scope):
        _reject(f"{stanza.id} already has the {scope} synonym {c.new_value!r}")
    ed.insert(stanza, "synonym", f'synonym: "{escape_quoted(c.new_value)}" {scope} []')


def _remove_synonym(ed: OboEditor, c: RemoveSynonym) -> None:
    _no_language(c.language)
    stanza = _node(ed, c)
    found = _synonym_lines(stanza, c.old_value)
    if not found:
        _reject(f"{stanza.id} has no synonym {c.old_value!r}")
    for i, _ in reversed(found):
        ed.remove(stanza, i)


def _change_synonym(ed: OboEditor, c: SynonymReplacement) -> None:
    _no_language(c.language)
    stanza = _node(ed, c)
    scope = c.qualifier.upper() if c.qualifier else None
    found = _synonym_lines(stanza, c.old_value, scope)
    if not found:
        _reject(f"{stanza.id} has no {(scope or '').lower()} synonym {c.old_value!r}".replace(
            "no  ", "no "))
    if len(found) > 1:
        _reject(f"{stanza.id} has {len(found)} synonyms {c.old_value!r}; give the scope")
    if c.new_value == c.old_value:
        _reject("the new synonym is the old one")
    i, tl = found[0]
    if _synonym_lines(stanza, c.new_value, tl.scope()):
        _reject(f"{stanza.id} already has the synonym {c.new_value!r}")
    start, end = tl.quoted_span() or (tl.value_start, tl.value_end)
    ed.replace_span(stanza, i, start, end, f'"{escape_quoted(c.new_value)}"')


def _delete_node(ed: OboEditor, c: NodeDeletion) -> None:
    stanza = _node(ed, c)
    k = next(k for k, s in enumerate(ed.doc.stanzas) if s is stanza)
    del ed.doc.stanzas[k]
    prev = ed.doc.stanzas[k - 1]
    if k == len(ed.doc.stanzas) and prev.lines and not prev.lines[-1].strip():
        prev.lines.pop()  # the blank line that separated the last stanza
    ed.doc.invalidate()


def _obsolete(ed: OboEditor, c: NodeObsoletion) -> None:
    stanza = _node(ed, c)
    if ed.is_obsolete(stanza):
        _reject(f"{stanza.id} is already obsolete")
    replacement = None
    if c.has_direct_replacement:
        replacement = ed.stanza(c.has_direct_replacement).id
        if replacement == stanza.id:
            _reject("an entity cannot replace itself")
    for i, tl in list(stanza.tags("name")):
        if not tl.text.startswith("obsolete "):
            ed.replace_span(stanza, i, tl.value_start, tl.value_end,
                            escape_text("obsolete " + tl.text))
    ed.insert(stanza, "is_obsolete", "is_obsolete: true")
    if replacement:
        ed.insert(stanza, "replaced_by", f"replaced_by: {replacement}")


def _unobsolete(ed: OboEditor, c: NodeUnobsoletion) -> None:
    stanza = _node(ed, c)
    if not ed.is_obsolete(stanza):
        _reject(f"{stanza.id} is not obsolete")
    for i, tl in reversed(list(stanza.tags("is_obsolete", "replaced_by", "consider",
                                           "property_value"))):
        if tl.tag != "property_value" or tl.words[:1] in (["IAO:0000231"],
                                                          [str(OBSOLESCENCE_REASON)]):
            ed.remove(stanza, i)
    for i, tl in list(stanza.tags("name")):
        if tl.text.startswith("obsolete ") and len(tl.text) > 9:
            ed.replace_span(stanza, i, tl.value_start, tl.value_end,
                            escape_text(tl.text[len("obsolete "):]))


def _hierarchy(ed: OboEditor, c: NodeDeepening | NodeShallowing, deeper: bool) -> None:
    edge = c.about_edge
    stanza = ed.stanza(edge.subject, edge.subject_representation)
    old = ed.ref(c.old_value, c.old_object_type)
    new = ed.ref(c.new_value, c.new_object_type)
    found = ed.edge_lines(stanza, "is_a", "", old)
    if not found:
        _reject(f"{stanza.id} is not a direct subclass of {old}")
    if new in (stanza.id, old):
        _reject(f"cannot move {stanza.id} under {new}")
    if deeper and old not in ed.ancestors(new):
        _reject(f"{new} is not below {old}; use move")
    if not deeper and new not in ed.ancestors(old):
        _reject(f"{new} is not above {old}; use move")
    if ed.edge_lines(stanza, "is_a", "", new):
        _reject(f"{stanza.id} is already a subclass of {new}")
    if stanza.id in ed.ancestors(new):
        _reject(f"{new} is below {stanza.id}: the move would make a cycle")
    i, tl = found[0]
    ed.retarget(stanza, i, tl, new, new)


def _move(ed: OboEditor, c: NodeMove) -> None:
    edge = c.about_edge
    stanza = ed.stanza(edge.subject, edge.subject_representation)
    tag, rel = ed.predicate(edge.predicate, edge.predicate_representation)
    obj = ed.ref(edge.object, edge.object_representation)
    old = ed.ref(c.old_value, c.old_object_type)
    new = ed.ref(c.new_value, c.new_object_type)
    if obj != old:
        _reject(f"the edge's object {obj} is not the old value {old}")
    if tag not in ("is_a", "relationship") and TAG_OF.get(rel, ("", ""))[1] != "id":
        _reject(f"{edge.predicate} edges cannot be moved")
    found = ed.edge_lines(stanza, tag, rel, old)
    if not found:
        _reject(f"no edge {stanza.id} {edge.predicate} {old}")
    if ed.edge_lines(stanza, tag, rel, new):
        _reject(f"the edge {stanza.id} {edge.predicate} {new} already exists")
    for i, tl in found:
        ed.retarget(stanza, i, tl, ed.edge_value(tag, rel, new), new)


def _change_relationship(ed: OboEditor, c: PredicateChange) -> None:
    edge = c.about_edge
    stanza = ed.stanza(edge.subject, edge.subject_representation)
    obj = ed.ref(edge.object, edge.object_representation)
    old_tag, old_rel = ed.predicate(c.old_value, c.old_value_type)
    new_tag, new_rel = ed.predicate(c.new_value, c.new_value_type)
    for tag, rel in ((old_tag, old_rel), (new_tag, new_rel)):
        if tag != "relationship" and TAG_OF.get(rel, ("", ""))[1] != "id":
            _reject(f"{tag} is not a relationship between entities")
    if (old_tag, old_rel) == (new_tag, new_rel):
        _reject("the new relationship is the old one")
    found = ed.edge_lines(stanza, old_tag, old_rel, obj)
    if not found:
        _reject(f"no edge {stanza.id} {c.old_value} {obj}")
    if ed.edge_lines(stanza, new_tag, new_rel, obj):
        _reject(f"the edge {stanza.id} {c.new_value} {obj} already exists")
    for i, tl in reversed(found):
        if old_tag == new_tag:
            ed.retarget(stanza, i, tl, ed.edge_value(new_tag, new_rel, obj), obj)
        else:
            ed.remove(stanza, i)
            quals = f" {tl.qualifiers}" if tl.qualifiers else ""
            ed.insert(stanza, new_tag, f"{new_tag}: {ed.edge_value(new_tag, new_rel, obj)}"
                      f"{quals}{ed.comment_for(obj)}")


def _value_lines(ed: OboEditor, stanza: Stanza, tag: str, rel: str, text: str,
                 literal: bool) -> list[tuple[int, TagLine]]:
    """The lines of a tag (or property_value of a relation) holding a value."""
    if tag == "relationship":
        out = []
        for i, tl in stanza.tags("property_value"):
            words = tl.value.split(maxsplit=1)
            if len(words) == 2 and words[0] == rel:
                rest = words[1]
                q = read_quoted(rest)
                if (q[0] if q else rest.split()[0]) == text:
                    out.append((i, tl))
        if not literal:
            out += ed.edge_lines(stanza, "relationship", rel, text)
        return out
    kind = TAG_OF[rel][1]
    if kind == "id":
        return ed.edge_lines(stanza, tag, rel, text)
    return [(i, tl) for i, tl in stanza.tags(tag) if tl.text == text]


def _value_text(ed: OboEditor, tag: str, rel: str, value: str, literal: bool,
                target: str | None) -> str:
    """How a value is written on a line of this tag."""
    if tag == "relationship":
        if literal:
            return f'{rel} "{escape_quoted(value)}" xsd:string'
        return f"{rel} {target}"
    kind = TAG_OF[rel][1]
    if kind == "quoted":
        return f'"{escape_quoted(value)}" []'
    if kind == "id":
        if literal:
            _reject(f"{tag} takes an id, not a literal")
        return target or value
    if kind in ("subset", "bool", "synonym"):
        _reject(f"use the KGCL command for {tag}, not a generic edge")
    if not literal:
        _reject(f"{tag} takes a literal, not an id")
    return escape_text(value)


def _change_annotation(ed: OboEditor, c: NodeAnnotationChange) -> None:
    _no_language(c.old_language, c.new_language)
    stanza = _node(ed, c)
    tag, rel = ed.predicate(c.annotation_property, c.annotation_property_type)
    old_literal = c.old_value_type in ("label", "literal")
    new_literal = c.new_value_type in ("label", "literal")
    old = c.old_value if old_literal else ed.ref(c.old_value, c.old_value_type)
    found = _value_lines(ed, stanza, tag, rel, old, old_literal)
    if not found:
        _reject(f"{stanza.id} has no {c.annotation_property} value {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{stanza.id} has {len(found)} {c.annotation_property} values "
                f"{c.old_value!r}")
    new = c.new_value if new_literal else ed.ref(c.new_value, c.new_value_type)
    if new == old:
        _reject("the new value is the old one")
    if _value_lines(ed, stanza, tag, rel, new, new_literal):
        _reject(f"{stanza.id} already has that {c.annotation_property} value")
    i, tl = found[0]
    value = _value_text(ed, tag, rel, new, new_literal, None if new_literal else new)
    if tag == "def":
        start, end = tl.quoted_span() or (tl.value_start, tl.value_end)
        ed.replace_span(stanza, i, start, end, f'"{escape_quoted(new)}"')
    elif new_literal:
        ed.replace_span(stanza, i, tl.value_start, tl.value_end, value)
    else:
        ed.retarget(stanza, i, tl, value, new)


def _definition_lines(stanza: Stanza) -> list[tuple[int, TagLine]]:
    return list(stanza.tags("def"))


def _change_definition(ed: OboEditor, c: NodeTextDefinitionChange) -> None:
    stanza = _node(ed, c)
    defs = _definition_lines(stanza)
    found = [(i, tl) for i, tl in defs if tl.text == c.old_value] if c.old_value else defs
    if not defs:
        _reject(f"{stanza.id} has no definition; use add definition")
    if not found:
        _reject(f"the definition of {stanza.id} is not {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{stanza.id} has {len(found)} definitions; say which (from '…')")
    i, tl = found[0]
    if tl.text == c.new_value:
        _reject("the new definition is the old one")
    start, end = tl.quoted_span() or (tl.value_start, tl.value_end)
    ed.replace_span(stanza, i, start, end, f'"{escape_quoted(c.new_value)}"')


def _add_definition(ed: OboEditor, c: NewTextDefinition) -> None:
    stanza = _node(ed, c)
    if _definition_lines(stanza):
        _reject(f"{stanza.id} already has a definition; use change definition")
    ed.insert(stanza, "def", f'def: "{escape_quoted(c.new_value)}" []')


def _remove_definition(ed: OboEditor, c: RemoveTextDefinition) -> None:
    stanza = _node(ed, c)
    defs = _definition_lines(stanza)
    if not defs:
        _reject(f"{stanza.id} has no definition")
    for i, _ in reversed(defs):
        ed.remove(stanza, i)


def _add_to_subset(ed: OboEditor, c: AddNodeToSubset) -> None:
    stanza = _node(ed, c)
    name = ed.subset(c.in_subset)
    if name in [v.strip() for v in stanza.values("subset")]:
        _reject(f"{stanza.id} is already in subset {name}")
    ed.insert(stanza, "subset", f"subset: {name}")


def _remove_from_subset(ed: OboEditor, c: RemoveNodeFromSubset) -> None:
    stanza = _node(ed, c)
    name = ed.subset(c.in_subset)
    found = [i for i, tl in stanza.tags("subset") if tl.text.strip() == name]
    if not found:
        _reject(f"{stanza.id} is not in subset {name}")
    for i in reversed(found):
        ed.remove(stanza, i)


def _edge_target(ed: OboEditor, c: EdgeCreation | EdgeDeletion) -> tuple[str, bool]:
    if c.object_type == "literal":
        _no_language(c.language)
        return c.object, True
    return ed.ref(c.object, c.object_type), False


def _create_edge(ed: OboEditor, c: EdgeCreation) -> None:
    stanza = ed.stanza(c.subject, c.subject_type)
    tag, rel = ed.predicate(c.predicate, c.predicate_type)
    value, literal = _edge_target(ed, c)
    if tag == "is_a" and literal:
        _reject("is_a takes an id, not a literal")
    if tag == "synonym":
        if not literal:
            _reject("a synonym is a literal")
        scope = (SYNONYM_SCOPE_OF.get(rel) or "related").upper()
        if _synonym_lines(stanza, value, scope):
            _reject("the edge already exists")
        ed.insert(stanza, "synonym", f'synonym: "{escape_quoted(value)}" {scope} []')
        return
    exists = (ed.edge_lines(stanza, tag, rel, value) if tag == "is_a"
              else _value_lines(ed, stanza, tag, rel, value, literal))
    if exists:
        _reject(f"the edge {stanza.id} {c.predicate} {value} already exists")
    line_tag = "property_value" if tag == "relationship" and literal else tag
    text = _value_text(ed, tag, rel, value, literal, None if literal else value) if \
        tag != "is_a" else value
    comment = "" if literal else ed.comment_for(value)
    ed.insert(stanza, line_tag, f"{line_tag}: {text}{comment}")


def _delete_edge(ed: OboEditor, c: EdgeDeletion) -> None:
    stanza = ed.stanza(c.subject, c.subject_type)
    tag, rel = ed.predicate(c.predicate, c.predicate_type)
    value, literal = _edge_target(ed, c)
    if tag == "synonym":
        scope = (SYNONYM_SCOPE_OF.get(rel) or "related").upper()
        found = _synonym_lines(stanza, value, scope)
    elif tag == "is_a":
        found = ed.edge_lines(stanza, tag, rel, value)
    else:
        found = _value_lines(ed, stanza, tag, rel, value, literal)
    if not found:
        _reject(f"no edge {stanza.id} {c.predicate} {value}")
    for i, _ in reversed(found):
        ed.remove(stanza, i)


SYNONYM_SCOPE_OF = {str(p): q for q, p in SYNONYM_PREDICATES.items()}

_HANDLERS: dict[type[Change], Any] = {
    NodeRename: _rename,
    NodeCreation: _create_node,
    ClassCreation: _create_class,
    NewSynonym: _new_synonym,
    RemoveSynonym: _remove_synonym,
    SynonymReplacement: _change_synonym,
    NodeDeletion: _delete_node,
    NodeObsoletion: _obsolete,
    NodeObsoletionWithDirectReplacement: _obsolete,
    NodeUnobsoletion: _unobsolete,
    NodeDeepening: lambda ed, c: _hierarchy(ed, c, deeper=True),
    NodeShallowing: lambda ed, c: _hierarchy(ed, c, deeper=False),
    NodeMove: _move,
    PredicateChange: _change_relationship,
    NodeAnnotationChange: _change_annotation,
    EdgeCreation: _create_edge,
    PlaceUnder: _create_edge,
    EdgeDeletion: _delete_edge,
    RemoveUnder: _delete_edge,
    NodeTextDefinitionChange: _change_definition,
    NewTextDefinition: _add_definition,
    RemoveTextDefinition: _remove_definition,
    AddNodeToSubset: _add_to_subset,
    RemoveNodeFromSubset: _remove_from_subset,
}


def apply_to_obo(doc: OboDocument, request: str | Sequence[ParsedChange], *,
                 dry_run: bool = False) -> OboApplyResult:
    """Apply a KGCL change request to an OBO document in place: every command, or (on the
    first that cannot apply) none, raising ``ChangeRequestError``."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    return OboEditor(doc).apply(parsed, dry_run=dry_run)


__all__ = ["OboApplyResult", "OboDocument", "OboEditor", "PROPERTY_OF_TAG", "Stanza",
           "TAG_OF", "TAG_ORDER", "TagLine", "apply_to_obo", "escape_quoted", "escape_text",
           "parse_tag_line", "read_quoted", "unescape"]
