"""Parsing KGCL change requests with the ``kgcl-schema`` grammar and data model.

A change request is one KGCL command per line (blank lines and ``#`` comments ignored). Every
line is parsed before anything is applied; a line that does not parse rejects the whole
request with ``ChangeRequestError`` naming the line and the parser's complaint.

kgcl-schema 0.7's grammar and parser have quirks that lose or garble what a command says; this
module works around them so that every one of the 21 commands parses to exactly what it means:

- full ``<IRI>`` arguments are contracted with a fixed prefix table or dropped (so
  ``<http://example.org/a>`` may vanish): IRIs are replaced by placeholders before parsing and
  restored, as plain absolute IRIs, afterwards;
- quoted strings cannot contain a quote and ``''`` parses to the two-character string ``''``:
  every quoted string is read here instead (``\\'``, ``\\"``, ``\\\\``, ``\\n``, ``\\r`` and ``\\t``
  escapes, and ``'''…'''`` / ``\"\"\"…\"\"\"`` raw strings), replaced by a placeholder, and
  restored; an empty quoted string is refused;
- ``change exact synonym …`` drops its scope and language and mislabels the node reference;
- ``change annotation … from "a"@en …`` keeps ``"a"@en`` as one opaque id; the value, language
  and datatype are split out here;
- ``obsolete X with replacement 'label'`` keeps the quotes in the replacement; the replacement
  stays quoted (``'label'``), which is how callers tell a label from an id;
- ``create edge`` / ``delete edge`` accept a double-quoted literal object here
  (``create edge X rdfs:comment "text"@en``): the grammar's only way to add or remove a
  literal-valued annotation, which a diff needs.
"""

from __future__ import annotations

import re

from kgcl_schema.datamodel.kgcl import (
    Change,
    EdgeCreation,
    EdgeDeletion,
    NodeAnnotationChange,
    PlaceUnder,
    RemoveUnder,
    SynonymReplacement,
)
from kgcl_schema.grammar.parser import parse_statement

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.syntax import CLOSE, OPEN, diagnose, explain, forms_of, read_as, shown
from pipeline.models import Frozen

_IRI = re.compile(r"<([^<>\s]+)>")


class ParsedChange(Frozen):
    """One command: its line number and text, and the kgcl-schema change object."""

    model_config = Frozen.model_config | {"arbitrary_types_allowed": True}

    line: int
    text: str
    change: Change


class _Protected:
    """A command with its quoted strings and IRIs replaced by placeholders."""

    def __init__(self) -> None:
        self.literals: list[str] = []
        self.iris: list[str] = []
        self.columns: list[int] = []  # protected-text index → original-text index

    def original_column(self, column: int) -> int:
        """A 1-based column of the protected text as a 1-based column of the original."""
        if 1 <= column <= len(self.columns):
            return self.columns[column - 1] + 1
        return column

    def literal(self, text: str) -> str:
        self.literals.append(text)
        return f"{OPEN}{len(self.literals) - 1}{CLOSE}"

    def iri(self, iri: str) -> str:
        self.iris.append(iri)
        return f"{OPEN}i{len(self.iris) - 1}{CLOSE}"


_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


def _protect(text: str) -> tuple[str, _Protected]:
    """Replace quoted strings by ``'«n»'`` / ``"«n»"`` and ``<IRI>`` by ``«in»`` (« and »
    standing for two private-use characters, which user text may not hold outside quotes).

    A single-quoted string stays single-quoted (the grammar reads it as a label), a double- or
    triple-quoted one becomes double-quoted (a literal). Inside quotes any character but a raw
    control character is kept; outside them, invisible and direction-changing characters are
    refused (they make a command read otherwise than it parses)."""
    if bad := _CONTROL.search(text):
        raise ValueError(f"control character U+{ord(bad.group()):04X} at column {bad.start() + 1}"
                         " (write \\n or \\t inside quotes for a line break or a tab)")
    prot = _Protected()
    out: list[str] = []
    i, n = 0, len(text)

    def emit(piece: str, at: int) -> None:
        out.append(piece)
        prot.columns.extend([at] * len(piece))

    while i < n:
        c = text[i]
        if text.startswith(("'''", '"""'), i):
            fence = text[i:i + 3]
            end = text.find(fence, i + 3)
            if end < 0:
                raise ValueError(f"unterminated {fence} string at column {i + 1}")
            body = text[i + 3:end]
            if not body:
                raise ValueError(f"empty quoted string at column {i + 1}")
            quote = fence[0]  # '''…''' stays a label, """…""" a literal
            emit(quote + prot.literal(body) + quote, i)
            i = end + 3
        elif c in "'\"":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    buf.append(_ESCAPES.get(nxt, "\\" + nxt))
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            if j >= n:
                raise ValueError(f"unterminated quoted string at column {i + 1}")
            if not buf:
                raise ValueError(f"empty quoted string at column {i + 1}")
            emit(c + prot.literal("".join(buf)) + c, i)
            i = j + 1
        elif c == "<":
            m = _IRI.match(text, i)
            if m:
                emit(prot.iri(m.group(1)), i)
                i = m.end()
            else:
                emit(c, i)
                i += 1
        else:
            if _HIDDEN.match(c):
                raise ValueError(f"invisible or direction-changing character U+{ord(c):04X} at "
                                 f"column {i + 1} outside quotes")
            emit(c, i)
            i += 1
    return "".join(out), prot


