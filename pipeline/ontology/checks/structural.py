"""The structural checks: what the RDF graph of an ontology shows without a reasoner.

Each check reads the ``Vocabulary`` (``terms.py``) and returns findings: properties without a
domain or range, terms used but not declared, subclass cycles, orphan classes (when roots are
declared), one IRI used both as a class and as an individual, islands of the schema, and
duplicate labels. ``note_findings`` turns the quirks a loader read (``quirks.py``) into
warnings with the note's code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from rdflib import OWL, RDF, RDFS, URIRef

from pipeline.models import OntologyNote, normalize_label
from pipeline.ontology.checks.issues import (
    OntologyIssue,
    OntologyIssueCode,
    Severity,
    issue,
    label_or_name,
    short,
)
from pipeline.ontology.terms import (
    Use,
    Vocabulary,
    class_expression_uses,
    is_annotation_vocabulary,
    is_builtin,
    named_superclasses,
)

C = OntologyIssueCode


def _property_closure(vocab: Vocabulary, prop: URIRef) -> set[URIRef]:
    """``prop``, its super-properties and the properties equivalent to any of them."""
    g = vocab.graph
    seen: set[URIRef] = set()
    todo = [prop]
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        todo.extend(o for o in g.objects(cur, RDFS.subPropertyOf) if isinstance(o, URIRef))
        todo.extend(o for o in g.objects(cur, OWL.equivalentProperty) if isinstance(o, URIRef))
        todo.extend(s for s in g.subjects(OWL.equivalentProperty, cur) if isinstance(s, URIRef))
    return seen


def _inverses(vocab: Vocabulary, prop: URIRef) -> set[URIRef]:
    g = vocab.graph
    return ({o for o in g.objects(prop, OWL.inverseOf) if isinstance(o, URIRef)}
            | {s for s in g.subjects(OWL.inverseOf, prop) if isinstance(s, URIRef)})


def _has_effective(vocab: Vocabulary, prop: URIRef, pred: URIRef) -> bool:
    g = vocab.graph
    opposite = RDFS.range if pred == RDFS.domain else RDFS.domain
    for q in _property_closure(vocab, prop):
        if (q, pred, None) in g:
            return True
        for inverse in _inverses(vocab, q):
            if any((r, opposite, None) in g for r in _property_closure(vocab, inverse)):
                return True
    return False


def check_domains_and_ranges(vocab: Vocabulary) -> list[OntologyIssue]:
    issues: list[OntologyIssue] = []
    for prop in sorted(vocab.object_properties | vocab.datatype_properties):
        if is_builtin(prop) or prop in vocab.deprecated:
            continue
        kind = "object" if prop in vocab.object_properties else "datatype"
        name = label_or_name(vocab, prop)
        if not _has_effective(vocab, prop, RDFS.domain):
            issues.append(issue(C.MISSING_DOMAIN, [prop],
                                f"{kind} property '{name}' has no rdfs:domain"))
        if not _has_effective(vocab, prop, RDFS.range):
            issues.append(issue(C.MISSING_RANGE, [prop],
                                f"{kind} property '{name}' has no rdfs:range"))
    return issues


_ROLE_WORDS = {"class": "a class", "property": "a property", "datatype": "a datatype",
               "individual": "an individual", "predicate": "a predicate"}


def _declared_for(vocab: Vocabulary, use: Use) -> bool:
    iri = use.iri
    if is_builtin(iri):
        return True
    if use.role == "class":
        # an individual in a class position is a conflation, reported as such
        return iri in vocab.classes or iri in vocab.individuals
    if use.role == "property":
        return iri in vocab.properties
    if use.role == "datatype":
        return vocab.is_datatype(iri)
    if use.role == "individual":
        return vocab.defines(iri)
    return iri in vocab.properties or is_annotation_vocabulary(iri)


def _read_as_datatype(use: Use, datatype_ranges: Collection[tuple[str, str]]) -> bool:
    """Whether ``use`` is a property's range that the loader reads as a datatype."""
    return (use.via == RDFS.range and use.owner is not None
            and (str(use.owner), str(use.iri)) in datatype_ranges)


