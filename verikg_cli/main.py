"""``verikg``: the command line. The outermost layer: it parses arguments and runs flows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from verikg_cli._env import configure, handle_sigterm, require_store, run
from verikg_cli.choices import MAX_K, Form, OutputFormat, Reason

configure()

from pipeline.errors import VeriKGError  # noqa: E402

if TYPE_CHECKING:  # pydantic-settings loads when a command runs, not for --help
    from pipeline.settings import Settings

app = typer.Typer(help="VeriKG: verified knowledge graphs from documents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
ontology_app = typer.Typer(help="Ontology commands.", no_args_is_help=True)
app.add_typer(ontology_app, name="ontology")
merges_app = typer.Typer(help="Entity merges: list them, undo one.", no_args_is_help=True)
app.add_typer(merges_app, name="merges")
eval_app = typer.Typer(help="Evaluate on public benchmarks with their own metrics.",
                       no_args_is_help=True)
app.add_typer(eval_app, name="eval")
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _fail(exc: Exception) -> typer.Exit:
    err.print(Text.assemble(("error: ", "bold red"), str(exc)))
    return typer.Exit(code=1)


def _settings(store: str | None, data_dir: Path | None, *, samples: int | None = None,
              max_retries: int | None = None) -> Settings:
    from pipeline.settings import Settings

    overrides: dict[str, object] = {}
    if store:
        overrides["store"] = store
    if data_dir:
        overrides["data_dir"] = data_dir
    if samples is not None:
        overrides["samples"] = samples
    if max_retries is not None:
        overrides["max_retries"] = max_retries
    return Settings(**overrides)  # type: ignore[arg-type]


def _existing_store(store: str | None, data_dir: Path | None) -> Settings:
    """The settings of a command that reads or changes a store, once the store is known to
    exist (checked before any model or flow loads: exit 1 with one line otherwise)."""
    settings = _settings(store, data_dir)
    try:
        require_store(settings.store_descriptor())
    except VeriKGError as exc:
        raise _fail(exc) from exc
    return settings


class _Bars:
    """Rich progress bars fed by the flows' ``progress(stage, done, total)`` callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


StoreOpt = Annotated[str | None, typer.Option(help="store descriptor: sqlite:PATH or a Bolt "
                                              "URI (default: embedded SQLite in --data-dir)")]
DataOpt = Annotated[Path | None, typer.Option(help="state folder (default .verikg)")]
SamplesOpt = Annotated[int | None, typer.Option(help="samples per chunk (default: "
                                                "VERIKG_SAMPLES, 3)")]
RetriesOpt = Annotated[int | None, typer.Option(help="corrective re-prompts per sample "
                                                "(default: VERIKG_MAX_RETRIES, 2)")]


@app.command()
def demo(corpus: Path = Path("data/sample"), ontology: Path = Path("ontologies/space"),
         queries: Path = Path("data/sample/queries.yaml"), store: StoreOpt = None,
         data_dir: DataOpt = None, samples: SamplesOpt = None,
         max_retries: Annotated[int, typer.Option(
             help="corrective re-prompts per sample; 1 keeps the CPU demo to minutes")] = 1,
         ) -> None:
    """Build the sample knowledge graph and answer the sample hybrid queries."""
    from flows.demo import demo as demo_flow
    from verikg_cli.render import print_answers, print_cqs, print_report

    settings = _settings(store, data_dir, samples=samples, max_retries=max_retries)
    try:
        with _progress() as p:
            result = demo_flow(str(corpus), str(ontology), str(queries), settings=settings,
                               progress=_Bars(p))
    except VeriKGError as exc:
        raise _fail(exc) from exc
    print_report(console, result.build)
    print_answers(console, result.answers)
    print_cqs(console, result.cqs)


