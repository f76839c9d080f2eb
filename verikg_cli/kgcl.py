"""``kgcl``: validate, apply and diff KGCL change requests.

    kgcl apply  --input FILE [--format ttl|nt|rdfxml|obo] (--changes FILE | "COMMAND ...")
                --output FILE|- [--dry-run]
    kgcl apply  --store DESCRIPTOR (--changes FILE | "COMMAND ...") [--dry-run]
    kgcl diff   OLD NEW [--format ...]
    kgcl validate (--changes FILE | "COMMAND ...")

Exit codes: 0 success, 1 a rejected change (one line naming the command and the problem; the
input is unchanged and no output is written), 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from verikg_cli._env import configure, handle_sigterm, require_store, run
from verikg_cli.choices import StoreRole

configure()

from pipeline.errors import ConfigurationError, StoreNotFoundError, VeriKGError  # noqa: E402

if TYPE_CHECKING:
    from pipeline.kgcl.files import FileFormat

app = typer.Typer(help="KGCL change requests for VeriKG graphs.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True, soft_wrap=True)

ChangesOpt = Annotated[Path | None, typer.Option("--changes", help="file of KGCL commands, "
                                                 "one per line")]
CommandArg = Annotated[list[str] | None, typer.Argument(help="KGCL command(s), if no --changes")]


def _request(changes: Path | None, command: list[str] | None) -> str:
    if changes is not None and command:
        raise typer.BadParameter("give --changes FILE or a command, not both")
    if changes is not None:
        try:
            return changes.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {changes}: {exc}") from exc
    if command:
        return "\n".join(command)
    raise typer.BadParameter("give --changes FILE or a KGCL command")


@app.command()
def validate(changes: ChangesOpt = None, command: CommandArg = None) -> None:
    """Parse every command; exit 1 on the first that does not parse."""
    from pipeline.kgcl import parse_change_request

    try:
        parsed = parse_change_request(_request(changes, command))
    except VeriKGError as exc:
        raise _reject(exc) from exc
    for p in parsed:
        typer.echo(f"ok  line {p.line}: {type(p.change).__name__}: {p.text}")


InputOpt = Annotated[Path | None, typer.Option(
    "--input", exists=True, dir_okay=False, help="ontology file to change (ttl, nt, rdfxml, obo)")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="ttl|nt|rdfxml|obo (default: from the file extension)")]


def _format(fmt: str | None, path: Path | str) -> FileFormat:
    from pipeline.kgcl.files import guess_format, normalize_format

    try:
        return normalize_format(fmt) if fmt else guess_format(path)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _reject(exc: Exception) -> typer.Exit:
    """One line on stderr naming the command and the problem; exit code 1 (``error:`` for a
    store that is not there or a missing ontology: not a refusal of the change)."""
    message = " ".join(str(exc).split())
    what = "error" if isinstance(exc, ConfigurationError | StoreNotFoundError) else "rejected"
    err.print(f"{what}: {message}", highlight=False, markup=False)
    return typer.Exit(code=1)


@app.command()
def apply(store: Annotated[str | None, typer.Option(help="sqlite:PATH or a Bolt URI")] = None,
          ontology: Annotated[Path | None, typer.Option(
              help="ontology file or folder (default: the one the store was built with)",
              exists=True)] = None,
          changes: ChangesOpt = None, command: CommandArg = None,
          actor: Annotated[str, typer.Option(help="who makes the change")] = "cli",
          role: Annotated[StoreRole, typer.Option(
              help="reader|curator|certifier|admin; applying to a store without review "
                   "needs admin (others file a request: kgcl request)")] = StoreRole.CURATOR,
          dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
          input_file: InputOpt = None, fmt: FormatOpt = None,
          output: Annotated[str | None, typer.Option(
              "--output", help="where the changed file goes; - for stdout")] = None) -> None:
    """Apply a change request, all commands or none: to an ontology file (--input) or to a
    knowledge-graph store (--store)."""
    if (input_file is None) == (store is None):
        raise typer.BadParameter("give --input FILE or --store DESCRIPTOR (exactly one)")
    if input_file is not None:
        _apply_file(input_file, fmt, output, _request(changes, command), dry_run)
        return
    if fmt is not None or output is not None:
        raise typer.BadParameter("--format and --output go with --input, not --store")
    assert store is not None
    request = _request(changes, command)
    from pipeline.settings import Settings

    settings = Settings(store=store)
    try:
        require_store(settings.store_descriptor())  # before anything heavy loads
    except VeriKGError as exc:
        raise _reject(exc) from exc
    from flows.curation import apply_kgcl

    try:
        # a dry run writes nothing: any role may see what a request would do
        n = apply_kgcl(settings, request, ontology, actor=actor,
                       role=role.value, dry_run=dry_run)  # type: ignore[arg-type]
    except VeriKGError as exc:
        raise _reject(exc) from exc
    verb = "would apply" if dry_run else "applied"
    console.print(f"{verb} {n} change(s)", highlight=False, markup=False)


def _apply_file(path: Path, fmt: str | None, output: str | None, request: str,
                dry_run: bool) -> None:
    """The file mode of ``apply``: read, apply atomically, write (never over a rejection)."""
    from pipeline.kgcl import parse_change_request
    from pipeline.kgcl.files import RdfFile, guess_format, write_atomically
    from pipeline.kgcl.obo_editor import apply_to_obo
    from pipeline.kgcl.obo_format import OboDocument
    from pipeline.kgcl.rdf_compare import iter_triples_nt
    from pipeline.kgcl.rdf_editor import apply_to_graph

    in_fmt = _format(fmt, path)
    if output is None and not dry_run:
        raise typer.BadParameter("give --output FILE (or - for stdout), or --dry-run")
    out_fmt = in_fmt
    if output not in (None, "-"):
        try:
            out_fmt = guess_format(output)
        except ValueError:
            out_fmt = in_fmt
        if (out_fmt == "obo") != (in_fmt == "obo"):
            raise typer.BadParameter(f"cannot write {in_fmt} input as {out_fmt}")
    try:
        parsed = parse_change_request(request)  # a request that does not parse: no file read
        if in_fmt == "obo":
            doc = OboDocument.read(path)
            obo_result = apply_to_obo(doc, parsed, dry_run=dry_run)
            text = doc.text()
            added = [f"{sid}\t{line}" for sid, line in obo_result.added]
            removed = [f"{sid}\t{line}" for sid, line in obo_result.removed]
            unit, n, how = "line", obo_result.commands, "kept every untouched line as it was"
        else:
            rdf = RdfFile.read(path, in_fmt)
            rdf_result = apply_to_graph(rdf.graph, parsed, dry_run=dry_run)
            text, how = ("", "") if dry_run else rdf.text_after(
                rdf_result.added, rdf_result.removed, out_fmt)
            added = list(iter_triples_nt(rdf_result.added))
            removed = list(iter_triples_nt(rdf_result.removed))
            unit, n = "triple", rdf_result.commands
    except VeriKGError as exc:
        raise _reject(exc) from exc
    summary = f"{n} command(s): +{len(added)} -{len(removed)} {unit}(s)"
    if dry_run:
        for line in removed:
            typer.echo(f"- {line}")
        for line in added:
            typer.echo(f"+ {line}")
        err.print(f"would apply {summary}", highlight=False, markup=False)
        return
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(str(output), text)
    err.print(f"applied {summary} ({how})", highlight=False, markup=False)


@app.command()
def diff(old: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="old version")],
         new: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="new version")],
         fmt: FormatOpt = None) -> None:
    """Print the KGCL change request (one command per line) that turns OLD into NEW."""
    from pipeline.kgcl.files import load_graph
    from pipeline.kgcl.obo_diff import diff_obo
    from pipeline.kgcl.obo_format import OboDocument
    from pipeline.kgcl.rdf_diff import diff_graphs

    old_fmt, new_fmt = _format(fmt, old), _format(fmt, new)
    if old_fmt != new_fmt:
        raise typer.BadParameter(f"{old} is {old_fmt} but {new} is {new_fmt}")
    try:
        if old_fmt == "obo":
            commands = diff_obo(OboDocument.read(old), OboDocument.read(new))
        else:
            commands = diff_graphs(load_graph(old, old_fmt), load_graph(new, new_fmt))
    except VeriKGError as exc:
        raise _reject(exc) from exc
    for line in commands:
        typer.echo(line)


from verikg_cli.kgcl_requests import register as _register_requests  # noqa: E402

_register_requests(app)


def main() -> None:
    """The console-script entry point."""
    handle_sigterm()
    run(app)


if __name__ == "__main__":
    main()