def check_undeclared(vocab: Vocabulary, all_uses: Sequence[Use],
                     datatype_ranges: Collection[tuple[str, str]] = frozenset()
                     ) -> list[OntologyIssue]:
    """``datatype_ranges``: (property, range) pairs the loader reads as datatypes (a term named
    like a datatype, reported as ``datatype-like-range``): not undeclared classes there."""
    groups: dict[tuple[URIRef, str], set[URIRef]] = defaultdict(set)
    vias: dict[tuple[URIRef, str], set[str]] = defaultdict(set)
    for use in all_uses:
        if _declared_for(vocab, use) or _read_as_datatype(use, datatype_ranges):
            continue
        key = (use.iri, use.role)
        if use.owner is not None and use.owner != use.iri:
            groups[key].add(use.owner)
        else:
            groups.setdefault(key, set())
        vias[key].add(short(use.via))
    issues: list[OntologyIssue] = []
    for (iri, role), owners in sorted(groups.items()):
        severity: Severity = "warning" if role in ("predicate", "individual") else "error"
        what = ("declared as something else" if vocab.defines(iri) else "not declared")
        by = f" by {', '.join(sorted(short(o) for o in owners)[:5])}" if owners else ""
        more = f" and {len(owners) - 5} more" if len(owners) > 5 else ""
        issues.append(issue(C.UNDECLARED_TERM, [iri, *sorted(owners)],
                            f"'{short(iri)}' is used as {_ROLE_WORDS[role]} "
                            f"({', '.join(sorted(vias[(iri, role)]))}){by}{more} but is "
                            f"{what}", severity))
    for root in sorted(vocab.roots - vocab.classes):
        issues.append(issue(C.UNDECLARED_TERM, [root], f"declared root '{short(root)}' is not "
                            "a declared class"))
    return issues


