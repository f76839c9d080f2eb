"""The ``design_ontology`` flow: corpus sample → panel round 1 (competency questions by
proposal, merge and vote) → round 2 (draft, checks, critic, corrections) → files.

As in ``build_kg``, tasks are thin calls into ``pipeline`` and the clients (chat models, the
embedder) come from ``flows.clients``. The configured LLM plays every role (the roles
differ by their instructions), one model per step so that a backend that enforces JSON schemas
gets the right one; answers are cached on disk, so a rerun with the same inputs asks nothing
new and writes the same files. Tests pass scripted chat models and an embedder instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.clients import make_chat_models, make_embedder
from flows.params import InProcess, with_overrides
from pipeline.embeddings.base import Embedder
from pipeline.ingest import TextFileLoader
from pipeline.models import Document, Frozen
from pipeline.ontology.design import (
    STEP_SCHEMAS,
    DesignResult,
    DesignSettings,
    OntologyDesignPanel,
    build_agents,
    json_schema,
    write_design,
)
from pipeline.ontology.design.transcript import Step
from pipeline.settings import Settings

#: per agent name (or role): one chat model, or one per step
PanelModels = Mapping[str, BaseChatModel | Mapping[Step, BaseChatModel]]


class DesignReport(Frozen):
    """What a design run did, for the command line and for callers of the flow."""

    status: str
    message: str
    out: str
    files: tuple[str, ...]
    proposals: int
    merges: int
    candidates: int
    accepted_cqs: tuple[str, ...]
    drafts: int
    classes: int
    object_properties: int
    datatype_properties: int
    quarantined: int
    corpus_redactions: int
    #: every problem left, as "severity: [code] message (iris)" lines
    unresolved: tuple[str, ...]


def make_panel_models(settings: Settings, design: DesignSettings) -> dict[str, dict[Step,
                                                                                   BaseChatModel]]:
    """The configured LLM for every agent, one model per step (each with that step's JSON
    schema), sampling at ``design.temperature`` with room for a whole draft, and answering
    from the data directory's LLM cache what it was asked before."""
    per_step = make_chat_models(settings, {step: json_schema(schema)
                                           for step, schema in STEP_SCHEMAS.items()},
                                temperature=design.temperature, max_tokens=design.max_tokens)
    return {name: per_step for name in design.agent_names()}


def make_design_embedder(settings: Settings) -> Embedder:
    """The build's embedder (all-MiniLM-L6-v2 unless configured), for merging questions."""
    return make_embedder(settings)


@task(name="load_corpus", cache_policy=NO_CACHE)
def load_corpus(corpus: Path) -> list[Document]:
    return TextFileLoader().load(corpus)


@task(name="run_panel", cache_policy=NO_CACHE)
def run_panel(domain: str, documents: Sequence[Document], models: PanelModels,
              embedder: Embedder, design: DesignSettings) -> DesignResult:
    panel = OntologyDesignPanel(build_agents(design, models), embedder, design)
    return panel.run(domain, documents)


@task(name="write_design", cache_policy=NO_CACHE)
def write_files(result: DesignResult, out: Path) -> list[Path]:
    return write_design(result, out)


def run_design(domain: str, corpus: Path, out: Path, settings: Settings,
               design: DesignSettings, *, chat_models: PanelModels | None = None,
               embedder: Embedder | None = None) -> DesignReport:
    """The design, step by step; ``design_ontology`` is this as a Prefect flow."""
    logger = get_run_logger()
    documents = load_corpus(corpus)
    models = chat_models if chat_models is not None else make_panel_models(settings, design)
    result = run_panel(domain, documents, models,
                       embedder if embedder is not None else make_design_embedder(settings),
                       design)
    files = write_files(result, out)
    t = result.transcript
    outcome = t.outcome
    last = next((r for r in reversed(t.reviews) if r.verdict != "no-draft"), None)
    report = DesignReport(
        status=result.status, message=outcome.message if outcome else "", out=str(out),
        files=tuple(str(f) for f in files), proposals=len(t.proposals), merges=len(t.merges),
        candidates=len(t.candidates),
        accepted_cqs=tuple(r.cq for r in t.scope if r.accepted), drafts=len(t.reviews),
        classes=len(last.classes) if last else 0,
        object_properties=len(last.object_properties) if last else 0,
        datatype_properties=len(last.datatype_properties) if last else 0,
        quarantined=len(t.quarantine), corpus_redactions=len(t.corpus_redactions),
        unresolved=tuple(f.line() for f in result.unresolved))
    logger.info("design %s: %d questions in scope, %d draft(s), %d problem(s) left",
                report.status, len(report.accepted_cqs), report.drafts,
                sum(f.severity == "error" for f in result.unresolved))
    return report


@flow(name="design_ontology", validate_parameters=False)
def design_ontology(domain: str, corpus: str = "data/sample", out: str = "ontologies/designed",
                    roles: list[str] | None = None, proposal_rounds: int | None = None,
                    review_rounds: int | None = None, quorum: float | None = None,
                    merge_threshold: float | None = None, iri: str | None = None,
                    prefix: str | None = None, data_dir: str | None = None,
                    settings: InProcess[Settings | None] = None,
                    design: InProcess[DesignSettings | None] = None,
                    chat_models: InProcess[PanelModels | None] = None,
                    embedder: InProcess[Embedder | None] = None) -> DesignReport:
    """Design an ontology for ``domain`` from a sample of ``corpus`` and write it to ``out``.

    The plain options override the panel's settings (``VERIKG_DESIGN_*``) as the command
    line's do; the LLM is the configured one (``VERIKG_LLM``...).

    Args:
        domain: what the ontology is about, in a sentence or two
        corpus: file or folder of documents; a sample is shown to the panel
        out: folder for ontology.ttl, competency_questions.yaml and the transcript
        roles: the panel's seats (domain_expert, analyst, ontology_engineer, critic)
        proposal_rounds: round 1, proposal rounds
        review_rounds: round 2, drafts the critic may review
        quorum: share of the panel whose accept vote a question needs
        merge_threshold: embedding similarity at which two questions merge
        iri: the ontology's IRI
        prefix: prefix of the ontology's terms
        data_dir: state folder with the LLM and embedding caches (default VERIKG_DATA_DIR)
        settings: in-process only: the settings to start from (default the environment)
        design: in-process only: the panel's settings (default VERIKG_DESIGN_*)
        chat_models: in-process only: replace the configured LLM per agent (tests)
        embedder: in-process only: replaces the configured embedder (tests)
    """
    overrides = {k: v for k, v in (("roles", tuple(roles) if roles else None),
                                   ("proposal_rounds", proposal_rounds),
                                   ("review_rounds", review_rounds), ("quorum", quorum),
                                   ("merge_threshold", merge_threshold), ("iri", iri),
                                   ("prefix", prefix)) if v is not None}
    panel = design or DesignSettings()
    if overrides:
        panel = DesignSettings.model_validate({**panel.model_dump(), **overrides})
    return run_design(domain, Path(corpus), Path(out), with_overrides(settings,
                                                                      data_dir=data_dir),
                      panel, chat_models=chat_models, embedder=embedder)
