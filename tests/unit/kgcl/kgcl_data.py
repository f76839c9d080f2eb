"""The shared KGCL development data (read in place) and a generator of valid random commands.

The generator looks at the current state of an ontology (an RDF graph or an OBO document,
through the same small interface) and draws a command that must apply to it: an existing
label to rename, a synonym that is there to remove, a parent with a real descendant to deepen
to, … so that a property test can apply a random sequence and then check what the diff says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from hypothesis import strategies as st
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from pipeline.kgcl.obo_format import OboDocument, Stanza
from pipeline.kgcl.rdf_editor import GraphEditor
from pipeline.kgcl.render import quote_label, quote_literal
from pipeline.kgcl.vocab import (
    DEFINITION,
    IN_SUBSET,
    OBO,
    OBSOLETE_CLASS,
    OIO,
    SYNONYM_SCOPES,
    PrefixMap,
)
from verikg_cli.shared_data import shared_data_dir

_SHARED = shared_data_dir()
KGCL_DEV = (_SHARED or Path("shared-data-not-found")) / "kgcl-dev"
GO_TTL = KGCL_DEV / "ontologies" / "go-nucleus.owl.ttl"
GO_OBO = KGCL_DEV / "ontologies" / "go-nucleus.obo"
CASES = KGCL_DEV / "cases.jsonl"


def cases() -> list[dict[str, Any]]:
    """The reference cases (none when the shared data is missing: a test says so)."""
    if not CASES.is_file():
        return []
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()
            if line.strip()]


#: Text for new labels, synonyms and definitions: quotes, backslashes, OBO's comment and
#: qualifier characters and non-ASCII included; no leading or trailing blanks.
TEXT = st.text(alphabet=st.sampled_from(list("abcdxyzAB 19'\"\\!{}#:-@^é漢")), min_size=1,
               max_size=12).map(str.strip).filter(lambda t: bool(t) and
                                                  not t.startswith("obsolete"))
XREF = st.from_regex(r"\A[A-Z]{2,5}:[a-z0-9_]{1,8}\Z")
RELATIONS = ["BFO:0000050", "BFO:0000051", "RO:0002131"]  # part of, has part, overlaps


class OntologyState(Protocol):
    """What the generator needs to know about an ontology, in KGCL ids."""

    def classes(self) -> list[str]: ...
    def obsolete_classes(self) -> list[str]: ...
    def exists(self, x: str) -> bool: ...
    def labels(self, x: str) -> list[str]: ...
    def synonyms(self, x: str) -> list[tuple[str, str]]: ...  # (qualifier or "", text)
    def definitions(self, x: str) -> list[str]: ...
    def subsets(self, x: str) -> list[str]: ...
    def all_subsets(self) -> list[str]: ...
    def parents(self, x: str) -> list[str]: ...
    def children(self, x: str) -> list[str]: ...
    def restrictions(self, x: str) -> list[tuple[str, str]]: ...  # (relation CURIE, filler)
    def xrefs(self, x: str) -> list[str]: ...
    def comments(self, x: str) -> list[str]: ...


class RdfState:
    """An rdflib graph seen through KGCL ids (CURIEs)."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.pm = PrefixMap.for_graph(graph)
        self.ed = GraphEditor(graph, self.pm)

    def id(self, node: Any) -> str:
        return self.pm.contract(str(node)) or f"<{node}>"

    def node(self, x: str) -> URIRef:
        return URIRef(self.pm.expand(x) or x.strip("<>"))

    def classes(self) -> list[str]:
        return sorted(self.id(s) for s in self.g.subjects(RDF.type, OWL.Class)
                      if isinstance(s, URIRef) and str(s).startswith(str(OBO))
                      and self.g.value(s, RDFS.label) is not None and not self.ed.is_obsolete(s))

    def obsolete_classes(self) -> list[str]:
        return sorted(self.id(s) for s in self.g.subjects(RDF.type, OWL.Class)
                      if isinstance(s, URIRef) and self.ed.is_obsolete(s))

    def exists(self, x: str) -> bool:
        return self.ed.exists(self.node(x))

    def labels(self, x: str) -> list[str]:
        return sorted(str(o) for o in self.g.objects(self.node(x), RDFS.label))

    def synonyms(self, x: str) -> list[tuple[str, str]]:
        n = self.node(x)
        return sorted((SYNONYM_SCOPES[p] or "", str(o)) for p in SYNONYM_SCOPES
                      for o in self.g.objects(n, p))

    def definitions(self, x: str) -> list[str]:
        return sorted(str(o) for o in self.g.objects(self.node(x), DEFINITION))

    def comments(self, x: str) -> list[str]:
        return sorted(str(o) for o in self.g.objects(self.node(x), RDFS.comment))

    def subsets(self, x: str) -> list[str]:
        return sorted(str(o).rsplit("#", 1)[-1] for o in self.g.objects(self.node(x), IN_SUBSET))

    def all_subsets(self) -> list[str]:
        return sorted({str(o).rsplit("#", 1)[-1] for o in self.g.objects(None, IN_SUBSET)})

    def parents(self, x: str) -> list[str]:
        return sorted(self.id(o) for o in self.g.objects(self.node(x), RDFS.subClassOf)
                      if isinstance(o, URIRef) and o != OBSOLETE_CLASS)

    def children(self, x: str) -> list[str]:
        return sorted(self.id(s) for s in self.g.subjects(RDFS.subClassOf, self.node(x))
                      if isinstance(s, URIRef))

    def restrictions(self, x: str) -> list[tuple[str, str]]:
        out = []
        for b in self.g.objects(self.node(x), RDFS.subClassOf):
            r = self.ed.restriction(b) if isinstance(b, BNode) else None
            if r is not None:
                out.append((self.id(r[0]), self.id(r[1])))
        return sorted(out)

    def xrefs(self, x: str) -> list[str]:
        return sorted(str(o) for o in self.g.objects(self.node(x), OIO["hasDbXref"])
                      if isinstance(o, Literal))


