"""The answers the panel's agents must give, as pydantic models and JSON schemas.

Every agent answers with one JSON object; these models are the "wrong schema" half of the
output contract (the other half, hostile text, is ``pipeline.text.hostile``). Unknown keys
are ignored, as in extraction (models add commentary fields); missing or mistyped fields are
violations that go back to the agent as a corrective prompt. Term names are OWL local names;
a prefixed name or a full IRI is cut to its local name, since the panel fixes the namespace
itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _local(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("<") and value.endswith(">"):
            value = value[1:-1]
        return re.split(r"[#/:]", value)[-1] if re.search(r"[#/:]", value) else value
    return value


def _none_if_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: an OWL local name the panel can write as ``prefix:Name`` in Turtle and SPARQL
Name = Annotated[str, BeforeValidator(_local),
                 StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
OptionalName = Annotated[Name | None, BeforeValidator(_none_if_blank)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Definition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=800)]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class ProposedQuestion(_Answer):
    text: Annotated[str, StringConstraints(min_length=5, max_length=300)]
    #: what kind of thing answers it (a class name such as ``Mission``, or a value kind)
    answer_type: Annotated[str, StringConstraints(max_length=80)] = ""
    rationale: Annotated[str, StringConstraints(max_length=600)] = ""


class ProposalAnswer(_Answer):
    """Round 1: the competency questions one agent proposes."""

    questions: list[ProposedQuestion]


class Vote(_Answer):
    cq: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    accept: bool
    reason: Annotated[str, StringConstraints(max_length=600)] = ""


class VoteAnswer(_Answer):
    """Round 1: one agent's accept/reject vote on every merged question."""

    votes: list[Vote]


class DraftClass(_Answer):
    name: Name
    label: Label
    definition: Definition
    parents: list[Name] = Field(default_factory=list)


class DraftObjectProperty(_Answer):
    name: Name
    label: Label
    definition: Definition
    domain: OptionalName = None
    range: OptionalName = None


class DraftDatatypeProperty(_Answer):
    name: Name
    label: Label
    definition: Definition
    domain: OptionalName = None
    #: an XSD datatype: ``xsd:gYear``, ``gYear`` or its full IRI
    range: Annotated[str | None, BeforeValidator(_none_if_blank)] = None


class DraftQuery(_Answer):
    cq: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    sparql: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    answer_type: Annotated[str, StringConstraints(max_length=80)] = ""


class DraftAnswer(_Answer):
    """Round 2: the ontology engineer's draft: terms plus one SPARQL query per question."""

    classes: Annotated[list[DraftClass], Field(min_length=1)]
    object_properties: list[DraftObjectProperty] = Field(default_factory=list)
    datatype_properties: list[DraftDatatypeProperty] = Field(default_factory=list)
    queries: list[DraftQuery] = Field(default_factory=list)

    def term_names(self) -> list[str]:
        return ([c.name for c in self.classes] + [p.name for p in self.object_properties]
                + [p.name for p in self.datatype_properties])


def _problem(value: Any) -> Any:
    return {"problem": value} if isinstance(value, str) else value


class ReviewProblem(_Answer):
    #: the term or question the problem is about ("" for the whole draft)
    term: Annotated[str, StringConstraints(max_length=120)] = ""
    problem: Annotated[str, StringConstraints(min_length=1, max_length=800)]


class ReviewAnswer(_Answer):
    """Round 2: the critic's verdict on one draft."""

    approve: bool
    problems: list[Annotated[ReviewProblem, BeforeValidator(_problem)]] = Field(
        default_factory=list)


#: schema keywords left out of what a backend is sent: llama.cpp expands a bounded string
#: (``maxLength: 800``) into that many grammar rules, and a draft's many bounded fields made it
#: refuse the grammar and crash (measured with the embedded model); pydantic checks them anyway
_NOT_SENT = frozenset({"title", "maxLength", "minLength", "pattern"})


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema for backends that constrain output (grammars, response formats):
    every ``$ref`` inlined, and the length and pattern bounds left to the contract."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            if isinstance(node.get("properties"), dict):  # property names are not keywords
                node = {**node, "properties": {k: inline(v)
                                               for k, v in node["properties"].items()}}
            return {k: (v if k == "properties" else inline(v)) for k, v in node.items()
                    if k not in _NOT_SENT}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


__all__ = ["DraftAnswer", "DraftClass", "DraftDatatypeProperty", "DraftObjectProperty",
           "DraftQuery", "ProposalAnswer", "ProposedQuestion", "ReviewAnswer", "ReviewProblem",
           "Vote", "VoteAnswer", "json_schema"]