@app.command()
def build(corpus: Annotated[Path, typer.Option(help="file or folder of documents",
                                               exists=True)],
          ontology: Annotated[Path | None, typer.Option(
              help="ontology file or folder; the store records it (a different one replaces "
                   "it, audited), so later commands need no --ontology (default: the one "
                   "the store was built with; a new store needs one)", exists=True)] = None,
          store: StoreOpt = None, data_dir: DataOpt = None, samples: SamplesOpt = None,
          max_retries: RetriesOpt = None,
          as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")]
          = False,
          labels: Annotated[Path | None, typer.Option(
              help="a labelled sample of statements (JSONL or CSV): report the stored "
                   "confidence's ECE and reliability diagram on it", exists=True,
              dir_okay=False)] = None,
          on_bad_document: Annotated[str | None, typer.Option(
              "--on-bad-document", metavar="skip|fail",
              help="a file that cannot be read as a document (binary, empty, unknown "
                   "encoding, too large, a symlink loop): skip it — reported and quarantined, "
                   "the build goes on — or fail the build (default VERIKG_ON_BAD_DOCUMENT, "
                   "skip)")] = None) -> None:
    """Build or update a knowledge graph from documents under an ontology."""
    from flows.build_kg import build_kg
    from verikg_cli.render import print_report

    if on_bad_document is not None and on_bad_document not in ("skip", "fail"):
        raise typer.BadParameter(f"'{on_bad_document}' is not one of skip, fail",
                                 param_hint="--on-bad-document")
    settings = _settings(store, data_dir, samples=samples, max_retries=max_retries)
    if on_bad_document is not None:
        settings = settings.model_copy(update={"on_bad_document": on_bad_document})
    try:
        with _progress() as p:
            report = build_kg(str(corpus), str(ontology) if ontology else None,
                              settings=settings, progress=_Bars(p),
                              labels=str(labels) if labels else None)
    except VeriKGError as exc:
        raise _fail(exc) from exc
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(console, report)


@app.command()
def query(text: str,
          where: Annotated[str | None, typer.Option(
              help='filter on kind, type, predicate, confidence, status, violations, e.g. '
                   '\'type == "Mission" and predicate == "operated by"\' (a type or '
                   'predicate by its label, local name or IRI)')] = None,
          k: Annotated[int, typer.Option(min=1, max=MAX_K, help=f"hits to show (1..{MAX_K})")]
          = 5,
          ontology: Annotated[Path | None, typer.Option(
              help="ontology file or folder (default: the one the store was built with)",
              exists=True)] = None,
          store: StoreOpt = None, data_dir: DataOpt = None,
          fmt: Annotated[OutputFormat, typer.Option(
              "--format", help="text, or json (each hit with its assertion and entity ids)")]
          = OutputFormat.TEXT) -> None:
    """Hybrid search: rank by meaning, filter exactly by attributes, show evidence and the
    ids (asr:…, ent:…) that kgcl certify and kgcl request take."""
    if where is not None:
        from pipeline.index.where import parse_where

        try:
            parse_where(where)  # a malformed filter fails before any model loads
        except VeriKGError as exc:
            raise typer.BadParameter(str(exc), param_hint="--where") from exc
    settings = _existing_store(store, data_dir)
    from flows.query import Query, answer_queries
    from verikg_cli.render import answers_json, print_answers

    try:
        answers = answer_queries.fn([Query(text=text, where=where, k=k)], settings, ontology)
    except VeriKGError as exc:
        raise _fail(exc) from exc
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps(answers_json(answers), indent=1, ensure_ascii=False) + "\n")
        return
    print_answers(console, answers)


