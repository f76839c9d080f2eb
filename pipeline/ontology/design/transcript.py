"""The panel's transcript: every proposal, merge, vote, draft, review and refusal, in order.

The transcript is the user's account of why the ontology looks as it does, so it keeps the raw
answer of every LLM call next to what the contract made of it. It holds no timestamps or paths:
a rerun with the same inputs and a deterministic model writes the same bytes
(``transcript.json``, and ``transcript.md`` rendered from it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.models import Frozen

Step = Literal["propose", "vote", "draft", "review"]
Severity = Literal["error", "warning"]
#: transcript format tag; bump when a field changes meaning
TRANSCRIPT_FORMAT = "verikg-ontology-design-transcript/1"


class DesignViolation(Frozen):
    """One broken output rule of an agent's answer (``item``: the index of the list entry it
    concerns, when the answer is a list of proposals or votes)."""

    code: str
    detail: str
    item: int | None = None

    def line(self) -> str:
        return f"[{self.code}] {self.detail}"


class DesignFinding(Frozen):
    """One problem of a draft ontology: from ``check_ontology`` (source ``checks``), the
    panel's own structure and CQ-query checks (``structure``, ``cq``) or the critic."""

    code: str
    severity: Severity
    iris: tuple[str, ...] = ()
    message: str
    source: Literal["checks", "structure", "cq", "critic"]

    def line(self) -> str:
        where = f" ({', '.join(self.iris)})" if self.iris else ""
        return f"{self.severity}: [{self.code}] {self.message}{where}"


class AgentRecord(Frozen):
    name: str
    role: str
    model: str


class CorpusDocument(Frozen):
    source: str
    id: str
    chars_shown: int


class CorpusRedaction(Frozen):
    """A corpus sentence kept out of the prompts because it reads like an instruction."""

    source: str
    text: str
    reasons: tuple[str, ...]


class CallRecord(Frozen):
    """One call of one agent's model: the raw answer and the violations found in it."""

    seq: int
    step: Step
    round: int
    agent: str
    attempt: int
    raw: str
    violations: tuple[DesignViolation, ...] = ()
    ok: bool


class ProposalRecord(Frozen):
    id: str
    agent: str
    round: int
    text: str
    answer_type: str = ""
    rationale: str = ""


class MergeRecord(Frozen):
    """``merged`` was folded into candidate ``candidate`` whose first proposal is ``kept``."""

    candidate: str
    kept: str
    merged: str
    similarity: float
    kept_text: str
    merged_text: str


class CandidateRecord(Frozen):
    id: str
    text: str
    answer_type: str = ""
    proposals: tuple[str, ...]
    agents: tuple[str, ...]


class VoteRecord(Frozen):
    agent: str
    cq: str
    vote: Literal["accept", "reject", "abstain"]
    reason: str = ""


class ScopeRecord(Frozen):
    cq: str
    text: str
    accepts: int
    rejects: int
    abstains: int
    required: int
    accepted: bool
    #: why an accepted-by-vote question is still out (``max_scope``), else ""
    note: str = ""


class CriticProblem(Frozen):
    term: str = ""
    problem: str


class ReviewRecord(Frozen):
    """One round-2 cycle: the draft the engineer gave, what the checks found, the critic's
    verdict, and whether the draft was accepted."""

    round: int
    draft_attempts: int
    classes: tuple[str, ...] = ()
    object_properties: tuple[str, ...] = ()
    datatype_properties: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    findings: tuple[DesignFinding, ...] = ()
    critic_approved: bool | None = None
    critic_problems: tuple[CriticProblem, ...] = ()
    verdict: Literal["accepted", "rejected", "no-draft"]


class QuarantineRecord(Frozen):
    """An answer, or one item of it, refused after every corrective retry."""

    step: Step
    round: int
    agent: str
    raw: str
    reasons: tuple[str, ...]


class Outcome(Frozen):
    status: Literal["accepted", "unresolved", "failed"]
    message: str
    accepted_cqs: tuple[str, ...] = ()
    classes: int = 0
    object_properties: int = 0
    datatype_properties: int = 0


class Transcript(BaseModel):
    """Filled in by the panel as it goes (hence mutable), then written once."""

    model_config = ConfigDict(extra="forbid")

    format: str = TRANSCRIPT_FORMAT
    domain: str
    ontology_iri: str
    prefix: str
    settings: dict[str, object] = Field(default_factory=dict)
    agents: list[AgentRecord] = Field(default_factory=list)
    corpus: list[CorpusDocument] = Field(default_factory=list)
    corpus_redactions: list[CorpusRedaction] = Field(default_factory=list)
    calls: list[CallRecord] = Field(default_factory=list)
    proposals: list[ProposalRecord] = Field(default_factory=list)
    merges: list[MergeRecord] = Field(default_factory=list)
    candidates: list[CandidateRecord] = Field(default_factory=list)
    votes: list[VoteRecord] = Field(default_factory=list)
    scope: list[ScopeRecord] = Field(default_factory=list)
    reviews: list[ReviewRecord] = Field(default_factory=list)
    quarantine: list[QuarantineRecord] = Field(default_factory=list)
    #: what the panel could not fix: problems of the final draft, critic objections left
    unresolved: list[DesignFinding] = Field(default_factory=list)
    outcome: Outcome | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def to_markdown(self) -> str:
        return render_markdown(self)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _block(text: str) -> list[str]:
    fence = "````" if "```" in text else "```"
    return [fence, text.rstrip("\n"), fence]


