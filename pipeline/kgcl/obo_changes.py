"""What each KGCL change type does to an OBO document: one handler per change type.

A change adds, removes or rewrites exactly the tag lines it names: ``name:``,
``synonym: "x" EXACT []``, ``def:``, ``subset:``, ``is_a:``, ``relationship:``,
``is_obsolete:``, ``replaced_by:``, ``consider:``, ``property_value:``, other OBO-in-OWL tags
(``comment:``, ``xref:``, …) and whole ``[Term]`` stanzas. OBO has no language tags, so a
command that gives one is refused rather than silently dropping it. ``create synonym`` without
a scope writes ``RELATED``, OBO's default. A handler that cannot apply raises ``Rejection``;
the editor (:mod:`pipeline.kgcl.obo_editor`) names the line and undoes the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

from pipeline.kgcl.obo_format import (
    TAG_OF,
    Stanza,
    TagLine,
    eol,
    escape_quoted,
    escape_text,
    read_quoted,
)
from pipeline.kgcl.rejection import reject
from pipeline.kgcl.vocab import OBSOLESCENCE_REASON, SYNONYM_PREDICATES

if TYPE_CHECKING:
    from pipeline.kgcl.obo_editor import OboEditor


def _no_language(*languages: str | None) -> None:
    if any(languages):
        reject("OBO format has no language tags")


def _node(ed: OboEditor, c: Any) -> Stanza:
    return ed.stanza(c.about_node, c.about_node_representation)


def _rename(ed: OboEditor, c: NodeRename) -> None:
    _no_language(c.old_language, c.new_language)
    stanza = _node(ed, c) if c.about_node else ed.by_name(c.old_value)
    found = [(i, tl) for i, tl in stanza.tags("name") if tl.text == c.old_value]
    if not found:
        have = ", ".join(repr(v) for v in stanza.values("name")) or "nothing"
        reject(f"{stanza.id} is named {have}, not {c.old_value!r}")
    if c.new_value == c.old_value:
        reject("the new name is the old one")
    i, tl = found[0]
    ed.replace_span(stanza, i, tl.value_start, tl.value_end, escape_text(c.new_value))


def _new_stanza(ed: OboEditor, c: Any, name: str | None) -> None:
    if c.about_node_representation in ("label", "literal"):
        reject("a new entity needs an id (CURIE or <IRI>), not a label")
    oid = ed.obo_id(c.about_node)
    if ed.doc.get(oid) is not None:
        reject(f"{oid} already exists")
    nl = ed.doc.newline
    lines = [f"[Term]{nl}", f"id: {oid}{nl}"] + ([f"name: {escape_text(name)}{nl}"]
                                                  if name else [])
    stanzas = ed.doc.stanzas
    terms = [k for k, s in enumerate(stanzas) if s.kind == "Term"]
    before = [k for k in terms if (stanzas[k].id or "") < oid]
    at = (before[-1] + 1) if before else (terms[0] if terms else len(stanzas))
    prev = stanzas[at - 1]
    if prev.lines and not eol(prev.lines[-1]):
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
        reject(f"{stanza.id} already has the {scope} synonym {c.new_value!r}")
    ed.insert(stanza, "synonym", f'synonym: "{escape_quoted(c.new_value)}" {scope} []')


def _remove_synonym(ed: OboEditor, c: RemoveSynonym) -> None:
    _no_language(c.language)
    stanza = _node(ed, c)
    found = _synonym_lines(stanza, c.old_value)
    if not found:
        reject(f"{stanza.id} has no synonym {c.old_value!r}")
    for i, _ in reversed(found):
        ed.remove(stanza, i)


def _change_synonym(ed: OboEditor, c: SynonymReplacement) -> None:
    _no_language(c.language)
    stanza = _node(ed, c)
    scope = c.qualifier.upper() if c.qualifier else None
    found = _synonym_lines(stanza, c.old_value, scope)
    if not found:
        reject(f"{stanza.id} has no {(scope or '').lower()} synonym {c.old_value!r}".replace(
            "no  ", "no "))
    if len(found) > 1:
        reject(f"{stanza.id} has {len(found)} synonyms {c.old_value!r}; give the scope")
    if c.new_value == c.old_value:
        reject("the new synonym is the old one")
    i, tl = found[0]
    if _synonym_lines(stanza, c.new_value, tl.scope()):
        reject(f"{stanza.id} already has the synonym {c.new_value!r}")
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
        reject(f"{stanza.id} is already obsolete")
    replacement = None
    if c.has_direct_replacement:
        replacement = ed.stanza(c.has_direct_replacement).id
        if replacement == stanza.id:
            reject("an entity cannot replace itself")
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
        reject(f"{stanza.id} is not obsolete")
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
        reject(f"{stanza.id} is not a direct subclass of {old}")
    if new in (stanza.id, old):
        reject(f"cannot move {stanza.id} under {new}")
    if deeper and old not in ed.ancestors(new):
        reject(f"{new} is not below {old}; use move")
    if not deeper and new not in ed.ancestors(old):
        reject(f"{new} is not above {old}; use move")
    if ed.edge_lines(stanza, "is_a", "", new):
        reject(f"{stanza.id} is already a subclass of {new}")
    if stanza.id in ed.ancestors(new):
        reject(f"{new} is below {stanza.id}: the move would make a cycle")
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
        reject(f"the edge's object {obj} is not the old value {old}")
    if tag not in ("is_a", "relationship") and TAG_OF.get(rel, ("", ""))[1] != "id":
        reject(f"{edge.predicate} edges cannot be moved")
    found = ed.edge_lines(stanza, tag, rel, old)
    if not found:
        reject(f"no edge {stanza.id} {edge.predicate} {old}")
    if ed.edge_lines(stanza, tag, rel, new):
        reject(f"the edge {stanza.id} {edge.predicate} {new} already exists")
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
            reject(f"{tag} is not a relationship between entities")
    if (old_tag, old_rel) == (new_tag, new_rel):
        reject("the new relationship is the old one")
    found = ed.edge_lines(stanza, old_tag, old_rel, obj)
    if not found:
        reject(f"no edge {stanza.id} {c.old_value} {obj}")
    if ed.edge_lines(stanza, new_tag, new_rel, obj):
        reject(f"the edge {stanza.id} {c.new_value} {obj} already exists")
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
            reject(f"{tag} takes an id, not a literal")
        return target or value
    if kind in ("subset", "bool", "synonym"):
        reject(f"use the KGCL command for {tag}, not a generic edge")
    if not literal:
        reject(f"{tag} takes a literal, not an id")
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
        reject(f"{stanza.id} has no {c.annotation_property} value {c.old_value!r}")
    if len(found) > 1:
        reject(f"{stanza.id} has {len(found)} {c.annotation_property} values "
               f"{c.old_value!r}")
    new = c.new_value if new_literal else ed.ref(c.new_value, c.new_value_type)
    if new == old:
        reject("the new value is the old one")
    if _value_lines(ed, stanza, tag, rel, new, new_literal):
        reject(f"{stanza.id} already has that {c.annotation_property} value")
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
        reject(f"{stanza.id} has no definition; use add definition")
    if not found:
        reject(f"the definition of {stanza.id} is not {c.old_value!r}")
    if len(found) > 1:
        reject(f"{stanza.id} has {len(found)} definitions; say which (from '…')")
    i, tl = found[0]
    if tl.text == c.new_value:
        reject("the new definition is the old one")
    start, end = tl.quoted_span() or (tl.value_start, tl.value_end)
    ed.replace_span(stanza, i, start, end, f'"{escape_quoted(c.new_value)}"')


def _add_definition(ed: OboEditor, c: NewTextDefinition) -> None:
    stanza = _node(ed, c)
    if _definition_lines(stanza):
        reject(f"{stanza.id} already has a definition; use change definition")
    ed.insert(stanza, "def", f'def: "{escape_quoted(c.new_value)}" []')


def _remove_definition(ed: OboEditor, c: RemoveTextDefinition) -> None:
    stanza = _node(ed, c)
    defs = _definition_lines(stanza)
    if not defs:
        reject(f"{stanza.id} has no definition")
    for i, _ in reversed(defs):
        ed.remove(stanza, i)


def _add_to_subset(ed: OboEditor, c: AddNodeToSubset) -> None:
    stanza = _node(ed, c)
    name = ed.subset(c.in_subset)
    if name in [v.strip() for v in stanza.values("subset")]:
        reject(f"{stanza.id} is already in subset {name}")
    ed.insert(stanza, "subset", f"subset: {name}")


def _remove_from_subset(ed: OboEditor, c: RemoveNodeFromSubset) -> None:
    stanza = _node(ed, c)
    name = ed.subset(c.in_subset)
    found = [i for i, tl in stanza.tags("subset") if tl.text.strip() == name]
    if not found:
        reject(f"{stanza.id} is not in subset {name}")
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
        reject("is_a takes an id, not a literal")
    if tag == "synonym":
        if not literal:
            reject("a synonym is a literal")
        scope = (SYNONYM_SCOPE_OF.get(rel) or "related").upper()
        if _synonym_lines(stanza, value, scope):
            reject("the edge already exists")
        ed.insert(stanza, "synonym", f'synonym: "{escape_quoted(value)}" {scope} []')
        return
    exists = (ed.edge_lines(stanza, tag, rel, value) if tag == "is_a"
              else _value_lines(ed, stanza, tag, rel, value, literal))
    if exists:
        reject(f"the edge {stanza.id} {c.predicate} {value} already exists")
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
        reject(f"no edge {stanza.id} {c.predicate} {value}")
    for i, _ in reversed(found):
        ed.remove(stanza, i)


SYNONYM_SCOPE_OF = {str(p): q for q, p in SYNONYM_PREDICATES.items()}

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


__all__ = ["HANDLERS", "SYNONYM_SCOPE_OF"]
