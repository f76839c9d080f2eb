"""Ontology files for KGCL: which format a file is in, reading it, writing it back.

Formats: ``ttl`` (Turtle), ``nt`` (N-Triples), ``rdfxml`` (RDF/XML) through rdflib, and
``obo`` (OBO 1.4) through :mod:`pipeline.kgcl.obo_format`, which keeps every untouched
line as it was.
Graphs are read with only the core namespaces bound, so a rewritten file declares the prefixes
it declared before and not rdflib's two dozen defaults.

A changed RDF file is written back as close to its text as the format allows
(:class:`RdfFile`): Turtle block by block (:mod:`pipeline.kgcl.turtle_layout`), N-Triples line
by line (removed triples' lines dropped, new ones appended in sorted order), RDF/XML whole but
in a stable order with the file's namespace prefixes. Every written text is parsed back and
checked against the changed graph.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rdflib import BNode, Graph
from rdflib.term import Node

from pipeline.errors import InputError
from pipeline.kgcl.rdf_compare import RdfTriple
from pipeline.kgcl.turtle_layout import TurtleLayout, Unsplittable, sorted_turtle
from pipeline.kgcl.turtle_render import Unwritable

FileFormat = Literal["ttl", "nt", "rdfxml", "obo"]
FORMATS: tuple[FileFormat, ...] = ("ttl", "nt", "rdfxml", "obo")

_RDFLIB = {"ttl": "turtle", "nt": "nt", "rdfxml": "xml"}
_SUFFIXES: dict[str, FileFormat] = {
    ".ttl": "ttl", ".turtle": "ttl", ".nt": "nt", ".ntriples": "nt", ".rdf": "rdfxml",
    ".owl": "rdfxml", ".xml": "rdfxml", ".obo": "obo",
}
_ALIASES: dict[str, FileFormat] = {"turtle": "ttl", "ntriples": "nt", "n-triples": "nt",
                                   "xml": "rdfxml", "rdf/xml": "rdfxml", "owl": "rdfxml"}


def normalize_format(name: str) -> FileFormat:
    """A format name as the CLI accepts it (``ttl``, ``nt``, ``rdfxml``, ``obo`` or an alias)."""
    key = name.strip().lower()
    if key in FORMATS:
        return key  # type: ignore[return-value]
    if key in _ALIASES:
        return _ALIASES[key]
    raise InputError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")


def guess_format(path: str | Path) -> FileFormat:
    """The format a file's extension names."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"cannot tell the format of {path} from its extension; give --format "
                         f"({', '.join(FORMATS)})")
    return _SUFFIXES[suffix]


def parse_graph(text: str, fmt: FileFormat) -> Graph:
    graph = Graph(bind_namespaces="core")
    try:
        graph.parse(data=text, format=_RDFLIB[fmt])
    except Exception as exc:  # rdflib's parsers raise many types; all mean "not that format"
        raise InputError(f"cannot parse the input as {fmt}: {exc}") from exc
    return graph


def read_text(path: str | Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def load_graph(path: str | Path, fmt: FileFormat) -> Graph:
    return parse_graph(read_text(path), fmt)


def copy_graph(graph: Graph) -> Graph:
    """A copy with the same prefixes (and the same blank nodes)."""
    out = Graph(bind_namespaces="core")
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=True)
    out += graph
    return out


def serialize_graph(graph: Graph, fmt: FileFormat) -> str:
    return graph.serialize(format=_RDFLIB[fmt])


def _shape(graph: Iterable[RdfTriple]) -> Counter[tuple[Node | None, ...]]:
    """The triples with blank nodes blotted out, counted: equal for two parses of one text."""
    return Counter(tuple(None if isinstance(t, BNode) else t for t in triple)
                   for triple in graph)


@dataclass
class _NtLayout:
    """Each line of an N-Triples file with the triple it states (None: blank or comment), and
    the file's label of each blank node."""

    lines: list[tuple[str, RdfTriple | None]]
    names: dict[Node, str]


def _nt_lines(text: str, graph: Graph, ctx: dict[str, Node]) -> _NtLayout:
    out: list[tuple[str, RdfTriple | None]] = []
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if not body or body.startswith("#"):
            out.append((line, None))
            continue
        part = Graph(bind_namespaces="none")
        part.parse(data=body, format="nt", bnode_context=ctx)  # type: ignore[call-arg]
        triples = list(part)
        if len(triples) != 1 or triples[0] not in graph:
            raise Unsplittable("a line does not state exactly one triple of the file")
        out.append((line, triples[0]))
    return _NtLayout(out, {node: label for label, node in ctx.items()})


