"""Entity resolution: mentions of one entity become one node, and every merge can be undone.

``EntityResolver.plan`` links entities by three rules, strongest first:

- ``normalised-form``: the labels agree once case, punctuation, spacing, a leading "the", a
  possessive "'s", dotted initials ("N.A.S.A.") and one trailing corporate suffix ("Inc.",
  "Ltd", "Corp", ...) are set aside (``resolution_key``);
- ``alias``: the labels are an alias pair, given by the user (``aliases``) or written in a text
  as "Long Name (ACRO)", or one label is an acronym of the initials of a multi-word label and a
  single text writes both;
- ``embedding``: the cosine similarity of the label embeddings reaches ``threshold``.

Links are joined with union-find, strongest first, and only between type-compatible groups:
every two classes in a group must be equal or one a subclass of the other, so "Apple" the
company and "apple" the fruit never meet, even through a third entity. Each resulting group
yields one ``MergeRecord`` per non-canonical member, all pointing at the group's canonical
entity.

``apply_merges`` rewrites assertions onto canonical entities and combines those that become
the same triple; ``undo_merge`` splits them back using the surface form every provenance keeps
(``Provenance.subject_mention`` / ``object_mention``); ``merge_changes`` turns either result
into store changes, so a store applies a merge or its undo in one transaction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.confidence.scoring import AGREEMENT_ONLY, ConfidenceModel
from pipeline.embeddings.base import Embedder, l2_normalise
from pipeline.errors import ConfigurationError, InputError
from pipeline.models import (
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    EntityId,
    EntityRef,
    MergeReason,
    MergeRecord,
    Ontology,
    Provenance,
    RemoveAssertion,
    Triple,
    Violation,
    normalize_label,
)
from pipeline.store.rules import ProvenanceKey, provenance_key, provenance_order
from pipeline.text.grounding import find_mention
from pipeline.text.names import long_forms_in_text
from pipeline.text.normalise import resolution_key

#: the rules in the order their links are trusted (and joined)
_RANK: dict[str, int] = {"normalised-form": 0, "alias": 1, "embedding": 2}

#: words an acronym usually skips ("National Aeronautics and Space Administration" → NASA)
_STOPWORDS = frozenset({"a", "an", "and", "at", "de", "der", "des", "du", "for", "in", "la",
                        "le", "of", "on", "the", "to", "und"})

#: rows of the similarity matrix computed at once (block x n floats in memory)
_DEFAULT_BLOCK = 1024


# --------------------------------------------------------------------------- records




# --------------------------------------------------------------------------- label forms


def _acronym_letters(label: str) -> str | None:
    """The capitals of ``label`` if it reads as an acronym ("ESA", "N.A.S.A.", "DoD")."""
    text = label.strip().replace(".", "")
    if not re.fullmatch(r"[A-Z][A-Za-z&]{1,11}", text):
        return None
    upper = [c for c in text if c.isupper()]
    lower = sum(1 for c in text if c.islower())
    return "".join(upper) if len(upper) >= 2 and lower < len(upper) else None


def _initials(label: str) -> str | None:
    """The capitalised initials of a multi-word name's content words, or None."""
    words = [w for w in resolution_key(label).split() if w not in _STOPWORDS]
    return "".join(w[0] for w in words).upper() if len(words) >= 2 else None


def aliases_in_text(text: str) -> list[tuple[str, str]]:
    """Every "Long Name (ACRO)" in ``text`` as ``(long name, acronym)``, in order (the text
    layer's ``long_forms_in_text``, the one reading grounding uses too)."""
    return long_forms_in_text(text)


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True, order=True)
class _Link:
    """A reason to merge entities ``i`` and ``j`` (indices); sorts strongest first."""

    rank: int
    neg_score: float
    i: int
    j: int
    reason: MergeReason

    @property
    def score(self) -> float:
        return -self.neg_score