class OboState:
    """An OBO document seen through KGCL ids (relations by their Typedef's xref CURIE)."""

    def __init__(self, doc: OboDocument) -> None:
        self.doc = doc
        self.rel_curie = {s.id: curie for curie, s in doc.typedef_xrefs().items()
                          if s.id and ":" in curie}

    def stanza(self, x: str) -> Stanza | None:
        return self.doc.get(x)

    def _terms(self) -> Iterator[Stanza]:
        return (s for s in self.doc.stanzas[1:] if s.kind == "Term" and s.id)

    def classes(self) -> list[str]:
        return sorted(s.id for s in self._terms() if s.values("name")
                      and not s.values("is_obsolete"))  # type: ignore[misc]

    def obsolete_classes(self) -> list[str]:
        return sorted(s.id for s in self._terms() if s.values("is_obsolete"))  # type: ignore[misc]

    def exists(self, x: str) -> bool:
        return self.doc.get(x) is not None

    def _values(self, x: str, tag: str) -> list[str]:
        s = self.doc.get(x)
        return s.values(tag) if s is not None else []

    def labels(self, x: str) -> list[str]:
        return sorted(self._values(x, "name"))

    def synonyms(self, x: str) -> list[tuple[str, str]]:
        s = self.doc.get(x)
        return sorted(((tl.scope() or "RELATED").lower(), tl.text)
                      for _, tl in (s.tags("synonym") if s is not None else ()))

    def definitions(self, x: str) -> list[str]:
        return sorted(self._values(x, "def"))

    def comments(self, x: str) -> list[str]:
        return sorted(v.strip() for v in self._values(x, "comment"))

    def subsets(self, x: str) -> list[str]:
        return sorted(v.strip() for v in self._values(x, "subset"))

    def all_subsets(self) -> list[str]:
        return sorted(self.doc.subsets())

    def parents(self, x: str) -> list[str]:
        return sorted(v.split()[0] for v in self._values(x, "is_a") if v.split())

    def children(self, x: str) -> list[str]:
        return sorted(s.id for s in self._terms()  # type: ignore[misc]
                      if x in [v.split()[0] for v in s.values("is_a") if v.split()])

    def restrictions(self, x: str) -> list[tuple[str, str]]:
        out = []
        for v in self._values(x, "relationship"):
            words = v.split()
            if len(words) >= 2 and words[0] in self.rel_curie:
                out.append((self.rel_curie[words[0]], words[1]))
        return sorted(out)

    def xrefs(self, x: str) -> list[str]:
        return sorted(v for v in self._values(x, "xref") if " " not in v)


