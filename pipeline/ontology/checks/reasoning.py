"""The reasoning checks: findings from HermiT's answer (``reasoner.py``), explained from the
graph where it shows why.

An inconsistent ontology is blamed on the individuals typed into disjoint classes, an
unsatisfiable class on the disjoint classes it falls under; a reasoner that timed out, could
not run or failed is a warning, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import OWL, RDF, URIRef

from pipeline.ontology.checks.issues import OntologyIssue, OntologyIssueCode, issue, short
from pipeline.ontology.reasoner import ReasonerResult, ReasonerStatus
from pipeline.ontology.terms import Vocabulary, is_builtin, named_superclasses, rdf_list

C = OntologyIssueCode


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
        return [issue(C.REASONER_TIMEOUT, where, result.detail)]
    if status is ReasonerStatus.UNAVAILABLE:
        return [issue(C.REASONER_UNAVAILABLE, where, result.detail)]
    if status is ReasonerStatus.FAILED:
        return [issue(C.REASONER_FAILED, where, result.detail)]
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
        return [issue(C.INCONSISTENT, iris, f"HermiT: the ontology is inconsistent ({detail})")]
    issues = []
    for cls in result.unsatisfiable:
        clash = _clashes(vocab, [URIRef(cls)], pairs)
        because = (f": it falls under {short(clash[0][0])} and {short(clash[0][1])}, which "
                   "are disjoint" if clash else "")
        issues.append(issue(C.UNSATISFIABLE_CLASS, [cls], f"HermiT: class '{short(cls)}' is "
                            f"unsatisfiable (equivalent to owl:Nothing){because}"))
    return issues


__all__ = ["reasoner_findings"]
