"""What each KGCL change type does to an RDF graph: one handler per change type.

Each command changes exactly what it names and nothing else (kgcl-rdflib, the reference
implementation, obsoletes by touching hundreds of other classes, deletes an existential
restriction by removing every triple of every anonymous class, and changes the relationship of
a restriction by adding the new one beside the old). The conventions:

- labels are ``rdfs:label``; definitions ``IAO:0000115``; synonyms ``oboInOwl:hasExactSynonym``
  / ``hasBroadSynonym`` / ``hasNarrowSynonym`` / ``hasRelatedSynonym`` (``hasSynonym`` without a
  scope); subsets ``oboInOwl:inSubset``;
- ``obsolete X`` adds ``owl:deprecated true``, prefixes the labels with ``obsolete `` and, with a
  replacement, adds ``IAO:0100001`` (replaced by). It also makes X a subclass of
  ``oboInOwl:ObsoleteClass`` when that is the graph's convention: when its other obsolete
  classes are, or when it has none (the KGCL reference examples expect it). It keeps X's
  edges (dropping them is a separate, visible change). ``unobsolete`` undoes all of that and
  drops what only an obsolete class may carry: ``oboInOwl:consider`` and ``IAO:0000231``
  (obsolescence reason);
- an edge ``X rdfs:subClassOf Y`` is that triple; an edge ``X P Y`` between classes, with P an
  object property, is the existential restriction ``X ⊑ P some Y`` (an anonymous
  ``owl:Restriction``); with P an annotation or datatype property, an RDF/RDFS/OWL/oboInOwl
  property, or X not a class, it is the plain triple. ``change relationship`` on a restriction
  changes its ``owl:onProperty`` in place; ``move`` changes its ``owl:someValuesFrom``;
- a value that is replaced (rename, change synonym / definition / annotation) keeps its
  language or datatype unless the command gives one; its axiom annotations (``owl:Axiom`` with
  ``owl:annotatedSource`` …: the xrefs of a definition, say) follow it; a value that is
  removed takes its axiom annotations with it;
- a new string value follows the graph's habit for that property (``xsd:string`` or plain).

Adding what is already there or removing what is not is a rejection (``Rejection``), as is
anything else that cannot apply: a command that would change nothing is a mistake in the
request, not a success. The editor (:mod:`pipeline.kgcl.rdf_editor`) names the line and rolls
the request back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

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
from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef
from rdflib.term import Node

from pipeline.kgcl.rejection import reject
from pipeline.kgcl.vocab import (
    CONSIDER,
    DEFINITION,
    IN_SUBSET,
    OBSOLESCENCE_REASON,
    OBSOLETE_CLASS,
    REPLACED_BY,
    SYNONYM_PREDICATES,
)

if TYPE_CHECKING:
    from pipeline.kgcl.rdf_editor import GraphEditor


_OBSOLETE_PREFIX = "obsolete "


def _matches(value: Node, text: str, language: str | None) -> TypeGuard[Literal]:
    """A literal with this text (and this language, when one is asked for)."""
    return (isinstance(value, Literal) and str(value) == text
            and (language is None or value.language == language))


def _rename(ed: GraphEditor, c: NodeRename) -> None:
    node = (ed.existing(c.about_node, c.about_node_representation) if c.about_node
            else ed.by_label(c.old_value))
    labels = list(ed.graph.objects(node, RDFS.label))
    found = [o for o in labels if _matches(o, c.old_value, c.old_language)]
    if not found:
        have = ", ".join(repr(str(o)) for o in labels) or "nothing"
        reject(f"{ed.show(node)} is labelled {have}, not {c.old_value!r}")
    if len(found) > 1:
        reject(f"{ed.show(node)} has {len(found)} labels {c.old_value!r}; give the language")
    old = found[0]
    new = ed.replacement_literal(old, c.new_value, c.new_language)
    if new == old:
        reject("the new label is the old one")
    ed.replace_object(node, RDFS.label, old, new)


def _create_node(ed: GraphEditor, c: NodeCreation) -> None:
    node = ed.new_id(c.about_node, c.about_node_representation)
    ed.add(node, RDFS.label, ed.new_literal(c.name, RDFS.label, c.language))


def _create_class(ed: GraphEditor, c: ClassCreation) -> None:
    node = ed.new_id(c.about_node, c.about_node_representation)
    ed.add(node, RDF.type, OWL.Class)


def _synonyms(ed: GraphEditor, node: Node, text: str, language: str | None,
              qualifier: str | None = None, any_scope: bool = True) -> list[tuple[URIRef, Node]]:
    preds = ([SYNONYM_PREDICATES[qualifier]] if qualifier or not any_scope
             else list(SYNONYM_PREDICATES.values()))
    return [(p, o) for p in preds for o in ed.graph.objects(node, p) if _matches(o, text, language)]


def _new_synonym(ed: GraphEditor, c: NewSynonym) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    pred = SYNONYM_PREDICATES[c.qualifier]
    if any(isinstance(o, Literal) and o.language == c.language
           for _, o in _synonyms(ed, node, c.new_value, c.language, c.qualifier,
                                 any_scope=False)):
        reject(f"{ed.show(node)} already has this synonym")
    ed.add(node, pred, ed.new_literal(c.new_value, pred, c.language))


def _remove_synonym(ed: GraphEditor, c: RemoveSynonym) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    found = _synonyms(ed, node, c.old_value, c.language)
    if not found:
        reject(f"{ed.show(node)} has no synonym {c.old_value!r}")
    for p, o in found:
        ed.remove_assertion(node, p, o)


def _change_synonym(ed: GraphEditor, c: SynonymReplacement) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    found = _synonyms(ed, node, c.old_value, c.language, c.qualifier)
    scope = f"{c.qualifier} " if c.qualifier else ""
    if not found:
        reject(f"{ed.show(node)} has no {scope}synonym {c.old_value!r}")
    if len(found) > 1:
        reject(f"{ed.show(node)} has {len(found)} synonyms {c.old_value!r}; give the scope "
               "or language")
    p, old = found[0]
    new = ed.replacement_literal(old, c.new_value)
    if new == old:
        reject("the new synonym is the old one")
    if (node, p, new) in ed.graph:
        reject(f"{ed.show(node)} already has the synonym {c.new_value!r}")
    ed.replace_object(node, p, old, new)


def _delete_node(ed: GraphEditor, c: NodeDeletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    for ax in list(ed.graph.subjects(OWL.annotatedSource, node)):
        ed.remove_tree(ax)
    for s, p, o in list(ed.graph.triples((node, None, None))):
        ed.journal.remove((s, p, o))
        if isinstance(o, BNode) and not ed.referenced(o):
            ed.remove_tree(o)


def _obsolete(ed: GraphEditor, c: NodeObsoletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if ed.is_obsolete(node):
        reject(f"{ed.show(node)} is already obsolete")
    replacement = None
    if c.has_direct_replacement:
        replacement = ed.existing(c.has_direct_replacement)
        if replacement == node:
            reject("an entity cannot replace itself")
    if ed.obsolete_class_convention(node):
        ed.add(node, RDFS.subClassOf, OBSOLETE_CLASS)
    ed.add(node, OWL.deprecated, Literal(True))
    for label in list(ed.graph.objects(node, RDFS.label)):
        if isinstance(label, Literal) and not str(label).startswith(_OBSOLETE_PREFIX):
            ed.replace_object(node, RDFS.label, label,
                              ed.replacement_literal(label, _OBSOLETE_PREFIX + str(label)))
    if replacement is not None:
        ed.add(node, REPLACED_BY, replacement)


def _unobsolete(ed: GraphEditor, c: NodeUnobsoletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if not ed.is_obsolete(node):
        reject(f"{ed.show(node)} is not obsolete")
    for p in (OWL.deprecated, REPLACED_BY, CONSIDER, OBSOLESCENCE_REASON):
        for o in list(ed.graph.objects(node, p)):
            ed.remove_assertion(node, p, o)
    if (node, RDFS.subClassOf, OBSOLETE_CLASS) in ed.graph:
        ed.remove_assertion(node, RDFS.subClassOf, OBSOLETE_CLASS)
    for label in list(ed.graph.objects(node, RDFS.label)):
        text = str(label)
        if isinstance(label, Literal) and text.startswith(_OBSOLETE_PREFIX) and len(text) > 9:
            ed.replace_object(node, RDFS.label, label,
                              ed.replacement_literal(label, text[len(_OBSOLETE_PREFIX):]))


def _hierarchy(ed: GraphEditor, c: NodeDeepening | NodeShallowing, deeper: bool) -> None:
    edge = c.about_edge
    node = ed.existing(edge.subject, edge.subject_representation)
    old = ed.resolve(c.old_value, c.old_object_type)
    new = ed.resolve(c.new_value, c.new_object_type)
    if (node, RDFS.subClassOf, old) not in ed.graph:
        reject(f"{ed.show(node)} is not a direct subclass of {ed.show(old)}")
    if new in (node, old):
        reject(f"cannot move {ed.show(node)} under {ed.show(new)}")
    if deeper and old not in ed.ancestors(new):
        reject(f"{ed.show(new)} is not below {ed.show(old)}; use move")
    if not deeper and new not in ed.ancestors(old):
        reject(f"{ed.show(new)} is not above {ed.show(old)}; use move")
    if (node, RDFS.subClassOf, new) in ed.graph:
        reject(f"{ed.show(node)} is already a subclass of {ed.show(new)}")
    if node in ed.ancestors(new):
        reject(f"{ed.show(new)} is below {ed.show(node)}: the move would make a cycle")
    ed.replace_object(node, RDFS.subClassOf, old, new)


def _move(ed: GraphEditor, c: NodeMove) -> None:
    edge = c.about_edge
    node = ed.resolve(edge.subject, edge.subject_representation)
    pred = ed.resolve(edge.predicate, edge.predicate_representation)
    obj = ed.resolve(edge.object, edge.object_representation)
    old = ed.resolve(c.old_value, c.old_object_type)
    new = ed.resolve(c.new_value, c.new_object_type)
    if obj != old:
        reject(f"the edge's object {ed.show(obj)} is not the old value {ed.show(old)}")
    forms = ed.edge_forms(node, pred, old)
    if not forms:
        reject(f"no edge {ed.show(node)} {ed.show(pred)} {ed.show(old)}")
    if ed.edge_forms(node, pred, new):
        reject(f"the edge {ed.show(node)} {ed.show(pred)} {ed.show(new)} already exists")
    for b in forms:
        if b is None:
            ed.replace_object(node, pred, old, new)
        else:
            ed.journal.remove((b, OWL.someValuesFrom, old))
            ed.journal.add((b, OWL.someValuesFrom, new))


def _change_relationship(ed: GraphEditor, c: PredicateChange) -> None:
    edge = c.about_edge
    node = ed.resolve(edge.subject, edge.subject_representation)
    obj = ed.resolve(edge.object, edge.object_representation)
    old = ed.resolve(c.old_value, c.old_value_type)
    new = ed.resolve(c.new_value, c.new_value_type)
    if old == new:
        reject("the new relationship is the old one")
    forms = ed.edge_forms(node, old, obj)
    if not forms:
        reject(f"no edge {ed.show(node)} {ed.show(old)} {ed.show(obj)}")
    if ed.edge_forms(node, new, obj):
        reject(f"the edge {ed.show(node)} {ed.show(new)} {ed.show(obj)} already exists")
    for b in forms:
        if b is not None:  # a restriction
            if ed.is_direct(new, node):
                ed.remove_restriction(node, b)
                ed.add(node, new, obj)
            else:
                ed.journal.remove((b, OWL.onProperty, old))
                ed.journal.add((b, OWL.onProperty, new))
        elif old == RDFS.subClassOf and not ed.is_direct(new, node):
            ed.remove_assertion(node, old, obj)
            ed.create_edge(node, new, obj)
        else:
            ed.replace_predicate(node, old, new, obj)


def _annotation_value(ed: GraphEditor, c: NodeAnnotationChange, node: Node,
                      pred: Node) -> Node:
    g = ed.graph
    is_literal = (c.old_value_type in ("label", "literal") or c.old_language is not None
                  or c.old_datatype is not None)
    found: list[Node]
    if is_literal:
        dt = ed.iri(c.old_datatype) if c.old_datatype else None
        found = [o for o in g.objects(node, pred) if _matches(o, c.old_value, c.old_language)
                 and (dt is None or o.datatype == dt)]
        if not found and c.old_value_type == "label":
            entity = ed.by_label(c.old_value)
            found = [entity] if (node, pred, entity) in g else []
    else:
        entity = ed.resolve(c.old_value, c.old_value_type)
        found = [entity] if (node, pred, entity) in g else []
    if not found:
        reject(f"{ed.show(node)} has no {ed.show(pred)} value {c.old_value!r}")
    if len(found) > 1:
        reject(f"{ed.show(node)} has {len(found)} {ed.show(pred)} values {c.old_value!r}; "
               "give the language or datatype")
    return found[0]


def _change_annotation(ed: GraphEditor, c: NodeAnnotationChange) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    pred = ed.resolve(c.annotation_property, c.annotation_property_type)
    old = _annotation_value(ed, c, node, pred)
    new: Node
    if c.new_value_type == "literal" or c.new_language or c.new_datatype or (
            c.new_value_type == "label" and isinstance(old, Literal)):
        dt = ed.iri(c.new_datatype) if c.new_datatype else None
        if isinstance(old, Literal):
            new = ed.replacement_literal(old, c.new_value, c.new_language, dt)
        else:
            new = ed.new_literal(c.new_value, pred, c.new_language, c.new_datatype)
    else:
        new = ed.resolve(c.new_value, c.new_value_type)
    if new == old:
        reject("the new value is the old one")
    if (node, pred, new) in ed.graph:
        reject(f"{ed.show(node)} already has that {ed.show(pred)} value")
    ed.replace_object(node, pred, old, new)


def _definitions(ed: GraphEditor, node: Node) -> list[Node]:
    return [o for o in ed.graph.objects(node, DEFINITION) if isinstance(o, Literal)]


def _change_definition(ed: GraphEditor, c: NodeTextDefinitionChange) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    defs = _definitions(ed, node)
    found = [d for d in defs if _matches(d, c.old_value, None)] if c.old_value else defs
    if not defs:
        reject(f"{ed.show(node)} has no definition; use add definition")
    if not found:
        reject(f"the definition of {ed.show(node)} is not {c.old_value!r}")
    if len(found) > 1:
        reject(f"{ed.show(node)} has {len(found)} definitions; say which (from '…')")
    new = ed.replacement_literal(found[0], c.new_value)
    if new == found[0]:
        reject("the new definition is the old one")
    ed.replace_object(node, DEFINITION, found[0], new)


def _add_definition(ed: GraphEditor, c: NewTextDefinition) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if _definitions(ed, node):
        reject(f"{ed.show(node)} already has a definition; use change definition")
    ed.add(node, DEFINITION, ed.new_literal(c.new_value, DEFINITION))


def _remove_definition(ed: GraphEditor, c: RemoveTextDefinition) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    defs = _definitions(ed, node)
    if not defs:
        reject(f"{ed.show(node)} has no definition")
    for d in defs:
        ed.remove_assertion(node, DEFINITION, d)


def _add_to_subset(ed: GraphEditor, c: AddNodeToSubset) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    subset = ed.subset(c.in_subset)
    if (node, IN_SUBSET, subset) in ed.graph:
        reject(f"{ed.show(node)} is already in subset {c.in_subset}")
    ed.add(node, IN_SUBSET, subset)


def _remove_from_subset(ed: GraphEditor, c: RemoveNodeFromSubset) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    subset = ed.subset(c.in_subset)
    if (node, IN_SUBSET, subset) not in ed.graph:
        reject(f"{ed.show(node)} is not in subset {c.in_subset}")
    ed.remove_assertion(node, IN_SUBSET, subset)


def _edge_literal(ed: GraphEditor, c: EdgeCreation | EdgeDeletion, pred: URIRef) -> Literal:
    return ed.new_literal(c.object, pred, c.language, c.datatype)


def _create_edge(ed: GraphEditor, c: EdgeCreation) -> None:
    subj = ed.resolve(c.subject, c.subject_type)
    pred = ed.resolve(c.predicate, c.predicate_type)
    if c.object_type == "literal":
        lit = _edge_literal(ed, c, pred)
        if (subj, pred, lit) in ed.graph:
            reject("the edge already exists")
        ed.add(subj, pred, lit)
        return
    obj = ed.resolve(c.object, c.object_type)
    if ed.edge_forms(subj, pred, obj):
        reject(f"the edge {ed.show(subj)} {ed.show(pred)} {ed.show(obj)} already exists")
    ed.create_edge(subj, pred, obj)


def _delete_edge(ed: GraphEditor, c: EdgeDeletion) -> None:
    subj = ed.resolve(c.subject, c.subject_type)
    pred = ed.resolve(c.predicate, c.predicate_type)
    if c.object_type == "literal":
        dt = ed.iri(c.datatype) if c.datatype else None
        found = [o for o in ed.graph.objects(subj, pred)
                 if _matches(o, c.object, c.language) and (c.language or not o.language)
                 and (dt is None or o.datatype == dt)]
        if not found:
            reject(f'no edge {ed.show(subj)} {ed.show(pred)} "{c.object}"')
        for o in found:
            ed.remove_assertion(subj, pred, o)
        return
    obj = ed.resolve(c.object, c.object_type)
    forms = ed.edge_forms(subj, pred, obj)
    if not forms:
        reject(f"no edge {ed.show(subj)} {ed.show(pred)} {ed.show(obj)}")
    for b in forms:
        if b is None:
            ed.remove_assertion(subj, pred, obj)
        else:
            ed.remove_restriction(subj, b)


#: the handler of each KGCL change type (an editor and the change)
HANDLERS: dict[type[Change], Any] = {
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


__all__ = ["HANDLERS"]
