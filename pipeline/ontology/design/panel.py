"""The ontology design panel: competency questions by consensus, then an ontology that
answers them, reviewed until it passes or what is left is reported.

Round 1. Every agent proposes competency questions from the domain description and a corpus
sample (``proposal_rounds`` times; later rounds see the merged list and add what is missing).
Proposals are merged by embedding similarity (``merge``), then every agent votes on every
merged question; a question enters the scope with ``ceil(quorum x agents)`` accept votes.

Round 2. The ontology engineer drafts classes, properties and one SPARQL query per question in
scope; the automatic checks (``review``) and the critic review it. Problems go back to the
engineer as a corrective prompt, for at most ``review_rounds`` drafts. The last draft is the
output; a draft with errors left, or one the critic still rejects, is reported as
``unresolved`` with every open problem in the transcript, never passed off as accepted.

Every answer goes through the output contract (``structured``): malformed or hostile answers
are corrected by re-prompting, and what still fails is quarantined in the transcript.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Literal

from pipeline.embeddings.base import Embedder
from pipeline.errors import ConfigurationError
from pipeline.models import CompetencyQuestion, Document, Frozen
from pipeline.ontology.design.agents import PanelAgent
from pipeline.ontology.design.merge import QuestionMerger
from pipeline.ontology.design.prompts import (
    Correction,
    Excerpt,
    draft_messages,
    proposal_messages,
    review_messages,
    vote_messages,
)
from pipeline.ontology.design.render import slug
from pipeline.ontology.design.review import DraftCheck, check_draft
from pipeline.ontology.design.schemas import (
    DraftAnswer,
    ProposalAnswer,
    ReviewAnswer,
    VoteAnswer,
)
from pipeline.ontology.design.settings import DesignSettings
from pipeline.ontology.design.structured import Answer, ContractCaller
from pipeline.ontology.design.transcript import (
    AgentRecord,
    CandidateRecord,
    CorpusDocument,
    CorpusRedaction,
    CriticProblem,
    DesignFinding,
    DesignViolation,
    Outcome,
    ProposalRecord,
    QuarantineRecord,
    ReviewRecord,
    ScopeRecord,
    Step,
    Transcript,
    VoteRecord,
)
from pipeline.text.hostile import sanitize_corpus_text

ONTOLOGY_FILE = "ontology.ttl"
CQ_FILE = "competency_questions.yaml"
TRANSCRIPT_JSON = "transcript.json"
TRANSCRIPT_MD = "transcript.md"


class DesignResult(Frozen):
    """What the panel produced: the files' contents and the transcript."""

    status: Literal["accepted", "unresolved", "failed"]
    transcript: Transcript
    ontology_ttl: str | None = None
    cq_yaml: str | None = None
    competency_questions: tuple[CompetencyQuestion, ...] = ()
    unresolved: tuple[DesignFinding, ...] = ()


def ontology_iri_for(domain: str, settings: DesignSettings) -> str:
    """``settings.iri``, or ``base_iri`` + a slug of the domain description."""
    if settings.iri:
        return settings.iri.rstrip("/")
    return settings.base_iri.rstrip("/") + "/" + slug(domain)


def ontology_title(domain: str, *, max_chars: int = 60) -> str:
    """A short name for the ontology's label: the domain description up to its first colon,
    dash or full stop, cut at a word boundary."""
    head = re.split(r"[:.;\u2013\u2014]| - ", domain, maxsplit=1)[0].strip() or domain
    if len(head) > max_chars:
        head = head[:max_chars].rsplit(" ", 1)[0]
    return head


def sample_corpus(documents: Sequence[Document], settings: DesignSettings,
                  ) -> tuple[list[Excerpt], list[CorpusDocument], list[CorpusRedaction]]:
    """The first ``corpus_documents`` documents (by source), each cut to ``corpus_chars`` at a
    sentence end where one is near, with instruction-like sentences removed."""
    excerpts, shown, redactions = [], [], []
    for doc in sorted(documents, key=lambda d: (d.source, d.id))[:settings.corpus_documents]:
        text = doc.text[:settings.corpus_chars]
        if len(doc.text) > settings.corpus_chars:
            cut = max(text.rfind(". "), text.rfind(".\n"))
            text = text[:cut + 1] if cut > settings.corpus_chars // 2 else text
        clean, removed = sanitize_corpus_text(text)
        redactions += [CorpusRedaction(source=doc.source, text=s, reasons=tuple(r))
                       for s, r in removed]
        excerpts.append(Excerpt(source=doc.source, text=clean))
        shown.append(CorpusDocument(source=doc.source, id=str(doc.id), chars_shown=len(text)))
    return excerpts, shown, redactions


