"""Writing a draft as files: OWL 2 Turtle and the competency-question YAML.

Both are written by hand rather than through rdflib's serializer so that the bytes depend only
on the draft: terms sorted by name, one statement per line in a fixed order, no timestamps.
The layout follows ``ontologies/space``: an ``owl:Ontology`` header, then classes, object
properties and datatype properties, each with ``rdfs:label`` and its definition as
``rdfs:comment``; the CQ file is a YAML list of ``id``, ``text``, ``sparql``, ``answer_type``
that ``pipeline.ontology.load_competency_questions`` reads.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence

import yaml

from pipeline.models import CompetencyQuestion
from pipeline.ontology.design.schemas import DraftAnswer

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
STANDARD_PREFIXES: dict[str, str] = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD}
#: the XSD datatypes a datatype property may range over (what the contracts can parse, and a
#: few more that OWL 2 knows)
XSD_DATATYPES = ("anyURI", "boolean", "date", "dateTime", "decimal", "double", "duration",
                 "float", "gYear", "gYearMonth", "integer", "nonNegativeInteger",
                 "positiveInteger", "string", "time")
_XSD_BY_KEY = {d.lower(): d for d in XSD_DATATYPES}


def slug(text: str, *, max_words: int = 6, max_chars: int = 48) -> str:
    """``"Space exploration: missions & agencies"`` → ``space-exploration-missions-agencies``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    return "-".join(words)[:max_chars].strip("-") or "domain"


def datatype_iri(value: str | None) -> str | None:
    """The XSD IRI a datatype range names (``xsd:gYear``, ``gYear``, the full IRI; case is
    forgiven), or None if it is not one of ``XSD_DATATYPES``."""
    if not value:
        return None
    local = value.strip().removeprefix(XSD).removeprefix("xsd:").strip("<>")
    found = _XSD_BY_KEY.get(local.lower())
    return XSD + found if found else None


def turtle_string(text: str) -> str:
    """A Turtle string literal (escaped, one line)."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def render_turtle(draft: DraftAnswer, *, ontology_iri: str, prefix: str, label: str,
                  comment: str) -> str:
    """The draft as OWL 2 Turtle. Names the draft uses but does not declare are written as
    ``prefix:Name`` all the same, so the checks see (and report) them."""
    ns = ontology_iri + "#"

    def term(name: str) -> str:
        return f"{prefix}:{name}"

    def block(subject: str, types: str, pairs: list[tuple[str, str]]) -> str:
        lines = [f"{subject} a {types} ;"]
        lines += [f"    {p} {o} ;" for p, o in pairs]
        lines[-1] = lines[-1][:-2] + " ."
        return "\n".join(lines)

    out = [f"@prefix {prefix}: <{ns}> ."]
    out += [f"@prefix {p}: <{iri}> ." for p, iri in sorted(STANDARD_PREFIXES.items())]
    out += ["", block(f"<{ontology_iri}>", "owl:Ontology",
                      [("rdfs:label", turtle_string(label)),
                       ("rdfs:comment", turtle_string(comment))])]
    sections: list[tuple[str, list[str]]] = []
    classes = []
    for c in sorted(draft.classes, key=lambda c: c.name):
        pairs = [("rdfs:subClassOf", term(p)) for p in sorted(set(c.parents))]
        pairs += [("rdfs:label", turtle_string(c.label)),
                  ("rdfs:comment", turtle_string(c.definition))]
        classes.append(block(term(c.name), "owl:Class", pairs))
    sections.append(("Classes", classes))
    objects = []
    for op in sorted(draft.object_properties, key=lambda p: p.name):
        pairs = [("rdfs:label", turtle_string(op.label)),
                 ("rdfs:comment", turtle_string(op.definition))]
        if op.domain:
            pairs.append(("rdfs:domain", term(op.domain)))
        if op.range:
            pairs.append(("rdfs:range", term(op.range)))
        objects.append(block(term(op.name), "owl:ObjectProperty", pairs))
    sections.append(("Object properties", objects))
    values = []
    for dp in sorted(draft.datatype_properties, key=lambda p: p.name):
        pairs = [("rdfs:label", turtle_string(dp.label)),
                 ("rdfs:comment", turtle_string(dp.definition))]
        if dp.domain:
            pairs.append(("rdfs:domain", term(dp.domain)))
        dt = datatype_iri(dp.range)
        if dt:
            pairs.append(("rdfs:range", "xsd:" + dt.removeprefix(XSD)))
        values.append(block(term(dp.name), "owl:DatatypeProperty", pairs))
    sections.append(("Datatype properties", values))
    for title, blocks in sections:
        if blocks:
            out += ["", "#" * 65, f"# {title}", "#" * 65, ""]
            out.append("\n\n".join(blocks))
    return "\n".join(out) + "\n"


_IRI_OR_STRING = re.compile(r"<[^<>\s]*>|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_DECLARED = re.compile(r"(?im)^\s*PREFIX\s+([A-Za-z][\w.-]*)?\s*:")


def prepare_sparql(text: str, *, prefix: str, namespace: str) -> tuple[str, list[str]]:
    """``text`` tidied (dedented, no trailing spaces, one final newline) with a ``PREFIX``
    line added for each of the ontology's and the standard prefixes it uses but does not
    declare; returns the query and the prefixes added (recorded as repairs)."""
    lines = [line.rstrip() for line in textwrap.dedent(text.replace("\r\n", "\n")).split("\n")]
    body = "\n".join(lines).strip("\n")
    declared = {m.group(1) or "" for m in _DECLARED.finditer(body)}
    bare = _IRI_OR_STRING.sub(" ", body)
    known = {prefix: namespace, **STANDARD_PREFIXES}
    added = [p for p in (prefix, *sorted(STANDARD_PREFIXES))
             if p not in declared and re.search(rf"(?<![\w:?$-]){re.escape(p)}:", bare)]
    head = [f"PREFIX {p}: <{known[p]}>" for p in added]
    return "\n".join([*head, body]) + "\n", added


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks, like the hand-written CQ files."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render_cq_yaml(questions: Sequence[CompetencyQuestion], *, header: str) -> str:
    """The competency questions as YAML (sorted by id), with ``header`` as a comment."""
    items = []
    for q in sorted(questions, key=lambda q: q.id):
        item: dict[str, str | None] = {"id": q.id, "text": q.text}
        item["sparql"] = q.sparql
        item["answer_type"] = q.answer_type
        items.append(item)
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    body = yaml.dump(items, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return comment + body


__all__ = ["STANDARD_PREFIXES", "XSD", "XSD_DATATYPES", "datatype_iri", "prepare_sparql",
           "render_cq_yaml", "render_turtle", "slug", "turtle_string"]
