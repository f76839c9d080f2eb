"""Ontology verification: every check an ontology must pass before extraction runs under it.

Each finding is data — a reason code, a severity, the IRIs involved and a message — so a user
sees every problem at once. Errors stop a build (``flows/build_kg.py`` refuses an ontology
with errors before extraction starts); warnings are reported. The rules, one per reason code,
are in ``RULES`` (and the README's "Ontology checks" section).

The same checks run wherever an ontology enters: ``verikg ontology check`` (``check_file``),
the build (``check_ontology`` on the loaded ``Ontology``, which re-reads the file it came from,
so a user-supplied ontology gets exactly the CLI's checks), and any code holding an rdflib
graph (``check_graph``). The structural checks read the RDF graph (``terms.py``): the
``Ontology`` model is too coarse for restrictions, individuals and punning. Consistency and
unsatisfiable classes come from HermiT (``reasoner.py``), bounded by a time limit; a timeout or
a missing Java is a warning, never a hang or a crash. Competency questions are checked for
syntax and terms, and — over a built knowledge graph — for answers (``cq_checks.py``).

The quirks a loader reads in a non-literal way (``quirks.py``: a range named like a datatype,
a property both object and datatype, …) are warnings with the note's code, computed from the
graph by the loader's own reading (``loader.read_properties``), so the check and the build
read a file the same way; ``check_ontology`` adds the notes of a loaded ``Ontology`` too.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, NamedTuple

from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import split_uri

from pipeline.errors import OntologyError
from pipeline.models import (
    CompetencyQuestion,
    Frozen,
    Ontology,
    OntologyNote,
    PropertyKind,
    normalize_label,
)
from pipeline.ontology.cq_checks import CQRun, parse_cq, run_cqs, undefined_terms
from pipeline.ontology.loader import (
    CQ_FILENAMES,
    load_competency_questions,
    parse_graph,
    read_properties,
)
from pipeline.ontology.reasoner import (
    DEFAULT_REASONER_TIMEOUT_S,
    ReasonerResult,
    ReasonerStatus,
    read_with_owlready2,
    run_hermit,
)
from pipeline.ontology.terms import (
    Use,
    Vocabulary,
    class_expression_uses,
    is_annotation_vocabulary,
    is_builtin,
    named_superclasses,
    rdf_list,
    uses,
    vocabulary,
)
from pipeline.store import GraphStore

#: version of the JSON ``verikg ontology check --format json`` writes
REPORT_SCHEMA = "verikg.ontology-check/1"

Severity = Literal["error", "warning"]


class OntologyIssueCode(StrEnum):
    INCONSISTENT = "inconsistent"
    UNSATISFIABLE_CLASS = "unsatisfiable-class"
    SUBCLASS_CYCLE = "subclass-cycle"
    MISSING_DOMAIN = "missing-domain"
    MISSING_RANGE = "missing-range"
    UNDECLARED_TERM = "undeclared-term"
    ORPHAN_CLASS = "orphan-class"
    CLASS_INSTANCE_CONFLATION = "class-instance-conflation"
    DISCONNECTED_SCHEMA = "disconnected-schema"
    DUPLICATE_LABEL = "duplicate-label"
    # how a loader read a quirk of the file (``quirks.NoteCode``): always warnings
    DATATYPE_LIKE_RANGE = "datatype-like-range"
    EMPTY_RANGE = "empty-range"
    UNKNOWN_RANGE = "unknown-range"
    UNKNOWN_DOMAIN = "unknown-domain"
    REDECLARED_PROPERTY = "redeclared-property"
    PROPERTY_KIND_CONFLICT = "property-kind-conflict"
    CQ_UNDEFINED_TERM = "cq-undefined-term"
    CQ_INVALID_QUERY = "cq-invalid-query"
    CQ_UNANSWERED = "cq-unanswered"
    REASONER_TIMEOUT = "reasoner-timeout"
    REASONER_UNAVAILABLE = "reasoner-unavailable"
    REASONER_FAILED = "reasoner-failed"


class Rule(NamedTuple):
    severity: Severity
    rule: str


C = OntologyIssueCode
#: every reason code: its severity and the rule it enforces (``undeclared-term`` is a warning
#: for a term used only as an annotation predicate or an individual, an error otherwise)
RULES: dict[OntologyIssueCode, Rule] = {
    C.INCONSISTENT: Rule("error", "HermiT finds the ontology inconsistent: it has no model; "
                         "the IRIs are the individuals typed into disjoint classes, when found"),
    C.UNSATISFIABLE_CLASS: Rule("error", "HermiT finds a named class equivalent to owl:Nothing "
                                "(no individual can ever belong to it)"),
    C.SUBCLASS_CYCLE: Rule("error", "named classes reach themselves through rdfs:subClassOf "
                           "(one finding per cycle; equivalence is owl:equivalentClass)"),
    C.MISSING_DOMAIN: Rule("error", "an object or datatype property has no rdfs:domain, "
                           "neither its own nor through a super-, equivalent or inverse "
                           "property"),
    C.MISSING_RANGE: Rule("error", "an object or datatype property has no rdfs:range, "
                          "neither its own nor through a super-, equivalent or inverse "
                          "property"),
    C.UNDECLARED_TERM: Rule("error", "a term is used but not declared: a class, property or "
                            "datatype in an axiom (domain, range, subclass, restriction, type), "
                            "or a declared root that is not a class; a warning for a predicate "
                            "used only in annotations or data, or an undeclared individual"),
    C.ORPHAN_CLASS: Rule("warning", "when roots are declared (verify:rootClass on the "
                         "ontology, or --root), a class that is not a root has no named "
                         "superclass"),
    C.CLASS_INSTANCE_CONFLATION: Rule("error", "one IRI is both a class and an individual: "
                                      "declared or used as a class and typed or used as an "
                                      "individual, or an individual with subclasses"),
    C.DISCONNECTED_SCHEMA: Rule("warning", "classes form islands: no subclass axiom, "
                                "restriction or object property (domain to range) links them "
                                "to the largest connected part of the schema (one finding per "
                                "island)"),
    C.DUPLICATE_LABEL: Rule("warning", "two classes, or two properties, share an rdfs:label "
                            "(case-, accent- and space-insensitive, same language)"),
    C.DATATYPE_LIKE_RANGE: Rule("warning", "a property's range is no declared class but an XSD "
                                "datatype or a term named like one (Date, Year, number, "
                                "string, … in any case): VeriKG reads the property as a "
                                "datatype property over that datatype (the term is then not "
                                "an undeclared class)"),
    C.EMPTY_RANGE: Rule("warning", "a relation's range is empty (JSON \"range\": \"\"): "
                        "VeriKG reads it as a datatype property with range rdfs:Literal "
                        "(any value)"),
    C.UNKNOWN_RANGE: Rule("warning", "a relation's range names no concept and no datatype "
                          "(JSON): VeriKG reads it as an object property with an open range "
                          "(owl:Thing, any entity)"),
    C.UNKNOWN_DOMAIN: Rule("warning", "a relation's domain is empty or names no concept "
                           "(JSON): VeriKG reads it with an open domain (any subject)"),
    C.REDECLARED_PROPERTY: Rule("warning", "one relation (the same label or IRI) is declared "
                                "more than once (JSON): VeriKG reads one property whose domain "
                                "and range are the union of the declarations'"),
    C.PROPERTY_KIND_CONFLICT: Rule("warning", "a property is read both as an object and as a "
                                   "datatype property (typed both ways, or declared with a "
                                   "class range and a datatype range): VeriKG reads it as an "
                                   "object property over the class ranges and drops the "
                                   "datatype ones"),
    C.CQ_UNDEFINED_TERM: Rule("error", "a competency question's SPARQL uses an IRI the "
                              "ontology does not define"),
    C.CQ_INVALID_QUERY: Rule("error", "a competency question's SPARQL does not parse"),
    C.CQ_UNANSWERED: Rule("warning", "run over the built knowledge graph, a competency "
                          "question's query returns nothing"),
    C.REASONER_TIMEOUT: Rule("warning", "HermiT did not finish within the time limit: "
                             "consistency and satisfiability are unknown"),
    C.REASONER_UNAVAILABLE: Rule("warning", "no Java to run HermiT: consistency and "
                                 "satisfiability are unknown"),
    C.REASONER_FAILED: Rule("warning", "HermiT or owlready2 failed on the ontology: "
                            "consistency and satisfiability are unknown"),
}
_ORDER = {code: i for i, code in enumerate(RULES)}


class OntologyIssue(Frozen):
    code: OntologyIssueCode
    severity: Severity
    iris: tuple[str, ...]
    message: str


def _issue(code: OntologyIssueCode, iris: Iterable[object], message: str,
           severity: Severity | None = None) -> OntologyIssue:
    return OntologyIssue(code=code, severity=severity or RULES[code].severity,
                         iris=tuple(str(i) for i in iris), message=message)


def short(iri: object) -> str:
    """The local name of an IRI, for messages (the full IRIs are in ``iris``)."""
    text = str(iri)
    try:
        return split_uri(text)[1] or text
    except ValueError:
        return text


def _label_or_name(vocab: Vocabulary, iri: URIRef) -> str:
    for text, lang in vocab.labels(iri):
        if lang in (None, "en"):
            return text
    return short(iri)


# --------------------------------------------------------------------------- structural checks


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
        name = _label_or_name(vocab, prop)
        if not _has_effective(vocab, prop, RDFS.domain):
            issues.append(_issue(C.MISSING_DOMAIN, [prop],
                                 f"{kind} property '{name}' has no rdfs:domain"))
        if not _has_effective(vocab, prop, RDFS.range):
            issues.append(_issue(C.MISSING_RANGE, [prop],
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
        issues.append(_issue(C.UNDECLARED_TERM, [iri, *sorted(owners)],
                             f"'{short(iri)}' is used as {_ROLE_WORDS[role]} "
                             f"({', '.join(sorted(vias[(iri, role)]))}){by}{more} but is "
                             f"{what}", severity))
    for root in sorted(vocab.roots - vocab.classes):
        issues.append(_issue(C.UNDECLARED_TERM, [root], f"declared root '{short(root)}' is not "
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
            issues.append(_issue(C.SUBCLASS_CYCLE, comp,
                                 f"rdfs:subClassOf cycle: {names} (use owl:equivalentClass "
                                 "if the classes are meant to be the same)"))
    return sorted(issues, key=lambda i: i.iris)


def check_orphans(vocab: Vocabulary) -> list[OntologyIssue]:
    if not vocab.roots:
        return []
    return [_issue(C.ORPHAN_CLASS, [cls], f"class '{_label_or_name(vocab, cls)}' has no "
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
    return [_issue(C.CLASS_INSTANCE_CONFLATION, [iri, *sorted(related[iri] - {iri})],
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
    return [_issue(C.DISCONNECTED_SCHEMA, island,
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
                issues.append(_issue(C.DUPLICATE_LABEL, sorted(owners),
                                     f"label '{label}'{tag} names {len(owners)} {kind}"))
    return issues


def note_findings(notes: Iterable[OntologyNote]) -> list[OntologyIssue]:
    """A warning for each note a loader made of a quirk it read (``quirks.NoteCode``); a note
    whose code is no ``OntologyIssueCode`` is left out."""
    codes = {c.value for c in OntologyIssueCode}
    return [_issue(OntologyIssueCode(n.code), n.iris, n.message, "warning")
            for n in notes if n.code in codes]


# --------------------------------------------------------------------------- reasoner findings


def _disjoint_pairs(vocab: Vocabulary) -> set[frozenset[URIRef]]:
    g = vocab.graph
    pairs: set[frozenset[URIRef]] = set()
    for a, b in g.subject_objects(OWL.disjointWith):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            pairs.add(frozenset((a, b)))
    groups = [rdf_list(g, lst) for s, lst in g.subject_objects(OWL.members)
              if (s, RDF.type, OWL.AllDisjointClasses) in g]
    groups += [rdf_list(g, lst) for lst in g.objects(None, OWL.disjointUnionOf)]
    for members in groups:
        named = [m for m in members if isinstance(m, URIRef)]
        pairs |= {frozenset((a, b)) for i, a in enumerate(named) for b in named[i + 1:]}
    return pairs


def _ancestors(vocab: Vocabulary, start: Iterable[URIRef]) -> set[URIRef]:
    seen: set[URIRef] = set()
    todo = list(start)
    while todo:
        cur = todo.pop()
        if cur not in seen:
            seen.add(cur)
            todo.extend(named_superclasses(vocab, cur))
    return seen


def _clashes(vocab: Vocabulary, types: Iterable[URIRef],
             pairs: set[frozenset[URIRef]]) -> list[tuple[URIRef, URIRef]]:
    above = _ancestors(vocab, types)
    clashes: list[tuple[URIRef, URIRef]] = []
    for pair in pairs:
        if pair <= above:
            a, b = sorted(pair)
            clashes.append((a, b))
    return sorted(clashes)


def reasoner_findings(vocab: Vocabulary, result: ReasonerResult) -> list[OntologyIssue]:
    """Findings from HermiT's answer, explained where the graph shows why: the disjoint
    classes an individual or an unsatisfiable class falls under."""
    where = [vocab.ontology_iri] if vocab.ontology_iri is not None else []
    status = result.status
    if status is ReasonerStatus.SKIPPED:
        return []
    if status is ReasonerStatus.TIMEOUT:
        return [_issue(C.REASONER_TIMEOUT, where, result.detail)]
    if status is ReasonerStatus.UNAVAILABLE:
        return [_issue(C.REASONER_UNAVAILABLE, where, result.detail)]
    if status is ReasonerStatus.FAILED:
        return [_issue(C.REASONER_FAILED, where, result.detail)]
    pairs = _disjoint_pairs(vocab)
    if status is ReasonerStatus.INCONSISTENT:
        suspects: list[URIRef] = []
        why: list[str] = []
        for ind in sorted(vocab.individuals):
            types = [t for t in vocab.graph.objects(ind, RDF.type)
                     if isinstance(t, URIRef) and not is_builtin(t)]
            for a, b in _clashes(vocab, types, pairs):
                suspects += [ind, a, b]
                why.append(f"'{short(ind)}' is a {short(a)} and a {short(b)}, which are "
                           "disjoint")
        iris = list(dict.fromkeys(suspects)) or where
        detail = "; ".join(why) if why else "no individual in disjoint classes found to blame"
        return [_issue(C.INCONSISTENT, iris, f"HermiT: the ontology is inconsistent ({detail})")]
    issues = []
    for cls in result.unsatisfiable:
        clash = _clashes(vocab, [URIRef(cls)], pairs)
        because = (f": it falls under {short(clash[0][0])} and {short(clash[0][1])}, which "
                   "are disjoint" if clash else "")
        issues.append(_issue(C.UNSATISFIABLE_CLASS, [cls], f"HermiT: class '{short(cls)}' is "
                             f"unsatisfiable (equivalent to owl:Nothing){because}"))
    return issues


# --------------------------------------------------------------------------- competency questions


def check_cqs(vocab: Vocabulary, cqs: Sequence[CompetencyQuestion]) -> list[OntologyIssue]:
    """Syntax and terms of each CQ's SPARQL (a CQ without a query is not checked)."""
    issues: list[OntologyIssue] = []
    for cq in cqs:
        query, error = parse_cq(cq)
        if query is None:
            if cq.sparql:
                issues.append(_issue(C.CQ_INVALID_QUERY, [cq.id],
                                     f"{cq.id}: SPARQL does not parse: {error}"))
            continue
        missing = undefined_terms(query, vocab)
        if missing:
            issues.append(_issue(C.CQ_UNDEFINED_TERM, [cq.id, *missing],
                                 f"{cq.id}: the query uses "
                                 f"{', '.join(short(m) for m in missing)}, which the ontology "
                                 "does not define"))
    return issues


