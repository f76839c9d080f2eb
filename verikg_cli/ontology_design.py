"""``verikg ontology design``: an ontology designed by a panel of LLM agents.

Registered on the ``ontology`` sub-app by ``register`` (one line in ``verikg_cli.main``), so the
command lives beside the flow it runs rather than in the main module. Options override the
``VERIKG_DESIGN_*`` settings; the LLM is the configured one (``VERIKG_LLM`` ...), as for
``verikg build``. Exit status: 0 when the critic and the checks accepted the ontology, 1 when
problems are left (the files are written and the problems listed) or the run failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from pipeline.errors import VeriKGError
from verikg_cli.choices import PanelRole

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error: ", "bold red"), message))
    return typer.Exit(code=1)


def design(
    domain: Annotated[str, typer.Option(help="what the ontology is about, in a sentence or "
                                        "two")],
    corpus: Annotated[Path, typer.Option(help="file or folder of documents; a sample is shown "
                                         "to the panel", exists=True)],
    out: Annotated[Path, typer.Option(help="folder for ontology.ttl, competency_questions.yaml "
                                      "and transcript.json/.md")],
    role: Annotated[list[PanelRole] | None, typer.Option(
        "--role", help="a seat on the panel, repeatable (domain_expert, analyst, "
        "ontology_engineer, critic); default: one of each")] = None,
    rounds: Annotated[int | None, typer.Option(help="round 1: proposal rounds (default 1)")]
    = None,
    review_rounds: Annotated[int | None, typer.Option(
        help="round 2: drafts the critic may review (default 3)")] = None,
    quorum: Annotated[float | None, typer.Option(
        help="share of the panel whose accept vote a question needs (default 0.5)")] = None,
    merge_threshold: Annotated[float | None, typer.Option(
        help="embedding similarity at which two questions merge (default 0.85)")] = None,
    iri: Annotated[str | None, typer.Option(help="ontology IRI (default: "
                                            "https://verikg.dev/ontology/<domain slug>)")]
    = None,
    prefix: Annotated[str | None, typer.Option(help="prefix of the ontology's terms "
                                               "(default onto)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="state folder: LLM and embedding "
                                                  "caches (default .verikg)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Design an ontology with a panel of LLM agents.

    Competency questions by proposal, merge and vote; a draft reviewed until it passes.

    Exit 1 if problems are left: they are listed, and the files are still written.
    """
    from pipeline.ontology.design import DesignSettings
    from pipeline.settings import Settings

    overrides: dict[str, object] = {}
    roles = tuple(r.value for r in role) if role else None
    for key, value in (("roles", roles), ("proposal_rounds", rounds),
                       ("review_rounds", review_rounds), ("quorum", quorum),
                       ("merge_threshold", merge_threshold), ("iri", iri), ("prefix", prefix)):
        if value is not None:
            overrides[key] = value
    try:
        panel_settings = DesignSettings(**overrides)  # type: ignore[arg-type]
        settings = Settings(**({"data_dir": data_dir} if data_dir else {}))  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                             for e in exc.errors())
        raise _fail(f"invalid design settings: {problems}") from exc
    from flows.design_ontology import design_ontology  # the flows load once the input is good

    try:
        report = design_ontology(domain, str(corpus), str(out), settings=settings,
                                 design=panel_settings)
    except VeriKGError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        style = {"accepted": "bold green", "unresolved": "bold yellow"}.get(report.status,
                                                                            "bold red")
        console.print(Text.assemble((f"{report.status}: ", style), report.message))
        console.print(
            f"{report.proposals} question(s) proposed, {report.merges} merged, "
            f"{report.candidates} voted on, {len(report.accepted_cqs)} in scope; "
            f"{report.drafts} draft(s); {report.classes} classes, {report.object_properties} "
            f"object and {report.datatype_properties} datatype properties; "
            f"{report.quarantined} answer(s) quarantined, {report.corpus_redactions} corpus "
            "sentence(s) kept out", highlight=False, markup=False)
        for line in report.unresolved:
            console.print(f"  {line}", highlight=False, markup=False)
        for f in report.files:
            console.print(f"wrote {f}", highlight=False, markup=False)
    if report.status != "accepted":
        raise typer.Exit(code=1)


def register(ontology_app: typer.Typer) -> None:
    """Add ``design`` to the ``verikg ontology`` commands."""
    ontology_app.command("design")(design)


__all__ = ["design", "register"]
