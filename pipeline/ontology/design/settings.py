"""Settings of the ontology design panel (environment prefix ``VERIKG_DESIGN_``).

Kept apart from ``pipeline.settings.Settings`` because they shape one command, not every run:
which agents sit on the panel (and so how many), how many rounds each phase may take, when two
competency questions count as the same one, and how many accept votes put a question in scope.
Like ``Settings``, they are read from the environment only at the edges (CLI, flows).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RoleKind = Literal["domain_expert", "analyst", "ontology_engineer", "critic"]
ROLE_KINDS: tuple[RoleKind, ...] = ("domain_expert", "analyst", "ontology_engineer", "critic")
_RESERVED_PREFIXES = {"rdf", "rdfs", "owl", "xsd"}


class DesignSettings(BaseSettings):
    """What the panel does; every field has a default that runs the four-role panel."""

    model_config = SettingsConfigDict(env_prefix="VERIKG_DESIGN_", extra="ignore", frozen=True)

    #: the agents, one per entry, in speaking order; a role may sit more than once (a second
    #: analyst is named ``analyst-2``). Round 2 needs an ontology engineer and a critic.
    roles: tuple[RoleKind, ...] = ROLE_KINDS
    #: round 1: how many times every agent proposes questions (later rounds see the merged
    #: questions so far and are asked for what is missing)
    proposal_rounds: int = Field(default=1, ge=1, le=5)
    #: round 2: how many drafts the critic may review before what is left is reported
    review_rounds: int = Field(default=3, ge=1, le=10)
    #: corrective re-prompts for one answer that is not JSON, has the wrong schema or carries
    #: hostile text, before it is quarantined
    max_retries: int = Field(default=2, ge=0, le=10)
    #: re-tries (with exponential backoff) when the LLM endpoint is away
    unavailable_retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0.0)
    #: questions one agent may propose per round (more are cut, and the cut is recorded)
    max_questions: int = Field(default=8, ge=1, le=50)
    #: cosine similarity of question embeddings at or above which two questions are merged
    merge_threshold: float = Field(default=0.85, gt=0.0, le=1.0)
    #: share of the panel whose accept vote a question needs to enter the scope
    #: (ceil(quorum x agents) votes; an agent that did not vote counts as not accepting)
    quorum: float = Field(default=0.5, gt=0.0, le=1.0)
    #: at most this many questions in scope (most accept votes first, then proposal order)
    max_scope: int = Field(default=30, ge=1, le=200)
    #: corpus sample shown to the agents: this many documents, each cut to ``corpus_chars``
    corpus_documents: int = Field(default=5, ge=0, le=100)
    corpus_chars: int = Field(default=2000, ge=100, le=100_000)
    #: the ontology IRI is ``base_iri`` + a slug of the domain (or ``iri`` when given);
    #: terms live in ``<ontology IRI>#`` under ``prefix``
    base_iri: str = "https://verikg.dev/ontology/"
    iri: str | None = None
    prefix: str = "onto"
    #: sampling for the configured LLM: 0 makes a rerun ask (and cache) the same thing
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    #: answers here are whole ontologies: far longer than an extraction answer
    max_tokens: int = Field(default=4096, ge=256)

    @field_validator("prefix")
    @classmethod
    def _prefix_ok(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,19}", value):
            raise ValueError(f"prefix {value!r} must be a letter then letters, digits, _ or -")
        if value in _RESERVED_PREFIXES:
            raise ValueError(f"prefix {value!r} is reserved for {value}: pick another")
        return value

    @field_validator("base_iri", "iri")
    @classmethod
    def _iri_ok(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s<>\"{}|\\^`#]+", value):
            raise ValueError(f"{value!r} is not an http(s) IRI without '#' or spaces")
        return value

    @model_validator(mode="after")
    def _panel_can_draft(self) -> DesignSettings:
        missing = [r for r in ("ontology_engineer", "critic") if r not in self.roles]
        if missing:
            raise ValueError(f"the panel needs a {' and a '.join(missing)} (roles: "
                             f"{', '.join(self.roles) or 'none'})")
        return self

    def agent_names(self) -> tuple[str, ...]:
        """``roles`` as unique agent names: the first of a role is its role, then ``-2``..."""
        seen: dict[str, int] = {}
        names = []
        for role in self.roles:
            seen[role] = seen.get(role, 0) + 1
            names.append(role if seen[role] == 1 else f"{role}-{seen[role]}")
        return tuple(names)


__all__ = ["ROLE_KINDS", "DesignSettings", "RoleKind"]
