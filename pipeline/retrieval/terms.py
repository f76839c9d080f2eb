"""The ontology's terms in a retrieval filter: ``predicate == "located in"`` as the user reads it.

The knowledge-graph index keeps a predicate or a class by its local name (``locatedIn``,
``City``), while everything VeriKG prints shows labels. ``resolve_terms`` maps each string a
filter compares with ``predicate`` or ``type`` to the local name the index holds, accepting
the local name itself, the full IRI, the ontology's label or the humanised local name (both
case-insensitive). A value that names nothing is refused as clearly as an unknown column:
``no predicate named 'locatd in'; predicates: …; did you mean 'located in'?``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import InputError
from pipeline.index.kg_index import KGIndex
from pipeline.index.kg_rows import humanise
from pipeline.index.where import WhereExpr, map_values
from pipeline.models import Ontology, local_name

#: the columns whose values are ontology terms
TERM_COLUMNS = frozenset({"predicate", "type"})
_LISTED = 25


@dataclass
class _Terms:
    """The names one column's values go by: local name → the name shown to users."""

    shown: dict[str, str] = field(default_factory=dict)
    iris: dict[str, str] = field(default_factory=dict)

    def add(self, local: str, label: str = "", iri: str = "") -> None:
        if not local:
            return
        self.shown.setdefault(local, label or humanise(local))
        if iri:
            self.iris[iri] = local

    def find(self, value: str) -> str | None:
        if value in self.shown:
            return value
        if value in self.iris:
            return self.iris[value]
        folded = value.strip().casefold()
        for local, shown in self.shown.items():
            if folded in (local.casefold(), shown.casefold(), humanise(local).casefold()):
                return local
        if "://" in value or value.startswith("urn:"):
            tail = local_name(value)
            return tail if tail in self.shown else None
        return None


def _from_ontology(column: str, ontology: Ontology | None) -> _Terms:
    terms = _Terms()
    if ontology is None:
        return terms
    if column == "predicate":
        for p in ontology.properties:
            terms.add(local_name(p.iri), p.label, p.iri)
    else:
        for c in ontology.classes:
            terms.add(local_name(c.iri), c.label, c.iri)
    return terms


def _from_index(column: str, index: KGIndex, terms: _Terms) -> None:
    """Add the values ``index`` holds in ``column`` (terms not in the ontology: a store built
    under an earlier version of it)."""
    if index.vectors is None or column not in index.vectors.column_names:
        return
    for value in np.unique(index.vectors.column(column)).tolist():
        terms.add(str(value))


def resolve_terms(expr: WhereExpr, ontology: Ontology | None, index: KGIndex) -> WhereExpr:
    """``expr`` with every ``predicate``/``type`` value as the local name the index holds;
    ``InputError`` for a value that names no term of the ontology or the index."""
    if not expr.columns & TERM_COLUMNS:
        return expr
    known: dict[str, _Terms] = {}
    scanned: set[str] = set()

    def resolve(column: str, value: str) -> str:
        if column == "predicate" and value == "":
            return value  # entities' rows: no predicate
        terms = known.setdefault(column, _from_ontology(column, ontology))
        found = terms.find(value)
        if found is None and column not in scanned:
            scanned.add(column)
            _from_index(column, index, terms)
            found = terms.find(value)
        if found is not None:
            return found
        if not terms.shown:
            return value  # nothing to check against (an empty index, no ontology)
        names = sorted(set(terms.shown.values()), key=str.casefold)
        listed = ", ".join(names[:_LISTED]) + (f", … ({len(names)} in all)"
                                              if len(names) > _LISTED else "")
        near = difflib.get_close_matches(value.casefold(),
                                         [n.casefold() for n in names], n=1, cutoff=0.6)
        hint = ""
        if near:
            hint = "; did you mean " + repr(next(n for n in names if n.casefold() == near[0])) \
                + "?"
        raise InputError(f"no {column} named {value!r} in filter {expr.source!r}; "
                         f"{'predicates' if column == 'predicate' else 'types'}: {listed}{hint}")

    return map_values(expr, TERM_COLUMNS, resolve)


__all__ = ["TERM_COLUMNS", "resolve_terms"]
