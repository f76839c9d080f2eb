"""Rendering kgcl-schema change objects back to KGCL text, so that parsing the text gives the
same change again.

kgcl-schema ships a renderer, but it quotes with ``repr`` (a label holding a quote comes out
double-quoted, which the grammar reads as something else), renders ``rename`` without an id as
``rename None from …`` and knows nothing of the scope of ``change synonym``. This one writes
what :mod:`pipeline.kgcl.parser` reads:

- labels in single quotes, literals in double quotes; ``\\``, the quote, newlines, carriage
  returns and tabs escaped with a backslash (only when present, so ordinary labels stay
  readable by any KGCL parser);
- ids as written when they are CURIEs; absolute IRIs as CURIEs when the prefix map knows a
  prefix that expands back to them, else as ``<IRI>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.vocab import PrefixMap, is_iri

#: The 24 change classes the grammar's 21 commands parse to (``create edge``, ``delete edge``
#: and ``obsolete`` each have two), in grammar order.
CHANGE_TYPES: tuple[type[Change], ...] = (
    NodeRename, NodeCreation, ClassCreation, NewSynonym, RemoveSynonym, SynonymReplacement,
    NodeDeletion, NodeObsoletion, NodeObsoletionWithDirectReplacement, NodeUnobsoletion,
    NodeDeepening, NodeShallowing, NodeMove, PredicateChange, NodeAnnotationChange,
    EdgeCreation, PlaceUnder, EdgeDeletion, RemoveUnder, NodeTextDefinitionChange,
    NewTextDefinition, RemoveTextDefinition, AddNodeToSubset, RemoveNodeFromSubset,
)

_ESC = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(text: str, quote: str) -> str:
    if not text:
        raise ChangeRequestError("KGCL cannot express an empty string")
    body = "".join(_ESC.get(c, "\\" + c if c == quote else c) for c in text)
    return quote + body + quote


def quote_label(text: str) -> str:
    """A label (or any single-quoted string of the grammar): ``'text'``."""
    return _quote(text, "'")


def quote_literal(text: str, language: str | None = None, datatype: str | None = None,
                  prefixes: PrefixMap | None = None) -> str:
    """A literal value: ``"text"``, ``"text"@en`` or ``"text"^^xsd:string``."""
    out = _quote(text, '"')
    if language:
        return f"{out}@{language}"
    if datatype:
        return f"{out}^^{render_id(datatype, prefixes)}"
    return out


def render_id(value: str, prefixes: PrefixMap | None = None) -> str:
    """An id: a CURIE as it is; an absolute IRI as a CURIE when possible, else ``<IRI>``."""
    if is_iri(value):
        curie = prefixes.contract(value) if prefixes is not None else None
        return curie if curie is not None else f"<{value}>"
    return value


def render_ref(value: str, representation: str | None = None,
               prefixes: PrefixMap | None = None) -> str:
    """A node reference: a quoted label when it is one, else an id."""
    if representation == "label":
        return quote_label(value)
    if len(value) >= 2 and value[0] == value[-1] == "'":  # a quoted replacement (see parser)
        return quote_label(value[1:-1])
    return render_id(value, prefixes)


def _lang(text: str, language: str | None) -> str:
    return f"{text}@{language}" if language else text


def _value(change: Any, side: str, prefixes: PrefixMap | None) -> str:
    """An annotation value: literal, label-quoted string or id."""
    value = getattr(change, f"{side}_value")
    kind = getattr(change, f"{side}_value_type")
    language = getattr(change, f"{side}_language")
    datatype = getattr(change, f"{side}_datatype")
    if kind == "literal" or language or datatype:
        return quote_literal(value, language, datatype, prefixes)
    return render_ref(value, kind, prefixes)


def _edge_object(change: Any, prefixes: PrefixMap | None) -> str:
    if change.object_type == "literal":
        return quote_literal(change.object, change.language, change.datatype, prefixes)
    return render_ref(change.object, change.object_type, prefixes)


def _scope(qualifier: str | None) -> str:
    return f"{qualifier} " if qualifier else ""


def _node(change: Any, p: PrefixMap | None) -> str:
    return render_ref(change.about_node, change.about_node_representation, p)


_RENDERERS: dict[type[Change], Callable[[Any, PrefixMap | None], str]] = {
    NodeRename: lambda c, p: (
        f"rename {_node(c, p)} from " if c.about_node else "rename ")
    + f"{_lang(quote_label(c.old_value), c.old_language)} to "
    + _lang(quote_label(c.new_value), c.new_language),
    NodeCreation: lambda c, p: f"create node {_node(c, p)} "
    + _lang(quote_label(c.name), c.language),
    ClassCreation: lambda c, p: f"create {_node(c, p)}",
    NewSynonym: lambda c, p: f"create {_scope(c.qualifier)}synonym "
    + f"{_lang(quote_label(c.new_value), c.language)} for {_node(c, p)}",
    RemoveSynonym: lambda c, p: "remove synonym "
    + f"{_lang(quote_label(c.old_value), c.language)} for {_node(c, p)}",
    SynonymReplacement: lambda c, p: f"change {_scope(c.qualifier)}synonym "
    + f"{_lang(quote_label(c.old_value), c.language)} for {_node(c, p)} to "
    + quote_label(c.new_value),
    NodeDeletion: lambda c, p: f"delete {_node(c, p)}",
    NodeObsoletion: lambda c, p: f"obsolete {_node(c, p)}",
    NodeObsoletionWithDirectReplacement: lambda c, p: f"obsolete {_node(c, p)} with "
    + f"replacement {render_ref(c.has_direct_replacement, None, p)}",
    NodeUnobsoletion: lambda c, p: f"unobsolete {_node(c, p)}",
    NodeDeepening: lambda c, p: _hierarchy("deepen", c, p),
    NodeShallowing: lambda c, p: _hierarchy("shallow", c, p),
    NodeMove: lambda c, p: "move "
    + " ".join(render_ref(getattr(c.about_edge, f), getattr(c.about_edge, f"{f}_representation"),
                          p) for f in ("subject", "predicate", "object"))
    + f" from {render_ref(c.old_value, c.old_object_type, p)}"
    + f" to {render_ref(c.new_value, c.new_object_type, p)}",
    PredicateChange: lambda c, p: "change relationship between "
    + f"{render_ref(c.about_edge.subject, c.about_edge.subject_representation, p)} and "
    + f"{render_ref(c.about_edge.object, c.about_edge.object_representation, p)} from "
    + f"{render_ref(c.old_value, c.old_value_type, p)} to "
    + render_ref(c.new_value, c.new_value_type, p),
    NodeAnnotationChange: lambda c, p: f"change annotation of {_node(c, p)} with "
    + f"{render_ref(c.annotation_property, c.annotation_property_type, p)} from "
    + f"{_value(c, 'old', p)} to {_value(c, 'new', p)}",
    EdgeCreation: lambda c, p: f"create edge {_edge(c, p)}",
    PlaceUnder: lambda c, p: f"create edge {_edge(c, p)}",
    EdgeDeletion: lambda c, p: f"delete edge {_edge(c, p)}",
    RemoveUnder: lambda c, p: f"delete edge {_edge(c, p)}",
    NodeTextDefinitionChange: lambda c, p: f"change definition of {_node(c, p)} "
    + (f"from {quote_label(c.old_value)} " if c.old_value else "")
    + f"to {quote_label(c.new_value)}",
    NewTextDefinition: lambda c, p: f"add definition {quote_label(c.new_value)} to {_node(c, p)}",
    RemoveTextDefinition: lambda c, p: f"remove definition for {_node(c, p)}",
    AddNodeToSubset: lambda c, p: f"add {_node(c, p)} to subset {render_id(c.in_subset, p)}",
    RemoveNodeFromSubset: lambda c, p: f"remove {_node(c, p)} from subset "
    + render_id(c.in_subset, p),
}


def _hierarchy(verb: str, c: Any, p: PrefixMap | None) -> str:
    subject = render_ref(c.about_edge.subject, c.about_edge.subject_representation, p)
    return (f"{verb} {subject} from {render_ref(c.old_value, c.old_object_type, p)} to "
            f"{render_ref(c.new_value, c.new_object_type, p)}")


def _edge(c: Any, p: PrefixMap | None) -> str:
    return (f"{render_ref(c.subject, c.subject_type, p)} "
            f"{render_ref(c.predicate, c.predicate_type, p)} {_edge_object(c, p)}")


def render_change(change: Change, *, prefixes: PrefixMap | None = None) -> str:
    """One change as one line of KGCL."""
    renderer = _RENDERERS.get(type(change))
    if renderer is None:
        raise ChangeRequestError(f"cannot render {type(change).__name__} as KGCL")
    return renderer(change, prefixes)


def render_changes(changes: list[Change], *, prefixes: PrefixMap | None = None) -> str:
    """A change request: one command per line."""
    return "".join(render_change(c, prefixes=prefixes) + "\n" for c in changes)


_ID_FIELDS: dict[str, str | None] = {
    # field → the field saying whether it is a label (None: always an id)
    "about_node": "about_node_representation",
    "subject": "subject_type",
    "predicate": "predicate_type",
    "object": "object_type",
    "about_edge.subject": "about_edge.subject_representation",
    "about_edge.predicate": "about_edge.predicate_representation",
    "about_edge.object": "about_edge.object_representation",
    "annotation_property": "annotation_property_type",
    "in_subset": None,
    "has_direct_replacement": None,
    "datatype": None,
    "old_datatype": None,
    "new_datatype": None,
}
_EDGE_VALUE_TYPES = (NodeMove, PredicateChange)


def change_fields(change: Change, prefixes: PrefixMap | None = None) -> dict[str, object]:
    """What a change says, as plain data: every set field but the generated id, the edge's
    fields flattened in, ids expanded to IRIs when ``prefixes`` is given. Two changes with
    equal fields say the same thing (the round-trip property compares these)."""
    out: dict[str, object] = {"type": type(change).__name__}
    items = [(k, v) for k, v in vars(change).items() if k not in ("id", "type", "about_edge")]
    edge = getattr(change, "about_edge", None)
    if edge is not None:
        items += [(f"about_edge.{k}", v) for k, v in vars(edge).items()]
    raw = {k: v for k, v in items if v is not None and v != [] and v != {}}
    id_fields = dict(_ID_FIELDS)
    if isinstance(change, _EDGE_VALUE_TYPES):
        id_fields["old_value"] = ("old_value_type" if isinstance(change, PredicateChange)
                                  else "old_object_type")
        id_fields["new_value"] = ("new_value_type" if isinstance(change, PredicateChange)
                                  else "new_object_type")
    if isinstance(change, NodeAnnotationChange):
        id_fields["old_value"] = "old_value_type"
        id_fields["new_value"] = "new_value_type"
    for key, value in raw.items():
        text = str(value) if isinstance(value, str) else value
        if prefixes is not None and key in id_fields and isinstance(text, str):
            kind_field = id_fields[key]
            kind = raw.get(kind_field) if kind_field else None
            if kind not in ("label", "literal") and not text.startswith("'"):
                text = prefixes.expand(text) or text
        out[key] = text
    return out


__all__ = ["CHANGE_TYPES", "change_fields", "quote_label", "quote_literal", "render_change",
           "render_changes", "render_id", "render_ref"]