def _link(reason: MergeReason, score: float, i: int, j: int) -> _Link:
    a, b = (i, j) if i < j else (j, i)
    return _Link(_RANK[reason], -float(score), a, b, reason)


class _Groups:
    """Union-find whose groups only ever hold pairwise type-compatible classes."""

    def __init__(self, entities: Sequence[EntityRef], ontology: Ontology) -> None:
        self.parent = list(range(len(entities)))
        self.types: list[set[str]] = [{e.type_iri} for e in entities]
        self.ontology = ontology
        self._compat: dict[tuple[str, str], bool] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def compatible(self, a: str, b: str) -> bool:
        if a == b:
            return True
        key = (a, b) if a < b else (b, a)
        if key not in self._compat:
            self._compat[key] = (self.ontology.is_subclass(a, b)
                                 or self.ontology.is_subclass(b, a))
        return self._compat[key]

    def union(self, i: int, j: int) -> bool:
        """Join the groups of ``i`` and ``j`` if every pair of their classes is compatible;
        True when two groups became one."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        if not all(self.compatible(a, b) for a in self.types[ri] for b in self.types[rj]):
            return False
        if rj < ri:
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.types[ri] |= self.types[rj]
        return True


class EntityResolver:
    """Plans entity merges; see the module docstring for the rules.

    ``aliases`` maps an alias to the name it stands for (``{"ESA": "European Space Agency"}``);
    both sides are matched through ``resolution_key``. ``embedder`` enables the embedding rule:
    all labels are embedded in one call and compared by blocked matrix products of
    ``block_size`` rows, so memory stays at ``block_size x n`` similarities.
    """

    def __init__(self, embedder: Embedder | None = None, threshold: float = 0.9,
                 aliases: Mapping[str, str] | None = None, *,
                 block_size: int = _DEFAULT_BLOCK) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise ConfigurationError(f"the embedding threshold is a cosine similarity in "
                                     f"[-1, 1], got {threshold}")
        if block_size < 1:
            raise ConfigurationError(f"block_size must be >= 1, got {block_size}")
        self.embedder = embedder
        self.threshold = float(threshold)
        self.aliases: tuple[tuple[str, str], ...] = tuple(sorted((aliases or {}).items()))
        self.block_size = block_size

    def plan(self, entities: Sequence[EntityRef], ontology: Ontology, texts: Sequence[str] = (),
             *, mentions: Mapping[EntityId, int] | None = None) -> list[MergeRecord]:
        """The merges that resolve ``entities``, ordered by (canonical id, merged id).

        ``texts`` are the documents (or chunks) the entities were read from, searched for
        "Long Name (ACRO)" and for acronyms written beside their long names. ``mentions``
        counts how often each entity id was stated (see ``mention_counts``).

        The canonical entity of a group is the one with the most mentions; then the longest
        ``resolution_key`` (the most informative name: "European Space Agency" over "ESA",
        without an article or a suffix counting); then the shortest label (the plainest of
        equivalent spellings: "NASA" over "N.A.S.A." or "NASA Inc."); then the smallest id.
        The plan depends only on the set of entities, not on their order.
        """
        ents = sorted({e.id: e for e in reversed(entities)}.values(), key=lambda e: e.id)
        if len(ents) < 2:
            return []
        keys = [resolution_key(e.label) for e in ents]
        links = [*self._normalised_links(keys), *self._alias_links(ents, keys, texts),
                 *self._embedding_links(ents)]
        links.sort()
        groups = _Groups(ents, ontology)
        joined = [link for link in links if groups.union(link.i, link.j)]
        counts = mentions or {}

        def rank(i: int) -> tuple[int, int, int, str]:
            e = ents[i]
            return (-counts.get(e.id, 0), -len(keys[i]), len(e.label), e.id)

        members: dict[int, list[int]] = defaultdict(list)
        for i in range(len(ents)):
            members[groups.find(i)].append(i)
        direct: dict[tuple[int, int], _Link] = {}
        for link in links:  # strongest first: keep the best direct link of each pair
            if groups.find(link.i) == groups.find(link.j):
                direct.setdefault((link.i, link.j), link)
        tree: dict[int, list[_Link]] = defaultdict(list)
        for link in joined:
            tree[link.i].append(link)
            tree[link.j].append(link)

        records: list[MergeRecord] = []
        for group in members.values():
            if len(group) < 2:
                continue
            canon = min(group, key=rank)
            via = _paths(canon, tree)
            for m in group:
                if m == canon:
                    continue
                link = direct.get((min(canon, m), max(canon, m))) or max(via[m])
                records.append(MergeRecord.make(ents[canon], ents[m], link.reason, link.score))
        return sorted(records, key=lambda r: (r.canonical.id, r.merged.id))

    # ---------------------------------------------------------------- rules
    @staticmethod
    def _normalised_links(keys: Sequence[str]) -> list[_Link]:
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if key:
                by_key[key].append(i)
        # a bucket holds spellings of one name, so it is tiny; every pair is linked so that
        # an incompatible member in between cannot keep two compatible ones apart
        return [_link("normalised-form", 1.0, a, b) for idx in by_key.values()
                for n, a in enumerate(idx) for b in idx[n + 1:]]

    def _alias_links(self, ents: Sequence[EntityRef], keys: Sequence[str],
                     texts: Sequence[str]) -> list[_Link]:
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if key:
                by_key[key].append(i)
        pairs: list[tuple[str, str]] = list(self.aliases)
        for text in texts:
            pairs.extend(aliases_in_text(text))
        links = [_link("alias", 1.0, a, b) for alias, name in pairs
                 for a in by_key.get(resolution_key(alias), ())
                 for b in by_key.get(resolution_key(name), ()) if a != b]
        if texts:
            links.extend(self._acronym_links(ents, texts))
        return links

    @staticmethod
    def _acronym_links(ents: Sequence[EntityRef], texts: Sequence[str]) -> list[_Link]:
        """An acronym entity and a multi-word entity with those initials, both written in
        one of ``texts``."""
        by_initials: dict[str, list[int]] = defaultdict(list)
        for i, e in enumerate(ents):
            initials = _initials(e.label)
            if initials:
                by_initials[initials].append(i)
        seen_in: dict[int, frozenset[int]] = {}

        def written_in(i: int) -> frozenset[int]:
            if i not in seen_in:
                seen_in[i] = frozenset(t for t, text in enumerate(texts)
                                       if find_mention(text, ents[i].label) is not None)
            return seen_in[i]

        links = []
        for i, e in enumerate(ents):
            letters = _acronym_letters(e.label)
            for j in by_initials.get(letters or "", ()):
                if j != i and written_in(i) & written_in(j):
                    links.append(_link("alias", 1.0, i, j))
        return links

    def _embedding_links(self, ents: Sequence[EntityRef]) -> list[_Link]:
        if self.embedder is None:
            return []
        n = len(ents)
        raw = np.asarray(self.embedder.embed([e.label for e in ents]), dtype=np.float32)
        if raw.ndim != 2 or raw.shape[0] != n:
            raise ConfigurationError(f"the embedder returned an array of shape {raw.shape} for "
                                     f"{n} labels; expected ({n}, dim)")
        vecs = l2_normalise(raw)
        cols = np.arange(n)
        links: list[_Link] = []
        for start in range(0, n, self.block_size):
            stop = min(start + self.block_size, n)
            sims = vecs[start:stop] @ vecs.T
            upper = cols[None, :] > np.arange(start, stop)[:, None]  # each pair once, i < j
            rows, hits = np.nonzero((sims >= self.threshold) & upper)
            links.extend(_link("embedding", float(sims[r, c]), start + int(r), int(c))
                         for r, c in zip(rows, hits, strict=True))
        return links


def _paths(root: int, tree: Mapping[int, list[_Link]]) -> dict[int, list[_Link]]:
    """For every node of ``root``'s spanning tree, the links on its path to ``root``."""
    via: dict[int, list[_Link]] = {root: []}
    todo = [root]
    while todo:
        cur = todo.pop()
        for link in tree.get(cur, ()):
            nxt = link.j if link.i == cur else link.i
            if nxt not in via:
                via[nxt] = [*via[cur], link]
                todo.append(nxt)
    return via