def _strongly_connected(nodes: Iterable[URIRef], edges: dict[URIRef, set[URIRef]]
                        ) -> list[list[URIRef]]:
    """Tarjan's algorithm, iterative (hierarchies can be deeper than Python's stack)."""
    index: dict[URIRef, int] = {}
    low: dict[URIRef, int] = {}
    on_stack: set[URIRef] = set()
    stack: list[URIRef] = []
    out: list[list[URIRef]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work: list[tuple[URIRef, list[URIRef]]] = [(start, sorted(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[URIRef] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                out.append(sorted(component))
    return out


def check_subclass_cycles(vocab: Vocabulary) -> list[OntologyIssue]:
    edges: dict[URIRef, set[URIRef]] = defaultdict(set)
    for s, o in vocab.graph.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and OWL.Thing not in (s, o):
            edges[s].add(o)
    nodes = set(edges) | {o for targets in edges.values() for o in targets}
    issues = []
    for comp in _strongly_connected(nodes, edges):
        if len(comp) > 1 or comp[0] in edges.get(comp[0], ()):
            names = " ⊑ ".join(short(c) for c in [*comp, comp[0]])
            issues.append(issue(C.SUBCLASS_CYCLE, comp,
                                f"rdfs:subClassOf cycle: {names} (use owl:equivalentClass "
                                "if the classes are meant to be the same)"))
    return sorted(issues, key=lambda i: i.iris)


def check_orphans(vocab: Vocabulary) -> list[OntologyIssue]:
    if not vocab.roots:
        return []
    return [issue(C.ORPHAN_CLASS, [cls], f"class '{label_or_name(vocab, cls)}' has no "
                  "superclass and is not a declared root")
            for cls in sorted(vocab.classes - vocab.roots - vocab.deprecated)
            if not named_superclasses(vocab, cls)]


def check_conflation(vocab: Vocabulary, all_uses: Sequence[Use]) -> list[OntologyIssue]:
    as_class: dict[URIRef, set[URIRef]] = defaultdict(set)
    as_individual: dict[URIRef, set[URIRef]] = defaultdict(set)
    for use in all_uses:
        if use.role not in ("class", "individual"):
            continue
        target = as_class if use.role == "class" else as_individual
        target[use.iri].update({use.owner} if use.owner not in (None, use.iri) else set())
    reasons: dict[URIRef, list[str]] = defaultdict(list)
    related: dict[URIRef, set[URIRef]] = defaultdict(set)
    for iri in vocab.classes & vocab.individuals:
        reasons[iri].append("declared a class and typed as an individual")
        related[iri] |= {t for t in vocab.graph.objects(iri, RDF.type)
                         if isinstance(t, URIRef) and not is_builtin(t)}
    for iri in (vocab.individuals - vocab.classes) & set(as_class):
        subclasses = {s for s in vocab.graph.subjects(RDFS.subClassOf, iri)
                      if isinstance(s, URIRef)}
        reasons[iri].append("an individual with subclasses" if subclasses
                            else "an individual used as a class")
        related[iri] |= as_class[iri]
    for iri in (vocab.classes - vocab.individuals) & set(as_individual):
        reasons[iri].append("a class used as an individual")
        related[iri] |= as_individual[iri]
    return [issue(C.CLASS_INSTANCE_CONFLATION, [iri, *sorted(related[iri] - {iri})],
                  f"'{short(iri)}' is {' and '.join(reasons[iri])}")
            for iri in sorted(reasons)]


def schema_components(vocab: Vocabulary, all_uses: Sequence[Use],
                      datatype_ranges: Collection[tuple[str, str]] = frozenset()
                      ) -> list[list[URIRef]]:
    """The connected parts of the class graph, largest first: classes linked by subclass and
    equivalence axioms (restriction fillers included) and by object properties (each domain
    class to each range class; a range the loader reads as a datatype links nothing).
    Disjointness links nothing."""
    adjacency: dict[URIRef, set[URIRef]] = defaultdict(set)

    def link(a: URIRef, b: URIRef) -> None:
        if a != b:
            adjacency[a].add(b)
            adjacency[b].add(a)

    for use in all_uses:
        if (use.role == "class" and use.owner is not None and use.owner in vocab.classes
                and use.via in (RDFS.subClassOf, OWL.equivalentClass)):
            link(use.owner, use.iri)
    g = vocab.graph
    for prop in vocab.object_properties:
        domains = {u.iri for d in g.objects(prop, RDFS.domain)
                   for u in class_expression_uses(vocab, d, prop, RDFS.domain)
                   if u.role == "class"}
        ranges = {u.iri for r in g.objects(prop, RDFS.range)
                  for u in class_expression_uses(vocab, r, prop, RDFS.range)
                  if u.role == "class" and not _read_as_datatype(u, datatype_ranges)}
        for d in domains:
            for r in ranges:
                link(d, r)
    # a punned class stays a class here; a pure individual in a class position links nothing
    nodes = set(vocab.classes) | (set(adjacency) - vocab.individuals)
    seen: set[URIRef] = set()
    components: list[list[URIRef]] = []
    for start in sorted(nodes):
        if start in seen:
            continue
        comp: list[URIRef] = []
        todo = [start]
        seen.add(start)
        while todo:
            cur = todo.pop()
            comp.append(cur)
            for nxt in adjacency.get(cur, ()):
                if nxt not in seen and nxt in nodes:
                    seen.add(nxt)
                    todo.append(nxt)
        components.append(sorted(comp))
    return sorted(components, key=lambda c: (-len(c), c[0]))


def check_disconnected(vocab: Vocabulary, all_uses: Sequence[Use],
                       datatype_ranges: Collection[tuple[str, str]] = frozenset()
                       ) -> list[OntologyIssue]:
    live = vocab.classes - vocab.deprecated
    components = [[c for c in comp if c in live]
                  for comp in schema_components(vocab, all_uses, datatype_ranges)]
    components = [c for c in components if c]
    if len(components) < 2:
        return []
    main = components[0]
    return [issue(C.DISCONNECTED_SCHEMA, island,
                  f"{len(island)} class(es) ({', '.join(short(c) for c in island[:6])}"
                  f"{', …' if len(island) > 6 else ''}) are not connected to the rest of the "
                  f"schema ({len(main)} classes) by any subclass axiom, restriction or object "
                  "property")
            for island in components[1:]]


def check_duplicate_labels(vocab: Vocabulary) -> list[OntologyIssue]:
    issues: list[OntologyIssue] = []
    for kind, terms in (("classes", vocab.classes - vocab.deprecated),
                        ("properties", (vocab.object_properties | vocab.datatype_properties)
                         - vocab.deprecated)):
        by_label: dict[tuple[str, str], set[URIRef]] = defaultdict(set)
        for term in terms:
            for text, lang in vocab.labels(term):
                by_label[(normalize_label(text), (lang or "en").lower())].add(term)
        for (label, lang), owners in sorted(by_label.items()):
            if len(owners) > 1 and label:
                tag = "" if lang == "en" else f"@{lang}"
                issues.append(issue(C.DUPLICATE_LABEL, sorted(owners),
                                    f"label '{label}'{tag} names {len(owners)} {kind}"))
    return issues


def note_findings(notes: Iterable[OntologyNote]) -> list[OntologyIssue]:
    """A warning for each note a loader made of a quirk it read (``quirks.NoteCode``); a note
    whose code is no ``OntologyIssueCode`` is left out."""
    codes = {c.value for c in OntologyIssueCode}
    return [issue(OntologyIssueCode(n.code), n.iris, n.message, "warning")
            for n in notes if n.code in codes]


__all__ = ["check_conflation", "check_disconnected", "check_domains_and_ranges",
           "check_duplicate_labels", "check_orphans", "check_subclass_cycles",
           "check_undeclared", "note_findings", "schema_components"]
