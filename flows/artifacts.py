"""What each run shows in the Prefect UI: markdown artifacts with its counts, the contracts'
pass rates, the quarantine reasons, and the confidence plot.

The plot travels inside the markdown as a ``data:`` URI: Prefect's image artifacts take a
URL that the browser fetches, and a run's files are not served anywhere the UI could reach,
while the UI's markdown renderer (DOMPurify, which allows ``data:`` images on ``<img>``)
shows an embedded PNG as is. Keys are lowercase-dash, as Prefect requires for an artifact
to be listed on the Artifacts page; each key's history keeps one version per run.

Publishing never fails a run: the graph is built whatever the UI shows, so an API error
here is logged as a warning and the run goes on.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from pipeline.models import BuildReport

#: artifact keys (lowercase letters, digits and dashes only)
BUILD_SUMMARY = "verikg-build-summary"
BUILD_CONFIDENCE = "verikg-build-confidence"
CERTIFY_SUMMARY = "verikg-certify-summary"
EVALUATE_SUMMARY = "verikg-evaluate-summary"
REINDEX_SUMMARY = "verikg-reindex-summary"


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("verikg.artifacts")


def _cell(value: object) -> str:
    """A table cell: pipes escaped, newlines flattened (either would break the row)."""
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |",
             "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def confidence_plot(confidences: Sequence[float], *, threshold: float | None = None,
                    title: str = "Confidence of accepted assertions", bins: int = 10) -> bytes:
    """A histogram of ``confidences`` over [0, 1] as PNG bytes (with the certification
    threshold drawn when given): where the build's assertions sit between doubt and
    agreement, which is what a curator looks at before certifying."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(list(confidences), bins=bins, range=(0.0, 1.0), edgecolor="black",
            color="tab:blue", alpha=0.8)
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle="--",
                   label=f"threshold {threshold:.2f}")
        ax.legend(loc="upper left", fontsize="small")
    ax.set_xlim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("assertions")
    ax.set_title(f"{title} (n={len(confidences)})", fontsize="medium")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()


def publish_markdown(key: str, markdown: str, description: str) -> UUID | None:
    """One markdown artifact on the current run; None (and a warning) if the API refused."""
    from prefect.artifacts import create_markdown_artifact

    try:
        made = create_markdown_artifact(markdown=markdown, key=key, description=description)
        return made if isinstance(made, UUID) else None  # sync context: never a coroutine
    except Exception as exc:  # noqa: BLE001 - the UI's view must never fail the run
        _logger().warning("artifact %s was not published: %s", key, exc)
        return None


def build_summary_markdown(report: BuildReport) -> str:
    """The build's report as markdown: counts, contract pass rates, quarantine reasons, soft
    violations, merges and time per stage."""
    parts = [f"# VeriKG build `{report.run_id}`", f"Store: `{report.store}`", "",
             "## Counts", markdown_table(("what", "count"), [
                 ("documents (new)", f"{report.documents} ({report.new_documents})"),
                 ("chunks", report.chunks), ("triples proposed", report.proposed),
                 ("triples accepted", report.accepted),
                 ("triples quarantined", report.quarantined), ("entities", report.entities),
                 ("new assertions", report.new_assertions),
                 ("assertions in store", report.assertions_in_store),
                 ("index size", report.index_size), ("entity merges", len(report.merges)),
                 ("contested values", report.contested),
                 ("isolated islands", report.islands)])]
    if report.contract is not None:
        c = report.contract
        parts += ["", "## Contract pass rates",
                  f"{c.candidates} candidate triple(s) in {c.samples} sample(s); "
                  f"{c.retries_per_sample:.2f} corrective retries per sample.", "",
                  markdown_table(("check", "checked", "failed", "pass rate"),
                                 [(name, s.checked, s.failed, f"{s.pass_rate:.1%}")
                                  for name, s in c.checks.items()])]
    elif report.check_failures:
        parts += ["", "## Contract check failures",
                  markdown_table(("check", "failed"), sorted(report.check_failures.items()))]
    parts += ["", "## Quarantine reasons (hard checks: refused)",
              markdown_table(("reason", "count"), sorted(report.quarantined_by_reason.items()))
              if report.quarantined_by_reason else "Nothing was quarantined."]
    parts += ["", "## Soft violations (kept, flagged, confidence lowered)",
              markdown_table(("check", "assertions"), sorted(report.flagged_by_check.items()))
              if report.flagged_by_check else "No statement was flagged."]
    if report.declarations:
        parts += ["", "## Declarations the statements outvote",
                  markdown_table(("property", "check", "failed", "statements"),
                                 [(d.label, d.check, d.failed, d.statements)
                                  for d in report.declarations])]
    if report.stage_seconds:
        parts += ["", "## Time per stage",
                  markdown_table(("stage", "seconds"),
                                 [(k, f"{v:.2f}") for k, v in report.stage_seconds.items()])]
    return "\n".join(parts) + "\n"