def mention_counts(assertions: Iterable[Assertion]) -> dict[EntityId, int]:
    """How often each entity is stated: every provenance of an assertion naming it counts
    once (an assertion without provenance counts once). Feed it to ``plan(mentions=...)``."""
    counts: dict[EntityId, int] = defaultdict(int)
    for a in assertions:
        weight = max(1, len(a.provenance))
        counts[a.triple.subject.id] += weight
        if isinstance(a.triple.object, EntityRef):
            counts[a.triple.object.id] += weight
    return dict(counts)


# --------------------------------------------------------------------------- rewriting


@dataclass(frozen=True)
class _Piece:
    """Some of the statements of ``source``, now about ``triple``. ``whole``: all of them."""

    triple: Triple
    provenance: tuple[Provenance, ...]
    source: Assertion
    whole: bool


def merge_targets(merges: Iterable[MergeRecord]) -> dict[EntityId, EntityRef]:
    """Each merged entity id mapped to the end of its chain of merges."""
    direct: dict[EntityId, EntityRef] = {}
    for r in merges:
        prev = direct.get(r.merged.id)
        if prev is not None and prev.id != r.canonical.id:
            raise InputError(f"entity {r.merged.id} ({r.merged.label!r}) is merged into both "
                             f"{prev.id} and {r.canonical.id}; pass one plan's records")
        direct[r.merged.id] = r.canonical
    resolved: dict[EntityId, EntityRef] = {}
    for eid, target in direct.items():
        seen = {eid}
        while target.id in direct:
            if target.id in seen:
                raise InputError(f"the merge records form a cycle through {target.id}")
            seen.add(target.id)
            target = direct[target.id]
        resolved[eid] = target
    return resolved


