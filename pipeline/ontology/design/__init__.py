"""Ontology design by a panel of LLM agents (issue 6, first half).

A domain expert, an analyst, an ontology engineer and a critic (any langchain-core chat
models) agree on competency questions, then the engineer drafts an OWL 2 ontology with a SPARQL
query per question, and the critic and ``check_ontology`` review it until it passes. Output:
``ontology.ttl``, ``competency_questions.yaml`` and a transcript (JSON and markdown) of every
proposal, merge, vote, draft and review. See ``panel`` for the rounds.
"""

from pydantic import BaseModel

from pipeline.ontology.design.agents import (
    ROLE_INSTRUCTIONS,
    ROLE_TITLES,
    PanelAgent,
    build_agents,
)
from pipeline.ontology.design.panel import (
    CQ_FILE,
    ONTOLOGY_FILE,
    TRANSCRIPT_JSON,
    TRANSCRIPT_MD,
    DesignResult,
    OntologyDesignPanel,
    ontology_iri_for,
    sample_corpus,
    write_design,
)
from pipeline.ontology.design.schemas import (
    DraftAnswer,
    ProposalAnswer,
    ReviewAnswer,
    VoteAnswer,
    json_schema,
)
from pipeline.ontology.design.settings import ROLE_KINDS, DesignSettings, RoleKind
from pipeline.ontology.design.transcript import DesignFinding, Step, Transcript

#: the JSON schema of each step's answer, for backends that constrain output
STEP_SCHEMAS: dict[Step, type[BaseModel]] = {
    "propose": ProposalAnswer, "vote": VoteAnswer, "draft": DraftAnswer, "review": ReviewAnswer}

__all__ = ["CQ_FILE", "ONTOLOGY_FILE", "ROLE_INSTRUCTIONS", "ROLE_KINDS", "ROLE_TITLES",
           "STEP_SCHEMAS", "TRANSCRIPT_JSON", "TRANSCRIPT_MD", "DesignFinding", "DesignResult",
           "DesignSettings", "DraftAnswer", "OntologyDesignPanel", "PanelAgent",
           "ProposalAnswer", "ReviewAnswer", "RoleKind", "Transcript", "VoteAnswer",
           "build_agents", "json_schema", "ontology_iri_for", "sample_corpus", "write_design"]
