"""The corpus, ontology and scripted LLM the durability tests build from.

Twenty-four short company documents, one chunk each, under a three-class ontology. The LLM is
langchain-core's ``FakeListChatModel`` scripted per document: which document a prompt is about
is read from the prompt, and the n-th call about a document gets that document's n-th answer,
cycling through good answers, an object that is not in the text, truncated JSON and a predicate
crafted to break Cypher. A chunk's extraction always starts again from its first call, so a
build that is killed and resumed asks exactly what an uninterrupted one asks.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from tests.toy_ontology import TOY_ONTOLOGY, answer

DOCUMENTS = 24
CITIES = ("Lorath", "Beswick", "Quillon", "Marrowgate", "Tessary")

ONTOLOGY = TOY_ONTOLOGY + """
:partnerOf a owl:ObjectProperty ; rdfs:label "partner of" ; rdfs:domain :Company ;
    rdfs:range :Company .
"""


def company(i: int) -> str:
    return f"Corvin{i:02d} Labs"


def founder(i: int) -> str:
    return f"Ada Venn{i:02d}"


def city(i: int) -> str:
    return CITIES[i % len(CITIES)]


def write_project(root: Path) -> tuple[Path, Path]:
    """Write the corpus and the ontology under ``root``; returns their paths."""
    corpus = root / "docs"
    corpus.mkdir(parents=True, exist_ok=True)
    for i in range(DOCUMENTS):
        partner = company((i + 1) % DOCUMENTS)
        (corpus / f"firm{i:02d}.md").write_text(
            f"# {company(i)}\n\n{company(i)} was founded by {founder(i)}. {company(i)} is "
            f"based in {city(i)}. {company(i)} is a partner of {partner}.\n", encoding="utf-8")
    onto = root / "firms.ttl"
    onto.write_text(ONTOLOGY, encoding="utf-8")
    return corpus, onto


def script(i: int) -> list[str]:
    """Document ``i``'s answers, in the order it is asked."""
    c, f, where = company(i), founder(i), city(i)
    partner = company((i + 1) % DOCUMENTS)
    return [
        answer((c, "founded by", f), (c, "based in", where), (c, "partner of", partner)),
        answer((c, "founded by", f), (c, "based in", CITIES[(i + 2) % len(CITIES)])),
        '{"triples": [{"subject": "' + c + '", "predicate": "founded',
        answer((c, "founded by", f), (c, "}) DETACH DELETE n //", where)),
        answer((c, "based in", where)) if i % 3 else answer((c, "partner of", partner)),
    ]


class ScriptedChatModel(FakeListChatModel):
    """``FakeListChatModel`` answering by document: the n-th call about document ``i`` gets
    ``script(i)[n % len]``. ``calls`` counts the calls per document in this process."""

    responses: list[str] = ["{}"]
    calls: Counter[int] = Counter()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = Counter()

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None,
              run_manager: Any = None, **kwargs: Any) -> str:
        text = "\n".join(str(m.content) for m in messages if m.type == "human")
        for i in range(DOCUMENTS):
            if f"{company(i)} was founded" in text:
                answers = script(i)
                n = self.calls[i]
                self.calls[i] += 1
                return answers[n % len(answers)]
        return answer()
