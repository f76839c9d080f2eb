"""The OBO editor: applies parsed KGCL changes to a working copy of an OBO document.

KGCL references resolve as in OWL: an id (``GO:0005634``, or its IRI
``<http://purl.obolibrary.org/obo/GO_0005634>``), a relation by its Typedef id's
cross-reference (``BFO:0000050`` is ``part_of`` when the Typedef says ``xref: BFO:0000050``) or
a quoted ``name:``. The editor finds stanzas and tag lines and adds, removes or rewrites single
lines; what each change type does is in :mod:`pipeline.kgcl.obo_changes`.

Changes apply to a copy of the document and replace it only when every command succeeded.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.obo_changes import HANDLERS
from pipeline.kgcl.obo_format import (
    TAG_OF,
    TAG_ORDER,
    OboDocument,
    Stanza,
    TagLine,
    eol,
    escape_text,
    strip_eol,
)
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.kgcl.rejection import Rejection, reject
from pipeline.kgcl.vocab import DEFAULT_PREFIXES, PrefixMap, is_iri

#: a tag's place in ``TAG_ORDER`` (where ``insert`` puts a new line of it)
_RANK = {t: i for i, t in enumerate(TAG_ORDER)}


@dataclass(frozen=True)
class OboApplyResult:
    """What a request did to a document: the lines it added and removed, each with the id of
    its stanza."""

    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    commands: int
    dry_run: bool = False


def _changed_lines(old: OboDocument, new: OboDocument
                   ) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The non-blank lines, with their stanza's id, of the stanzas that differ."""
    def by_key(doc: OboDocument) -> dict[str, list[Stanza]]:
        out: dict[str, list[Stanza]] = {}
        for s in doc.stanzas:
            out.setdefault((s.id or "") if s.kind else "", []).append(s)
        return out

    a, b = by_key(old), by_key(new)
    before: Counter[tuple[str, str]] = Counter()
    after: Counter[tuple[str, str]] = Counter()
    for key in a.keys() | b.keys():
        old_lines = [line for s in a.get(key, []) for line in s.lines]
        new_lines = [line for s in b.get(key, []) for line in s.lines]
        if old_lines != new_lines:
            before.update((key, strip_eol(x)) for x in old_lines if x.strip())
            after.update((key, strip_eol(x)) for x in new_lines if x.strip())
    return before, after


