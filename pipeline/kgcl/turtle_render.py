"""Writing RDF terms and subject blocks as Turtle, deterministically, with a file's own prefixes.

Used by :mod:`pipeline.kgcl.turtle_layout` for the blocks a change request touched and for a
whole file it cannot edit in place. Only the prefixes the file declares are used (an IRI no
prefix covers is written in full, never under an invented ``ns1:``); predicates are written
``rdf:type`` first, then in IRI order, objects in the order of their text, and a blank node
that exactly one triple names is written inline as ``[ … ]`` — the habits of the OWL API's
Turtle writer, so that a rewritten block of such a file differs only in its changed lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.term import Node

_LOCAL = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}


class Unwritable(Exception):
    """A block this writer cannot write in place (a blank node several triples name)."""


def _escape(text: str) -> str:
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


@dataclass
class Style:
    """How a file lays out a subject block: the indent of continuation predicates (``None``:
    aligned after the subject, as the OWL API does) and of a root blank node's lines."""

    indent: str | None = None
    bnode_indent: str = "   "
    bnode_close: str = " "


@dataclass
class TurtleWriter:
    """Terms and blocks of one graph, written with the given prefixes only."""

    graph: Graph
    prefixes: Mapping[str, str]
    style: Style = field(default_factory=Style)
    original: str = ""  # the block's text before the change: its order is kept

    def __post_init__(self) -> None:
        self._by_ns = sorted(((ns, p) for p, ns in self.prefixes.items()),
                             key=lambda t: (-len(t[0]), t[1]))
        self._labels: dict[BNode, str] = {}

    # ------------------------------------------------------------------ terms

    def iri(self, node: URIRef) -> str:
        text = str(node)
        for ns, prefix in self._by_ns:
            if text.startswith(ns) and _LOCAL.match(text[len(ns):]):
                return f"{prefix}:{text[len(ns):]}"
        return f"<{text}>"

    def literal(self, node: Literal) -> str:
        text = str(node)
        if "\n" in text:  # a long string keeps its line breaks, as files write them
            body = '"""' + "\n".join(_escape(part) for part in text.split("\n")) + '"""'
        else:
            body = f'"{_escape(text)}"'
        if node.language:
            return f"{body}@{node.language}"
        if node.datatype is not None:
            return f"{body}^^{self.iri(node.datatype)}"
        return body

    def term(self, node: Node, column: int = 0) -> str:
        if isinstance(node, URIRef):
            return self.iri(node)
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, BNode):
            if self.inline(node):
                return self._inline(node, column)
            return self.label(node)
        raise Unwritable(f"cannot write {node!r} in Turtle")

    def label(self, node: BNode) -> str:
        if node not in self._labels:
            self._labels[node] = f"_:b{len(self._labels)}"
        return self._labels[node]

    @property
    def labelled(self) -> bool:
        """Whether some blank node had to be written with a ``_:`` label."""
        return bool(self._labels)

    def inline(self, node: BNode) -> bool:
        """Whether a blank node is written where the one triple naming it is."""
        return sum(1 for _ in self.graph.triples((None, None, node))) == 1

    # ------------------------------------------------------------------ blocks

    def verb(self, p: Node) -> str:
        return self.term(p) if p != RDF.type or self.iri(RDF.type) != f"<{RDF.type}>" else "a"

    def _plist(self, subject: Node, column: int, indent: str) -> str:
        """``p o , o ; p o`` with the first predicate at ``column``; the next ones start a
        line with ``indent``, further objects of a predicate align under its first."""
        groups: dict[Node, list[Node]] = {}
        for p, o in self.graph.predicate_objects(subject):
            groups.setdefault(p, []).append(o)
        lines: list[str] = []
        verbs = {p: self.verb(p) for p in groups}
        order = sorted(groups, key=lambda p: (self._seen(verbs[p]), p != RDF.type, str(p)))
        for i, p in enumerate(order):
            verb = verbs[p]
            start = column if i == 0 else len(indent)
            at = start + len(verb) + 1
            objects = sorted((self.term(o, at) for o in groups[p]),
                             key=lambda text: (self._seen(text), text))
            lead = "" if i == 0 else indent
            lines.append(f"{lead}{verb} " + f" ,\n{' ' * at}".join(objects))
        return " ;\n".join(lines)

    def _seen(self, text: str) -> int:
        """Where ``text`` first stood in the original block (after everything if nowhere):
        what was there keeps its order, what is new follows in sorted order."""
        m = re.search(rf"(?<![\w:<]){re.escape(text)}(?=[\s,;.\]])", self.original)
        return m.start() if m else len(self.original) + 1

    def _inline(self, node: BNode, column: int) -> str:
        if not any(True for _ in self.graph.predicate_objects(node)):
            return "[]"
        body = self._plist(node, column + 2, " " * (column + 2))
        return f"[ {body}\n{' ' * column}]"

    def block(self, subject: Node) -> str:
        """One subject's statement: ``S p o ; … .`` (or ``[ p o ; … ] .`` for a blank node
        no triple names)."""
        if isinstance(subject, BNode) and not any(
                True for _ in self.graph.triples((None, None, subject))):
            body = self._plist(subject, len(self.style.bnode_indent),
                               self.style.bnode_indent)
            return f"[ {body}\n{self.style.bnode_close}] ."
        head = (self.label(subject) if isinstance(subject, BNode)
                else self.iri(subject))  # type: ignore[arg-type]
        indent = self.style.indent if self.style.indent is not None else " " * (len(head) + 1)
        return f"{head} {self._plist(subject, len(head) + 1, indent)} ."

    def roots(self, subjects: Iterable[Node] | None = None) -> list[Node]:
        """The subjects that get a block of their own, in a stable order: IRIs by IRI, then
        blank nodes by their text."""
        pool = set(self.graph.subjects()) if subjects is None else set(subjects)
        iris = sorted((s for s in pool if not isinstance(s, BNode)), key=str)
        bnodes = [s for s in pool if isinstance(s, BNode) and not self.inline(s)]
        bnodes.sort(key=lambda b: (self.block_key(b), str(b)))
        return iris + bnodes

    def block_key(self, node: BNode) -> str:
        saved = dict(self._labels)
        try:
            return self.block(node)
        finally:
            self._labels = saved


def prefix_lines(prefixes: Mapping[str, str]) -> list[str]:
    return [f"@prefix {p}: <{ns}> ." for p, ns in prefixes.items()]


__all__ = ["Style", "TurtleWriter", "Unwritable", "prefix_lines"]