def cq_run_findings(run: CQRun) -> list[OntologyIssue]:
    issues = []
    for r in run.results:
        if r.answered:
            continue
        why = f" ({r.error})" if r.error else ""
        issues.append(_issue(C.CQ_UNANSWERED, [r.id], f"{r.id}: '{r.text}' has no answer in "
                             f"the knowledge graph ({run.kg_triples} triples){why}"))
    return issues


def check_cqs_against(kg: Graph | GraphStore, cqs: Sequence[CompetencyQuestion]
                      ) -> list[OntologyIssue]:
    """``cq-unanswered`` for each CQ whose query returns nothing over ``kg`` (an rdflib graph
    of instance data, or a store, exported with ``cq_checks.kg_graph``). ``run_cqs`` gives
    the per-question counts."""
    return cq_run_findings(run_cqs(kg, cqs))


# --------------------------------------------------------------------------- report


class CQSummary(Frozen):
    total: int
    with_sparql: int
    #: None until run over a knowledge graph
    answered: int | None = None
    asked: int | None = None
    kg: str | None = None
    kg_triples: int | None = None


class OntologySummary(Frozen):
    source: str
    iri: str | None
    triples: int
    classes: int
    object_properties: int
    datatype_properties: int
    annotation_properties: int
    individuals: int
    roots: tuple[str, ...]


