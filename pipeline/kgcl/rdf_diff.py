"""Diffing two RDF graphs (OWL ontologies) into KGCL.

Each graph is read into the per-entity view of :mod:`pipeline.kgcl.diff_commands`
(relationships are existential restrictions). The life-cycle commands are applied
tentatively to the old graph, since each does several things at once (``obsolete`` renames,
may add a replacement), and only the entities they touched are seen again; the attribute
commands are the difference between that intermediate and the new graph. Finally the whole
request is applied tentatively to the old graph and the result compared with the new one: what
KGCL cannot say (axiom annotations, complex class expressions) is reported as an error rather
than silently left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import nullcontext

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.diff_commands import (
    EntityView,
    Names,
    Value,
    View,
    attribute_commands,
    lifecycle_commands,
)
from pipeline.kgcl.rdf_compare import equivalent_graphs, iter_triples_nt
from pipeline.kgcl.rdf_editor import GraphEditor, is_true, tentatively
from pipeline.kgcl.rejection import Rejection
from pipeline.kgcl.render import quote_literal, render_id
from pipeline.kgcl.vocab import DEFINITION, IN_SUBSET, SYNONYM_SCOPES, PrefixMap, is_curie


def rdf_view(graph: Graph, subjects: Iterable[URIRef] | None = None) -> View:
    """Every named subject of the graph (or just ``subjects``), seen the way KGCL commands
    see it."""
    editor = GraphEditor(graph)
    extras = _axiom_annotations(graph)
    view: View = defaultdict(EntityView)
    if subjects is None:
        triples: Iterable[tuple] = graph
    else:
        triples = ((s, p, o) for s in subjects for p, o in graph.predicate_objects(s))
    for s, p, o in triples:
        if not isinstance(s, URIRef):
            continue
        ent = view[str(s)]
        if isinstance(o, Literal):
            value = Value(str(o), o.language, str(o.datatype) if o.datatype else None,
                          extras.get((s, p, o), ""))
            if p == RDFS.label:
                ent.labels[value] += 1
            elif p in SYNONYM_SCOPES:
                ent.synonyms[(SYNONYM_SCOPES[p] or "", value)] += 1
            elif p == DEFINITION:
                ent.definitions[value] += 1
            elif p == OWL.deprecated and is_true(o):
                ent.deprecated = True
            else:
                ent.literals[(str(p), value)] += 1
        elif isinstance(o, URIRef):
            if p == RDFS.subClassOf:
                ent.is_a.add(str(o))
            elif p == IN_SUBSET:
                ent.subsets.add(str(o))
            else:
                ent.links.add((str(p), str(o)))
        elif isinstance(o, BNode) and p == RDFS.subClassOf:
            restriction = editor.restriction(o)
            if restriction is not None:
                ent.relations.add((str(restriction[0]), str(restriction[1])))
    return dict(view)


def _touched(graph: Graph, triples: Iterable[tuple]) -> set[URIRef]:
    """The named subjects whose view a set of added or removed triples can change: their
    subjects, and the owners of the blank nodes among them (restrictions, axioms)."""
    out: set[URIRef] = set()
    for s, p, o in triples:
        if isinstance(s, URIRef):
            out.add(s)
        elif p == OWL.annotatedSource and isinstance(o, URIRef):
            out.add(o)
        else:
            out.update(x for x in graph.subjects(None, s) if isinstance(x, URIRef))
    return out


def _updated_view(view: View, graph: Graph, added: Iterable[tuple], removed: Iterable[tuple],
                  removed_from: Graph) -> View:
    """``view`` after a change, recomputing only the entities the change touched."""
    touched = _touched(graph, added) | _touched(removed_from, removed)
    out = {k: v for k, v in view.items() if URIRef(k) not in touched}
    out.update(rdf_view(graph, sorted(touched)))
    return out


_AXIOM_LINKS = frozenset({RDF.type, OWL.annotatedSource, OWL.annotatedProperty,
                          OWL.annotatedTarget})


def _axiom_annotations(graph: Graph) -> dict[tuple, str]:
    """The annotations of each annotated assertion, as one comparable string."""
    out: dict[tuple, list[str]] = defaultdict(list)
    for ax in graph.subjects(RDF.type, OWL.Axiom):
        source = graph.value(ax, OWL.annotatedSource)
        prop = graph.value(ax, OWL.annotatedProperty)
        target = graph.value(ax, OWL.annotatedTarget)
        if source is None or prop is None or target is None:
            continue
        parts = sorted(f"{p.n3()} {o.n3()}" for p, o in graph.predicate_objects(ax)
                       if p not in _AXIOM_LINKS)
        out[(source, prop, target)].append("(" + " ".join(parts) + ")")
    return {k: " ".join(sorted(v)) for k, v in out.items()}


def _rdf_names(graph: Graph, prefixes: PrefixMap) -> Names:
    editor = GraphEditor(graph, prefixes)

    def subset(iri: str) -> str:
        name = iri.replace("#", "/").rsplit("/", 1)[-1]
        try:
            if name and is_curie(f"x:{name}") and str(editor.subset(name)) == iri:
                return name
        except Rejection:
            pass
        return render_id(iri, prefixes)

    def value(v: Value) -> str:
        return quote_literal(v.text, v.language, v.datatype, prefixes)

    return Names(node=lambda k: render_id(k, prefixes), subset=subset, value=value,
                 is_class=lambda e: (str(RDF.type), str(OWL.Class)) in e.links)


def diff_graphs(old: Graph, new: Graph, *, prefixes: PrefixMap | None = None,
                verify: bool = True) -> list[str]:
    """KGCL commands that turn ``old`` into ``new``. Neither is changed when this returns
    (``old`` is changed and put back while the diff looks at intermediate states)."""
    prefixes = prefixes or PrefixMap.for_graph(old)
    old_view, new_view = rdf_view(old), rdf_view(new)
    lifecycle = lifecycle_commands(old_view, new_view, _rdf_names(old, prefixes))
    if lifecycle:
        with tentatively(old, "\n".join(lifecycle), prefixes=prefixes) as delta:
            removed_graph = Graph()
            for triple in delta.removed:
                removed_graph.add(triple)
            mid_view = _updated_view(old_view, old, delta.added, delta.removed, removed_graph)
            names = _rdf_names(old, prefixes)
    else:
        mid_view, names = old_view, _rdf_names(old, prefixes)
    commands = lifecycle + attribute_commands(mid_view, new_view, names)
    if verify:
        _verify_graph(old, new, commands, prefixes)
    return commands


def _verify_graph(old: Graph, new: Graph, commands: list[str], prefixes: PrefixMap) -> None:
    try:
        with tentatively(old, "\n".join(commands) or "# none", prefixes=prefixes) \
                if commands else nullcontext():
            if equivalent_graphs(old, new):
                return
            missing = list(iter_triples_nt(set(new) - set(old)))
            extra = list(iter_triples_nt(set(old) - set(new)))
    except ChangeRequestError as exc:
        raise ChangeRequestError(f"the differences cannot all be written in KGCL: the diff "
                                 f"does not apply to the old version ({exc})") from exc
    raise ChangeRequestError(
        "the differences cannot all be written in KGCL (axiom annotations, complex class "
        f"expressions, plain vs typed strings): {len(missing)} triple(s) not reproduced, e.g. "
        f"{missing[:3]}; {len(extra)} extra, e.g. {extra[:3]}")


__all__ = ["diff_graphs", "rdf_view"]
