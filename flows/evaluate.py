"""The ``evaluate`` flow: Text2KGBench's metrics on recorded LLM answers, raw and after
VeriKG's contracts (``pipeline.evaluation.runner``, as ``verikg eval text2kgbench`` runs it).

The result is written where ``out`` says (JSON, and the reliability diagram beside it) and
shown on the run in the UI: each system's metrics, the contracts' pass rates and the
calibration plot. The replay reads local files only, so it is neither retried nor cached:
nothing in it is transient, and a rerun is cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.artifacts import EVALUATE_SUMMARY, evaluation_markdown, publish_markdown
from pipeline.evaluation.runner import evaluate_text2kgbench


@task(name="evaluate_text2kgbench", cache_policy=NO_CACHE)
def run_text2kgbench(ontology: Path, gold: Path, responses: list[Path],
                     out: Path) -> dict[str, Any]:
    return evaluate_text2kgbench(ontology, gold, responses, out=out)


@flow(name="evaluate")
def evaluate(ontology: str, gold: str, responses: list[str],
             out: str = ".verikg/eval/RESULT.json") -> dict[str, Any]:
    """Score recorded LLM outputs with Text2KGBench's metrics, raw and after the contracts.

    Args:
        ontology: the benchmark's ontology JSON
        gold: the ground-truth JSONL
        responses: one responses JSONL per system; two or more systems' agreement feeds
            confidence
        out: where to write RESULT.json (the reliability diagram goes beside it)
    """
    logger = get_run_logger()
    result = run_text2kgbench(Path(ontology), Path(gold), [Path(r) for r in responses],
                              Path(out))
    diagram = Path(result["confidence"]["reliability_diagram"])
    publish_markdown(EVALUATE_SUMMARY,
                     evaluation_markdown(result, diagram.read_bytes() if diagram.exists()
                                         else None),
                     f"Text2KGBench {result['ontology']}: raw vs verified")
    raw, verified = result["raw"], result["verified"]
    logger.info("text2kgbench %s (%s): precision %.3f -> %.3f, ontology conformance %.3f -> "
                "%.3f; wrote %s", result["ontology"], result["primary"],
                raw.get("precision", 0.0), verified.get("precision", 0.0),
                raw.get("onto_conf", 0.0), verified.get("onto_conf", 0.0), out)
    return result


__all__ = ["evaluate", "run_text2kgbench"]
