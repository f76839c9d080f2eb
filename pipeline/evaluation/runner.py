"""``verikg eval text2kgbench``: the benchmark's metrics on recorded LLM answers — raw, through
a naive filter, and through VeriKG's verification (all checks, and the hard checks alone).

Every gold sentence becomes a document of one chunk. For each recorded system, its answer for
the sentence stands in for the LLM (``RecordedChatModel``) and goes through the extraction
stage a build runs (``LLMExtractor``: the contract's output checks and post-conditions, hard
ones quarantining, soft ones flagging), then through confidence (agreement of the systems on
the same chunk, noisy-OR across chunks) and the graph-level checks (``pipeline.verify``). What
survives, written back in the benchmark's format in the chosen written form, is scored with the
benchmark's own metrics next to:

* **raw** — the answers as recorded;
* **naive** — the one-line filter a reviewer would write: the relation is an ontology relation
  and subject and object occur in the sentence (``naive_filter``);
* **verified** — every check of the contract, each with its severity;
* **verified (hard only)** — the same contract with its soft checks switched off: what the hard
  checks alone keep. Soft checks never remove a statement, so its triples equal ``verified``'s
  unless a contract promotes a soft check to hard; they differ in confidence.

Also reported per output: pooled (micro) precision and recall, and the share of sentences an
output emptied (the raw answer had triples, the output has none). Where gold labels exist the
stored confidence of every verified triple is checked against them: ECE and a reliability
diagram; the points carry the raw score too, so a calibration can be fitted on some ontologies
and tested on others (``benchmarks/text2kgbench_contracts.py``, ``verikg calibrate``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.confidence import AgreementScorer, ConfidenceModel
from pipeline.confidence.calibration import calibration, reliability_diagram
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.checks import resolve_property
from pipeline.contracts.spec import ContractSpec
from pipeline.contracts.stats import contract_stats
from pipeline.errors import InputError
from pipeline.evaluation.replay import RecordedChatModel, recorded_answer
from pipeline.evaluation.text2kgbench import (
    METRICS,
    BenchOntology,
    GoldSentence,
    emptied_share,
    hallucination_context,
    is_hallucinated,
    load_bench_ontology,
    load_gold,
    load_responses,
    micro_scores,
    naive_filter,
    score_system,
    triple_key,
)
from pipeline.extract import LLMExtractor
from pipeline.models import (
    AssertionId,
    AssertionStatus,
    CalibrationMap,
    Chunk,
    ChunkExtraction,
    Document,
    DocumentId,
    GraphCheckResult,
    RunId,
    WrittenForm,
    stable_hash,
)
from pipeline.resolve import merge_targets, merged_triple
from pipeline.verify import run_graph_checks

RawTriple = tuple[str, str, str]
Answers = dict[str, tuple[RawTriple, ...]]
OUTPUTS = ("raw", "naive", "verified", "verified_hard_only")


def system_name(path: Path) -> str:
    """``baselines/Vicuna-13B/llm_responses/x.jsonl`` → ``Vicuna-13B``; else the file stem."""
    return path.parent.parent.name if path.parent.name == "llm_responses" else path.stem


def sentence_chunk(onto_id: str, g: GoldSentence) -> Chunk:
    """One document of one chunk per gold sentence; the id comes from the sentence id, so two
    sentences with the same text stay two documents, as the benchmark counts them."""
    doc = Document.from_text(g.sent, source=g.id, title=g.id)
    doc = doc.model_copy(update={"id": DocumentId(f"doc:{stable_hash(onto_id, g.id)}")})
    return Chunk.make(doc, 0, 0, len(doc.text))


def grounded_ceiling(gold: Sequence[GoldSentence], answers: Answers,
                     bench: BenchOntology) -> dict[str, float]:
    """The best any filter of these answers can score while conforming to the ontology and
    hallucinating nothing: keep exactly the triples that match gold (relation mapped onto the
    ontology's label) and whose subject and object the benchmark finds in the sentence. An
    upper bound for what contracts can reach on recorded answers without rewriting them,
    computed with the gold."""
    best: dict[str, list[RawTriple]] = {}
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


class _Verified:
    """One verification of every system's answers: what it keeps per (system, sentence)."""

    def __init__(self, extractions: Mapping[tuple[str, str], ChunkExtraction],
                 checked: GraphCheckResult) -> None:
        self.extractions = extractions
        self.checked = checked
        live = [a for a in checked.graph.assertions if a.status is not AssertionStatus.CONTESTED]
        self.by_id = {a.id: a for a in live}
        self.targets = merge_targets(checked.merges)

    def output(self, system: str, gold: Sequence[GoldSentence], bench: BenchOntology,
               form: WrittenForm, threshold: float) -> tuple[
                   dict[str, list[RawTriple]], dict[str, list[AssertionId]]]:
        """The kept triples per sentence in the benchmark's format, and the assertion of each."""
        out: dict[str, list[RawTriple]] = {}
        ids: dict[str, list[AssertionId]] = {}
        for g in gold:
            ex = self.extractions.get((system, g.id))
            if ex is None:
                continue
            kept: dict[str, tuple[RawTriple, AssertionId]] = {}
            for sample in ex.samples:
                for acc in sample.accepted:
                    aid = merged_triple(acc.triple, self.targets).key
                    a = self.by_id.get(aid)
                    if a is None or a.confidence < threshold:
                        continue
                    prop = bench.ontology.get_property(acc.triple.predicate)
                    label = prop.label if prop else acc.candidate.predicate
                    subject, obj = acc.written(form)
                    t = (subject, label.replace(" ", "_"), obj)
                    kept.setdefault(triple_key(*t), (t, aid))
            out[g.id] = [t for t, _ in kept.values()]
            ids[g.id] = [aid for _, aid in kept.values()]
        return out, ids

    def quarantined_of(self, system: str, sentence: str) -> list[dict[str, Any]]:
        ex = self.extractions.get((system, sentence))
        if ex is None:
            return []
        return [{"triple": ([q.candidate.subject, q.candidate.predicate, q.candidate.object]
                            if q.candidate else None),
                 "reasons": sorted({v.reason.value for v in q.violations})}
                for s in ex.samples for q in s.quarantined]


def _verify(extractions: dict[tuple[str, str], ChunkExtraction], bench: BenchOntology,
            spec: ContractSpec, texts: Sequence[str], model: ConfidenceModel) -> _Verified:
    scored = AgreementScorer(model).score(list(extractions.values()), bench.ontology)
    checked = run_graph_checks(scored, bench.ontology, spec, texts=texts, confidence=model)
    return _Verified(extractions, checked)


def _replay(systems: Sequence[tuple[str, Answers]], gold: Sequence[GoldSentence],
            chunks: Mapping[str, Chunk], bench: BenchOntology, spec: ContractSpec,
            run_id: RunId) -> dict[tuple[str, str], ChunkExtraction]:
    """Each system's recorded answer through the extraction stage."""
    contract = TripleContract(spec)
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
    return extractions


def _load_systems(response_paths: Sequence[Path]) -> list[tuple[str, Answers]]:
    systems: list[tuple[str, Answers]] = []
    for p in response_paths:
        name = system_name(Path(p))
        if any(name == n for n, _ in systems):
            name = f"{name}#{len(systems) + 1}"
        systems.append((name, load_responses(p)))
    return systems


def evaluate_text2kgbench(ontology_path: Path, gold_path: Path, response_paths: Sequence[Path],
                          *, out: Path, spec: ContractSpec | None = None,
                          written_form: WrittenForm = WrittenForm.TIDY,
                          calibration_map: CalibrationMap | None = None) -> dict[str, Any]:
    """Score raw, naive, verified and hard-only outputs; write ``out`` (JSON) and the
    reliability diagram next to it (``<out stem>.reliability.png``); return the result.

    ``calibration_map`` replaces the contract's own map (a map fitted on other ontologies, for
    a held-out check); ``written_form`` is how kept triples are written back."""
    if not response_paths:
        raise InputError("at least one --responses file is needed")
    bench = load_bench_ontology(ontology_path)
    gold = load_gold(gold_path)
    spec = spec or load_contract()
    model = ConfidenceModel.from_spec(spec)
    if calibration_map is not None:
        model = model.model_copy(update={"calibration": calibration_map})
    run_id = RunId(f"eval:{stable_hash(bench.id, *map(str, response_paths))}")
    chunks = {g.id: sentence_chunk(bench.id, g) for g in gold if g.sent.strip()}
    texts = [c.text for c in chunks.values()]
    systems = _load_systems(response_paths)

    extractions = _replay(systems, gold, chunks, bench, spec, run_id)
    full = _verify(extractions, bench, spec, texts, model)
    hard_spec = spec.hard_only()
    hard = _verify(_replay(systems, gold, chunks, bench, hard_spec, run_id), bench, hard_spec,
                   texts, ConfidenceModel.from_spec(hard_spec).model_copy(
                       update={"calibration": model.calibration}))
    threshold = spec.confidence.min_confidence

    stats = contract_stats(list(extractions.values()), spec, full.checked.failures)
    contracts = {name: c.model_dump() for name, c in stats.checks.items()}

    gold_keys = {g.id: {triple_key(*t) for t in g.triples} for g in gold}
    per_sentence: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    points: list[dict[str, Any]] = []
    for name, answers in systems:
        naive = {g.id: naive_filter(g, answers[g.id], bench) for g in gold if g.id in answers}
        verified, verified_ids = full.output(name, gold, bench, written_form, threshold)
        hard_only, _ = hard.output(name, gold, bench, written_form, threshold)
        outputs: dict[str, Mapping[str, Sequence[Sequence[str]]]] = {
            "raw": answers, "naive": naive, "verified": verified,
            "verified_hard_only": hard_only}
        scored = {k: score_system(gold, v, bench) for k, v in outputs.items()}
        results[name] = {
            **{k: avg for k, (avg, _) in scored.items()},
            "ceiling": grounded_ceiling(gold, answers, bench),
            "micro": {k: micro_scores(gold, v) for k, v in outputs.items()},
            "emptied": {k: emptied_share(answers, v, gold) for k, v in outputs.items()
                        if k != "raw"}}
        for g in gold:
            for t, aid in zip(verified.get(g.id, []), verified_ids.get(g.id, []), strict=True):
                a = full.by_id[aid]
                points.append({"assertion": aid, "sentence": g.id, "confidence": a.confidence,
                               "raw": model.raw(a.provenance, a.violations),
                               "correct": triple_key(*t) in gold_keys[g.id],
                               "checks": list(a.violation_checks)})
        for i, g in enumerate(gold):
            per_sentence.append({
                "id": g.id, "system": name,
                **{k: scored[k][1][i] for k in OUTPUTS},
                "llm_triples": [list(t) for t in answers.get(g.id, ())],
                "verified_triples": [list(t) for t in verified.get(g.id, [])],
                "quarantined": full.quarantined_of(name, g.id)})

    cal = calibration([p["confidence"] for p in points], [p["correct"] for p in points],
                      bins=spec.confidence.calibration_bins)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = reliability_diagram(cal, out.with_suffix(".reliability.png"),
                              title=f"{bench.id}: stored confidence of {len(systems)} "
                                    f"system(s), ECE {cal.ece:.3f}")
    primary = systems[0][0]
    result: dict[str, Any] = {
        "ontology": bench.id,
        "gold_sentences": len(gold),
        "written_form": written_form.value,
        "systems": results,
        "primary": primary,
        "raw": results[primary]["raw"],
        "verified": results[primary]["verified"],
        "per_sentence": per_sentence,
        "contracts": contracts,
        "flagged": full.checked.flagged,
        "retries_per_sample": stats.retries_per_sample,
        "confidence": {"ece": cal.ece, "threshold": threshold, "count": cal.count,
                       "calibration": (model.calibration.fitted_on
                                       if model.calibration else "none (raw agreement)"),
                       "bins": [b.model_dump() for b in cal.bins],
                       "points": points,
                       "reliability_diagram": str(png)},
        "quarantined": len(full.checked.graph.quarantined),
        "merges": len(full.checked.merges),
        "contested": sum(len(c.losers) for c in full.checked.conflicts),
        "islands": len(full.checked.islands),
        "ontology_notes": [n.model_dump() for n in bench.ontology.notes],
    }
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


__all__ = ["METRICS", "OUTPUTS", "evaluate_text2kgbench", "grounded_ceiling", "sentence_chunk",
           "system_name"]
