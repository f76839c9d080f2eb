"""The record of entity merges (one JSON line each), and undoing one.

Every merge a build makes is appended to the log (a JSONL file; the flows keep it in the data
directory) with the run that made it. Undoing a merge splits the merged entity's statements
back out of the canonical one in the store (one atomic, audited change set) and records the
undo, so later builds do not merge the pair again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import ChangeRequestError
from pipeline.models import MergeRecord
from pipeline.resolve import merge_changes, undo_merge
from pipeline.store import GraphStore


class MergeLog:
    """The merge log in ``path`` (created on the first append)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _lines(self) -> list[dict]:
        """The records; a last line cut short (a process killed mid-append) is ignored —
        the merge it would record is made and appended again by the rerun."""
        if not self.path.exists():
            return []
        out: list[dict] = []
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError as exc:
                if number == len(lines):
                    continue
                raise ChangeRequestError(f"{self.path}:{number} is not a merge record "
                                         f"({exc}); fix or remove that line") from exc
        return out

    def append(self, merges: Sequence[MergeRecord], run_id: str) -> int:
        """Record the merges not recorded yet; returns how many were new."""
        known = {line["merge"]["id"] for line in self._lines() if "merge" in line}
        new = [m for m in merges if m.id not in known]
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = "".join(json.dumps({"run": run_id, "merge": m.model_dump(mode="json")},
                                      ensure_ascii=False) + "\n" for m in new)
            self._append_text(text)
        return len(new)

    def records(self) -> list[MergeRecord]:
        return [MergeRecord.model_validate(line["merge"]) for line in self._lines()
                if "merge" in line]

    def undone(self) -> frozenset[str]:
        return frozenset(line["undo"] for line in self._lines() if "undo" in line)

    def undo(self, store: GraphStore, merge_id: str, *, actor: str) -> int:
        """Split merge ``merge_id`` back out in ``store``; returns the changes applied."""
        found = {m.id: m for m in self.records()}
        if merge_id not in found:
            raise ChangeRequestError(f"no merge {merge_id!r} in {self.path}; "
                                     "`verikg merges list` shows them")
        if merge_id in self.undone():
            raise ChangeRequestError(f"merge {merge_id} was already undone")
        record = found[merge_id]
        before = store.assertions()
        changes = merge_changes(before, undo_merge(before, record))
        applied = store.apply_changes(changes, actor=actor, role="curator") if changes else 0
        self._append_text(json.dumps({"undo": merge_id, "by": actor}) + "\n")
        return applied

    def _append_text(self, text: str) -> None:
        """Append whole lines, first finishing a line a killed writer left without its
        newline (so the next record never runs into the cut one)."""
        with self.path.open("a+b") as f:
            f.seek(0, 2)
            if f.tell():
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    f.write(b"\n")
            f.write(text.encode("utf-8"))


__all__ = ["MergeLog"]