def _order(provenance: Iterable[Provenance]) -> tuple[Provenance, ...]:
    """Distinct provenance in the store's read order, ties broken by content."""
    unique = dict.fromkeys(provenance)
    return tuple(sorted(unique, key=lambda p: (provenance_order(p), p.model_dump_json())))


def _confidence(provenance: Sequence[Provenance], violations: Sequence[Violation],
                extra: Sequence[float], model: ConfidenceModel) -> float:
    """The scorer's confidence over the combined provenance: per chunk, the agreeing samples of
    every model over all samples drawn on it, then noisy-OR across chunks, with the soft-check
    penalties and calibration of ``model``. Statements from the same chunk, model and prompt
    (two mentions of one entity, now merged) are not independent, so only the strongest
    counts. ``extra`` are confidences of assertions with no provenance."""
    best: dict[ProvenanceKey, Provenance] = {}
    for p in provenance:
        k = provenance_key(p)
        if k not in best or p.samples_agreeing > best[k].samples_agreeing:
            best[k] = p
    return model.score(list(best.values()), violations, extra=extra)


def _violations(group: Sequence[_Piece]) -> tuple[Violation, ...]:
    """The soft violations of the combined pieces, each once, in a stable order."""
    found = {v for p in group for v in p.source.violations}
    return tuple(sorted(found, key=lambda v: (v.check, v.reason.value, v.detail)))