def _closure(state: OntologyState, x: str, step: str) -> set[str]:
    seen: set[str] = set()
    todo = [x]
    while todo:
        for y in getattr(state, step)(todo.pop()):
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return seen


def _scope(q: str) -> str:
    return f"{q} " if q else ""


def _build(op: str, data: st.DataObject, s: OntologyState, x: str, obo: bool,
           classes: list[str]) -> str | None:
    """One command of kind ``op`` about ``x`` that applies now, or None when none does."""
    draw = data.draw
    others = [c for c in classes if c != x]
    if op == "rename" and s.labels(x):
        old = s.labels(x)[0]
        new = draw(TEXT.filter(lambda t: t != old))
        return f"rename {x} from {quote_label(old)} to {quote_label(new)}"
    if op == "create_node":
        n = draw(st.integers(0, 99999))
        new_id = f"GO:99{n:05d}"
        return None if s.exists(new_id) else f"create node {new_id} {quote_label(draw(TEXT))}"
    if op == "create_class":
        n = draw(st.integers(0, 99999))
        new_id = f"GO:98{n:05d}"
        return None if s.exists(new_id) else f"create {new_id}"
    if op == "new_synonym":
        q = draw(st.sampled_from(["exact", "broad", "narrow", "related"] + ([] if obo else [""])))
        have = {t for sq, t in s.synonyms(x) if sq == (q or ("related" if obo else ""))}
        text = draw(TEXT.filter(lambda t: t not in have))
        return f"create {_scope(q)}synonym {quote_label(text)} for {x}"
    if op == "remove_synonym" and s.synonyms(x):
        _, text = draw(st.sampled_from(s.synonyms(x)))
        return f"remove synonym {quote_label(text)} for {x}"
    if op == "change_synonym":
        syns = s.synonyms(x)
        unique = [(q, t) for q, t in syns if sum(1 for _, u in syns if u == t) == 1]
        if unique:
            q, old = draw(st.sampled_from(unique))
            new = draw(TEXT.filter(lambda t: t not in {u for _, u in syns}))
            return f"change {_scope(q)}synonym {quote_label(old)} for {x} to {quote_label(new)}"
    if op == "delete":
        return f"delete {x}"
    if op == "obsolete":
        if others and draw(st.booleans()):
            return f"obsolete {x} with replacement {draw(st.sampled_from(others))}"
        return f"obsolete {x}"
    if op == "unobsolete" and s.obsolete_classes():
        return f"unobsolete {draw(st.sampled_from(s.obsolete_classes()))}"
    if op in ("deepen", "shallow") and s.parents(x):
        a = draw(st.sampled_from(s.parents(x)))
        below_x = _closure(s, x, "children") | {x}
        if op == "deepen":
            targets = _closure(s, a, "children") - below_x - set(s.parents(x))
        else:
            targets = _closure(s, a, "parents") - below_x - set(s.parents(x))
        targets = {t for t in targets if s.exists(t) or op == "shallow"}
        if targets:
            return f"{op} {x} from {a} to {draw(st.sampled_from(sorted(targets)))}"
    if op == "move_is_a" and s.parents(x):
        a = draw(st.sampled_from(s.parents(x)))
        targets = [c for c in others if c not in s.parents(x)]
        if targets:
            b = draw(st.sampled_from(targets))
            return f"move {x} rdfs:subClassOf {a} from {a} to {b}"
    if op == "move_relation" and s.restrictions(x):
        p, y = draw(st.sampled_from(s.restrictions(x)))
        targets = [c for c in others if (p, c) not in s.restrictions(x)]
        if targets:
            b = draw(st.sampled_from(targets))
            return f"move {x} {p} {y} from {y} to {b}"
    if op == "change_relationship" and s.restrictions(x):
        p, y = draw(st.sampled_from(s.restrictions(x)))
        qs = [q for q in RELATIONS if q != p and (q, y) not in s.restrictions(x)]
        if qs:
            return (f"change relationship between {x} and {y} from {p} to "
                    f"{draw(st.sampled_from(qs))}")
    if op == "change_annotation" and s.xrefs(x):
        old = draw(st.sampled_from(s.xrefs(x)))
        new = draw(XREF.filter(lambda t: t not in s.xrefs(x)))
        return (f"change annotation of {x} with oboInOwl:hasDbXref from {quote_literal(old)} "
                f"to {quote_literal(new)}")
    if op == "create_edge" and others:
        p = draw(st.sampled_from(RELATIONS + ["rdfs:subClassOf"]))
        y = draw(st.sampled_from(others))
        taken = (y in s.parents(x)) if p == "rdfs:subClassOf" else ((p, y) in s.restrictions(x))
        return None if taken else f"create edge {x} {p} {y}"
    if op == "delete_edge":
        edges = [("rdfs:subClassOf", y) for y in s.parents(x)] + s.restrictions(x)
        if edges:
            p, y = draw(st.sampled_from(edges))
            return f"delete edge {x} {p} {y}"
    if op == "change_definition" and s.definitions(x):
        new = draw(TEXT.filter(lambda t: t not in s.definitions(x)))
        return f"change definition of {x} to {quote_label(new)}"
    if op == "add_definition" and not s.definitions(x):
        return f"add definition {quote_label(draw(TEXT))} to {x}"
    if op == "remove_definition" and s.definitions(x):
        return f"remove definition for {x}"
    if op == "add_to_subset":
        free = [t for t in s.all_subsets() if t not in s.subsets(x)]
        if free:
            return f"add {x} to subset {draw(st.sampled_from(free))}"
    if op == "remove_from_subset":
        # only subsets the header declares: the editors refuse an undeclared one (a term of
        # the CHEBI slice carries one; a random draw hit it in CI)
        declared = [v for v in s.subsets(x) if v in s.all_subsets()]
        if declared:
            return f"remove {x} from subset {draw(st.sampled_from(declared))}"
    if op == "create_literal_edge":
        text = draw(TEXT)
        if {text, text.strip()} & set(s.comments(x)):  # that edge exists: refused if made again
            return None
        return f'create edge {x} rdfs:comment {quote_literal(text)}'
    return None


