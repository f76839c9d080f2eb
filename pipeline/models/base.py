"""Ids, the frozen base model and the hashing every id is made with."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import NewType

from pydantic import BaseModel, ConfigDict

DocumentId = NewType("DocumentId", str)


ChunkId = NewType("ChunkId", str)


EntityId = NewType("EntityId", str)


AssertionId = NewType("AssertionId", str)


QuarantineId = NewType("QuarantineId", str)


RunId = NewType("RunId", str)


IRI = NewType("IRI", str)


class Frozen(BaseModel):
    """Base for stage-boundary models: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def stable_hash(*parts: str, length: int = 16) -> str:
    """A short, stable hex digest of ``parts`` (NUL-separated so parts cannot run together)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


_SPACE = re.compile(r"\s+")


def normalize_label(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form of a label, used for entity identity."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    folded = folded.strip(" \t\n\"'`.,;:!?()[]{}")
    return _SPACE.sub(" ", folded)


def local_name(iri: str) -> str:
    """The part of an IRI after the last ``#`` or ``/``."""
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]
