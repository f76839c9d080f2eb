"""``kgcl request / review / requests / certify / log``: the change-request workflow on a store.

A curator files a request (``request``, prints its id); a certifier or admin other than the
author approves it, which applies it, or rejects it with a reason (``review``); ``requests``
lists them; ``certify`` promotes assertions to certified; ``log`` queries the append-only
audit log. See ``pipeline.kgcl.governance`` for the rules.

Exit codes, as every ``kgcl`` command: 0 success, 1 a rejected change or a refusal (one line
saying why), 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from pipeline.errors import ConfigurationError, StoreNotFoundError, VeriKGError
from verikg_cli._env import require_store
from verikg_cli.choices import OutputFormat, RequestState, StoreRole

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)

StoreOpt = Annotated[str, typer.Option("--store", help="sqlite:PATH or a Bolt URI")]
ActorOpt = Annotated[str, typer.Option("--actor", help="who acts (recorded in the audit log)")]
OntologyOpt = Annotated[Path | None, typer.Option(
    "--ontology", exists=True, help="ontology file or folder (default: the one the store was "
                                    "built with)")]
ChangesOpt = Annotated[Path | None, typer.Option("--changes", help="file of KGCL commands, "
                                                 "one per line")]
CommandArg = Annotated[list[str] | None, typer.Argument(help="KGCL command(s), if no --changes")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="state folder holding the "
                                              "index (default: VERIKG_DATA_DIR, .verikg)")]
IndexOpt = Annotated[bool, typer.Option("--index/--no-index", help="bring the saved index of "
                                        "this store along (by a delta), if there is one")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="text or json")]


def _role(role: StoreRole) -> Literal["reader", "curator", "certifier", "admin"]:
    return role.value  # type: ignore[return-value]


def _text(changes: Path | None, command: list[str] | None) -> str:
    if changes is not None and command:
        raise typer.BadParameter("give --changes FILE or a command, not both")
    if changes is not None:
        try:
            return changes.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {changes}: {exc}",
                                     param_hint="--changes") from exc
    if command:
        return "\n".join(command)
    raise typer.BadParameter("give --changes FILE or a KGCL command")


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date or time (e.g. 2025-01-31 or "
                                 "2025-01-31T12:00:00+00:00)", param_hint=name) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _reject(exc: VeriKGError) -> typer.Exit:
    """A refusal or rejected change: one line on stderr, exit 1. A store that is not there
    or a missing ontology is an error of the command, not a refusal: ``error:``."""
    line = " ".join(str(exc).split())
    what = "error" if isinstance(exc, ConfigurationError | StoreNotFoundError) else "rejected"
    _err.print(f"{what}: {line}", markup=False)
    return typer.Exit(code=1)


def _settings(store: str, data_dir: Path | None):  # noqa: ANN202 - Settings, imported late
    """The settings for ``store``, once it is known to exist (before any flow or model
    loads; a typo is one line and exit 1, never a new, empty store)."""
    from pipeline.settings import Settings

    overrides: dict[str, object] = {"store": store}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        require_store(settings.store_descriptor())
    except VeriKGError as exc:
        raise _reject(exc) from exc
    return settings


def _open(store: str, data_dir: Path | None = None):  # noqa: ANN202 - imported late
    """The store, opened (for reading) by ``flows.clients``: its password taken from a
    Prefect Secret block when one is named."""
    from flows.clients import make_store

    return make_store(_settings(store, data_dir))


def request(store: StoreOpt, actor: ActorOpt, changes: ChangesOpt = None,
            command: CommandArg = None,
            role: Annotated[StoreRole, typer.Option("--role", help="the author's role")]
            = StoreRole.CURATOR,
            ontology: OntologyOpt = None) -> None:
    """File a change request for review (all commands must apply now); prints its id."""
    who = _role(role)
    text = _text(changes, command)
    settings = _settings(store, None)
    from flows.curation import file_change_request

    try:
        filed = file_change_request(settings, text, ontology, actor=actor, role=who)
    except VeriKGError as exc:
        raise _reject(exc) from exc
    _out.print(filed.id, markup=False)


def review(request_id: Annotated[str, typer.Argument(help="the id `kgcl request` printed")],
           store: StoreOpt, actor: ActorOpt,
           approve: Annotated[bool, typer.Option("--approve", help="approve, and apply")]
           = False,
           reject: Annotated[bool, typer.Option("--reject", help="reject (needs --reason)")]
           = False,
           reason: Annotated[str, typer.Option("--reason", help="why (required to reject)")]
           = "",
           role: Annotated[StoreRole, typer.Option("--role", help="certifier or admin")]
           = StoreRole.CERTIFIER,
           ontology: OntologyOpt = None, index: IndexOpt = True,
           data_dir: DataOpt = None) -> None:
    """Approve (and apply) or reject a change request; never your own."""
    if approve == reject:
        raise typer.BadParameter("give exactly one of --approve and --reject")
    who = _role(role)
    settings = _settings(store, data_dir)
    from flows.apply_changes import run_apply
    from flows.curation import review_change_request

    try:
        decided = review_change_request(settings, request_id, approve=approve, reason=reason,
                                        actor=actor, role=who, ontology_path=ontology)
    except VeriKGError as exc:
        raise _reject(exc) from exc
    if reject:
        _out.print(f"rejected {decided.id}: {decided.reason}", markup=False)
        return
    try:
        report = run_apply(decided.id, settings, ontology, actor=actor, role=who,
                           index_mode="saved" if index else "none")
    except VeriKGError as exc:
        _err.print(f"approved {decided.id}, but it was not applied:", markup=False)
        raise _reject(exc) from exc
    index_note = ("index: not updated (no saved index of this store)" if report.index
                  == "skipped" else f"index: {report.index}, {report.index_embedded} text(s) "
                  "embedded")
    _out.print(f"approved and applied {report.request_id}: {report.commands} command(s), "
               f"{report.changes} change(s); store version {report.store_version}; "
               f"{index_note}", markup=False)


def requests(store: StoreOpt,
             status: Annotated[RequestState | None, typer.Option("--status",
                                                                 help="pending|approved|"
                                                                 "rejected|applied")] = None,
             author: Annotated[str | None, typer.Option("--author")] = None,
             fmt: FormatOpt = OutputFormat.TEXT) -> None:
    """List change requests, oldest first."""
    from pipeline.models import RequestStatus

    wanted = RequestStatus(status.value) if status is not None else None
    try:
        with _open(store) as st:
            found = st.change_requests(status=wanted, author=author)
    except VeriKGError as exc:
        raise _reject(exc) from exc
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in found], indent=2,
                                    ensure_ascii=False) + "\n")
        return
    for r in found:
        first = r.kgcl.strip().splitlines()[0] if r.kgcl.strip() else ""
        more = len([ln for ln in r.kgcl.splitlines() if ln.strip()]) - 1
        decided = f" by {r.reviewer}" if r.reviewer else ""
        _out.print(f"{r.id}  {r.status.value:<8}{decided}  {r.author} ({r.author_role})  "
                   f"{r.created_at.isoformat(timespec='seconds')}  {first}"
                   + (f"  (+{more} more)" if more > 0 else ""), markup=False)


def certify(assertion_ids: Annotated[list[str], typer.Argument(help="assertion ids (asr:…)")],
            store: StoreOpt, actor: ActorOpt,
            role: Annotated[StoreRole, typer.Option("--role", help="certifier or admin")]
            = StoreRole.CERTIFIER,
            reason: Annotated[str, typer.Option("--reason")] = "",
            ontology: OntologyOpt = None, index: IndexOpt = True,
            data_dir: DataOpt = None) -> None:
    """Promote assertions to certified (certifier or admin only); ``verikg query`` and
    ``verikg quarantine --soft`` show the ids."""
    who = _role(role)
    settings = _settings(store, data_dir)
    from flows.curation import certify_assertions

    try:
        outcome = certify_assertions(settings, assertion_ids, actor=actor,
                                     role=who, reason=reason, ontology_path=ontology,
                                     update_index=index)
    except VeriKGError as exc:
        raise _reject(exc) from exc
    _out.print(f"certified {outcome.changes} assertion(s); store version {outcome.version}",
               markup=False)


def log(store: StoreOpt,
        actor: Annotated[str | None, typer.Option("--actor", help="only this actor")] = None,
        action: Annotated[str | None, typer.Option(
            "--action", help="only this action (e.g. rename_entity, certify, refused)")] = None,
        target: Annotated[str | None, typer.Option("--target", help="only this target id")]
        = None,
        request_id: Annotated[str | None, typer.Option("--request", help="only entries of "
                                                       "this change request")] = None,
        since: Annotated[str | None, typer.Option("--since", help="ISO date/time, inclusive")]
        = None,
        until: Annotated[str | None, typer.Option("--until", help="ISO date/time, inclusive")]
        = None,
        fmt: FormatOpt = OutputFormat.TEXT) -> None:
    """Query the audit log (append-only), oldest first."""
    start, end = _when(since, "--since"), _when(until, "--until")
    try:
        with _open(store) as st:
            entries = st.audit_log(actor=actor, action=action, target=target, since=start,
                                   until=end, request_id=request_id)
    except VeriKGError as exc:
        raise _reject(exc) from exc
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps([e.model_dump(mode="json") for e in entries], indent=2,
                                    ensure_ascii=False) + "\n")
        return
    for e in entries:
        role = f" ({e.role})" if e.role else ""
        change = f"  {e.before or '-'} -> {e.after or '-'}" if e.before or e.after else ""
        request_note = f"  [{e.request_id}]" if e.request_id else ""
        _out.print(f"{e.seq:>6}  {e.at.isoformat(timespec='seconds')}  {e.actor}{role}  "
                   f"{e.action}  {e.target}  {' '.join(e.detail.split())}{change}"
                   f"{request_note}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the change-request workflow's commands to the ``kgcl`` app."""
    app.command("request")(request)
    app.command("review")(review)
    app.command("requests")(requests)
    app.command("certify")(certify)
    app.command("log")(log)


__all__ = ["register"]
