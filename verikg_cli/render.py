"""Rendering results for the terminal with rich."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.query import QueryAnswer
from pipeline.ingest.corpus import LOADER
from pipeline.models import (
    Assertion,
    BuildReport,
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    EntityRef,
    QuarantinedCandidate,
    Severity,
    local_name,
)
from pipeline.ontology.checks.cqs import CQRun
from pipeline.retrieval import Hit
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
    if r.skipped_documents:
        console.print(f"skipped documents: {len(r.skipped_documents)} (not built; bad ones are "
                      "quarantined: verikg quarantine lists them)", style="bold yellow",
                      highlight=False, markup=False)
        for s in r.skipped_documents:
            console.print(f"  {s.source}: [{s.reason.value}] {s.detail}", highlight=False,
                          markup=False, soft_wrap=True)
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
            # the ids kgcl certify / kgcl request take, dim after the statement
            console.print(Text.assemble(f"  {rank}. [{hit.score:.3f}] {hit.label}{extra}  ",
                                        (" ".join(_hit_ids(hit)), "dim")), highlight=False,
                          soft_wrap=True)
            for ev in hit.evidence[:2]:
                console.print(f"       evidence: {ev.document_source} "
                              f"[{ev.span.start}:{ev.span.end}] \"{ev.quote.strip()}\"",
                              highlight=False, markup=False)


def _hit_ids(hit: Hit) -> list[str]:
    """A hit's assertion id then its entity ids (subject, object), or the entity's id."""
    if hit.assertion is None:
        return [hit.id]
    t = hit.assertion.triple
    obj = [t.object.id] if isinstance(t.object, EntityRef) else []
    return [hit.assertion.id, t.subject.id, *obj]


def answers_json(answers: Sequence[QueryAnswer]) -> list[dict[str, Any]]:
    """``verikg query --format json``: each query with its hits, every hit with its ids
    (``assertion_id``, ``subject_id``, ``object_id`` or ``entity_id``) and evidence."""
    out: list[dict[str, Any]] = []
    for a in answers:
        hits: list[dict[str, Any]] = []
        for hit in a.hits:
            item: dict[str, Any] = {"kind": hit.kind, "id": hit.id, "score": hit.score,
                                    "label": hit.label}
            if hit.assertion is not None:
                t = hit.assertion.triple
                item.update({
                    "assertion_id": hit.assertion.id, "subject": t.subject.label,
                    "subject_id": t.subject.id, "predicate": t.predicate,
                    "object": t.object_label,
                    "object_id": t.object.id if isinstance(t.object, EntityRef) else None,
                    "confidence": hit.assertion.confidence,
                    "status": hit.assertion.status.value})
            else:
                item["entity_id"] = hit.id
            item["evidence"] = [{"document": ev.document_source, "document_id": ev.document_id,
                                 "chunk_id": ev.chunk_id, "span": [ev.span.start, ev.span.end],
                                 "quote": ev.quote} for ev in hit.evidence]
            hits.append(item)
        out.append({"query": a.query.text, "where": a.query.where, "k": a.query.k,
                    "hits": hits})
    return out


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


# --------------------------------------------------------------------------- quarantine


def _where(q: QuarantinedCandidate, chunks: Mapping[ChunkId, Chunk],
           documents: Mapping[DocumentId, Document]) -> tuple[str, int, str]:
    """Where a refused statement was read, in reading order: the document's source, the
    chunk's index, and as printed (with the chunk's span in the document; the chunk id when
    the store does not hold the chunk)."""
    doc = documents.get(q.document_id)
    source = doc.source if doc else q.document_id
    chunk = chunks.get(q.chunk_id)
    if chunk is None:
        return source, -1, f"{source} {q.chunk_id}"
    return (source, chunk.index,
            f"{source} chunk {chunk.index} [{chunk.span.start}:{chunk.span.end}]")


def quarantine_json(items: Sequence[QuarantinedCandidate], chunks: Mapping[ChunkId, Chunk],
                    documents: Mapping[DocumentId, Document]) -> list[dict[str, Any]]:
    """One object per stored record (sample index, every run that refused it, whether a later
    run resolved it), with where its statement was read: document source, chunk index, span."""
    out = []
    for q in items:
        doc, chunk = documents.get(q.document_id), chunks.get(q.chunk_id)
        out.append({**q.model_dump(mode="json"),
                    "document": doc.source if doc else None,
                    "chunk_index": chunk.index if chunk else None,
                    "span": [chunk.span.start, chunk.span.end] if chunk else None})
    return out


def _numbers(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in sorted(set(values)))


def print_quarantine(console: Console, items: Sequence[QuarantinedCandidate],
                     chunks: Mapping[ChunkId, Chunk],
                     documents: Mapping[DocumentId, Document]) -> None:
    """What the contracts refused, one line per statement: where it was read (document,
    chunk, span), the statement, its reasons, then the samples that refused it ("samples
    0,1,2 of 3"), their attempts, the model and the run (with the earlier runs that refused
    it too). Records a later run no longer refused follow under their own heading."""
    groups: dict[tuple[Any, ...], list[QuarantinedCandidate]] = {}
    skipped = [q for q in items if q.model == LOADER]
    for q in skipped:  # a document the loader could not read: no statement, no samples
        reasons = "; ".join(f"[{v.reason.value}] {v.detail}" for v in q.violations)
        state = f"resolved by {q.resolved_by}" if q.resolved_by else f"run {q.run_id}"
        console.print(f"skipped document {q.document_id.removeprefix('file:')}: {reasons} "
                      f"({state})", highlight=False, markup=False, soft_wrap=True)
    for q in items:
        if q.model == LOADER:
            continue
        c = q.candidate
        what = (f"({c.subject} | {c.predicate} | {c.object})" if c else repr(q.raw[:80]))
        reasons = "; ".join(f"[{v.reason.value}] {v.detail}" for v in q.violations)
        key = (q.resolved_by is not None, _where(q, chunks, documents), what, reasons, q.model,
               q.prompt_version, q.run_id, q.runs, q.resolved_by or "")
        groups.setdefault(key, []).append(q)
    heading = False
    for key in sorted(groups):
        resolved, (_, _, where), what, reasons, model, _, run, runs, resolved_by = key
        if resolved and not heading:
            heading = True
            console.print("resolved (a later run read the same text and did not refuse them):",
                          highlight=False, markup=False)
        found = groups[key]
        total = max(q.samples_total for q in found)
        samples = [q.sample_index for q in found]
        line = (f"{where} {what}: {reasons} ("
                f"{'samples' if len(set(samples)) > 1 else 'sample'} {_numbers(samples)}"
                + (f" of {total}" if total else "")
                + f", attempts {_numbers([q.attempts for q in found])}, {model}, run {run}")
        earlier = [r for r in runs if r != run]
        if earlier:
            line += f" (also refused by {', '.join(earlier)})"
        line += f"; resolved by {resolved_by})" if resolved else ")"
        console.print(("  " if resolved else "") + line, highlight=False, markup=False,
                      soft_wrap=True)
    standing = [k for k in groups if not k[0]]
    rows = sum(len(groups[k]) for k in standing)
    done = len(groups) - len(standing)
    open_skips = sum(1 for q in skipped if q.resolved_by is None)
    console.print(f"{rows} quarantined ({len(standing)} statement(s))"
                  + (f"; {open_skips} document(s) skipped" if open_skips else "")
                  + (f"; {done} statement(s) resolved by a later run" if done else ""),
                  highlight=False, markup=False)