OPS = ["rename", "create_node", "create_class", "new_synonym", "remove_synonym",
       "change_synonym", "delete", "obsolete", "unobsolete", "deepen", "shallow", "move_is_a",
       "move_relation", "change_relationship", "change_annotation", "create_edge", "delete_edge",
       "change_definition", "add_definition", "remove_definition", "add_to_subset",
       "remove_from_subset", "create_literal_edge"]


def draw_command(data: st.DataObject, state: OntologyState, *, obo: bool = False) -> str:
    """A random command that applies to the ontology as it is now."""
    classes = state.classes()
    x = data.draw(st.sampled_from(classes), label="entity")
    op = data.draw(st.sampled_from(OPS), label="op")
    command = _build(op, data, state, x, obo, classes)
    if command is None:  # that kind does not fit this entity: a synonym always does
        command = _build("new_synonym", data, state, x, obo, classes)
    assert command is not None
    return command


#: Valid commands over the GO slice, in both formats, for mutation fuzzing and atomicity.
VALID_GO_COMMANDS = [
    "rename GO:0005634 from 'nucleus' to 'cell core'",
    "create exact synonym 'karyon' for GO:0005634",
    "remove synonym 'horsetail nucleus' for GO:0005634",
    "change definition of GO:0005635 to 'The envelope.'",
    "add GO:0005635 to subset goslim_pir",
    "remove GO:0005635 from subset goslim_generic",
    "create edge GO:0005635 BFO:0000050 GO:0005737",
    "delete edge GO:0005635 BFO:0000050 GO:0005634",
    "change relationship between GO:0005635 and GO:0012505 from BFO:0000050 to RO:0002131",
    "obsolete GO:0005634 with replacement GO:0005635",
    "move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0031967 to GO:0043231",
    "deepen GO:0005634 from GO:0043231 to GO:0005773",
    "create node GO:9999999 'brand new'",
    "delete GO:0005737",
]
