"""Diffing two versions of an ontology (two RDF graphs or two OBO documents) into KGCL.

The result is a change request, one command per line, that applied to the old version gives
the new one, written with the most specific commands that fit: ``rename``, ``create`` /
``remove`` / ``change synonym``, ``add`` / ``change`` / ``remove definition``, subsets,
``move``, ``change relationship``, ``change annotation``, ``obsolete`` / ``unobsolete``,
``create node`` / ``delete``; ``create edge`` / ``delete edge`` (with a literal object for
literal-valued annotations) only where nothing more specific fits.

How: both versions are read into the same per-entity view (labels, synonyms by scope,
definitions, subsets, is_a parents, relationships (existential restrictions in OWL,
``relationship:`` lines in OBO), other links and other literal values, deprecation). Entity
life-cycle commands come first (create, obsolete, unobsolete, delete) and are applied to a
copy of the old version, since each does several things at once (``obsolete`` renames, may add
a replacement); the attribute commands are the difference between that intermediate and the
new version. Finally the whole request is applied to another copy of the old version and the
result compared with the new one: what KGCL cannot say (axiom annotations, complex class
expressions, an OBO header) is reported as an error rather than silently left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.obo import (
    PROPERTY_OF_TAG,
    TAG_OF,
    OboDocument,
    TagLine,
    apply_to_obo,
    read_quoted,
)
from pipeline.kgcl.rdf_apply import (
    GraphEditor,
    _is_true,
    _Reject,
    equivalent_graphs,
    iter_triples_nt,
    tentatively,
)
from pipeline.kgcl.render import quote_label, quote_literal, render_id
from pipeline.kgcl.vocab import (
    DEFINITION,
    IN_SUBSET,
    REPLACED_BY,
    SYNONYM_SCOPES,
    PrefixMap,
    is_curie,
    is_iri,
)


@dataclass(frozen=True, order=True)
class Value:
    """A string value: its text and, in RDF, its language or datatype IRI. ``extra`` is what
    rides along and KGCL cannot write (axiom annotations in OWL; xrefs, synonym type and
    qualifiers in OBO): a change of text keeps it, so it pairs an old value with its new one."""

    text: str
    language: str | None = None
    datatype: str | None = None
    extra: str = ""


@dataclass
class EntityView:
    """What the diff compares about one entity."""

    labels: Counter[Value] = field(default_factory=Counter)
    synonyms: Counter[tuple[str, Value]] = field(default_factory=Counter)  # (scope, value)
    definitions: Counter[Value] = field(default_factory=Counter)
    subsets: set[str] = field(default_factory=set)
    is_a: set[str] = field(default_factory=set)
    relations: set[tuple[str, str]] = field(default_factory=set)  # (relation, filler)
    links: set[tuple[str, str]] = field(default_factory=set)  # (property, entity)
    literals: Counter[tuple[str, Value]] = field(default_factory=Counter)  # (property, value)
    deprecated: bool = False


View = dict[str, EntityView]


@dataclass
class _Names:
    """How one side writes entities, properties, subsets and values in KGCL."""

    node: Callable[[str], str]
    subset: Callable[[str], str]
    value: Callable[[Value], str]
    is_class: Callable[[EntityView], bool]


# ---------------------------------------------------------------------- RDF


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
            elif p == OWL.deprecated and _is_true(o):
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


def _rdf_names(graph: Graph, prefixes: PrefixMap) -> _Names:
    editor = GraphEditor(graph, prefixes)

    def subset(iri: str) -> str:
        name = iri.replace("#", "/").rsplit("/", 1)[-1]
        try:
            if name and is_curie(f"x:{name}") and str(editor.subset(name)) == iri:
                return name
        except _Reject:
            pass
        return render_id(iri, prefixes)

    def value(v: Value) -> str:
        return quote_literal(v.text, v.language, v.datatype, prefixes)

    return _Names(node=lambda k: render_id(k, prefixes), subset=subset, value=value,
                  is_class=lambda e: (str(RDF.type), str(OWL.Class)) in e.links)


def diff_graphs(old: Graph, new: Graph, *, prefixes: PrefixMap | None = None,
                verify: bool = True) -> list[str]:
    """KGCL commands that turn ``old`` into ``new``. Neither is changed when this returns
    (``old`` is changed and put back while the diff looks at intermediate states)."""
    prefixes = prefixes or PrefixMap.for_graph(old)
    old_view, new_view = rdf_view(old), rdf_view(new)
    lifecycle = _lifecycle(old_view, new_view, _rdf_names(old, prefixes))
    if lifecycle:
        with tentatively(old, "\n".join(lifecycle), prefixes=prefixes) as delta:
            removed_graph = Graph()
            for triple in delta.removed:
                removed_graph.add(triple)
            mid_view = _updated_view(old_view, old, delta.added, delta.removed, removed_graph)
            names = _rdf_names(old, prefixes)
    else:
        mid_view, names = old_view, _rdf_names(old, prefixes)
    commands = lifecycle + _attributes(mid_view, new_view, names)
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


def _check_applies(apply: Callable[[], object]) -> None:
    try:
        apply()
    except ChangeRequestError as exc:
        raise ChangeRequestError(f"the differences cannot all be written in KGCL: the diff "
                                 f"does not apply to the old version ({exc})") from exc


# ---------------------------------------------------------------------- OBO


def obo_view(doc: OboDocument) -> View:
    """Every stanza of the document with an id, seen the way KGCL commands see it."""
    view: View = {}
    for stanza in doc.stanzas[1:]:
        key = stanza.id
        if not key:
            continue
        ent = view.setdefault(key, EntityView())
        for _, tl in stanza.tags():
            tag, words = tl.tag, tl.words
            if tag == "id":
                continue
            if tag == "name":
                ent.labels[Value(tl.text, extra=tl.qualifiers)] += 1
            elif tag == "synonym":
                scope = tl.scope()
                extra = _after_quoted(tl, skip=1 if scope else 0)
                ent.synonyms[((scope or "RELATED").lower(), Value(tl.text, extra=extra))] += 1
            elif tag == "def":
                ent.definitions[Value(tl.text, extra=_after_quoted(tl))] += 1
            elif tag == "subset" and words:
                ent.subsets.add(words[0])
            elif tag == "is_a" and words:
                ent.is_a.add(words[0])
            elif tag == "relationship" and len(words) >= 2:
                ent.relations.add((words[0], words[1]))
            elif tag == "is_obsolete":
                ent.deprecated = ent.deprecated or tl.text.strip().lower() == "true"
            elif tag in PROPERTY_OF_TAG and TAG_OF[PROPERTY_OF_TAG[tag]][1] == "id" and words:
                ent.links.add((PROPERTY_OF_TAG[tag], words[0]))
            elif tag in PROPERTY_OF_TAG:
                ent.literals[(PROPERTY_OF_TAG[tag], Value(tl.text, extra=tl.qualifiers))] += 1
            elif tag == "property_value" and len(words) >= 2:
                rel, rest = tl.value.split(maxsplit=1)
                quoted = read_quoted(rest)
                if quoted is not None:
                    ent.literals[(rel, Value(quoted[0]))] += 1
                else:
                    ent.links.add((rel, rest.split()[0]))
            # other tags (intersection_of, holds_over_chain, …) have no KGCL command; the
            # final check reports them when they differ
    return view


def _after_quoted(tl: TagLine, skip: int = 0) -> str:
    """What follows a quoted value (after ``skip`` words: a synonym's scope), normalized; an
    empty xref list counts as nothing."""
    quoted = read_quoted(tl.value)
    rest = tl.value[quoted[1]:].split() if quoted is not None else []
    rest = rest[skip:]
    if rest[-1:] == ["[]"]:
        rest = rest[:-1]
    return " ".join(rest + ([tl.qualifiers] if tl.qualifiers else []))


def _obo_names(doc: OboDocument) -> _Names:
    index = doc.index()

    def node(key: str) -> str:
        if is_iri(key):
            return f"<{key}>"
        if is_curie(key):
            return key
        stanza = index.get(key)
        if stanza is not None:
            for xref in stanza.values("xref"):
                word = xref.split()[0] if xref.split() else ""
                if is_curie(word) and not is_iri(word):
                    return word
            names = stanza.values("name")
            if names:
                return quote_label(names[0])
        raise ChangeRequestError(f"{key!r} has no CURIE, cross-reference or name to write it "
                                 "with in KGCL")

    def prop(key: str) -> str:
        return render_id(key, PrefixMap()) if is_iri(key) else node(key)

    return _Names(node=lambda k: prop(k), subset=lambda s: s,
                  value=lambda v: quote_literal(v.text), is_class=lambda e: True)


def diff_obo(old: OboDocument, new: OboDocument, *, verify: bool = True) -> list[str]:
    """KGCL commands that turn ``old`` into ``new`` (neither is modified)."""
    old_view, new_view = obo_view(old), obo_view(new)
    lifecycle = _lifecycle(old_view, new_view, _obo_names(new))
    mid = old.copy()
    if lifecycle:
        apply_to_obo(mid, "\n".join(lifecycle))
    names = _obo_names(_merged(mid, new))
    commands = lifecycle + _attributes(obo_view(mid), new_view, names)
    if verify:
        result = old.copy()
        if commands:
            _check_applies(lambda: apply_to_obo(result, "\n".join(commands)))
        have, want = result.canonical(), new.canonical()
        if have != want:
            missing = sorted((want - have).elements())[:3]
            extra = sorted((have - want).elements())[:3]
            raise ChangeRequestError(
                "the differences cannot all be written in KGCL (header lines, "
                f"intersection_of and other tags with no KGCL command): not reproduced "
                f"{missing}; extra {extra}")
    return commands


def _merged(a: OboDocument, b: OboDocument) -> OboDocument:
    """A document holding the stanzas of both, to name entities that only one of them has."""
    return OboDocument(a.stanzas + [s for s in b.stanzas[1:] if s.id not in a.index()],
                       a.newline)


# ---------------------------------------------------------------------- commands


def _lifecycle(old: View, new: View, names: _Names) -> list[str]:
    """create / obsolete / unobsolete / delete, in an order that lets each apply."""
    creates, unobsoletes, obsoletes, deletes = [], [], [], []
    for key in sorted(new.keys() - old.keys()):
        ent = new[key]
        if ent.labels:
            label = sorted(ent.labels)[0]
            lang = f"@{label.language}" if label.language else ""
            creates.append(f"create node {names.node(key)} {quote_label(label.text)}{lang}")
        elif names.is_class(ent):
            creates.append(f"create {names.node(key)}")
    for key in sorted(new.keys()):
        was = old[key].deprecated if key in old else False
        ent = new[key]
        if key not in old and not (ent.labels or names.is_class(ent)):
            continue  # created by its edges below; nothing to obsolete yet
        if was and not ent.deprecated:
            unobsoletes.append(f"unobsolete {names.node(key)}")
        elif ent.deprecated and not was:
            before = {o for p, o in old[key].links if p == str(REPLACED_BY)} if key in old \
                else set()
            added = sorted({o for p, o in ent.links if p == str(REPLACED_BY)} - before)
            replacement = (f" with replacement {names.node(added[0])}" if len(added) == 1
                           and added[0] in new and added[0] != key else "")
            obsoletes.append(f"obsolete {names.node(key)}{replacement}")
    # an entity that had a label or was a class is deleted; one that only had edges just
    # loses them (``delete edge`` says more than ``delete``)
    deletes = [f"delete {names.node(key)}" for key in sorted(old.keys() - new.keys())
               if old[key].labels or names.is_class(old[key])]
    return creates + unobsoletes + obsoletes + deletes


def _label_with_language(v: Value) -> str:
    """``'text'@en`` for a label-like value (languages only: KGCL labels have no datatype)."""
    return f"{quote_label(v.text)}@{v.language}" if v.language else quote_label(v.text)


def _same_but_extra(gone: list[Value], came: list[Value]) -> tuple[list[Value], list[Value]]:
    """Drop values that differ only in what KGCL cannot write (their ``extra``): no command
    can change that, and the final check reports it."""
    came = list(came)
    kept = []
    for v in gone:
        twin = next((w for w in came if (w.text, w.language, w.datatype) ==
                     (v.text, v.language, v.datatype)), None)
        if twin is None:
            kept.append(v)
        else:
            came.remove(twin)
    return kept, came


def _pairs(removed: list, added: list) -> tuple[list, list, list]:
    """One removed and one added: a change; anything else: removals and additions."""
    if len(removed) == 1 and len(added) == 1:
        return [(removed[0], added[0])], [], []
    return [], removed, added


def _attributes(old: View, new: View, names: _Names) -> list[str]:
    out: list[str] = []
    for key in sorted(new.keys()):
        out += _entity_commands(key, old.get(key, EntityView()), new[key], names)
    # entities only the old side has (and the lifecycle did not delete) lose their edges
    for key in sorted(old.keys() - new.keys()):
        out += _entity_commands(key, old[key], EntityView(), names)
    return out


def _entity_commands(key: str, old: EntityView, new: EntityView, names: _Names) -> list[str]:
    x = names.node(key)
    adds: list[str] = []
    changes: list[str] = []
    resets: list[str] = []
    removes: list[str] = []

    def edge(verb: str, pred: str, obj: str) -> str:
        return f"{verb} edge {x} {names.node(pred)} {obj}"

    # labels
    pairs, gone, came = _pairs(*_same_but_extra(sorted((old.labels - new.labels).elements()),
                                                sorted((new.labels - old.labels).elements())))
    for a, b in pairs:
        if (a.language, a.datatype) == (b.language, b.datatype) or b.language:
            lang = f"@{b.language}" if b.language and b.language != a.language else ""
            changes.append(f"rename {x} from {_label_with_language(a)} to "
                           f"{quote_label(b.text)}{lang}")
        else:
            gone.append(a)
            came.append(b)
    adds += [edge("create", str(RDFS.label), names.value(v)) for v in came]
    removes += [edge("delete", str(RDFS.label), names.value(v)) for v in gone]

    # synonyms: per text, the scopes it has before and after
    def by_text(c: Counter[tuple[str, Value]]) -> dict[str, Counter[tuple[str, Value]]]:
        out: dict[str, Counter[tuple[str, Value]]] = defaultdict(Counter)
        for (scope, v), n in c.items():
            out[v.text][(scope, v)] += n
        return out

    old_syn, new_syn = by_text(old.synonyms), by_text(new.synonyms)
    lost = {t for t in old_syn if old_syn[t] - new_syn.get(t, Counter())}
    gained = {t for t in new_syn if new_syn[t] - old_syn.get(t, Counter())}
    renamed: set[str] = set()
    for t in sorted(lost):  # one synonym that only changed its text: change synonym
        if len(old_syn[t]) != 1 or sum(old_syn[t].values()) != 1 or t in new_syn:
            continue
        (scope, a), = old_syn[t]
        match = [u for u in sorted(gained - renamed) if u not in old_syn
                 and list(new_syn[u]) == [(scope, Value(u, a.language, a.datatype, a.extra))]
                 and sum(new_syn[u].values()) == 1]
        if match:  # candidates only differ in text: take the most similar one
            best = max(match, key=lambda u: SequenceMatcher(None, t, u).ratio())
            q = f"{scope} " if scope else ""
            lang = f"@{a.language}" if a.language else ""
            changes.append(f"change {q}synonym {quote_label(t)}{lang} for {x} to "
                           f"{quote_label(best)}")
            renamed |= {t, best}
    for t in sorted((lost | gained) - renamed):
        before, after = old_syn.get(t, Counter()), new_syn.get(t, Counter())
        target = resets if before - after else adds
        if before - after:
            target.append(f"remove synonym {quote_label(t)} for {x}")
            todo = after
        else:
            todo = after - before
        for (scope, v), n in sorted(todo.items()):
            q = f"{scope} " if scope else ""
            lang = f"@{v.language}" if v.language else ""
            target += [f"create {q}synonym {quote_label(t)}{lang} for {x}"] * n

    # definitions
    gone_d = sorted((old.definitions - new.definitions).elements())
    came_d = sorted((new.definitions - old.definitions).elements())
    if len(gone_d) == 1 and len(came_d) == 1 and (
            gone_d[0].language, gone_d[0].datatype, gone_d[0].extra) == (
            came_d[0].language, came_d[0].datatype, came_d[0].extra):
        frm = f"from {quote_label(gone_d[0].text)} " if sum(old.definitions.values()) > 1 else ""
        changes.append(f"change definition of {x} {frm}to {quote_label(came_d[0].text)}")
    elif not gone_d and len(came_d) == 1 and not old.definitions:
        adds.append(f"add definition {quote_label(came_d[0].text)} to {x}")
    elif gone_d and not came_d and not new.definitions:
        removes.append(f"remove definition for {x}")
    elif (len(gone_d) == 1 and len(came_d) == 1 and sum(old.definitions.values()) == 1
          and sum(new.definitions.values()) == 1 and not came_d[0].extra
          and not came_d[0].language):
        # the one definition changes more than its text (its xrefs go, say): replace it
        resets += [f"remove definition for {x}",
                   f"add definition {quote_label(came_d[0].text)} to {x}"]
    else:
        gone_d, came_d = _same_but_extra(gone_d, came_d)
        adds += [edge("create", str(DEFINITION), names.value(v)) for v in came_d]
        removes += [edge("delete", str(DEFINITION), names.value(v)) for v in gone_d]

    # subsets
    adds += [f"add {x} to subset {names.subset(s)}" for s in sorted(new.subsets - old.subsets)]
    removes += [f"remove {x} from subset {names.subset(s)}"
                for s in sorted(old.subsets - new.subsets)]

    # is_a
    pairs, gone_p, came_p = _pairs(sorted(old.is_a - new.is_a), sorted(new.is_a - old.is_a))
    sub = names.node(str(RDFS.subClassOf))
    for a, b in pairs:
        changes.append(f"move {x} {sub} {names.node(a)} from {names.node(a)} to {names.node(b)}")
    adds += [edge("create", str(RDFS.subClassOf), names.node(o)) for o in came_p]
    removes += [edge("delete", str(RDFS.subClassOf), names.node(o)) for o in gone_p]

    # relationships and other links: same target, other property → change relationship;
    # same property, other target → move (relationships) or change annotation (links)
    for kind in ("relations", "links"):
        gone_e = sorted(getattr(old, kind) - getattr(new, kind))
        came_e = sorted(getattr(new, kind) - getattr(old, kind))
        for (p, o) in list(gone_e):
            same_obj = [e for e in came_e if e[1] == o]
            if len(same_obj) == 1 and sum(1 for e in gone_e if e[1] == o) == 1:
                q = same_obj[0][0]
                changes.append(f"change relationship between {x} and {names.node(o)} from "
                               f"{names.node(p)} to {names.node(q)}")
                gone_e.remove((p, o))
                came_e.remove(same_obj[0])
        for (p, o) in list(gone_e):
            same_p = [e for e in came_e if e[0] == p]
            if len(same_p) == 1 and sum(1 for e in gone_e if e[0] == p) == 1:
                b = same_p[0][1]
                if kind == "relations":
                    changes.append(f"move {x} {names.node(p)} {names.node(o)} from "
                                   f"{names.node(o)} to {names.node(b)}")
                else:
                    changes.append(f"change annotation of {x} with {names.node(p)} from "
                                   f"{names.node(o)} to {names.node(b)}")
                gone_e.remove((p, o))
                came_e.remove(same_p[0])
        adds += [edge("create", p, names.node(o)) for p, o in came_e]
        removes += [edge("delete", p, names.node(o)) for p, o in gone_e]

    # other literal values: one out and one in for a property → change annotation
    gone_l = sorted((old.literals - new.literals).elements())
    came_l = sorted((new.literals - old.literals).elements())
    for p in sorted({p for p, _ in gone_l} | {p for p, _ in came_l}):
        a_list, b_list = _same_but_extra([v for q, v in gone_l if q == p],
                                         [v for q, v in came_l if q == p])
        if len(a_list) == 1 and len(b_list) == 1 and (
                b_list[0].language or b_list[0].datatype
                or not (a_list[0].language or a_list[0].datatype)):
            a, b = a_list[0], b_list[0]
            same = (a.language, a.datatype) == (b.language, b.datatype)
            new_value = quote_literal(b.text) if same else names.value(b)
            changes.append(f"change annotation of {x} with {names.node(p)} from "
                           f"{names.value(a)} to {new_value}")
            continue
        adds += [edge("create", p, names.value(v)) for v in b_list]
        removes += [edge("delete", p, names.value(v)) for v in a_list]
    return adds + changes + resets + removes


def diff_lines(commands: Iterable[str]) -> str:
    """A diff as a change request: one command per line."""
    return "".join(c + "\n" for c in commands)


__all__ = ["EntityView", "Value", "diff_graphs", "diff_lines", "diff_obo", "obo_view",
           "rdf_view"]
