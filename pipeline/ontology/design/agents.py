"""The panel's agents: a role, its instructions, and the chat model that plays it.

Each role sees the same domain and corpus sample but is told to care about different things,
which is what makes a panel propose more (and more varied) competency questions than one
prompt: the domain expert about what the field holds, the analyst about what users will ask,
the ontology engineer about what can be modelled and queried, the critic about what is vague,
redundant or out of scope. Any langchain-core chat model can play a role; ``step_models``
lets one agent use a differently configured model per step (e.g. a JSON schema per answer
shape), falling back to ``chat_model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from pipeline.errors import ConfigurationError
from pipeline.llm import model_id
from pipeline.ontology.design.settings import DesignSettings, RoleKind
from pipeline.ontology.design.transcript import Step

ROLE_TITLES: dict[RoleKind, str] = {
    "domain_expert": "domain expert",
    "analyst": "end user / analyst",
    "ontology_engineer": "ontology engineer",
    "critic": "critic",
}

ROLE_INSTRUCTIONS: dict[RoleKind, str] = {
    "domain_expert": (
        "You are the domain expert on an ontology design panel. You know the field: its "
        "kinds of things, how they relate, which facts matter and which names are used for "
        "them. Propose questions that cover the core of the domain as the documents show it, "
        "and judge questions by whether the domain really holds such facts."),
    "analyst": (
        "You are the end user and analyst on an ontology design panel. You will query the "
        "knowledge graph built from these documents. Propose the concrete questions people "
        "will ask of it (who, which, where, when, how many), and judge questions by whether "
        "someone would actually ask them and whether the documents can answer them."),
    "ontology_engineer": (
        "You are the ontology engineer on an ontology design panel. You turn questions into "
        "an OWL 2 ontology: classes in a hierarchy, object properties with a domain and a "
        "range, datatype properties with an XSD range, and a SPARQL query per question that "
        "uses only the ontology's terms. Propose and accept questions that can be modelled "
        "and answered by a query; prefer few, clear, well-defined terms."),
    "critic": (
        "You are the critic on an ontology design panel. You look for what is vague, "
        "redundant, out of scope or not answerable from the documents, and for modelling "
        "errors: terms without definitions, properties without domain or range, classes "
        "used as individuals, queries that use undefined terms or do not answer their "
        "question. Be specific: name the term or question and say what to change."),
}


@dataclass(frozen=True)
class PanelAgent:
    """One seat on the panel."""

    name: str
    role: RoleKind
    chat_model: BaseChatModel
    step_models: Mapping[Step, BaseChatModel] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return ROLE_TITLES[self.role]

    @property
    def instructions(self) -> str:
        return ROLE_INSTRUCTIONS[self.role]

    def model_for(self, step: Step) -> BaseChatModel:
        return self.step_models.get(step, self.chat_model)

    @property
    def model_name(self) -> str:
        return model_id(self.chat_model)


def build_agents(settings: DesignSettings,
                 models: Mapping[str, BaseChatModel | Mapping[Step, BaseChatModel]],
                 ) -> list[PanelAgent]:
    """The agents ``settings.roles`` name, each with the model ``models`` gives under its name
    (``domain_expert``, ``analyst``, ``analyst-2``...) or, failing that, under its role; a
    value may be one chat model or a mapping from step to chat model (``"propose"`` is then
    the agent's main model)."""
    agents = []
    for name, role in zip(settings.agent_names(), settings.roles, strict=True):
        given = models.get(name, models.get(role))
        if given is None:
            raise ConfigurationError(f"no chat model for panel agent {name!r} (role {role}); "
                                     f"models were given for: {', '.join(sorted(models))}")
        if isinstance(given, BaseChatModel):
            agents.append(PanelAgent(name=name, role=role, chat_model=given))
        else:
            main = given.get("propose") or next(iter(given.values()))
            agents.append(PanelAgent(name=name, role=role, chat_model=main,
                                     step_models=dict(given)))
    return agents


__all__ = ["ROLE_INSTRUCTIONS", "ROLE_TITLES", "PanelAgent", "build_agents"]
