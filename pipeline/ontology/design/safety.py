"""Hostile text: instructions smuggled into the corpus or into an agent's answer.

The corpus sample and every agent's answer end up in other agents' prompts, so text that tries
to steer a model ("ignore the rules above", "you are now ...", a fake ``</document>``) must not
travel on. Corpus sentences that look like instructions are removed from the sample and kept in
the transcript; an answer with such text breaks the output contract (reason ``hostile-text``),
is sent back once more as a corrective prompt, and is quarantined if it keeps it.

The patterns are deliberately narrow (phrases an instruction needs, not topic words), since a
false positive only costs a retry while the fences and the contracts still guard the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from pipeline.llm.grammar import DOCUMENT_CLOSE, DOCUMENT_OPEN

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


__all__ = ["HOSTILE_PATTERNS", "REDACTED", "fence", "hostile_fields", "hostile_reasons",
           "sanitize_corpus_text"]