def _assemble(pieces: Sequence[_Piece], model: ConfidenceModel) -> list[Assertion]:
    """One assertion per triple key, ordered by id.

    An untouched assertion passes through as it is; one that was only rewritten keeps its
    confidence and status. Otherwise (pieces combined, or a source split) provenance is the
    union, confidence is recomputed (``_confidence``), and the status is that of the assertion
    already holding the key, else the status all pieces share, else draft (for review)."""
    groups: dict[AssertionId, list[_Piece]] = defaultdict(list)
    for piece in pieces:
        groups[piece.triple.key].append(piece)
    out: list[Assertion] = []
    for key, group in groups.items():
        if len(group) == 1 and group[0].whole:
            p = group[0]
            src = p.source
            if src.id == key and p.triple == src.triple and p.provenance == src.provenance:
                out.append(src)
            else:
                out.append(Assertion(id=key, triple=p.triple, confidence=src.confidence,
                                     status=src.status, provenance=_order(p.provenance),
                                     violations=src.violations))
            continue
        group.sort(key=lambda p: p.source.id)
        holder = next((p for p in group if p.source.id == key), None)
        statuses = {p.source.status for p in group}
        if holder is not None:
            status = holder.source.status
        else:
            status = statuses.pop() if len(statuses) == 1 else AssertionStatus.DRAFT
        provenance = _order(q for p in group for q in p.provenance)
        extra = [p.source.confidence for p in group if p.whole and not p.source.provenance]
        violations = _violations(group)
        out.append(Assertion(id=key, triple=(holder or group[0]).triple,
                             confidence=_confidence(provenance, violations, extra, model),
                             status=status, provenance=provenance, violations=violations))
    return sorted(out, key=lambda a: a.id)


def _filled(p: Provenance, subject: str | None, obj: str | None) -> Provenance:
    """``p`` with empty mentions filled (only for the sides given)."""
    update: dict[str, str] = {}
    if subject is not None and not p.subject_mention:
        update["subject_mention"] = subject
    if obj is not None and not p.object_mention:
        update["object_mention"] = obj
    return p.model_copy(update=update) if update else p


def apply_merges(assertions: Sequence[Assertion], merges: Sequence[MergeRecord], *,
                 confidence: ConfidenceModel = AGREEMENT_ONLY) -> list[Assertion]:
    """``assertions`` with every merged entity replaced by its canonical one, ordered by id.

    Chains of records (B into A, A into C) are followed to their end. Before a side is
    rewritten, each provenance with an empty mention on that side is given the old entity's
    label, so ``undo_merge`` can tell the statements apart again. Assertions that become the
    same triple are combined (see ``_assemble``). An assertion with no provenance is rewritten
    too, but no mention remembers where it came from, so an undo leaves it on the canonical
    entity. Combined assertions are scored by ``confidence`` (the build's model).
    """
    target = merge_targets(merges)
    pieces: list[_Piece] = []
    for a in assertions:
        s, o = a.triple.subject, a.triple.object
        new_s = target.get(s.id, s)
        new_o = target.get(o.id, o) if isinstance(o, EntityRef) else o
        if new_s is s and new_o is o:
            pieces.append(_Piece(a.triple, a.provenance, a, True))
            continue
        s_label = s.label if new_s is not s else None
        o_label = o.label if isinstance(o, EntityRef) and new_o is not o else None
        triple = Triple(subject=new_s, predicate=a.triple.predicate, object=new_o)
        provenance = tuple(_filled(p, s_label, o_label) for p in a.provenance)
        pieces.append(_Piece(triple, provenance, a, True))
    return _assemble(pieces, confidence)


def merged_triple(triple: Triple, targets: Mapping[EntityId, EntityRef]) -> Triple:
    """``triple`` with its entities replaced as ``targets`` (``merge_targets``) says."""
    s, o = triple.subject, triple.object
    return Triple(subject=targets.get(s.id, s), predicate=triple.predicate,
                  object=targets.get(o.id, o) if isinstance(o, EntityRef) else o)


def _names(mention: str, entity: EntityRef) -> bool:
    """Whether a surface form is a spelling of ``entity`` (its id comes from the form)."""
    if not mention:
        return False
    norm = normalize_label(mention)
    return norm == normalize_label(entity.label) or (
        EntityRef.make(mention, entity.type_iri).id == entity.id)


