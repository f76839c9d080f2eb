"""``kgcl``: validate and apply KGCL change requests.

Exit codes: 0 success, 1 a rejected change (one line naming the command and the problem),
2 bad usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from verikg_cli._env import configure

configure()

from pipeline.errors import VeriKGError  # noqa: E402

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
        err.print(f"rejected: {exc}", highlight=False, markup=False)
        raise typer.Exit(code=1) from exc
    for p in parsed:
        console.print(f"ok  line {p.line}: {type(p.change).__name__}: {p.text}",
                      highlight=False, markup=False)


@app.command()
def apply(store: Annotated[str, typer.Option(help="sqlite:PATH or a Bolt URI")],
          ontology: Annotated[Path, typer.Option(help="ontology file or folder")]
          = Path("ontologies/space"),
          changes: ChangesOpt = None, command: CommandArg = None,
          actor: Annotated[str, typer.Option(help="who makes the change")] = "cli",
          role: Annotated[str, typer.Option(help="reader|curator|certifier|admin")] = "curator",
          dry_run: Annotated[bool, typer.Option("--dry-run")] = False) -> None:
    """Apply a change request to a knowledge-graph store: all commands or none."""
    from pipeline.kgcl import apply_to_store
    from pipeline.ontology import load_ontology
    from pipeline.settings import Settings
    from pipeline.store import open_store

    if role not in ("reader", "curator", "certifier", "admin"):
        raise typer.BadParameter(f"unknown role {role!r}")
    request = _request(changes, command)
    try:
        onto = load_ontology(ontology)
        st = open_store(store, Settings())
        try:
            n = apply_to_store(request, st, onto, actor=actor, role=role,  # type: ignore[arg-type]
                               dry_run=dry_run)
        finally:
            st.close()
    except VeriKGError as exc:
        err.print(f"rejected: {exc}", highlight=False, markup=False)
        raise typer.Exit(code=1) from exc
    verb = "would apply" if dry_run else "applied"
    console.print(f"{verb} {n} change(s)", highlight=False, markup=False)


if __name__ == "__main__":
    app()