#: raw control characters (a tab is allowed), refused anywhere in a command
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: outside quotes: format characters (bidi overrides, zero-width), line and paragraph
#: separators, and the placeholder marks
_HIDDEN = re.compile(
    r"[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ue000\ue001]")


_LIT = re.compile(rf"^{OPEN}(\d+){CLOSE}$")
_IRI_PH = re.compile(rf"^{OPEN}i(\d+){CLOSE}$")
_QUOTED_PH = re.compile(
    rf"^(['\"]){OPEN}(\d+){CLOSE}\1(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(\S+))?$")


class _Decoded:
    """A restored value: its text, and for a quoted one its quote, language and datatype."""

    def __init__(self, text: str, quote: str | None = None, language: str | None = None,
                 datatype: str | None = None) -> None:
        self.text, self.quote, self.language, self.datatype = text, quote, language, datatype


def _decode(value: str, prot: _Protected) -> _Decoded | None:
    """The value behind a placeholder (None when ``value`` holds none)."""
    if OPEN not in value:
        return None
    if m := _LIT.match(value):
        return _Decoded(prot.literals[int(m.group(1))])
    if m := _IRI_PH.match(value):
        return _Decoded(prot.iris[int(m.group(1))])
    if m := _QUOTED_PH.match(value):
        datatype = m.group(4)
        if datatype is not None:
            dt = _decode(datatype, prot)
            if dt is not None:
                datatype = dt.text
        return _Decoded(prot.literals[int(m.group(2))], m.group(1), m.group(3), datatype)
    raise ValueError(f"malformed quoted value or IRI: {_unprotect(value, prot)!r}")


def _unprotect(value: str, prot: _Protected) -> str:
    """Placeholders back to readable text, for error messages."""
    value = re.sub(rf"{OPEN}i(\d+){CLOSE}", lambda m: "<" + prot.iris[int(m.group(1))] + ">",
                   value)
    return re.sub(rf"{OPEN}(\d+){CLOSE}", lambda m: prot.literals[int(m.group(1))], value)


def _plain(value: object) -> object:
    """kgcl-schema leaves lark ``Token``s and typed-id ``str`` subclasses in its objects; make
    every string a plain ``str`` so changes compare and print predictably."""
    return str(value) if isinstance(value, str) else value


def _restore(change: Change, prot: _Protected, protected_text: str) -> None:
    """Put the real strings and IRIs back, and repair what kgcl-schema garbles."""
    targets: list[object] = [change]
    edge = getattr(change, "about_edge", None)
    if edge is not None:
        targets.append(edge)
    decoded: list[tuple[object, str, _Decoded]] = []
    for obj in targets:
        for name, value in list(vars(obj).items()):
            if isinstance(value, str):
                dec = _decode(value, prot)
                setattr(obj, name, _plain(value) if dec is None else dec.text)
                if dec is not None and dec.quote is not None:
                    decoded.append((obj, name, dec))
    for obj, name, dec in decoded:
        if name == "has_direct_replacement":
            # stays quoted: the data model has no field saying "this replacement is a label"
            setattr(obj, name, f"'{dec.text}'" if dec.quote == "'" else dec.text)
        elif isinstance(change, NodeAnnotationChange) and name in ("old_value", "new_value"):
            side = name.split("_")[0]
            setattr(obj, f"{side}_value_type", "literal")
            setattr(obj, f"{side}_language", dec.language)
            setattr(obj, f"{side}_datatype", dec.datatype)
        elif isinstance(change, EdgeCreation | EdgeDeletion) and name == "object":
            change.object_type = "literal"
            change.language = dec.language
            change.datatype = dec.datatype
        elif dec.language is not None or dec.datatype is not None:
            raise ValueError(f"a literal with a language or datatype cannot stand for {name}")
    if isinstance(change, SynonymReplacement):
        _repair_synonym_replacement(change, protected_text)


_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"


def _subclass_edge(change: Change) -> Change:
    """kgcl-schema tells ``create edge X rdfs:subClassOf Y`` (PlaceUnder) from other edges by
    the predicate's text, so ``<…#subClassOf>`` came out as a plain EdgeCreation."""
    if type(change) in (EdgeCreation, EdgeDeletion) and change.predicate == _SUBCLASS_OF:
        cls = PlaceUnder if isinstance(change, EdgeCreation) else RemoveUnder
        fields = {k: v for k, v in vars(change).items() if k != "type" and v is not None}
        return cls(**fields)
    return change