class OboEditor:
    """Applies parsed KGCL changes to a working copy of an OBO document."""

    def __init__(self, doc: OboDocument) -> None:
        self.original = doc
        self.doc = doc.copy()
        self.prefixes = PrefixMap(doc.idspaces())

    def apply(self, parsed: Sequence[ParsedChange], *, dry_run: bool = False) -> OboApplyResult:
        for pc in parsed:
            handler = HANDLERS.get(type(pc.change))
            try:
                if handler is None:
                    reject(f"{type(pc.change).__name__} is not supported")
                handler(self, pc.change)
            except Rejection as exc:
                raise ChangeRequestError(f"line {pc.line}: {pc.text!r}: {exc}") from None
        before, after = _changed_lines(self.original, self.doc)
        added = tuple(sorted((after - before).elements()))
        removed = tuple(sorted((before - after).elements()))
        if not dry_run:
            self.original.stanzas = self.doc.stanzas
            self.original.invalidate()
        return OboApplyResult(added=added, removed=removed, commands=len(parsed),
                              dry_run=dry_run)

    # ------------------------------------------------------------------ references

    def obo_id(self, value: str) -> str:
        """An id as the document writes it: ``GO:0005634`` for its OBO IRI
        (``<http://purl.obolibrary.org/obo/GO_0005634>``) or ``obo:GO_0005634``; a CURIE of
        the document's own id spaces as it is."""
        if not is_iri(value):
            prefix = value.partition(":")[0]
            if prefix not in DEFAULT_PREFIXES:
                return value
            iri = self.prefixes.expand(value)
            if iri is None:
                reject(f"{value!r} is not a CURIE or IRI")
        else:
            iri = value
        for prefix, ns in sorted(self.doc.idspaces().items(), key=lambda t: -len(t[1])):
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        curie = self.prefixes.contract(iri)
        if curie is not None and curie.partition(":")[0] not in DEFAULT_PREFIXES:
            return curie
        return value

    def by_name(self, label: str, kinds: tuple[str, ...] = ("Term", "Typedef", "Instance")
                ) -> Stanza:
        found = [s for s in self.doc.stanzas[1:]
                 if s.kind in kinds and label in s.values("name")]
        if not found:
            reject(f"no entity is named {label!r}")
        if len(found) > 1:
            reject(f"the name {label!r} is ambiguous ({', '.join(s.id or '?' for s in found)});"
                   " use the id")
        return found[0]

    def ref(self, value: str | None, kind: str | None = None) -> str:
        """The id a reference names (the entity need not exist)."""
        if not value:
            reject("the command names no entity")
        if kind == "literal":
            reject(f'a literal ("{value}") cannot name an entity')
        if kind == "label" or (len(value) >= 2 and value[0] == value[-1] == "'"):
            return self.by_name(value if kind == "label" else value[1:-1]).id or ""
        oid = self.obo_id(value)
        if self.doc.get(oid) is None:
            typedef = self.typedef_by_xref(oid)
            if typedef is not None:
                return typedef.id or oid
        return oid

    def typedef_by_xref(self, curie: str) -> Stanza | None:
        return self.doc.typedef_xrefs().get(curie)

    def stanza(self, value: str | None, kind: str | None = None) -> Stanza:
        oid = self.ref(value, kind)
        stanza = self.doc.get(oid)
        if stanza is None:
            reject(f"unknown entity {oid}")
        return stanza

    def predicate(self, value: str, kind: str | None) -> tuple[str, str]:
        """(tag, relation): ``("is_a", "")``, an OBO-in-OWL tag, or ``("relationship", R)``."""
        if kind != "label" and not (value.startswith("'") and value.endswith("'")):
            iri = self.prefixes.expand(value)
            if iri is not None and iri in TAG_OF:
                return TAG_OF[iri][0], iri
        return "relationship", self.ref(value, kind)

    # ------------------------------------------------------------------ lines

    def line(self, text: str) -> str:
        return text + self.doc.newline

    def comment_for(self, target: str) -> str:
        name = self.doc.name_of(target)
        return f" ! {escape_text(name)}" if name else ""

    def insert(self, stanza: Stanza, tag: str, text: str) -> None:
        """A new tag line at its place in the stanza."""
        rank = _RANK.get(tag, len(TAG_ORDER))
        tags = list(stanza.tags())
        same = [i for i, tl in tags if tl.tag == tag]
        later = [i for i, tl in tags if _RANK.get(tl.tag, len(TAG_ORDER)) > rank]
        if same:
            at = same[-1] + 1
        elif later:
            at = later[0]
        else:
            at = tags[-1][0] + 1 if tags else len(stanza.lines)
        if at > 0 and not eol(stanza.lines[at - 1]):
            stanza.lines[at - 1] += self.doc.newline
        stanza.lines.insert(at, self.line(text))

    @staticmethod
    def remove(stanza: Stanza, index: int) -> None:
        del stanza.lines[index]

    def replace(self, stanza: Stanza, index: int, text: str) -> None:
        stanza.lines[index] = text + (eol(stanza.lines[index]) or "")

    def replace_span(self, stanza: Stanza, index: int, start: int, end: int, new: str) -> None:
        old = strip_eol(stanza.lines[index])
        self.replace(stanza, index, old[:start] + new + old[end:])

    def retarget(self, stanza: Stanza, index: int, tl: TagLine, value: str,
                 target: str | None) -> None:
        """Rewrite a line's value, keep its qualifiers, give it the comment of its target."""
        old = strip_eol(stanza.lines[index])
        quals = f" {tl.qualifiers}" if tl.qualifiers else ""
        comment = self.comment_for(target) if target else (f" ! {tl.comment}"
                                                           if tl.comment else "")
        self.replace(stanza, index, old[:tl.value_start] + value + quals + comment)

    # ------------------------------------------------------------------ edges

    def edge_lines(self, stanza: Stanza, tag: str, rel: str, target: str
                   ) -> list[tuple[int, TagLine]]:
        if tag == "relationship":
            return [(i, tl) for i, tl in stanza.tags("relationship")
                    if tl.words[:2] == [rel, target]]
        return [(i, tl) for i, tl in stanza.tags(tag) if tl.words[:1] == [target]]

    def edge_value(self, tag: str, rel: str, target: str) -> str:
        return f"{rel} {target}" if tag == "relationship" else target

    def ancestors(self, entity_id: str) -> set[str]:
        seen: set[str] = set()
        todo = [entity_id]
        while todo:
            stanza = self.doc.get(todo.pop())
            for _, tl in stanza.tags("is_a") if stanza is not None else ():
                parent = tl.words[0] if tl.words else ""
                if parent and parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def is_obsolete(self, stanza: Stanza) -> bool:
        return any(v.strip().lower() == "true" for v in stanza.values("is_obsolete"))

    def subset(self, name: str) -> str:
        if ":" in name or is_iri(name):
            name = re.split(r"[#/:]", name)[-1]
        if name not in self.doc.subsets():
            reject(f"unknown subset {name!r} (no subsetdef in the header)")
        return name


def apply_to_obo(doc: OboDocument, request: str | Sequence[ParsedChange], *,
                 dry_run: bool = False) -> OboApplyResult:
    """Apply a KGCL change request to an OBO document in place: every command, or (on the
    first that cannot apply) none, raising ``ChangeRequestError``."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    return OboEditor(doc).apply(parsed, dry_run=dry_run)


__all__ = ["OboApplyResult", "OboEditor", "apply_to_obo"]