@dataclass
class RdfFile:
    """An RDF ontology file read for editing: its text, format and graph."""

    text: str
    fmt: FileFormat
    graph: Graph
    layout: TurtleLayout | _NtLayout | None = None
    note: str | None = None  # why the file cannot be edited in place

    @classmethod
    def read(cls, path: str | Path, fmt: FileFormat) -> RdfFile:
        text = read_text(path)
        if fmt == "nt":
            ctx: dict[str, Node] = {}
            graph = Graph(bind_namespaces="core")
            try:
                graph.parse(data=text, format="nt", bnode_context=ctx)  # type: ignore[call-arg]
            except Exception as exc:  # rdflib's parsers raise many types
                raise InputError(f"cannot parse the input as nt: {exc}") from exc
            try:
                return cls(text, fmt, graph, _nt_lines(text, graph, ctx))
            except Exception as exc:  # noqa: BLE001 - a line that is not one triple
                return cls(text, fmt, graph, None, f"the lines cannot be told apart ({exc})")
        whole = parse_graph(text, fmt)
        if fmt != "ttl":
            return cls(text, fmt, whole)
        try:
            layout = TurtleLayout.split(text, whole)
        except Unsplittable as exc:
            return cls(text, fmt, whole, None, f"the file cannot be split into statements "
                                               f"safely: {exc}")
        return cls(text, fmt, layout.graph, layout)

    def prefixes(self) -> dict[str, str]:
        if isinstance(self.layout, TurtleLayout):
            return self.layout.prefixes
        return {p: str(ns) for p, ns in self.graph.namespaces() if p not in _CORE_ONLY
                or f"{p}:" in self.text}

    def text_after(self, added: Iterable[RdfTriple], removed: Iterable[RdfTriple],
                   fmt: FileFormat | None = None) -> tuple[str, str]:
        """The changed graph (``added`` and ``removed`` already applied) as text in ``fmt``
        (default: the file's), and how it was written, for the user."""
        fmt = fmt or self.fmt
        added, removed = list(added), list(removed)
        if not added and not removed and fmt == self.fmt:
            return self.text, "unchanged, written as it was"
        how = self.note or "kept every untouched statement as it was"
        text: str | None = None
        try:
            if fmt == self.fmt == "ttl" and isinstance(self.layout, TurtleLayout):
                text = self.layout.text_after(added, removed)
            elif fmt == self.fmt == "nt" and isinstance(self.layout, _NtLayout):
                text = _nt_after(self.layout, added, removed)
        except Unwritable as exc:
            how = f"a changed statement cannot be written in place ({exc})"
        if text is None or not self._same(text, fmt):
            if fmt == "rdfxml":
                how = "kept the namespace prefixes; RDF/XML is written whole"
            elif text is not None:
                how = "the statement-by-statement edit did not check out"
            if fmt != "rdfxml":
                how = f"wrote the whole file in a stable sorted order: {how}"
            text = self._sorted(fmt)
        return text, how

    def _same(self, text: str, fmt: FileFormat) -> bool:
        try:
            back = parse_graph(text, fmt)
        except InputError:
            return False
        return len(back) == len(self.graph) and _shape(back) == _shape(self.graph)

    def _sorted(self, fmt: FileFormat) -> str:
        if fmt == "ttl":
            return sorted_turtle(self.graph, self.prefixes())
        triples = _relabelled(self.graph)
        if fmt == "nt":
            return "".join(sorted(_nt_row(t) for t in triples))
        graph = Graph(bind_namespaces="core")
        for prefix, ns in self.prefixes().items():
            graph.bind(prefix, ns, override=True)
        for t in triples:
            graph.add(t)
        return serialize_graph(graph, fmt)


_CORE_ONLY = ("owl", "rdf", "rdfs", "xsd", "xml")


def _relabelled(graph: Graph) -> list[RdfTriple]:
    """The triples in a stable order (sorted with blank nodes blotted out), each blank node
    renamed ``bN`` in order of first use: the same file gives the same text every time."""
    def key(t: RdfTriple) -> tuple[str, ...]:
        return tuple("_:" if isinstance(x, BNode) else x.n3() for x in t)

    names: dict[Node, BNode] = {}
    out: list[RdfTriple] = []
    for triple in sorted(graph, key=key):
        for x in triple:
            if isinstance(x, BNode) and x not in names:
                names[x] = BNode(f"b{len(names)}")
        out.append(tuple(names.get(x, x) for x in triple))  # type: ignore[arg-type]
    return out


def _nt_row(triple: RdfTriple, names: dict[Node, str] | None = None) -> str:
    """One triple as an N-Triples line; blank nodes under their file label (``names``)."""
    graph = Graph(bind_namespaces="none")
    if names is not None:
        triple = tuple(BNode(names[t]) if isinstance(t, BNode) else t  # type: ignore[assignment]
                       for t in triple)
    graph.add(triple)
    return graph.serialize(format="nt")


def _nt_after(layout: _NtLayout, added: list[RdfTriple], removed: list[RdfTriple]) -> str:
    """The file's lines less the removed triples', then the added triples in sorted order;
    a new blank node gets the label ``kgclN`` (N counted past the file's labels)."""
    gone = set(removed)
    kept = [line for line, t in layout.lines if t is None or t not in gone]
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    names = dict(layout.names)
    used = set(names.values())
    blank: dict[Node, str] = {t: "x" for triple in added for t in triple
                              if isinstance(t, BNode)}
    fresh = sorted((b for b in blank if b not in names),
                   key=lambda b: sorted(_nt_row(tr, {**blank, b: "this"})
                                        for tr in added if b in tr))
    n = 0
    for node in fresh:
        while f"kgcl{n}" in used:
            n += 1
        names[node] = f"kgcl{n}"
        used.add(names[node])
    return "".join(kept) + "".join(sorted(_nt_row(t, names) for t in added))


def write_atomically(path: str | Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["FORMATS", "FileFormat", "RdfFile", "copy_graph", "guess_format", "load_graph",
           "normalize_format",
           "parse_graph", "read_text", "serialize_graph", "write_atomically"]