def confidence_markdown(confidences: Sequence[float], *, threshold: float | None = None,
                        title: str = "Confidence of accepted assertions") -> str:
    """The confidence plot embedded as a PNG, with the same counts as a table below it (for
    readers of the raw markdown, and where images are blocked)."""
    png = confidence_plot(confidences, threshold=threshold, title=title)
    counts = [0] * 10
    for c in confidences:
        counts[min(int(c * 10), 9)] += 1
    rows = [(f"{b / 10:.1f}–{(b + 1) / 10:.1f}", n) for b, n in enumerate(counts)]
    return (f"# {title}\n\n![confidence histogram]({png_data_uri(png)})\n\n"
            + markdown_table(("confidence", "assertions"), rows) + "\n")


def publish_build_artifacts(report: BuildReport, confidences: Sequence[float] | None = None,
                            *, threshold: float | None = None,
                            title: str = "Confidence of the graph's assertions") -> list[UUID]:
    """Publish a build's artifacts on the current flow run: ``verikg-build-summary``
    (counts, contract pass rates, quarantine reasons) and, given the accepted assertions'
    ``confidences``, ``verikg-build-confidence`` (the confidence plot; ``threshold`` draws
    the certification line). Returns the ids of the artifacts created."""
    made = [publish_markdown(BUILD_SUMMARY, build_summary_markdown(report),
                             f"Build {report.run_id}: counts, contract pass rates, "
                             "quarantine reasons")]
    if confidences is not None:
        made.append(publish_markdown(BUILD_CONFIDENCE,
                                     confidence_markdown(confidences, threshold=threshold,
                                                         title=title),
                                     f"Build {report.run_id}: confidence of "
                                     f"{len(confidences)} assertion(s)"))
    return [m for m in made if m is not None]


def publish_summary(key: str, title: str, rows: Mapping[str, object],
                    extra: str = "", description: str = "") -> UUID | None:
    """A small run summary (``what | value`` rows, then any further markdown)."""
    body = f"# {title}\n\n" + markdown_table(("what", "value"), list(rows.items()))
    return publish_markdown(key, body + ("\n\n" + extra if extra else "") + "\n",
                            description or title)


def evaluation_markdown(result: Mapping[str, Any], diagram_png: bytes | None) -> str:
    """A Text2KGBench result (``evaluate_text2kgbench``'s dict) as markdown: each system's
    metrics raw, through the naive filter, verified, verified by the hard checks alone and the
    grounded ceiling; contract pass rates; the reliability diagram."""
    systems: Mapping[str, Mapping[str, Mapping[str, float]]] = result["systems"]
    metrics = list(result["raw"])
    rows = [(f"{name} ({part.replace('_', ' ')})", *(f"{scores[part][m]:.3f}" for m in metrics))
            for name, scores in systems.items()
            for part in ("raw", "naive", "verified", "verified_hard_only", "ceiling")
            if part in scores]
    contracts: Mapping[str, Mapping[str, Any]] = result.get("contracts", {})
    conf = result.get("confidence", {})
    parts = [f"# Text2KGBench: {result['ontology']}",
             f"{result['gold_sentences']} gold sentence(s); {result['quarantined']} "
             f"triple(s) quarantined; {result['merges']} merge(s).", "", "## Metrics",
             markdown_table(("system", *metrics), rows), "", "## Contract pass rates",
             markdown_table(("check", "checked", "failed", "pass rate"),
                            [(n, c["checked"], c["failed"], f"{c['pass_rate']:.1%}")
                             for n, c in contracts.items()])]
    if diagram_png is not None:
        parts += ["", f"## Calibration (ECE {conf.get('ece', 0.0):.3f}, "
                      f"n={conf.get('count', 0)})",
                  f"![reliability diagram]({png_data_uri(diagram_png)})"]
    return "\n".join(parts) + "\n"


__all__ = ["BUILD_CONFIDENCE", "BUILD_SUMMARY", "CERTIFY_SUMMARY", "EVALUATE_SUMMARY",
           "REINDEX_SUMMARY", "build_summary_markdown", "confidence_markdown",
           "confidence_plot", "evaluation_markdown", "markdown_table",
           "png_data_uri", "publish_build_artifacts", "publish_markdown", "publish_summary"]
