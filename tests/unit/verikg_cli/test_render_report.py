"""The build report's rendering says loudly which files were skipped and why."""

from __future__ import annotations

from rich.console import Console

from pipeline.models import BuildReport, SkippedDocument, ViolationReason
from verikg_cli.render import print_report


def _report(*skipped: SkippedDocument) -> BuildReport:
    return BuildReport(run_id="run-1", store="sqlite:x", documents=2, new_documents=2,
                       chunks=2, proposed=0, accepted=0, quarantined=0,
                       quarantined_by_reason={}, check_failures={}, entities=0,
                       new_assertions=0, assertions_in_store=0, index_size=0,
                       skipped_documents=skipped)


def test_the_report_lists_every_skipped_file_with_its_reason() -> None:
    console = Console(record=True, width=200)
    print_report(console, _report(
        SkippedDocument(source="c.txt", reason=ViolationReason.BINARY_DOCUMENT,
                        detail="docs/c.txt: looks binary (contains NUL bytes); give a text file"),
        SkippedDocument(source="sub/up", reason=ViolationReason.SYMLINK_LOOP,
                        detail="docs/sub/up: a symbolic link to a folder that holds it")))
    out = console.export_text()
    assert "skipped documents: 2 (not built; bad ones are quarantined" in out
    assert "c.txt: [binary-document] docs/c.txt: looks binary" in out
    assert "sub/up: [symlink-loop] docs/sub/up: a symbolic link" in out


def test_a_report_without_skipped_files_says_nothing_of_them() -> None:
    console = Console(record=True, width=200)
    print_report(console, _report())
    assert "skipped" not in console.export_text()