class OntologyDesignPanel:
    """Runs the two rounds with the given agents; ``run`` returns a ``DesignResult``."""

    def __init__(self, agents: Sequence[PanelAgent], embedder: Embedder,
                 settings: DesignSettings | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        # the defaults, not the environment: the edge reads that and passes ``settings`` in
        self.settings = settings or DesignSettings.model_construct()
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"panel agents need distinct names, got {names}")
        self.agents = list(agents)
        self.engineer = next((a for a in agents if a.role == "ontology_engineer"), None)
        self.critic = next((a for a in agents if a.role == "critic"), None)
        if self.engineer is None or self.critic is None:
            raise ConfigurationError("the panel needs an ontology engineer and a critic; "
                                     f"it has: {', '.join(a.role for a in agents) or 'nobody'}")
        self.embedder = embedder
        self._sleep = sleep

    # ------------------------------------------------------------------ entry point
    def run(self, domain: str, documents: Sequence[Document]) -> DesignResult:
        domain = " ".join(domain.split())
        if not domain:
            raise ConfigurationError("the domain description is empty; say what the "
                                     "ontology is about")
        s = self.settings
        iri = ontology_iri_for(domain, s)
        transcript = Transcript(
            domain=domain, ontology_iri=iri, prefix=s.prefix,
            settings=s.model_dump(mode="json"),
            agents=[AgentRecord(name=a.name, role=a.title, model=a.model_name)
                    for a in self.agents])
        excerpts, shown, redactions = sample_corpus(documents, s)
        transcript.corpus, transcript.corpus_redactions = shown, redactions
        caller = ContractCaller(transcript, max_retries=s.max_retries,
                                unavailable_retries=s.unavailable_retries,
                                backoff_seconds=s.backoff_seconds, sleep=self._sleep)
        candidates = self._propose(caller, transcript, domain, excerpts)
        scope = self._vote(caller, transcript, domain, candidates)
        if not scope:
            transcript.outcome = Outcome(status="failed", message=(
                "no competency question reached the quorum, so there is nothing to design "
                "for; see the votes"))
            return DesignResult(status="failed", transcript=transcript)
        return self._design(caller, transcript, domain, iri, excerpts, scope)

    # ------------------------------------------------------------------ round 1
    def _quarantine(self, transcript: Transcript, step: Step, round_: int, agent: PanelAgent,
                    raw: str, violations: Sequence[DesignViolation]) -> None:
        transcript.quarantine.append(QuarantineRecord(
            step=step, round=round_, agent=agent.name, raw=raw,
            reasons=tuple(v.line() for v in violations) or ("unusable answer",)))

    def _propose(self, caller: ContractCaller, transcript: Transcript, domain: str,
                 excerpts: Sequence[Excerpt]) -> list[CandidateRecord]:
        s = self.settings
        merger = QuestionMerger(self.embedder, s.merge_threshold)

        def check(answer: ProposalAnswer) -> list[DesignViolation]:
            if not answer.questions:
                return [DesignViolation(code="empty-output", detail="no questions proposed")]
            return [DesignViolation(code="not-a-question", item=i, detail=(
                f"questions[{i}].text '{q.text}' is not a question; write a full question "
                "the knowledge graph must answer"))
                for i, q in enumerate(answer.questions) if len(q.text.split()) < 3]

        for round_ in range(1, s.proposal_rounds + 1):
            existing = merger.candidates
            fresh: list[ProposalRecord] = []
            for agent in self.agents:
                answer = caller.ask(
                    agent, "propose", round_,
                    partial(proposal_messages, agent, domain, excerpts,
                            max_questions=s.max_questions, existing=existing),
                    ProposalAnswer, check)
                fresh += self._keep_proposals(transcript, agent, round_, answer,
                                              len(transcript.proposals) + len(fresh))
            transcript.proposals += fresh
            transcript.merges += merger.add(fresh)
        transcript.candidates = merger.candidates
        return transcript.candidates

    def _keep_proposals(self, transcript: Transcript, agent: PanelAgent, round_: int,
                        answer: Answer[ProposalAnswer], numbered: int) -> list[ProposalRecord]:
        """The proposals of an answer that passed; with violations left, the items they name
        are quarantined and the rest kept (a whole-answer violation quarantines it all)."""
        if answer.value is None or any(v.item is None for v in answer.violations):
            self._quarantine(transcript, "propose", round_, agent, answer.raw, answer.violations)
            return []
        bad = {v.item for v in answer.violations}
        kept: list[ProposalRecord] = []
        questions = answer.value.questions
        for i, q in enumerate(questions):
            if i in bad:
                self._quarantine(transcript, "propose", round_, agent, q.model_dump_json(),
                                 [v for v in answer.violations if v.item == i])
                continue
            if i >= self.settings.max_questions:
                self._quarantine(transcript, "propose", round_, agent, q.model_dump_json(), [
                    DesignViolation(code="too-many-questions", item=i, detail=(
                        f"over the limit of {self.settings.max_questions} questions"))])
                continue
            kept.append(ProposalRecord(id=f"p{numbered + len(kept) + 1:03d}", agent=agent.name,
                                       round=round_, text=q.text, answer_type=q.answer_type,
                                       rationale=q.rationale))
        return kept

    def _vote(self, caller: ContractCaller, transcript: Transcript, domain: str,
              candidates: Sequence[CandidateRecord]) -> list[CandidateRecord]:
        if not candidates:
            return []
        ids = [c.id for c in candidates]

        def check(answer: VoteAnswer) -> list[DesignViolation]:
            found = []
            seen: set[str] = set()
            for i, v in enumerate(answer.votes):
                if v.cq not in ids:
                    found.append(DesignViolation(code="unknown-question", item=i, detail=(
                        f"'{v.cq}' is not a candidate; vote on {', '.join(ids)}")))
                elif v.cq in seen:
                    found.append(DesignViolation(code="duplicate-vote", item=i, detail=(
                        f"{v.cq} is voted on twice; vote once")))
                seen.add(v.cq)
            missing = [c for c in ids if c not in seen]
            if missing:
                found.append(DesignViolation(code="missing-vote", detail=(
                    f"no vote on {', '.join(missing)}; vote on every question")))
            return found

        tally: dict[str, dict[str, VoteRecord]] = {c: {} for c in ids}
        for agent in self.agents:
            answer = caller.ask(
                agent, "vote", 1,
                partial(vote_messages, agent, domain, candidates), VoteAnswer, check)
            if answer.value is None:  # nothing usable: every vote is an abstention
                self._quarantine(transcript, "vote", 1, agent, answer.raw, answer.violations)
                given = []
            else:  # votes on unknown or repeated ids are refused; missing ones abstain
                given = list(answer.value.votes)
                for i in sorted({v.item for v in answer.violations if v.item is not None}):
                    self._quarantine(transcript, "vote", 1, agent,
                                     answer.value.votes[i].model_dump_json(),
                                     [v for v in answer.violations if v.item == i])
                given = [v for i, v in enumerate(given)
                         if not any(x.item == i for x in answer.violations)]
            for v in given:
                tally[v.cq].setdefault(agent.name, VoteRecord(
                    agent=agent.name, cq=v.cq, vote="accept" if v.accept else "reject",
                    reason=v.reason))
            why = ("no usable answer after every retry" if answer.value is None
                   else "gave no vote on it after every retry")
            for cq in ids:
                tally[cq].setdefault(agent.name, VoteRecord(agent=agent.name, cq=cq,
                                                            vote="abstain", reason=why))
        required = math.ceil(self.settings.quorum * len(self.agents) - 1e-9)
        scope: list[ScopeRecord] = []
        for c in candidates:
            votes = [tally[c.id][a.name] for a in self.agents]
            transcript.votes += votes
            accepts = sum(v.vote == "accept" for v in votes)
            scope.append(ScopeRecord(
                cq=c.id, text=c.text, accepts=accepts,
                rejects=sum(v.vote == "reject" for v in votes),
                abstains=sum(v.vote == "abstain" for v in votes), required=required,
                accepted=accepts >= required))
        ranked = sorted((r for r in scope if r.accepted), key=lambda r: (-r.accepts, r.cq))
        cut = {r.cq for r in ranked[self.settings.max_scope:]}
        transcript.scope = [r.model_copy(update={"accepted": False, "note": (
            f"over max_scope={self.settings.max_scope}")}) if r.cq in cut else r for r in scope]
        inside = {r.cq for r in transcript.scope if r.accepted}
        return [c for c in candidates if c.id in inside]

    # ------------------------------------------------------------------ round 2
    def _design(self, caller: ContractCaller, transcript: Transcript, domain: str, iri: str,
                excerpts: Sequence[Excerpt], scope: Sequence[CandidateRecord]) -> DesignResult:
        s = self.settings
        assert self.engineer is not None and self.critic is not None
        engineer, critic = self.engineer, self.critic
        label = f"{ontology_title(domain)} ontology"
        comment = (f"Designed by the VeriKG ontology design panel for the domain: {domain}. "
                   f"It answers {len(scope)} competency questions "
                   f"({', '.join(c.id for c in scope)}).")
        #: what the domain is about, in the panel's words (for the example-copy check)
        context = " ".join([domain, *(c.text for c in scope), *(e.text for e in excerpts)])
        feedback: Correction | None = None
        last: DraftCheck | None = None
        critic_left: list[CriticProblem] = []
        accepted = False
        for round_ in range(1, s.review_rounds + 1):
            answer = caller.ask(
                engineer, "draft", round_,
                partial(draft_messages, engineer, domain, ontology_iri=iri,
                        namespace=iri + "#", prefix=s.prefix, questions=scope,
                        excerpts=excerpts, review=feedback),
                DraftAnswer)
            if not answer.ok or answer.value is None:
                self._quarantine(transcript, "draft", round_, engineer, answer.raw,
                                 answer.violations)
                transcript.reviews.append(ReviewRecord(round=round_,
                                                       draft_attempts=answer.attempts,
                                                       verdict="no-draft"))
                continue
            draft = answer.value
            check = check_draft(draft, scope, ontology_iri=iri, prefix=s.prefix, label=label,
                                comment=comment, context=context)
            last = check
            approved, problems = self._review(caller, transcript, critic, domain, round_,
                                              scope, check)
            accepted = not check.errors and approved is not False
            critic_left = list(problems) if approved is False else []
            transcript.reviews.append(ReviewRecord(
                round=round_, draft_attempts=answer.attempts,
                classes=tuple(sorted(c.name for c in draft.classes)),
                object_properties=tuple(sorted(p.name for p in draft.object_properties)),
                datatype_properties=tuple(sorted(p.name for p in draft.datatype_properties)),
                queries=tuple(sorted(q.cq for q in draft.queries)),
                repairs=tuple(check.repairs), findings=tuple(check.findings),
                critic_approved=approved, critic_problems=tuple(problems),
                verdict="accepted" if accepted else "rejected"))
            if accepted:
                break
            lines = [f.line() for f in check.findings]
            lines += [f"critic: {p.term + ': ' if p.term else ''}{p.problem}" for p in problems]
            if approved is False and not problems:
                lines.append("critic: rejected the draft without naming a problem; check that "
                             "every question is answered by its query")
            feedback = Correction(raw=answer.raw, problems=tuple(lines), kind="review")
        return self._finish(transcript, last, accepted, critic_left, scope)

    def _review(self, caller: ContractCaller, transcript: Transcript, critic: PanelAgent,
                domain: str, round_: int, scope: Sequence[CandidateRecord],
                check: DraftCheck) -> tuple[bool | None, list[CriticProblem]]:
        """The critic's verdict on a checked draft (None: no usable answer, so the automatic
        checks decide alone and the transcript says so)."""
        queries = [(q.id, q.sparql or "(none)") for q in check.questions]
        answer = caller.ask(
            critic, "review", round_,
            partial(review_messages, critic, domain, questions=scope, turtle=check.turtle,
                    queries=queries, findings=[f.line() for f in check.findings]),
            ReviewAnswer)
        if not answer.ok or answer.value is None:
            self._quarantine(transcript, "review", round_, critic, answer.raw,
                             answer.violations)
            return None, []
        problems = [CriticProblem(term=p.term, problem=p.problem)
                    for p in answer.value.problems]
        return answer.value.approve, problems

    def _finish(self, transcript: Transcript, last: DraftCheck | None, accepted: bool,
                critic_left: Sequence[CriticProblem],
                scope: Sequence[CandidateRecord]) -> DesignResult:
        if last is None:
            transcript.unresolved = [DesignFinding(
                code="no-draft", severity="error", iris=(), source="structure",
                message="the ontology engineer gave no usable draft in "
                        f"{self.settings.review_rounds} round(s); see the quarantine")]
            transcript.outcome = Outcome(status="failed", message=(
                "no draft passed the output contract"), accepted_cqs=tuple(c.id for c in scope))
            return DesignResult(status="failed", transcript=transcript,
                                unresolved=tuple(transcript.unresolved))
        onto = last.ontology
        counts = {"classes": len(onto.classes) if onto else 0,
                  "object_properties": sum(p.kind == "object" for p in onto.properties)
                  if onto else 0,
                  "datatype_properties": sum(p.kind == "datatype" for p in onto.properties)
                  if onto else 0}
        if accepted:
            status: Literal["accepted", "unresolved"] = "accepted"
            judges = ("the critic and the checks" if transcript.reviews[-1].critic_approved
                      else "the checks (the critic gave no usable review)")
            message = (f"{judges} accepted draft {len(transcript.reviews)}; "
                       f"{sum(f.severity == 'warning' for f in last.findings)} warning(s) left")
            unresolved: list[DesignFinding] = list(last.findings)
        else:
            status = "unresolved"
            unresolved = list(last.findings) + [DesignFinding(
                code="critic-rejection", severity="error", iris=(p.term,) if p.term else (),
                message=p.problem, source="critic") for p in critic_left]
            message = (f"after {self.settings.review_rounds} review round(s) "
                       f"{sum(f.severity == 'error' for f in unresolved)} problem(s) remain "
                       "unfixed; the last draft is written with them listed here")
        transcript.unresolved = unresolved
        transcript.outcome = Outcome(status=status, message=message,
                                     accepted_cqs=tuple(c.id for c in scope), **counts)
        return DesignResult(status=status, transcript=transcript, ontology_ttl=last.turtle,
                            cq_yaml=last.cq_yaml, competency_questions=tuple(last.questions),
                            unresolved=tuple(unresolved))


def write_design(result: DesignResult, out: Path) -> list[Path]:
    """Write the ontology, the CQ file (when there is a draft) and the transcript to ``out``;
    files of an earlier run that this one does not produce are removed, so the folder never
    mixes two runs."""
    out.mkdir(parents=True, exist_ok=True)
    contents = {TRANSCRIPT_JSON: result.transcript.to_json(),
                TRANSCRIPT_MD: result.transcript.to_markdown()}
    if result.ontology_ttl is not None and result.cq_yaml is not None:
        contents[ONTOLOGY_FILE] = result.ontology_ttl
        contents[CQ_FILE] = result.cq_yaml
    for name in (ONTOLOGY_FILE, CQ_FILE):
        if name not in contents and (out / name).is_file():
            (out / name).unlink()
    written = []
    for name in sorted(contents):
        path = out / name
        path.write_text(contents[name], encoding="utf-8", newline="\n")
        written.append(path)
    return written


__all__ = ["CQ_FILE", "ONTOLOGY_FILE", "TRANSCRIPT_JSON", "TRANSCRIPT_MD", "DesignResult",
           "OntologyDesignPanel", "ontology_iri_for", "sample_corpus", "write_design"]
