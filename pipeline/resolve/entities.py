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

Rewriting assertions onto the canonical entities, and back, is ``pipeline.resolve.merges``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.embeddings.base import Embedder, l2_normalise
from pipeline.errors import ConfigurationError
from pipeline.models import (
    Assertion,
    EntityId,
    EntityRef,
    MergeReason,
    MergeRecord,
    Ontology,
)
from pipeline.text.name_tables import STOPWORDS
from pipeline.text.names import long_forms_in_text
from pipeline.text.normalise import resolution_key
from pipeline.text.spans import find_mention

#: the rules in the order their links are trusted (and joined)
_RANK: dict[str, int] = {"normalised-form": 0, "alias": 1, "embedding": 2}

#: rows of the similarity matrix computed at once (block x n floats in memory)
_DEFAULT_BLOCK = 1024


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
    words = [w for w in resolution_key(label).split() if w not in STOPWORDS]
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


__all__ = ["EntityResolver", "aliases_in_text", "mention_counts"]
