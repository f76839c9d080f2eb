"""``verikg eval text2kgbench``: the benchmark's metrics before and after VeriKG's contracts.

Every gold sentence becomes a document of one chunk. For each recorded system, its answer for
the sentence stands in for the LLM (``RecordedChatModel``) and goes through the extraction stage
a build runs (``LLMExtractor``: the contract's output checks and post-conditions, quarantine),
then through confidence (agreement of the systems on the same chunk, noisy-OR across chunks) and
the graph-level checks. What survives, written back in the benchmark's format, is scored with
the benchmark's own metrics next to the raw answers. Where gold labels exist, the confidence of
every verified triple is checked against them: ECE and a reliability diagram.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.confidence import AgreementScorer
from pipeline.confidence.calibration import calibration, reliability_diagram
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.checks import resolve_property
from pipeline.verify import run_graph_checks as run_graph_contract
from pipeline.contracts.spec import ContractSpec
from pipeline.contracts.stats import contract_stats
from pipeline.evaluation.replay import RecordedChatModel, recorded_answer
from pipeline.evaluation.text2kgbench import (
    METRICS,
    BenchOntology,
    GoldSentence,
    hallucination_context,
    is_hallucinated,
    load_bench_ontology,
    load_gold,
    load_responses,
    score_system,
    triple_key,
)
from pipeline.extract import LLMExtractor
from pipeline.extract.base import ChunkExtraction
from pipeline.models import (
    AssertionStatus,
    Chunk,
    Document,
    DocumentId,
    RunId,
    stable_hash,
)
from pipeline.resolve import merge_targets, merged_triple


def system_name(path: Path) -> str:
    """``baselines/Vicuna-13B/llm_responses/x.jsonl`` → ``Vicuna-13B``; else the file stem."""
    return path.parent.parent.name if path.parent.name == "llm_responses" else path.stem


def sentence_chunk(onto_id: str, g: GoldSentence) -> Chunk:
    """One document of one chunk per gold sentence; the id comes from the sentence id, so two
    sentences with the same text stay two documents, as the benchmark counts them."""
    doc = Document.from_text(g.sent, source=g.id, title=g.id)
    doc = doc.model_copy(update={"id": DocumentId(f"doc:{stable_hash(onto_id, g.id)}")})
    return Chunk.make(doc, 0, 0, len(doc.text))


def grounded_ceiling(gold: Sequence[GoldSentence],
                     answers: dict[str, tuple[tuple[str, str, str], ...]],
                     bench: BenchOntology) -> dict[str, float]:
    """The best any filter of these answers can score while conforming to the ontology and
    hallucinating nothing: keep exactly the triples that match gold (relation mapped onto the
    ontology's label) and whose subject and object the benchmark finds in the sentence. An
    upper bound for what contracts can reach on recorded answers, computed with the gold."""
    best: dict[str, list[tuple[str, str, str]]] = {}
    for g in gold:
        if g.id not in answers:
            continue
        expected = {triple_key(*t) for t in g.triples}
        context = hallucination_context(g.sent, bench.concept_labels)
        keep = []
        for s, p, o in answers[g.id]:
            prop = resolve_property(bench.ontology, p)
            if prop is None:
                continue
            t = (s, prop.label.replace(" ", "_"), o)
            if (triple_key(*t) in expected and not is_hallucinated(s, context)
                    and not is_hallucinated(o, context)):
                keep.append(t)
        best[g.id] = keep
    return score_system(gold, best, bench)[0]


def evaluate_text2kgbench(ontology_path: Path, gold_path: Path, response_paths: Sequence[Path],
                          *, out: Path, spec: ContractSpec | None = None) -> dict[str, Any]:
    """Score raw and verified outputs; write ``out`` (JSON) and the reliability diagram next
    to it (``<out stem>.reliability.png``); return the result."""
    if not response_paths:
        raise ValueError("at least one --responses file is needed")
    bench = load_bench_ontology(ontology_path)
    gold = load_gold(gold_path)
    spec = spec or load_contract()
    contract = TripleContract(spec)
    run_id = RunId(f"eval:{stable_hash(bench.id, *map(str, response_paths))}")
    chunks = {g.id: sentence_chunk(bench.id, g) for g in gold if g.sent.strip()}

    systems: list[tuple[str, dict[str, tuple[tuple[str, str, str], ...]]]] = []
    for p in response_paths:
        name = system_name(Path(p))
        if any(name == n for n, _ in systems):
            name = f"{name}#{len(systems) + 1}"
        systems.append((name, load_responses(p)))

    # the replay: each system's recorded answer through the extraction stage
    extractions: dict[tuple[str, str], ChunkExtraction] = {}
    for name, answers in systems:
        model = RecordedChatModel(system=name)
        extractor = LLMExtractor(model, contract, samples=1, max_retries=0,
                                 sleep=lambda _s: None)
        for g in gold:
            if g.id not in answers or g.id not in chunks:
                continue
            chunk = chunks[g.id]
            with model.answering(chunk.text, recorded_answer(answers[g.id])):
                extractions[(name, g.id)] = extractor.extract(chunk, bench.ontology,
                                                              run_id=run_id)

    scored = AgreementScorer().score(list(extractions.values()), bench.ontology)
    checked = run_graph_contract(scored, bench.ontology, spec,
                                 texts=[c.text for c in chunks.values()])
    confidence = {a.id: a.confidence for a in checked.graph.assertions
                  if a.status is not AssertionStatus.CONTESTED}
    targets = merge_targets(checked.merges)
    threshold = spec.confidence.min_confidence

    stats = contract_stats(list(extractions.values()), spec, checked.failures)
    contracts = {name: c.model_dump() for name, c in stats.checks.items()}

    gold_keys = {g.id: {triple_key(*t) for t in g.triples} for g in gold}
    per_sentence: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    conf_points: list[tuple[float, bool]] = []
    for name, answers in systems:
        verified: dict[str, list[tuple[str, str, str]]] = {}
        refused_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for g in gold:
            ex = extractions.get((name, g.id))
            if ex is None:
                continue
            kept_triples: dict[str, tuple[str, str, str]] = {}
            for sample in ex.samples:
                for acc in sample.accepted:
                    c = confidence.get(merged_triple(acc.triple, targets).key)
                    if c is None or c < threshold:
                        continue
                    prop = bench.ontology.get_property(acc.triple.predicate)
                    label = prop.label if prop else acc.candidate.predicate
                    # written as the sentence writes them: the grounded spans
                    t = (acc.subject_text or acc.candidate.subject, label.replace(" ", "_"),
                         acc.object_text or acc.candidate.object)
                    if triple_key(*t) not in kept_triples:
                        kept_triples[triple_key(*t)] = t
                        conf_points.append((c, triple_key(*t) in gold_keys[g.id]))
                for q in sample.quarantined:
                    refused_of[g.id].append({
                        "triple": ([q.candidate.subject, q.candidate.predicate,
                                    q.candidate.object] if q.candidate else None),
                        "reasons": sorted({v.reason.value for v in q.violations})})
            verified[g.id] = list(kept_triples.values())
        raw_avg, raw_per = score_system(gold, answers, bench)
        ver_avg, ver_per = score_system(gold, verified, bench)
        results[name] = {"raw": raw_avg, "verified": ver_avg,
                         "ceiling": grounded_ceiling(gold, answers, bench)}
        for g, r, v in zip(gold, raw_per, ver_per, strict=True):
            per_sentence.append({
                "id": g.id, "system": name, "raw": r, "verified": v,
                "llm_triples": [list(t) for t in answers.get(g.id, ())],
                "verified_triples": [list(t) for t in verified.get(g.id, [])],
                "quarantined": refused_of.get(g.id, [])})

    cal = calibration([c for c, _ in conf_points], [ok for _, ok in conf_points],
                      bins=spec.confidence.calibration_bins)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = reliability_diagram(cal, out.with_suffix(".reliability.png"),
                              title=f"{bench.id}: agreement of {len(systems)} system(s), "
                                    f"ECE {cal.ece:.3f}")
    primary = systems[0][0]
    result: dict[str, Any] = {
        "ontology": bench.id,
        "gold_sentences": len(gold),
        "systems": results,
        "primary": primary,
        "raw": results[primary]["raw"],
        "verified": results[primary]["verified"],
        "per_sentence": per_sentence,
        "contracts": contracts,
        "retries_per_sample": stats.retries_per_sample,
        "confidence": {"ece": cal.ece, "threshold": threshold, "count": cal.count,
                       "bins": [b.model_dump() for b in cal.bins],
                       "points": [[c, ok] for c, ok in conf_points],
                       "reliability_diagram": str(png)},
        "quarantined": len(checked.graph.quarantined),
        "merges": len(checked.merges),
        "contested": sum(len(c.losers) for c in checked.conflicts),
        "islands": len(checked.islands),
    }
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


__all__ = ["METRICS", "evaluate_text2kgbench", "sentence_chunk", "system_name"]
