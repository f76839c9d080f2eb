"""Two versions of an ontology, each seen as per-entity views, turned into KGCL commands.

The result is a change request, one command per line, that applied to the old version gives
the new one, written with the most specific commands that fit: ``rename``, ``create`` /
``remove`` / ``change synonym``, ``add`` / ``change`` / ``remove definition``, subsets,
``move``, ``change relationship``, ``change annotation``, ``obsolete`` / ``unobsolete``,
``create node`` / ``delete``; ``create edge`` / ``delete edge`` (with a literal object for
literal-valued annotations) only where nothing more specific fits.

Both versions are read into the same per-entity view (``EntityView``: labels, synonyms by
scope, definitions, subsets, is_a parents, relationships, other links and other literal
values, deprecation) by :mod:`pipeline.kgcl.rdf_diff` or :mod:`pipeline.kgcl.obo_diff`, which
also say how their side writes names (``Names``). Entity life-cycle commands
(``lifecycle_commands``: create, obsolete, unobsolete, delete) come first; the attribute
commands (``attribute_commands``) are the difference between the version the life-cycle
commands leave and the new one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rdflib import RDFS

from pipeline.kgcl.render import quote_label, quote_literal
from pipeline.kgcl.vocab import DEFINITION, REPLACED_BY


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
class Names:
    """How one side writes entities, properties, subsets and values in KGCL."""

    node: Callable[[str], str]
    subset: Callable[[str], str]
    value: Callable[[Value], str]
    is_class: Callable[[EntityView], bool]


def lifecycle_commands(old: View, new: View, names: Names) -> list[str]:
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


def attribute_commands(old: View, new: View, names: Names) -> list[str]:
    out: list[str] = []
    for key in sorted(new.keys()):
        out += _entity_commands(key, old.get(key, EntityView()), new[key], names)
    # entities only the old side has (and the lifecycle did not delete) lose their edges
    for key in sorted(old.keys() - new.keys()):
        out += _entity_commands(key, old[key], EntityView(), names)
    return out


def _entity_commands(key: str, old: EntityView, new: EntityView, names: Names) -> list[str]:
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


__all__ = ["EntityView", "Names", "Value", "View", "attribute_commands", "lifecycle_commands"]
