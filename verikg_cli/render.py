"""Rendering results for the terminal with rich."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.build_kg import BuildReport
from flows.query import QueryAnswer
from pipeline.ontology.cq_checks import CQRun


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
            ("quarantined by reason", ("reason", "count"),
             {k: str(v) for k, v in r.quarantined_by_reason.items()}),
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
    if r.contract:
        console.print(f"corrective retries per sample: {r.contract.retries_per_sample:.2f} "
                      f"(samples by attempts: {r.contract.attempts})", highlight=False,
                      markup=False)
    console.print(f"new assertions: {r.new_assertions}", highlight=False, markup=False)


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


def print_evaluation(console: Console, result: dict[str, Any]) -> None:
    """The benchmark's metrics per system, raw and verified, then the contract and
    calibration figures."""
    metrics = ("precision", "recall", "f1", "onto_conf", "sub_halluc", "rel_halluc",
               "obj_halluc")
    table = Table(title=f"Text2KGBench {result['ontology']} ({result['gold_sentences']} "
                        "sentences)", title_justify="left")
    table.add_column("system")
    table.add_column("output")
    for m in metrics:
        table.add_column(m, justify="right")
    for name, scores in result["systems"].items():
        for kind in ("raw", "verified"):
            table.add_row(name if kind == "raw" else "", kind,
                          *(f"{scores[kind][m]:.3f}" for m in metrics))
    console.print(table)
    failed = {c: str(v["failed"]) for c, v in result["contracts"].items() if v["failed"]}
    console.print(_two_columns("Contract checks that failed", ("check", "failed"), failed))
    conf = result["confidence"]
    console.print(f"confidence: ECE {conf['ece']:.3f} over {conf['count']} verified triples "
                  f"(threshold {conf['threshold']}); merges {result['merges']}, contested "
                  f"{result['contested']}, islands {result['islands']}", highlight=False)
