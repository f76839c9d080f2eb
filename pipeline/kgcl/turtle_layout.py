"""Editing a Turtle file in place: every statement block a change did not touch keeps its text.

A Turtle file is split into its top-level statements — directives (``@prefix``, ``@base``,
``PREFIX``, ``BASE``) and triple blocks ending in ``.`` — with the comments and blank lines
between them. Each triple block is parsed on its own (under the directives before it), so
every triple of the graph belongs to exactly one block. After a change request, only the
blocks holding a removed triple or the subject of an added one are written again (by
:mod:`pipeline.kgcl.turtle_render`, in the file's prefixes and layout habits); new subjects go
to the end, in IRI order. The header, the comments and every other block stay byte for byte.

The split is checked: the blocks must parse, blank-node labels (``_:x``) must not be shared
between blocks, and together the blocks must give exactly the triples of the whole file.
When a check fails, :func:`edit_turtle` writes the whole graph in a stable sorted order with
the file's own prefixes and says why.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import BNode, Graph
from rdflib.term import Node

from pipeline.kgcl.rdf_compare import RdfTriple
from pipeline.kgcl.turtle_render import Style, TurtleWriter, Unwritable, prefix_lines


class Unsplittable(Exception):
    """The file cannot be split into blocks safely (the message says why)."""


@dataclass
class Block:
    """A top-level statement: its text, the comments and blank lines before it, and (for a
    triple block) the triples it states."""

    gap: str
    text: str
    directive: bool
    triples: list[RdfTriple] = field(default_factory=list)


_DIRECTIVE = re.compile(r"(@prefix|@base|prefix|base)(?=\s)", re.IGNORECASE)
_LABEL = re.compile(r"_:([A-Za-z0-9_][\w.-]*)")


def _skip_string(text: str, i: int) -> int:
    """The index after the string literal starting at ``i``."""
    for fence in ('"""', "'''"):
        if text.startswith(fence, i):
            j = i + 3
            while True:
                k = text.find(fence, j)
                if k < 0:
                    raise Unsplittable("an unterminated long string")
                if _escaped(text, k):
                    j = k + 1
                    continue
                return k + 3
    quote, j = text[i], i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c in "\r\n":
            break
        j += 1
    raise Unsplittable("an unterminated string")


def _escaped(text: str, k: int) -> bool:
    n = 0
    while k - 1 - n >= 0 and text[k - 1 - n] == "\\":
        n += 1
    return n % 2 == 1


def _skip_gap(text: str, i: int) -> int:
    """The index of the next statement's first character (after blanks and comments)."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == "#":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
        else:
            break
    return i


def _statement_end(text: str, i: int) -> tuple[int, bool]:
    """The index after the statement starting at ``i`` and whether it is a directive."""
    m = _DIRECTIVE.match(text, i)
    sparql = bool(m) and not text.startswith("@", i)
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == "<":
            k = text.find(">", j)
            if k < 0:
                raise Unsplittable("an unterminated <IRI>")
            j = k + 1
            if sparql:
                return j, True
            continue
        if c in "\"'":
            j = _skip_string(text, j)
            continue
        if c == "#":
            nl = text.find("\n", j)
            j = len(text) if nl < 0 else nl + 1
            continue
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "." and depth == 0 and not _name_char(text, j + 1):
            return j + 1, bool(m)
        j += 1
    raise Unsplittable("the last statement does not end with '.'")


def _name_char(text: str, j: int) -> bool:
    return j < len(text) and (text[j].isalnum() or text[j] in "_-:%.\\")


def split_blocks(text: str) -> tuple[list[Block], str]:
    """The file's statements (with the gap before each) and the text after the last one."""
    blocks: list[Block] = []
    i = 0
    while True:
        start = _skip_gap(text, i)
        if start >= len(text):
            return blocks, text[i:]
        end, directive = _statement_end(text, start)
        blocks.append(Block(gap=text[i:start], text=text[start:end], directive=directive))
        i = end


def _abstract(triples: Iterable[RdfTriple]) -> Counter[tuple[Node | None, ...]]:
    return Counter(tuple(None if isinstance(t, BNode) else t for t in triple)
                   for triple in triples)