_CHANGE_SYNONYM = re.compile(
    rf"^change\s+(?:(exact|narrow|broad|related)\s+)?synonym\s+'{OPEN}\d+{CLOSE}'"
    r"(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*))?\s+for\s+(\S+)")


def _repair_synonym_replacement(change: SynonymReplacement, protected_text: str) -> None:
    """kgcl-schema drops the scope and language of ``change [scope] synonym`` and reports the
    node as a label whatever it is; read them from the command itself."""
    m = _CHANGE_SYNONYM.match(protected_text)
    if m is None:  # the grammar matched, so this cannot happen; stay safe
        return
    change.qualifier = m.group(1)
    change.language = m.group(2)
    change.about_node_representation = "label" if m.group(3).startswith("'") else "curie"


_CURIE = re.compile(r"^[A-Za-z_][\w.-]*:[^\s'\"<>]*$")


def _check_references(change: Change, text: str, line: int) -> None:
    """kgcl-schema accepts some malformed references (a bare word parses as an id); refuse any
    node reference that is neither a CURIE, an IRI nor a quoted label."""
    for name in ("about_node", "subject", "predicate", "object"):
        value = getattr(change, name, None)
        if not isinstance(value, str) or not value:
            continue
        kind = getattr(change, f"{name}_type", None) or getattr(
            change, f"{name}_representation", None)
        if kind in ("label", "literal"):
            continue
        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        if not (quoted or _CURIE.match(value) or "://" in value or value.startswith("urn:")):
            column = text.find(value) + 1 or len(text) + 1
            raise ChangeRequestError(
                f"line {line}: cannot parse KGCL command: {name} {value!r} is not a CURIE, "
                f"<IRI> or quoted label (quote a label: '{value}') at column {column}: "
                f"{shown(text, column)}{forms_of(read_as(text.split()[:1] + ['?']))}")


def _words(protected: str, prot: _Protected) -> tuple[list[str], list[int]]:
    """The protected command's words and their 1-based columns in the user's text."""
    spans = list(re.finditer(r"\S+", protected))
    return [m.group() for m in spans], [prot.original_column(m.start() + 1) for m in spans]


def _quoting_error(stripped: str, message: str, line: int) -> ChangeRequestError:
    """A quoting or character problem, with a caret, and the form of the command the text
    before it reads as."""
    m = re.search(r"at column (\d+)", message)
    column = int(m.group(1)) if m else len(stripped) + 1
    forms = ""
    try:
        prefix, prot = _protect(stripped[:column - 1])
        forms = forms_of(read_as(_words(prefix, prot)[0]))
    except ValueError:
        pass
    return ChangeRequestError(f"line {line}: cannot parse KGCL command: {message}: "
                              f"{shown(stripped, column)}{forms}")


def parse_command(text: str, *, line: int = 1) -> ParsedChange:
    """Parse one KGCL command; raise ``ChangeRequestError`` naming the line, what was
    expected where, and the command's form when it does not parse."""
    stripped = text.strip()
    try:
        protected, prot = _protect(stripped)
    except ValueError as exc:
        raise _quoting_error(stripped, str(exc), line) from None
    tokens, columns = _words(protected, prot)
    normal = " ".join(tokens)  # the grammar wants single spaces between words
    try:
        change = parse_statement(normal)
    except Exception as exc:  # lark raises several error types; all mean "does not parse"
        column = getattr(exc, "column", None)
        column = _column(normal, columns, column) if isinstance(column, int) else None
        raise ChangeRequestError(f"line {line}: cannot parse KGCL command: "
                                 f"{explain(stripped, tokens, columns, column)}") from None
    try:
        _restore(change, prot, normal)
        change = _subclass_edge(change)
    except ValueError as exc:
        raise ChangeRequestError(f"line {line}: cannot parse KGCL command {stripped!r}: {exc}"
                                 f"{forms_of(read_as(tokens))}") from None
    try:
        _check_references(change, stripped, line)
    except ChangeRequestError:
        if diagnose(tokens) is None:
            raise
        raise ChangeRequestError(f"line {line}: cannot parse KGCL command: "
                                 f"{explain(stripped, tokens, columns, None)}") from None
    return ParsedChange(line=line, text=stripped, change=change)


def _column(normal: str, columns: list[int], column: int) -> int:
    """A 1-based column of the single-spaced protected text as a column of the user's."""
    word = normal[:max(0, column - 1)].count(" ")
    return columns[word] if word < len(columns) else column


def parse_change_request(text: str) -> list[ParsedChange]:
    """Parse every command of a request; raise on the first one that does not parse.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only: a Unicode line separator inside a quoted
    label stays in the label."""
    out = []
    for n, raw in enumerate(re.split(r"\r\n|\n|\r", text), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.append(parse_command(stripped, line=n))
    if not out:
        raise ChangeRequestError("the change request holds no KGCL command")
    return out
