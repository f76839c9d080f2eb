"""Parsing KGCL change requests with the ``kgcl-schema`` grammar and data model.

A change request is one KGCL command per line (blank lines and ``#`` comments ignored). Every
line is parsed before anything is applied; a line that does not parse rejects the whole
request with ``ChangeRequestError`` naming the line and the parser's complaint.
"""

from __future__ import annotations

import re

from kgcl_schema.datamodel.kgcl import Change
from kgcl_schema.grammar.parser import parse_statement

from pipeline.errors import ChangeRequestError
from pipeline.models import Frozen

_IRI = re.compile(r"<([^<>\s]+)>")


class ParsedChange(Frozen):
    """One command: its line number and text, and the kgcl-schema change object."""

    model_config = Frozen.model_config | {"arbitrary_types_allowed": True}

    line: int
    text: str
    change: Change


def _protect_iris(text: str) -> tuple[str, dict[str, str]]:
    """kgcl-schema 0.7 drops full ``<IRI>`` arguments of some commands; replace each IRI by a
    placeholder CURIE for parsing and restore it afterwards."""
    mapping: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        key = f"iri{len(mapping)}:x"
        mapping[key] = m.group(1)
        return key

    return _IRI.sub(sub, text), mapping


def _restore(change: Change, mapping: dict[str, str]) -> None:
    if not mapping:
        return
    for name, value in list(vars(change).items()):
        if isinstance(value, str) and value in mapping:
            setattr(change, name, mapping[value])


_CURIE = re.compile(r"^[A-Za-z_][\w.-]*:[^\s'\"<>]*$")


def _check_references(change: Change, text: str, line: int) -> None:
    """kgcl-schema accepts some malformed references (``delete 'x`` parses, with an id of
    ``'x``); refuse any node reference that is neither a CURIE, an IRI nor a quoted label."""
    for name in ("about_node", "subject", "predicate", "object"):
        value = getattr(change, name, None)
        if not isinstance(value, str) or not value:
            continue
        kind = getattr(change, f"{name}_type", None) or getattr(
            change, f"{name}_representation", None)
        if kind == "label":
            continue
        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        if not (quoted or _CURIE.match(value) or "://" in value or value.startswith("urn:")):
            raise ChangeRequestError(f"line {line}: cannot parse KGCL command {text!r}: "
                                     f"{name} {value!r} is not a CURIE, <IRI> or quoted label")


def parse_command(text: str, *, line: int = 1) -> ParsedChange:
    protected, mapping = _protect_iris(text.strip())
    try:
        change = parse_statement(protected)
    except Exception as exc:  # lark raises several error types; all mean "does not parse"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ChangeRequestError(f"line {line}: cannot parse KGCL command {text.strip()!r}: "
                                 f"{first}") from exc
    _restore(change, mapping)
    _check_references(change, text.strip(), line)
    return ParsedChange(line=line, text=text.strip(), change=change)


def parse_change_request(text: str) -> list[ParsedChange]:
    """Parse every command of a request; raise on the first one that does not parse."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.append(parse_command(stripped, line=n))
    if not out:
        raise ChangeRequestError("the change request holds no KGCL command")
    return out
