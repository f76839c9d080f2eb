"""Hostile LLM answers: every answer of ``llm_outputs.jsonl`` — not JSON, truncated, wrongly
typed, nested, huge, an echo of the prompt, predicates and labels crafted to break Cypher,
unicode tricks, NUL bytes — ends in quarantine with the expected reason codes, is never
accepted, and leaves no assertion or entity in the store: only its quarantine rows.

Each answer comes from langchain-core's ``FakeListChatModel`` through the real
``LLMExtractor`` (one corrective retry, which gets the same answer again), the real scorer and
a real SQLite store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage

from pipeline.confidence import AgreementScorer, ConfidenceModel
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.runner import MAX_OUTPUT_CHARS
from pipeline.extract import LLMExtractor
from pipeline.models import Chunk, ChunkExtraction, Ontology, RunId, StoreCounts
from pipeline.store import SQLiteGraphStore
from tests.hostile.hostile_corpus import params, text

RUN = RunId("run-hostile")


class Recorder(BaseCallbackHandler):
    """Keeps the messages of every call, to check what the corrective prompt repeats."""

    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.prompts.append(messages[0])


def extract_hostile(answer: str, chunk: Chunk, ontology: Ontology, *,
                    retries: int = 1) -> tuple[ChunkExtraction, Recorder]:
    """Run the extractor on ``chunk`` with a model that always answers ``answer``."""
    recorder = Recorder()
    fake = FakeListChatModel(responses=[answer] * (retries + 1), callbacks=[recorder])
    extractor = LLMExtractor(fake, TripleContract(load_contract("extraction")), samples=1,
                             max_retries=retries, model_name="fake-hostile",
                             sleep=lambda s: None)
    return extractor.extract(chunk, ontology, run_id=RUN), recorder


def check_quarantined(result: ChunkExtraction, answer: str, ontology: Ontology,
                      expected: list[str], store_path: Path) -> None:
    """The answer is refused: quarantined with exactly ``expected`` reasons, nothing accepted,
    and a store given the scored result holds its quarantine rows and nothing else."""
    sample = result.samples[0]
    assert sample.accepted == (), [a.triple for a in sample.accepted]
    assert sample.quarantined, "the answer was dropped instead of quarantined"
    reasons = sorted({v.reason.value for q in sample.quarantined for v in q.violations})
    assert reasons == expected
    assert all(q.raw == answer for q in sample.quarantined)
    assert all(q.violations and all(v.detail for v in q.violations)
               for q in sample.quarantined)

    scored = AgreementScorer().score([result], ontology)
    assert scored.assertions == ()
    with SQLiteGraphStore(store_path) as store:
        store.upsert_documents([], [])
        store.write_quarantine(scored.quarantined)
        if scored.assertions:  # never, by the assertion above; kept to mirror the build
            store.write_assertions(scored.assertions)
        assert store.counts() == StoreCounts()
        assert store.assertions() == [] and store.entities() == []
        stored = store.quarantined()
        assert {q.id for q in stored} == {q.id for q in scored.quarantined}
        assert all(q.raw == answer for q in stored)


@pytest.mark.parametrize("case", params("llm_outputs.jsonl"))
def test_hostile_answer_is_quarantined(case: dict[str, Any], chunk: Chunk, toy: Ontology,
                                       tmp_path: Path) -> None:
    answer = text(case, "output")
    result, recorder = extract_hostile(answer, chunk, toy)
    assert result.samples[0].attempts == 2  # refused, corrected once, refused again
    check_quarantined(result, answer, toy, case["reasons"], tmp_path / "kg.sqlite")
    if "rows" in case:  # several statements about one pair: one record each
        assert len(result.samples[0].quarantined) == case["rows"]
    # the corrective prompt repeats the refused answer, but never a runaway one in full
    echoed = [m for m in recorder.prompts[1] if isinstance(m, AIMessage)][-1].content
    assert len(echoed) <= MAX_OUTPUT_CHARS


@pytest.mark.parametrize(("triple", "check"), [
    (("Acme Rockets", "based in", "1998"), "object-is-individual"),
    (("Acme Rockets", "founding year", "250"), "literal-datatype"),
])
def test_a_type_mismatch_is_flagged_not_refused(triple: tuple[str, str, str], check: str,
                                                chunk: Chunk, toy: Ontology) -> None:
    """A value where the ontology wants a thing (or another kind of value) can be true against
    a quirky ontology: kept, flagged, its confidence lowered, and no corrective retry spent."""
    from tests.toy_ontology import answer

    result, _ = extract_hostile(answer(triple), chunk, toy)
    sample = result.samples[0]
    assert sample.attempts == 1 and not sample.quarantined
    [acc] = sample.accepted
    assert [v.check for v in acc.violations] == [check]
    [assertion] = AgreementScorer(ConfidenceModel(penalties={check: 0.25})).score(
        [result], toy).assertions
    assert assertion.violation_checks == (check,)
    assert assertion.confidence == pytest.approx(0.25)