class CheckReport(Frozen):
    """Everything ``verikg ontology check`` prints; ``--format json`` writes ``as_json()``."""

    ontology: OntologySummary
    reasoner: ReasonerResult
    competency_questions: CQSummary
    findings: tuple[OntologyIssue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (schema ``REPORT_SCHEMA``); keys are only ever added."""
        by_code: dict[str, int] = defaultdict(int)
        for f in self.findings:
            by_code[f.code.value] += 1
        return {
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "summary": {"errors": self.errors, "warnings": self.warnings,
                        "by_code": dict(sorted(by_code.items()))},
            "ontology": self.ontology.model_dump(mode="json"),
            "reasoner": self.reasoner.model_dump(mode="json"),
            "competency_questions": self.competency_questions.model_dump(mode="json"),
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }


def _sorted(issues: Iterable[OntologyIssue]) -> tuple[OntologyIssue, ...]:
    return tuple(sorted(issues, key=lambda i: (_ORDER[i.code], i.iris, i.message)))


def check_graph(graph: Graph, *, cqs: Sequence[CompetencyQuestion] = (),
                roots: Iterable[str] = (),
                reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S,
                cache_key: str | None = None, source: str = "",
                kg: Graph | GraphStore | None = None, kg_name: str | None = None
                ) -> CheckReport:
    """Run every check on an ontology graph: structure, the reasoner (``reasoner_timeout_s``
    bounds it; 0 or None skips it), the CQs' SPARQL and, with ``kg``, their answers."""
    vocab = vocabulary(graph, roots)
    all_uses = list(uses(vocab))
    # the properties as the loader reads them: the quirks it reads are warnings, and a range
    # it reads as a datatype is neither an undeclared class nor a link between classes
    reading = read_properties(graph)
    findings: list[OntologyIssue] = []
    findings += check_domains_and_ranges(vocab)
    findings += check_undeclared(vocab, all_uses, reading.datatype_ranges)
    findings += check_subclass_cycles(vocab)
    findings += check_orphans(vocab)
    findings += check_conflation(vocab, all_uses)
    findings += check_disconnected(vocab, all_uses, reading.datatype_ranges)
    findings += check_duplicate_labels(vocab)
    findings += note_findings(reading.notes)
    reasoned = run_hermit(graph, timeout_s=reasoner_timeout_s, cache_key=cache_key)
    findings += reasoner_findings(vocab, reasoned)
    findings += check_cqs(vocab, cqs)
    with_sparql = sum(1 for q in cqs if q.sparql)
    cq_summary = CQSummary(total=len(cqs), with_sparql=with_sparql)
    if kg is not None:
        run = run_cqs(kg, cqs)
        findings += cq_run_findings(run)
        cq_summary = cq_summary.model_copy(update={
            "answered": run.answered, "asked": run.asked, "kg": kg_name,
            "kg_triples": run.kg_triples})
    summary = OntologySummary(
        source=source, iri=str(vocab.ontology_iri) if vocab.ontology_iri else None,
        triples=len(graph), classes=len(vocab.classes),
        object_properties=len(vocab.object_properties),
        datatype_properties=len(vocab.datatype_properties),
        annotation_properties=len(vocab.annotation_properties),
        individuals=len(vocab.individuals), roots=tuple(sorted(str(r) for r in vocab.roots)))
    return CheckReport(ontology=summary, reasoner=reasoned, competency_questions=cq_summary,
                       findings=_sorted(findings))


# --------------------------------------------------------------------------- entry points


_FIRST_ELEMENT = re.compile(r"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def _looks_like_owl_xml(path: Path) -> bool:
    """OWL/XML (first element ``Ontology``), which rdflib cannot read; RDF/XML starts with
    ``rdf:RDF``."""
    head = path.read_bytes()[:4000].decode("utf-8", errors="replace")
    if not head.lstrip().startswith("<"):
        return False
    first = _FIRST_ELEMENT.search(re.sub(r"<!--.*?-->", "", head, flags=re.S))
    return first is not None and first.group(1) == "Ontology"


def read_graph(path: Path) -> Graph:
    """Parse an ontology file: OWL/XML through owlready2; Turtle, RDF/XML or N-Triples by
    extension (as ``load_ontology`` does), then by trying each. Raises ``OntologyError`` with
    the first parser's message."""
    if path.is_file() and _looks_like_owl_xml(path):
        return read_with_owlready2(path)
    try:
        return parse_graph(path)
    except OntologyError as first:
        if not path.is_file():
            raise
        for fmt in ("turtle", "xml", "nt"):
            graph = Graph()
            try:
                graph.parse(path, format=fmt)
            except Exception:  # noqa: S112 - try the next format; report the first error
                continue
            if len(graph):
                return graph
        raise first


def resolve_ontology_path(path: Path) -> tuple[Path, Path | None]:
    """The ontology file ``path`` names (a file, or a folder holding ``ontology.ttl`` / a
    ``*.ttl`` / a ``*.owl``) and the CQ file beside it, if any — as ``load_ontology`` finds
    them."""
    if path.is_dir():
        candidates = [path / "ontology.ttl", *sorted(path.glob("*.ttl")),
                      *sorted(path.glob("*.owl"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise OntologyError(f"{path}: no ontology.ttl or *.owl file in this folder")
        return found, next((path / n for n in CQ_FILENAMES if (path / n).is_file()), None)
    return path, next((path.parent / n for n in CQ_FILENAMES
                       if (path.parent / n).is_file()), None)


def check_file(path: Path | str, *, cqs: Path | str | None = None, roots: Iterable[str] = (),
               reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S,
               kg: Graph | GraphStore | None = None, kg_name: str | None = None
               ) -> CheckReport:
    """Check the ontology in ``path`` (file or folder) with its CQs (``cqs``, else the CQ file
    beside it). Raises ``OntologyError`` when the file or the CQ file cannot be read."""
    file, found_cqs = resolve_ontology_path(Path(path))
    graph = read_graph(file)
    cq_file = Path(cqs) if cqs is not None else found_cqs
    questions = load_competency_questions(cq_file) if cq_file is not None else ()
    key = hashlib.sha256(file.read_bytes()).hexdigest()
    return check_graph(graph, cqs=questions, roots=roots, reasoner_timeout_s=reasoner_timeout_s,
                       cache_key=key, source=str(file), kg=kg, kg_name=kg_name)


def ontology_graph(onto: Ontology) -> Graph:
    """The ``Ontology`` model as OWL in RDF, for an ontology that exists only in memory."""
    g = Graph()
    node = URIRef(onto.iri)
    g.add((node, RDF.type, OWL.Ontology))
    if onto.label:
        g.add((node, RDFS.label, RdfLiteral(onto.label)))
    for c in onto.classes:
        g.add((URIRef(c.iri), RDF.type, OWL.Class))
        g.add((URIRef(c.iri), RDFS.label, RdfLiteral(c.label)))
        for parent in c.parents:
            g.add((URIRef(c.iri), RDFS.subClassOf, URIRef(parent)))
    for p in onto.properties:
        kind = OWL.ObjectProperty if p.kind is PropertyKind.OBJECT else OWL.DatatypeProperty
        g.add((URIRef(p.iri), RDF.type, kind))
        g.add((URIRef(p.iri), RDFS.label, RdfLiteral(p.label)))
        if p.functional:
            g.add((URIRef(p.iri), RDF.type, OWL.FunctionalProperty))
        for d in p.domain:
            g.add((URIRef(p.iri), RDFS.domain, URIRef(d)))
        for r in p.range:
            g.add((URIRef(p.iri), RDFS.range, URIRef(r)))
    return g


def _source_graph(onto: Ontology) -> tuple[Graph, str]:
    """The graph the ontology was loaded from, when that file is still what was loaded;
    otherwise the model written as OWL."""
    source = Path(onto.source) if onto.source else None
    if source is not None and source.is_file():
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if not onto.sha256 or digest == onto.sha256:
            return read_graph(source), digest
    model = onto.model_dump_json(exclude={"competency_questions"})
    return ontology_graph(onto), "model:" + hashlib.sha256(model.encode()).hexdigest()


def check_ontology(onto: Ontology, *, roots: Iterable[str] = (),
                   reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S
                   ) -> list[OntologyIssue]:
    """Every check on a loaded ontology and its competency questions — the same checks
    ``verikg ontology check`` runs on the file it came from — and a warning for each note the
    loader made (``onto.notes``) that the re-read file does not already give."""
    graph, key = _source_graph(onto)
    report = check_graph(graph, cqs=onto.competency_questions, roots=roots,
                         reasoner_timeout_s=reasoner_timeout_s, cache_key=key,
                         source=onto.source)
    findings = list(report.findings)
    seen = {(f.code, f.iris, f.message) for f in findings}
    findings += [f for f in note_findings(onto.notes)
                 if (f.code, f.iris, f.message) not in seen]
    return list(_sorted(findings))


__all__ = ["REPORT_SCHEMA", "RULES", "CQSummary", "CheckReport", "OntologyIssue",
           "OntologyIssueCode", "OntologySummary", "Rule", "check_cqs", "check_cqs_against",
           "check_file", "check_graph", "check_ontology", "note_findings", "ontology_graph",
           "read_graph", "reasoner_findings", "resolve_ontology_path"]
