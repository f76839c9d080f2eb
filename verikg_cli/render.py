"""Rendering results for the terminal with rich."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.query import QueryAnswer
from pipeline.models import (
    Assertion,
    BuildReport,
    Document,
    DocumentId,
    EntityRef,
    Severity,
    local_name,
)
from pipeline.ontology.checks.cqs import CQRun
from pipeline.store.rules import review_violations


def _two_columns(title: str, head: tuple[str, str], values: dict[str, str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(head[0])
    table.add_column(head[1], justify="right")
    for key, value in values.items():
        table.add_row(key, value)
    return table


def print_report(console: Console, r: BuildReport) -> None:
    table = Table(title="VeriKG build summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("store", r.store),
        ("run", r.run_id if r.attempts == 1 else
         f"{r.run_id} (resumed: attempt {r.attempts}, {r.resumed_chunks} chunks from the ledger)"),
        ("documents", f"{r.documents} ({r.new_documents} new)"), ("chunks", str(r.chunks)),
        ("triples proposed", str(r.proposed)), ("triples accepted", str(r.accepted)),
        ("triples quarantined", str(r.quarantined)), ("entities", str(r.entities)),
        ("assertions in store", str(r.assertions_in_store)), ("index size", str(r.index_size)),
        ("entity merges", str(len(r.merges))), ("contested values", str(r.contested)),
        ("isolated islands", str(r.islands)),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    for title, head, values in (
            ("quarantined by reason (hard checks)", ("reason", "count"),
             {k: str(v) for k, v in r.quarantined_by_reason.items()}),
            ("kept but flagged, by soft check (verikg quarantine --soft)", ("check", "count"),
             {k: str(v) for k, v in r.flagged_by_check.items()}),
            ("contract checks (all attempts)", ("check", "failed / pass rate"),
             {k: f"{c.failed} / {c.pass_rate:.1%}" for k, c in r.contract.checks.items()}
             if r.contract else {k: str(v) for k, v in r.check_failures.items()}),
            ("time per stage (s)", ("stage", "seconds"),
             {k: f"{v:.2f}" for k, v in r.stage_seconds.items()})):
        if values:
            console.print(_two_columns(title, head, values))
    # plain lines that scripts (and the second demo run's check) can grep
    console.print(f"triples proposed: {r.proposed}, accepted: {r.accepted}, "
                  f"quarantined: {r.quarantined}", highlight=False, markup=False)
    flagged = ", ".join(f"{k} {v}" for k, v in r.flagged_by_check.items()) or "none"
    console.print(f"soft violations by check: {flagged}", highlight=False, markup=False)
    if r.contract:
        console.print(f"corrective retries per sample: {r.contract.retries_per_sample:.2f} "
                      f"(samples by attempts: {r.contract.attempts})", highlight=False,
                      markup=False)
    console.print(f"new assertions: {r.new_assertions}", highlight=False, markup=False)
    if r.calibration is not None:
        c = r.calibration
        console.print(f"calibration on {c.found} labelled statements ({c.right} right, "
                      f"{c.missing} not found): ECE {c.ece:.3f}; reliability diagram "
                      f"{c.diagram}", highlight=False, markup=False)


def print_answers(console: Console, answers: Sequence[QueryAnswer]) -> None:
    for n, a in enumerate(answers, 1):
        where = f"  where {a.query.where}" if a.query.where else ""
        console.print(Text.assemble("\n", (f"Query {n}: ", "bold"), f"{a.query.text}{where}"))
        if not a.hits:
            console.print("  (no hits)")
        for rank, hit in enumerate(a.hits, 1):
            asr = hit.assertion
            extra = f"  (confidence {asr.confidence:.2f}, {asr.status.value})" if asr else (
                f"  ({hit.kind})")
            console.print(f"  {rank}. [{hit.score:.3f}] {hit.label}{extra}", highlight=False,
                          markup=False)
            for ev in hit.evidence[:2]:
                console.print(f"       evidence: {ev.document_source} "
                              f"[{ev.span.start}:{ev.span.end}] \"{ev.quote.strip()}\"",
                              highlight=False, markup=False)


def print_cqs(console: Console, run: CQRun) -> None:
    """The competency questions run over the built graph: which ones it answers."""
    console.print(Text.assemble("\n", ("Competency questions answered by the graph: ", "bold"),
                                f"{run.answered}/{run.asked} ({run.share_answered:.0%})"))
    for r in run.results:
        mark = "yes" if r.answered else "no "
        detail = f"{r.answers} answer(s)" if r.answers is not None else r.error
        console.print(f"  {mark} {r.id}: {r.text} — {detail}", highlight=False, markup=False)


#: the outputs ``verikg eval text2kgbench`` scores, and how the table names them
EVAL_OUTPUTS = (("raw", "raw"), ("naive", "naive filter"), ("verified", "verified"),
                ("verified_hard_only", "verified, hard only"))


def print_evaluation(console: Console, result: dict[str, Any]) -> None:
    """The benchmark's metrics per system — raw, through the naive filter, verified and
    verified by the hard checks alone — with pooled (micro) precision and recall and the
    share of sentences emptied, then the contract and calibration figures."""
    metrics = ("precision", "recall", "f1", "onto_conf", "sub_halluc", "rel_halluc",
               "obj_halluc")
    for name, scores in result["systems"].items():
        table = Table(title=f"Text2KGBench {result['ontology']}: {name} "
                            f"({result['gold_sentences']} sentences, written form "
                            f"{result.get('written_form', 'tidy')})", title_justify="left")
        table.add_column("metric")
        for _, label in EVAL_OUTPUTS:
            table.add_column(label, justify="right")
        for m in metrics:
            table.add_row(m, *(f"{scores[kind][m]:.3f}" for kind, _ in EVAL_OUTPUTS))
        for m, key in (("micro precision", "precision"), ("micro recall", "recall")):
            table.add_row(m, *(f"{scores['micro'][kind][key]:.3f}" for kind, _ in EVAL_OUTPUTS))
        table.add_row("sentences emptied", *(
            f"{scores['emptied'][kind]['emptied_share']:.3f}" if kind in scores["emptied"]
            else "–" for kind, _ in EVAL_OUTPUTS))
        console.print(table)
    failed = {c: str(v["failed"]) for c, v in result["contracts"].items() if v["failed"]}
    console.print(_two_columns("Contract checks that failed", ("check", "failed"), failed))
    if result.get("flagged"):
        console.print(_two_columns("Kept but flagged (soft checks)", ("check", "assertions"),
                                   {k: str(v) for k, v in result["flagged"].items()}))
    conf = result["confidence"]
    console.print(f"confidence: ECE {conf['ece']:.3f} over {conf['count']} verified triples "
                  f"(calibration: {conf.get('calibration', 'none')}; threshold "
                  f"{conf['threshold']}); merges {result['merges']}, contested "
                  f"{result['contested']}, islands {result['islands']}", highlight=False)
    for note in result.get("ontology_notes", []):
        console.print(f"ontology: [{note['code']}] {note['message']}", highlight=False,
                      markup=False)


# --------------------------------------------------------------------------- quarantine --soft


def soft_check_names(flagged: Sequence[Assertion]) -> set[str]:
    """The names ``verikg quarantine --soft --check`` accepts: the soft checks of the
    extraction contract (and their defaults), and any check a stored assertion was flagged by
    (a contract may have changed since)."""
    from pipeline.contracts.spec import DEFAULT_SEVERITY, load_contract
    from pipeline.errors import VeriKGError

    names = {name for name, severity in DEFAULT_SEVERITY.items() if severity is Severity.SOFT}
    try:
        spec = load_contract()
    except VeriKGError:
        spec = None  # the stored names and the defaults still let a reviewer filter
    if spec is not None:
        names |= {c.check for section in (spec.postconditions, spec.graph) for c in section
                  if c.effective_severity is Severity.SOFT}
    return names | {v.check for a in flagged for v in review_violations(a)}


def _citation(document_id: str, start: int, end: int,
              documents: Mapping[DocumentId, Document]) -> str:
    doc = documents.get(DocumentId(document_id))
    return f"{doc.source if doc else document_id} [{start}:{end}]"


def flagged_json(flagged: Sequence[Assertion],
                 documents: Mapping[DocumentId, Document]) -> list[dict[str, Any]]:
    """Flagged assertions as JSON-ready objects: the statement, its confidence and status,
    every violation (check, reason, detail, severity) and every source (document, span)."""
    out: list[dict[str, Any]] = []
    for a in flagged:
        t = a.triple
        obj = t.object
        out.append({
            "id": a.id, "subject": t.subject.label, "subject_id": t.subject.id,
            "predicate": t.predicate, "object": t.object_label,
            "object_id": obj.id if isinstance(obj, EntityRef) else None,
            "datatype": None if isinstance(obj, EntityRef) else obj.datatype,
            "confidence": a.confidence, "status": a.status.value,
            "violations": [v.model_dump(mode="json") for v in a.violations],
            "provenance": [{
                "document_id": p.document_id,
                "document": documents[DocumentId(p.document_id)].source
                if DocumentId(p.document_id) in documents else None,
                "chunk_id": p.chunk_id, "span": [p.span.start, p.span.end], "quote": p.quote,
                "model": p.model} for p in a.provenance]})
    return out


def print_flagged(console: Console, flagged: Sequence[Assertion],
                  documents: Mapping[DocumentId, Document], *, check: str | None = None) -> None:
    """Flagged assertions grouped by the soft check they failed (one listed under each of
    its checks), each with its violations and sources, then the counts by check."""
    groups: dict[str, list[Assertion]] = {}
    for a in flagged:
        for name in dict.fromkeys(v.check for v in review_violations(a, check)):
            groups.setdefault(name, []).append(a)
    by_check = Counter({name: len(items) for name, items in groups.items()})
    for name in sorted(groups):
        console.print(Text.assemble((name, "bold"), f": {len(groups[name])} assertion(s)"))
        for a in groups[name]:
            t = a.triple
            console.print(f"  ({t.subject.label} | {local_name(t.predicate)} | "
                          f"{t.object_label})  confidence {a.confidence:.2f}, "
                          f"{a.status.value}  {a.id}", highlight=False, markup=False,
                          soft_wrap=True)
            for v in a.violations:
                if v.check != name:
                    continue
                console.print(f"    [{v.reason.value}] {v.detail}", highlight=False,
                              markup=False, soft_wrap=True)
            for p in a.provenance:
                where = _citation(p.document_id, p.span.start, p.span.end, documents)
                console.print(f'    evidence: {where} "{p.quote.strip()}"', highlight=False,
                              markup=False, soft_wrap=True)
    counts = ", ".join(f"{name} {n}" for name, n in sorted(by_check.items()))
    console.print(f"{len(flagged)} flagged assertion(s)" + (f": {counts}" if counts else ""),
                  highlight=False, markup=False)
