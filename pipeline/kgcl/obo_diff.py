"""Diffing two OBO documents into KGCL.

Each document is read into the per-entity view of :mod:`pipeline.kgcl.diff_commands`
(relationships are ``relationship:`` lines). The life-cycle commands are applied to a copy of
the old document, and the attribute commands are the difference between that intermediate and
the new document. Finally the whole request is applied to another copy of the old document and
the result compared with the new one: what KGCL cannot say (an OBO header, ``intersection_of``
and other tags with no command) is reported as an error rather than silently left out.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.diff_commands import (
    EntityView,
    Names,
    Value,
    View,
    attribute_commands,
    lifecycle_commands,
)
from pipeline.kgcl.obo_editor import apply_to_obo
from pipeline.kgcl.obo_format import PROPERTY_OF_TAG, TAG_OF, OboDocument, TagLine, read_quoted
from pipeline.kgcl.render import quote_label, quote_literal, render_id
from pipeline.kgcl.vocab import PrefixMap, is_curie, is_iri


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


def _obo_names(doc: OboDocument) -> Names:
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

    return Names(node=lambda k: prop(k), subset=lambda s: s,
                 value=lambda v: quote_literal(v.text), is_class=lambda e: True)


def diff_obo(old: OboDocument, new: OboDocument, *, verify: bool = True) -> list[str]:
    """KGCL commands that turn ``old`` into ``new`` (neither is modified)."""
    old_view, new_view = obo_view(old), obo_view(new)
    lifecycle = lifecycle_commands(old_view, new_view, _obo_names(new))
    mid = old.copy()
    if lifecycle:
        apply_to_obo(mid, "\n".join(lifecycle))
    names = _obo_names(_merged(mid, new))
    commands = lifecycle + attribute_commands(obo_view(mid), new_view, names)
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


__all__ = ["diff_obo", "obo_view"]
