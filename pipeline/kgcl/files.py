"""Ontology files for KGCL: which format a file is in, reading it, writing it back.

Formats: ``ttl`` (Turtle), ``nt`` (N-Triples), ``rdfxml`` (RDF/XML) through rdflib, and
``obo`` (OBO 1.4) through :mod:`pipeline.kgcl.obo_format`, which keeps every untouched
line as it was.
Graphs are read with only the core namespaces bound, so a rewritten file declares the prefixes
it declared before and not rdflib's two dozen defaults.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from rdflib import Graph

from pipeline.errors import InputError

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


__all__ = ["FORMATS", "FileFormat", "copy_graph", "guess_format", "load_graph", "normalize_format",
           "parse_graph", "read_text", "serialize_graph", "write_atomically"]