@ontology_app.command("check")
def ontology_check(
    path: Annotated[Path, typer.Argument(
        help="ontology file (Turtle, RDF/XML, N-Triples, OWL) or a folder holding "
             "ontology.ttl", exists=True, metavar="ONTOLOGY_FILE")],
    cqs: Annotated[Path | None, typer.Option(
        "--cqs", help="competency questions (YAML: id, text, sparql, answer_type); default: "
                      "competency_questions.yaml beside the ontology", exists=True,
        dir_okay=False)] = None,
    kg: Annotated[str | None, typer.Option(
        "--kg", help="a built knowledge graph to run the CQ queries on: an RDF file (.ttl, "
                     ".nt, .rdf, .owl, .jsonld), a SQLite store file, sqlite:PATH or a Bolt "
                     "URI")] = None,
    root: Annotated[list[str] | None, typer.Option(
        "--root", help="IRI of a declared root class (repeatable; adds to the ontology's "
                       "verify:rootClass); with roots, every other class needs a "
                       "superclass")] = None,
    reasoner_timeout: Annotated[float, typer.Option(
        "--reasoner-timeout", min=0.0,
        help="seconds HermiT may run (0 turns the reasoner off)")] = 120.0,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json")]
    = OutputFormat.TEXT,
) -> None:
    """Verify an ontology: every check, each finding with its reason code, severity and IRIs.
    Exit 1 if any finding is an error, 0 otherwise, 2 on bad usage."""
    from flows.clients import open_kg
    from pipeline.ontology.checks.report import check_file

    try:
        if kg is not None:
            with open_kg(kg) as graph:
                report = check_file(path, cqs=cqs, roots=root or (), kg=graph, kg_name=kg,
                                    reasoner_timeout_s=reasoner_timeout)
        else:
            report = check_file(path, cqs=cqs, roots=root or (),
                                reasoner_timeout_s=reasoner_timeout)
    except VeriKGError as exc:
        # one line: parser messages can hold newlines
        raise _fail(VeriKGError(" ".join(str(exc).split()))) from exc
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        for f in report.findings:
            console.print(f"{f.severity}: [{f.code.value}] {f.message} ({', '.join(f.iris)})",
                          highlight=False, markup=False, soft_wrap=True)
        r = report.reasoner
        console.print(f"reasoner: {r.reasoner} {r.status.value} ({r.seconds:.1f} s)"
                      + (f": {r.detail}" if r.detail else ""), highlight=False, markup=False,
                      soft_wrap=True)
        cq = report.competency_questions
        if cq.total:
            line = f"competency questions: {cq.with_sparql}/{cq.total} with SPARQL"
            if cq.answered is not None and cq.asked:
                line += (f"; {cq.answered}/{cq.asked} answered "
                         f"({100 * cq.answered / cq.asked:.0f}%) over {cq.kg} "
                         f"({cq.kg_triples} triples)")
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        console.print(f"{len(report.findings)} finding(s): {report.errors} error(s), "
                      f"{report.warnings} warning(s)", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def quarantine(reason: Annotated[Reason | None, typer.Option(help="only this reason code")]
               = None,
               store: StoreOpt = None,
               data_dir: DataOpt = None,
               fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json")]
               = OutputFormat.TEXT,
               soft: Annotated[bool, typer.Option(
                   "--soft", help="the stored assertions that passed the hard checks but "
                                  "carry soft violations (kept as facts, flagged for review), "
                                  "instead of what was refused")] = False,
               check: Annotated[str | None, typer.Option(
                   "--check", help="with --soft: only assertions that failed this soft check "
                                   "(e.g. shacl, types-fit-domain-range)")] = None) -> None:
    """What the contracts refused, with the reasons, for review; with --soft, the statements
    they kept but flagged. Exit 2 on bad usage (an unknown --reason, --format or --check),
    1 when the store does not exist."""
    if check is not None and not soft:
        raise typer.BadParameter("--check picks a soft check: add --soft (refused candidates "
                                 "are picked by --reason)", param_hint="--check")
    settings = _existing_store(store, data_dir)
    from flows.clients import make_store

    if soft:
        _quarantine_soft(settings, check, reason, fmt)
        return
    try:
        with make_store(settings) as st:
            items = st.quarantined()
            chunks = st.get_chunks(sorted({q.chunk_id for q in items}))
            documents = st.get_documents(sorted({q.document_id for q in items}))
    except VeriKGError as exc:
        raise _fail(exc) from exc
    if reason:
        items = [q for q in items if any(v.reason.value == reason for v in q.violations)]
    from verikg_cli.render import print_quarantine, quarantine_json

    if fmt == "json":
        sys.stdout.write(json.dumps(quarantine_json(items, chunks, documents), indent=1,
                                    ensure_ascii=False) + "\n")
        return
    print_quarantine(console, items, chunks, documents)


def _quarantine_soft(settings: Settings, check: str | None, reason: str | None,
                     fmt: str) -> None:
    """``verikg quarantine --soft``: the flagged assertions with their violations and the
    documents that state them."""
    from flows.clients import make_store
    from pipeline.models import DocumentId
    from verikg_cli.render import flagged_json, print_flagged, soft_check_names

    try:
        with make_store(settings) as st:
            flagged = st.flagged()
            known = soft_check_names(flagged)
            if check is not None and check not in known:
                near = check.strip().lower().replace("_", "-").replace(" ", "-")
                hint = near if near in known else None
                raise typer.BadParameter(
                    f"unknown soft check {check!r}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; soft checks: {', '.join(sorted(known)) or '(none)'}",
                    param_hint="--check")
            documents = st.get_documents(sorted({DocumentId(p.document_id) for a in flagged
                                                 for p in a.provenance}))
    except VeriKGError as exc:
        raise _fail(exc) from exc
    if check is not None:
        flagged = [a for a in flagged if any(v.check == check for v in a.violations)]
    if reason:
        flagged = [a for a in flagged if any(v.reason.value == reason for v in a.violations)]
    if fmt == "json":
        sys.stdout.write(json.dumps(flagged_json(flagged, documents), indent=1,
                                    ensure_ascii=False) + "\n")
        return
    print_flagged(console, flagged, documents, check=check)


@app.command()
def runs(data_dir: DataOpt = None,
         fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json")]
         = OutputFormat.TEXT) -> None:
    """The builds in the run ledger: open ones resume when the same build runs again."""
    settings = _settings(None, data_dir)
    if not Path(settings.data_dir).is_dir():
        raise _fail(VeriKGError(f"no VeriKG data directory at {settings.data_dir} (a build "
                                "makes one: verikg build --data-dir DIR ...)"))
    from flows.clients import DataDir, make_ledger

    if not DataDir.of(settings).ledger.exists():
        console.print(f"no builds recorded in {settings.data_dir}", highlight=False)
        return
    try:
        with make_ledger(settings) as ledger:
            rows: list[dict[str, Any]] = [{**r, "chunks": ledger.summary(str(r["run_id"]))}
                                          for r in ledger.runs()]
    except VeriKGError as exc:
        raise _fail(exc) from exc
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    for r in rows:
        chunks = ", ".join(f"{n} {stage}" for stage, n in r["chunks"].items() if n)
        error = f" — last error: {r['error']}" if r["error"] else ""
        console.print(f"{r['run_id']}  {r['status']}  attempts {r['attempts']}  "
                      f"{r['store']}  chunks: {chunks or 'none'}  started {r['started_at']}"
                      f"{error}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"{len(rows)} run(s)", highlight=False)


@merges_app.command("list")
def merges_list(data_dir: DataOpt = None) -> None:
    """Every entity merge the builds made (undone ones marked)."""
    settings = _settings(None, data_dir)
    if not Path(settings.data_dir).is_dir():
        raise _fail(VeriKGError(f"no VeriKG data directory at {settings.data_dir} (a build "
                                "makes one: verikg build --data-dir DIR ...)"))
    from flows.clients import make_merge_log

    log = make_merge_log(settings)
    undone = log.undone()
    records = log.records()
    for m in records:
        mark = " (undone)" if m.id in undone else ""
        console.print(f"{m.id}  '{m.merged.label}' → '{m.canonical.label}'  [{m.reason} "
                      f"{m.score:.2f}]{mark}", highlight=False, markup=False)
    console.print(f"{len(records)} merge(s)", highlight=False)


@merges_app.command("undo")
def merges_undo(merge_id: str, store: StoreOpt = None, data_dir: DataOpt = None,
                actor: Annotated[str, typer.Option(help="who undoes it (audit log)")] = "cli",
                ) -> None:
    """Split a merged entity back out of the one it was merged into (atomic, audited)."""
    settings = _existing_store(store, data_dir)
    from flows.curation import undo_merge

    try:
        applied = undo_merge(settings, merge_id, actor=actor)
    except VeriKGError as exc:
        raise _fail(exc) from exc
    console.print(f"undid {merge_id}: {applied} change(s) applied", highlight=False)


@eval_app.command("text2kgbench")
def eval_text2kgbench(
    ontology: Annotated[Path, typer.Option(help="the benchmark's ontology JSON", exists=True,
                                           dir_okay=False)],
    gold: Annotated[Path, typer.Option(help="ground-truth JSONL", exists=True,
                                       dir_okay=False)],
    responses: Annotated[list[Path], typer.Option(
        help="a system's responses JSONL; give it twice for two systems (their agreement "
             "feeds confidence)", exists=True, dir_okay=False)],
    out: Annotated[Path, typer.Option(help="where to write RESULT.json")],
    written_form: Annotated[Form, typer.Option(
        help="how kept triples are written back: tidy (the document's spelling of the "
             "model's words), model, text or canonical")] = Form.TIDY,
) -> None:
    """Score recorded LLM outputs with Text2KGBench's metrics — raw, through a naive filter,
    verified, and verified by the hard checks alone; write RESULT.json and a reliability
    diagram next to it."""
    from pipeline.evaluation.runner import evaluate_text2kgbench
    from pipeline.models import WrittenForm
    from verikg_cli.render import print_evaluation

    form = WrittenForm(written_form.value)
    try:
        result = evaluate_text2kgbench(ontology, gold, responses, out=out, written_form=form)
    except (VeriKGError, ValueError) as exc:
        raise _fail(exc) from exc
    print_evaluation(console, result)
    console.print(f"wrote {out} and {result['confidence']['reliability_diagram']}",
                  highlight=False)


from verikg_cli.ontology_design import register as _register_design  # noqa: E402

_register_design(ontology_app)

from verikg_cli.serve import register as _register_serve  # noqa: E402

_register_serve(app)

from verikg_cli.calibrate import register as _register_calibrate  # noqa: E402

_register_calibrate(app)


def main() -> None:
    """The console-script entry point."""
    handle_sigterm()
    run(app)


if __name__ == "__main__":
    main()
