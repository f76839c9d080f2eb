"""Hostile text: instructions smuggled into text that ends up in a model's prompt.

A corpus sample, a document or an agent's answer may end up in a prompt, so text that tries to
steer a model ("ignore the rules above", "you are now ...", a fake ``</document>``) must not
travel on. ``hostile_reasons`` names the patterns a text matches; ``hostile_fields`` finds them
in every string field of a pydantic answer; ``sanitize_corpus_text`` replaces sentences that
look like instructions with ``REDACTED``; ``fence`` puts a document between the fence tags
(``DOCUMENT_OPEN`` / ``DOCUMENT_CLOSE``, which the extraction prompt and the grammar of the
embedded model use too), defusing any tag inside it.

The ontology design panel removes instruction-like corpus sentences from its sample and refuses
an answer with such text (reason ``hostile-text``). ``injection_shapes`` says why a name reads
as query code or as an instruction (a subset of these patterns): the contracts refuse such a
name (``names-are-plain``, reason ``injection-shaped``).

The patterns are deliberately narrow (phrases an instruction needs, not topic words), since a
false positive only costs a retry while the fences and the contracts still guard the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

#: The fence around the document in a prompt (``pipeline.extract.prompt`` writes it, the
#: embedded model's grammar finds the document by it, ``fence`` defuses it inside a text).
DOCUMENT_OPEN, DOCUMENT_CLOSE = "<document>", "</document>"

_I = re.IGNORECASE
HOSTILE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("override-instructions", re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,60}?\b(instructions?|rules|"
        r"prompts?|guidelines|directions)\b", _I)),
    ("role-hijack", re.compile(
        r"\b(you are now|from now on,? you|new instructions?\s*:|pretend (to be|you are)|"
        r"jailbreak)\b", _I)),
    ("prompt-exfiltration", re.compile(
        r"\b(reveal|print|repeat|show|output)\b[^.\n]{0,40}?\b(system|developer|hidden)\s+"
        r"(prompt|message|instructions?)\b", _I)),
    ("markup", re.compile(r"<\s*/?\s*(script|iframe|system|document|instructions?)\b", _I)),
    ("destructive-command", re.compile(
        r"\b(drop\s+(table|graph|database)|rm\s+-rf|delete\s+(all|every(thing)?)\b|"
        r"clear\s+(all|the\s+graph)\b)", _I)),
    ("control-characters", re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e]")),
)
#: what replaces a corpus sentence that looks like an instruction
REDACTED = "[instruction-like text removed]"
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_FENCE = re.compile(r"<(/?)(document)\b", _I)


def hostile_reasons(text: str) -> list[str]:
    """The names of the hostile patterns ``text`` matches (empty when it is clean)."""
    return [name for name, pattern in HOSTILE_PATTERNS if pattern.search(text)]


#: a comment that cuts off the rest of a query: ``//`` or ``/*`` after a space, quote or
#: bracket (not inside a URL), ``--`` at the end
_QUERY_COMMENT = re.compile(r"(?:^|[\s`'\"{}();\]])(?://|/\*)|--\s*$")

# A payload has to leave the string (or the bracket) a query put the name in before it can do
# anything: an *escape*. Escapes are a backtick (never part of a name), a quote that closes
# rather than opens (``x' ...``; not the opening quote of ``"Set"`` or ``'n'``, and only in
# capitals where it sits between letters, as in ``O'Brien``), a bracket that closes nothing the
# name opened (``x]``; not the ``)`` of "Tinder (Match Group)") and a semicolon. What may
# follow one, past spaces, closing brackets and semicolons, is what a name never holds there.
# Each pattern below is tried where that run ends, once per place and kind of escape, and
# none can backtrack far: the check stays linear in the name, whatever a model writes.

#: clauses that change a graph or a database (Cypher and SQL): after an escape they need
#: nothing more to be a payload, even at the very end of the name ("Orléans' DELETE")
_MUTATING = ("delete|detach|remove|set|drop|merge|create|call|load|insert|update|alter|grant|"
             "revoke|truncate|foreach")
_READING = "match|optional|return|union|unwind|with|select|where|yield"
_MUTATION = re.compile(rf"(?:{_MUTATING})\b", re.IGNORECASE)
#: anywhere after a backtick or an unpaired closing bracket (``x`]->(y) DELETE y``): no name
#: holds either, so no distance makes the clause a name's word
_ANY_MUTATION = re.compile(rf"\b(?:{_MUTATING})\b", re.IGNORECASE)
#: after an apostrophe between letters ("O'Brien", "d'Alter"), a clause only in capitals
_MUTATION_ELIDED = re.compile(rf"(?:{_MUTATING.upper()})\b")
#: any clause with more query close after it: how a payload goes on after a bracket, paired
#: or not (``Acme`}) MATCH (n) DETACH DELETE n //``, ``(n) DETACH DELETE n``); an opening
#: parenthesis is not a trigger ("Tinder (Match Group)"), nor a quoted word ("The \"Set\"")
_CLAUSE_WITH_MORE = re.compile(
    r"(?:match|merge|create|delete|detach|drop|call|return|set|remove|union|foreach|load|"
    r"unwind|with|insert|update|select|alter|grant)\b"
    r"(?=.{0,200}?(?:[(=]|\b(?:table|database|graph|index|constraint|where|from|into|delete|"
    r"match|return|set|n)\b))", re.IGNORECASE | re.DOTALL)
#: a statement separator and the next statement ("Love; Actually" is a name)
_STATEMENT = re.compile(rf"(?:{_MUTATING}|{_READING})\b", re.IGNORECASE)
#: a condition that makes a filter always true (``x' OR '1'='1``, ``x" OR 1=1``)
_CONDITION = re.compile(r"(?:or|and)\s++\S{1,40}?\s*+(?:=|<>|like\b)", re.IGNORECASE)
#: a comment (``x'; --``, ``x` //``)
_COMMENT = re.compile(r"--|//|/\*")
#: a property map (``x` {id: 1}``)
_MAP = re.compile(r"\{\s*+\w++\s*+:")
#: relationship and pattern syntax: brackets joined by an arrow or dashes with no space
#: (``]->(``, ``)-[``, ``)<-[``, ``]-(``), a half arrow into or out of a bracket (``<-[``,
#: ``]->``), a map closing into a bracket (``}]``, ``})``), a property map (``{id: 'x'}``).
#: An arrow between words ("A -> B") is text.
_PATTERN = re.compile(r"[)\]}]<?-{1,2}>?[(\[{]|<-{1,2}\[|\]-{1,2}>|\}\s*+[\])]|"
                      r"\{\s*+\w++\s*+:")
#: the same with spaces around the dashes ("Live (2003) - [Deluxe]" is a name): a pattern
#: only in a name that also holds a mutating clause
_PATTERN_SPACED = re.compile(r"[)\]}]\s*+<?-{1,2}>?\s*+[(\[{]")
_OPENER = {")": "(", "]": "[", "}": "{"}
_CLAUSE, _CONDITION_SHAPE = "a query clause", "a query condition"
_PATTERN_SHAPE, _COMMENT_SHAPE = "a graph pattern", "a query comment"
#: the instruction patterns (``HOSTILE_PATTERNS``) that never occur in a name (``role-hijack``
#: would refuse the game "Jailbreak", ``destructive-command`` "Clear All Ltd")
_INSTRUCTION_SHAPES = ("override-instructions", "prompt-exfiltration", "markup")


def _escapes(name: str) -> Iterator[tuple[int, str]]:
    """Where ``name`` may leave a quoted string or a bracket: the index after each escape and
    its kind (``backtick``, ``quote``, ``elision`` for an apostrophe between letters,
    ``closer`` for a bracket closing nothing the name opened, ``separator``), and after each
    bracket that is no escape (``paired``, ``opener`` for ``{``)."""
    depth = {"(": 0, "[": 0, "{": 0}
    for i, ch in enumerate(name):
        if ch in depth:
            depth[ch] += 1
            if ch == "{":
                yield i + 1, "opener"
        elif ch in _OPENER:
            if depth[_OPENER[ch]]:
                depth[_OPENER[ch]] -= 1
                yield i + 1, "paired"
            else:
                yield i + 1, "closer"
        elif ch == "`":
            yield i + 1, "backtick"
        elif ch == ";":
            yield i + 1, "separator"
        elif ch in "'\"":
            before = name[i - 1] if i else " "
            after = name[i + 1] if i + 1 < len(name) else " "
            if (before.isspace() or before in "([{") and after.isalnum():
                continue  # an opening quote: 'n', "Set"
            yield i + 1, ("elision" if ch == "'" and before.isalpha() and after.isalpha()
                          else "quote")


def _run_ends(name: str) -> list[int]:
    """For every index, where the run of spaces, closing brackets and semicolons starting
    there ends (the index itself when none starts there)."""
    ends = list(range(len(name) + 1))
    for i in range(len(name) - 1, -1, -1):
        if name[i].isspace() or name[i] in ")]};":
            ends[i] = ends[i + 1]
    return ends


def _after_escapes(name: str) -> set[str]:
    """The query shapes that follow an escape in ``name``."""
    found: set[str] = set()
    ends = _run_ends(name)
    seen: set[tuple[int, str]] = set()
    first_hard: int | None = None
    for end, kind in _escapes(name):
        if kind == "elision":
            if _MUTATION_ELIDED.match(name, end):
                found.add(_CLAUSE)
            continue
        if first_hard is None and kind in ("backtick", "closer"):
            first_hard = end
        at = ends[end]
        if (at, kind) in seen:
            continue  # the same place, seen after an escape of the same kind
        seen.add((at, kind))
        if _CLAUSE not in found and (
                _CLAUSE_WITH_MORE.match(name, at) or (kind not in ("paired", "opener") and (
                    _MUTATION.match(name, at)
                    or (kind == "separator" and _STATEMENT.match(name, at))))):
            found.add(_CLAUSE)
        if kind in ("paired", "opener"):
            continue
        if kind == "quote" and _CONDITION.match(name, at):
            found.add(_CONDITION_SHAPE)
        if _COMMENT.match(name, at):
            found.add(_COMMENT_SHAPE)
        if kind != "separator" and _MAP.match(name, at):
            found.add(_PATTERN_SHAPE)
    if first_hard is not None and _ANY_MUTATION.search(name, first_hard):
        found.add(_CLAUSE)
    return found


def injection_shapes(name: str) -> list[str]:
    """Why ``name`` reads as query code or as an instruction to a model rather than as a name
    (empty when it reads as a name): what the contracts' ``names-are-plain`` check refuses.

    Query code is Cypher or SQL structure after an escape (see ``_escapes``): a clause that
    changes the graph, a next statement after ``;``, an always-true condition, a comment, a
    property map; or relationship syntax anywhere (``]->(``, ``)-[``, ``<-[``, ``}]``). Words
    alone are never code ("Drop Dead Gorgeous", "Delete (band)", "Return of the Jedi"), nor
    is an arrow between words ("A -> B"). The instruction patterns are a subset of
    ``HOSTILE_PATTERNS``: narrow phrases an instruction needs."""
    shapes = _after_escapes(name)
    if _QUERY_COMMENT.search(name):
        shapes.add(_COMMENT_SHAPE)
    if _PATTERN.search(name) or (_PATTERN_SPACED.search(name) and _ANY_MUTATION.search(name)):
        shapes.add(_PATTERN_SHAPE)
    order = (_CLAUSE, _CONDITION_SHAPE, _PATTERN_SHAPE, _COMMENT_SHAPE)
    found = [s for s in order if s in shapes]
    found.extend(r.replace("-", " ") for r in hostile_reasons(name)
                 if r in _INSTRUCTION_SHAPES)
    return found


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _strings(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def hostile_fields(answer: BaseModel) -> list[tuple[str, str, list[str]]]:
    """Every string field of ``answer`` with hostile text: ``(path, value, reasons)``, where
    ``path`` reads like ``questions[2].text``."""
    found = []
    for path, value in _strings(answer, ""):
        reasons = hostile_reasons(value)
        if reasons:
            found.append((path, value, reasons))
    return found


def sanitize_corpus_text(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """``text`` with instruction-like sentences replaced by ``REDACTED``, and the removed
    sentences with their reasons (so the transcript can show what was kept out)."""
    removed: list[tuple[str, list[str]]] = []

    def replace(match: re.Match[str]) -> str:
        sentence = match.group(0)
        reasons = hostile_reasons(sentence)
        if not reasons:
            return sentence
        removed.append((sentence.strip(), reasons))
        return REDACTED + ("\n" if sentence.endswith("\n") else " ")

    return _SENTENCE.sub(replace, text), removed


def fence(text: str) -> str:
    """``text`` between document tags, with any tag inside it defused, so a document cannot
    close its own fence and put text outside the data section."""
    defused = _FENCE.sub(r"‹\1\2", text.strip())
    return f"{DOCUMENT_OPEN}\n{defused}\n{DOCUMENT_CLOSE}"


__all__ = ["DOCUMENT_CLOSE", "DOCUMENT_OPEN", "HOSTILE_PATTERNS", "REDACTED", "fence",
           "hostile_fields", "hostile_reasons", "injection_shapes", "sanitize_corpus_text"]
