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


#: a clause of a graph or SQL query right after a quote, bracket or semicolon, with more query
#: after it: how a payload that escapes a quoted name goes on (``Acme`}) MATCH (n) DETACH
#: DELETE n //``). An opening parenthesis is not a trigger ("Tinder (Match Group)" is a
#: name), nor is a quoted word alone ("The \"Set\" Sessions").
_QUERY_CLAUSE = re.compile(
    r"[`'\"{};\])}]\s*[)}\]]*\s*\b(match|merge|create|delete|detach|drop|call|return|set|"
    r"remove|union|foreach|load|unwind|with|insert|update|select|alter|grant)\b"
    r"(?=.*?(?:[(=]|\b(?:table|database|graph|index|constraint|where|from|into|delete|match|"
    r"return|set|n)\b))", re.IGNORECASE | re.DOTALL)
#: a comment that cuts off the rest of a query: ``//`` or ``/*`` after a space, quote or
#: bracket (not inside a URL), ``--`` at the end
_QUERY_COMMENT = re.compile(r"(?:^|[\s`'\"{}();\]])(?://|/\*)|--\s*$")
#: the instruction patterns (``HOSTILE_PATTERNS``) that never occur in a name (``role-hijack``
#: would refuse the game "Jailbreak", ``destructive-command`` "Clear All Ltd")
_INSTRUCTION_SHAPES = ("override-instructions", "prompt-exfiltration", "markup")


def injection_shapes(name: str) -> list[str]:
    """Why ``name`` reads as query code or as an instruction to a model rather than as a name
    (empty when it reads as a name): what the contracts' ``names-are-plain`` check refuses.
    The instruction patterns are a subset of ``HOSTILE_PATTERNS``: narrow phrases an
    instruction needs."""
    found = []
    if _QUERY_CLAUSE.search(name):
        found.append("a query clause")
    if _QUERY_COMMENT.search(name):
        found.append("a query comment")
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