def render_markdown(t: Transcript) -> str:
    """The transcript as a document a person reads top to bottom."""
    out: list[str] = [f"# Ontology design transcript: {t.domain}", "",
                      f"Ontology `{t.ontology_iri}` (prefix `{t.prefix}:`).", ""]
    if t.outcome is not None:
        out += [f"**Outcome: {t.outcome.status}** — {t.outcome.message}", ""]
    out += ["## Panel", "", "| agent | role | model |", "|---|---|---|"]
    out += [f"| {a.name} | {a.role} | `{_cell(a.model)}` |" for a in t.agents]
    out += ["", "## Corpus sample", ""]
    out += [f"- `{d.source}` ({d.id}, {d.chars_shown} characters shown)" for d in t.corpus]
    if not t.corpus:
        out.append("- (none)")
    if t.corpus_redactions:
        out += ["", "Kept out of every prompt (reads like an instruction):", ""]
        out += [f"- `{r.source}`: \"{_cell(r.text)}\" ({', '.join(r.reasons)})"
                for r in t.corpus_redactions]
    out += ["", "## Round 1: proposals", "", "| id | agent | round | question | answer type |",
            "|---|---|---|---|---|"]
    out += [f"| {p.id} | {p.agent} | {p.round} | {_cell(p.text)} | {_cell(p.answer_type)} |"
            for p in t.proposals]
    out += ["", "### Merges (embedding similarity)", ""]
    out += [f"- {m.merged} \"{_cell(m.merged_text)}\" → {m.candidate} (kept {m.kept} "
            f"\"{_cell(m.kept_text)}\"), similarity {m.similarity:.4f}" for m in t.merges]
    if not t.merges:
        out.append("- (none)")
    out += ["", "### Votes", ""]
    agents = [a.name for a in t.agents]
    votes = {(v.agent, v.cq): v for v in t.votes}
    out += ["| question | " + " | ".join(agents) + " | accepts | needed | in scope |",
            "|---|" + "---|" * len(agents) + "---|---|---|"]
    mark = {"accept": "yes", "reject": "no", "abstain": "–"}
    for s in t.scope:
        cells = [mark[votes[(a, s.cq)].vote] if (a, s.cq) in votes else "–" for a in agents]
        inside = "**yes**" if s.accepted else ("no" + (f" ({s.note})" if s.note else ""))
        out.append(f"| {s.cq}: {_cell(s.text)} | " + " | ".join(cells)
                   + f" | {s.accepts} | {s.required} | {inside} |")
    reasons = [v for v in t.votes if v.reason]
    if reasons:
        out += ["", "Reasons given:", ""]
        out += [f"- {v.agent} on {v.cq} ({v.vote}): {_cell(v.reason)}" for v in reasons]
    out += ["", "## Round 2: drafts and reviews", ""]
    for r in t.reviews:
        out += [f"### Draft {r.round}: {r.verdict}", "",
                f"{len(r.classes)} classes, {len(r.object_properties)} object properties, "
                f"{len(r.datatype_properties)} datatype properties, {len(r.queries)} queries "
                f"({r.draft_attempts} attempt(s)).", ""]
        if r.repairs:
            out += [f"- repaired: {_cell(x)}" for x in r.repairs] + [""]
        out += ["Checks:", ""]
        out += [f"- {_cell(f.line())}" for f in r.findings] or ["- no findings"]
        verdict = {True: "approved", False: "rejected", None: "gave no usable review"}
        out += ["", f"Critic: {verdict[r.critic_approved]}", ""]
        out += [f"- {_cell(p.term) + ': ' if p.term else ''}{_cell(p.problem)}"
                for p in r.critic_problems]
        out.append("")
    if t.quarantine:
        out += ["## Quarantined answers", ""]
        for q in t.quarantine:
            out += [f"- {q.step}, round {q.round}, {q.agent}: {'; '.join(q.reasons)}", ""]
            out += _block(q.raw) + [""]
    out += ["## Unresolved", ""]
    out += [f"- {_cell(f.line())}" for f in t.unresolved] or ["- nothing"]
    out += ["", "## Every LLM call", ""]
    for c in t.calls:
        status = "ok" if c.ok else "; ".join(v.line() for v in c.violations)
        out += [f"### {c.seq}. {c.step}, round {c.round}, {c.agent}, attempt {c.attempt}: "
                f"{_cell(status)}", ""]
        out += _block(c.raw) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


__all__ = ["TRANSCRIPT_FORMAT", "AgentRecord", "CallRecord", "CandidateRecord", "CorpusDocument",
           "CorpusRedaction", "CriticProblem", "DesignFinding", "DesignViolation", "MergeRecord",
           "Outcome", "ProposalRecord", "QuarantineRecord", "ReviewRecord", "ScopeRecord",
           "Step", "Transcript", "VoteRecord", "render_markdown"]