@dataclass
class TurtleLayout:
    """A Turtle file as blocks, and the graph they state (each triple owned by one block)."""

    blocks: list[Block]
    tail: str
    graph: Graph
    owner: dict[RdfTriple, int]
    scopes: list[dict[str, str]]  # per block: the prefixes declared before it
    prefixes: dict[str, str]  # every prefix the file declares

    @classmethod
    def split(cls, text: str, whole: Graph) -> TurtleLayout:
        """Split ``text`` (already parsed into ``whole``); raise ``Unsplittable``."""
        blocks, tail = split_blocks(text)
        header: list[str] = []
        graph = Graph(bind_namespaces="core")
        for prefix, ns in whole.namespaces():
            graph.bind(prefix, ns, override=True)
        owner: dict[RdfTriple, int] = {}
        labels: dict[str, int] = {}
        scopes: list[dict[str, str]] = []
        for n, block in enumerate(blocks):
            scopes.append(_declared(header))
            if block.directive:
                header.append(block.text)
                continue
            for label in set(_LABEL.findall(_code(block.text))):
                if labels.setdefault(label, n) != n:
                    raise Unsplittable(f"the blank node _:{label} is named in two statements")
            part = Graph(bind_namespaces="none")
            try:
                part.parse(data="\n".join(header) + "\n" + block.text, format="turtle")
            except Exception as exc:  # rdflib raises many types; all mean "not a statement"
                raise Unsplittable(f"a statement does not parse on its own ({exc})") from exc
            block.triples = list(part)
            for triple in block.triples:
                if triple in owner:
                    raise Unsplittable("a triple is stated twice")
                owner[triple] = n
                graph.add(triple)
        if len(graph) != len(whole) or _abstract(graph) != _abstract(whole):
            raise Unsplittable("the statements, parsed one by one, differ from the file")
        return cls(blocks, tail, graph, owner, scopes, _declared(header))

    def text_after(self, added: Iterable[RdfTriple], removed: Iterable[RdfTriple]) -> str:
        """The file's text once ``added`` and ``removed`` (already applied to ``graph``) are
        written: untouched blocks as they were, touched ones rewritten, new subjects last."""
        home = self._homes(added)
        dirty = {self.owner[t] for t in removed if t in self.owner} | {
            h for h in home.values() if h is not None}
        style_for = {n: self._writer(self.blocks[n]) for n in dirty}
        owned: dict[int, list[RdfTriple]] = {}
        for t, n in self.owner.items():
            if n in dirty and t in self.graph:
                owned.setdefault(n, []).append(t)
        for t, h in home.items():
            if h is not None:
                owned.setdefault(h, []).append(t)
        out: list[str] = []
        for n, block in enumerate(self.blocks):
            out.append(block.gap)
            if n not in dirty:
                out.append(block.text)
            elif owned.get(n):
                out.append(self._rewrite(owned[n], self.scopes[n], style_for[n], block.text))
            elif out and out[-1].strip() == "":
                out[-1] = ""  # the block is gone: drop the blank lines before it too
        new = [t for t, h in home.items() if h is None]
        if new:
            text = self._rewrite(new, self.prefixes, self._file_style())
            body = "".join(out).rstrip()
            tail = self.tail if self.tail.startswith(("\n", "\r")) else "\n" + self.tail
            return (body + "\n\n" if body else "") + text + tail
        out.append(self.tail)
        return "".join(out)

    # ------------------------------------------------------------------ helpers

    def _homes(self, added: Iterable[RdfTriple]) -> dict[RdfTriple, int | None]:
        """The block each added triple goes to (None: a new block at the end)."""
        subject_block: dict[Node, int] = {}
        for (s, _, _), n in sorted(self.owner.items(), key=lambda kv: kv[1]):
            subject_block.setdefault(s, n)
        for (_, _, o), n in self.owner.items():
            if isinstance(o, BNode):
                subject_block.setdefault(o, n)
        added = list(added)

        def home(node: Node, seen: frozenset[Node] = frozenset()) -> int | None:
            if node in subject_block:
                return subject_block[node]
            if isinstance(node, BNode) and node not in seen:
                for s, _, o in added:
                    if o == node:
                        return home(s, seen | {node})
            return None

        return {t: home(t[0]) for t in added}

    def _subgraph(self, triples: Iterable[RdfTriple]) -> Graph:
        g = Graph(bind_namespaces="none")
        for t in triples:
            g.add(t)
        return g

    def _rewrite(self, triples: list[RdfTriple], prefixes: dict[str, str],
                 style: Style, original: str = "") -> str:
        part = self._subgraph(triples)
        writer = TurtleWriter(part, prefixes, style, original)
        text = "\n\n".join(writer.block(s) for s in writer.roots())
        if writer.labelled:
            raise Unwritable("a changed statement would need a labelled blank node")
        return text

    def _writer(self, block: Block) -> Style:
        lines = block.text.split("\n")
        if len(lines) < 2:
            return self._file_style()
        lead = re.match(r"[ \t]*", lines[1]).group()  # type: ignore[union-attr]
        if block.text.startswith("["):
            close = re.match(r"[ \t]*", lines[-1]).group()  # type: ignore[union-attr]
            return Style(bnode_indent=lead, bnode_close=close)
        head = block.text.split(None, 1)[0]
        return Style(indent=None if len(lead) == len(head) + 1 else lead)

    def _file_style(self) -> Style:
        for block in self.blocks:
            if not block.directive and not block.text.startswith("[") and "\n" in block.text:
                return self._writer(block)
        return Style(indent="    ")


def _code(text: str) -> str:
    """A statement without its strings, IRIs and comments (to look for ``_:`` labels)."""
    text = re.sub(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'',
                  " ", text, flags=re.DOTALL)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', " ", text)
    text = re.sub(r"<[^<>\s]*>", " ", text)
    return re.sub(r"#[^\n]*", " ", text)


_PREFIX_LINE = re.compile(r"^(?:@prefix|prefix)\s+([A-Za-z_][\w.-]*)?:\s*<([^>]*)>",
                          re.IGNORECASE)


def _declared(header: list[str]) -> dict[str, str]:
    """The prefixes the directives declare, in order (a later one wins)."""
    out: dict[str, str] = {}
    for line in header:
        m = _PREFIX_LINE.match(line.strip())
        if m:
            out[m.group(1) or ""] = m.group(2)
    return out


def sorted_turtle(graph: Graph, prefixes: dict[str, str], header: str | None = None) -> str:
    """The whole graph in a stable order: the file's directives (or ``@prefix`` lines for
    ``prefixes``), then one block per subject, IRIs by IRI, blank nodes by their text."""
    writer = TurtleWriter(graph, prefixes, Style(indent="    "))
    head = header if header is not None else "\n".join(prefix_lines(prefixes))
    body = "\n\n".join(writer.block(s) for s in writer.roots())
    return (head.rstrip("\n") + "\n\n" if head.strip() else "") + body + "\n"


__all__ = ["Block", "TurtleLayout", "Unsplittable", "sorted_turtle", "split_blocks"]