def undo_merge(assertions: Sequence[Assertion], record: MergeRecord, *,
               confidence: ConfidenceModel = AGREEMENT_ONLY) -> list[Assertion]:
    """The inverse of applying ``record``: every provenance whose subject (object) mention is
    a spelling of ``record.merged`` moves back to an assertion whose subject (object) is the
    merged entity; what remains stays. Split or recombined assertions get confidence and
    status as in ``apply_merges``; the result is ordered by id.

    Any assertion is searched, not only those on ``record.canonical``, so records of several
    plans can be undone in any order. Assertions with no provenance never move."""
    m = record.merged
    pieces: list[_Piece] = []
    for a in assertions:
        s, o = a.triple.subject, a.triple.object
        s_open = s.id != m.id
        o_open = isinstance(o, EntityRef) and o.id != m.id
        split: dict[AssertionId, tuple[Triple, list[Provenance]]] = {}
        if s_open or o_open:
            for p in a.provenance:
                back_s = s_open and _names(p.subject_mention, m)
                back_o = o_open and _names(p.object_mention, m)
                triple = a.triple if not (back_s or back_o) else Triple(
                    subject=m if back_s else s, predicate=a.triple.predicate,
                    object=m if back_o else o)
                split.setdefault(triple.key, (triple, []))[1].append(p)
        if not split or (len(split) == 1 and a.id in split):
            pieces.append(_Piece(a.triple, a.provenance, a, True))
            continue
        whole = len(split) == 1
        pieces.extend(_Piece(t, tuple(ps), a, whole) for t, ps in split.values())
    return _assemble(pieces, confidence)


# --------------------------------------------------------------------------- store changes


def _same(a: Assertion, b: Assertion) -> bool:
    return (a.triple == b.triple and a.status == b.status and a.confidence == b.confidence
            and set(a.provenance) == set(b.provenance))


def merge_changes(before: Sequence[Assertion],
                  after: Sequence[Assertion]) -> list[AddAssertion | RemoveAssertion]:
    """Store changes that turn the stored ``before`` into ``after``, for one
    ``GraphStore.apply_changes`` call (all or nothing): removals first, then additions, each
    in id order.

    A store merges an added assertion into an existing one (new confidence, missing provenance
    added, status kept), so an assertion that only gained provenance or confidence is simply
    added again; one that lost provenance, changed status or changed any provenance's content
    is removed and added back. A store keeps one provenance per (chunk, model, prompt
    version) of an assertion: when two merged mentions were stated in the same chunk by the
    same model and prompt, it keeps the first, and an undo from the store's copy cannot tell
    that pair apart again. Entities left without assertions stay in the store.
    """
    old = {a.id: a for a in before}
    new: dict[AssertionId, Assertion] = {}
    for a in after:
        if a.id in new and a != new[a.id]:
            raise InputError(f"'after' holds two different assertions with id {a.id}")
        new[a.id] = a
    removes = [RemoveAssertion(assertion_id=aid) for aid in old if aid not in new]
    adds: list[AddAssertion | RemoveAssertion] = []
    for aid in sorted(new):
        a, b = new[aid], old.get(aid)
        if b is not None and _same(a, b):
            continue
        if b is not None and not (a.triple == b.triple and a.status == b.status
                                  and set(b.provenance) <= set(a.provenance)):
            removes.append(RemoveAssertion(assertion_id=aid))
        adds.append(AddAssertion(assertion=a))
    removes.sort(key=lambda c: c.assertion_id)
    return [*removes, *adds]


__all__ = [
    "EntityResolver",
    "MergeReason",
    "MergeRecord",
    "aliases_in_text",
    "apply_merges",
    "mention_counts",
    "merge_changes",
    "resolution_key",
    "undo_merge",
]
