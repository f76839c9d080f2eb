"""Every Cypher statement VeriKG runs, in one place, always parameterised.

Values travel only as parameters. Labels and relationship types cannot be parameters, so the
few statements that need one are built by functions here from ontology terms that pass
``identifier`` (``^[A-Za-z_][A-Za-z0-9_]*$``); anything else raises ``StoreError`` before a
query string exists. The graph model:

    (:Entity:<ClassLocalName> {id, label, type_iri})
    (:Entity)-[:<predicateLocalName> {id, confidence, status}]->(:Entity)   entity objects only
    (:Assertion {id, predicate, confidence, status, literal_value?, literal_datatype?,
                 violations?, violation_checks?})
    (:Assertion)-[:SUBJECT]->(:Entity)   (:Assertion)-[:OBJECT]->(:Entity)
    (:Assertion)-[:STATED_IN {model, prompt_version, run_id, span_*, quote, ...}]->(:Chunk)
    (:Chunk {id, document_id, chunk_index, text, span_start, span_end})-[:PART_OF]->(:Document)
    (:Quarantined {id, chunk_id, document_id, run_id, reason, resolved_by, payload})
    (:Annotation {entity_id, property, value})-[:ANNOTATES]->(:Entity)
    (:AuditEntry {seq, at, actor, action, target, detail, role, before_state, after_state,
                  request_id})
    (:ChangeRequest {id, author, author_role, kgcl, status, created_at, reviewer, ...})
    (:StoreMeta {id, version, audit_seq})

The audit log is append-only by construction: ``BUMP_VERSION`` and ``APPEND_AUDIT`` only
CREATE entries, no statement here sets or deletes an ``AuditEntry`` property, and
``RESET_SLICE`` (wiping the whole store) is the one statement that removes them. Neo4j has
no triggers to enforce this against other clients; the compliance suite checks this module.

An assertion's soft violations are ``violations`` (``rules.violations_json`` text, read back
as written; absent when there are none) and ``violation_checks`` (``models.flag_checks``: the
names of the checks it is flagged for, sorted, each once, informational ones left out: what
``FLAGGED`` filters on; absent when there are none). An assertion with no violations has
neither property, as nodes written before violations were stored; one with only
informational violations has ``violations`` alone.

A ``STATED_IN`` relationship holds ``forms.provenance_row`` as its properties (``document_id``,
``samples_*``, ``subject_mention``/``object_mention``, ``seen_at``, ``repairs``,
``subject_text``/``object_text``, ``subject_grounding``/``object_grounding``,
``corroboration``, ...), set when it is created and never rewritten: provenance merges by
(chunk, model, prompt version). A property a relationship written by an earlier VeriKG lacks
reads as its default.

A :Chunk that provenance names before its text is stored exists with only its id; reads and
counts skip such placeholders (``text IS NULL``) until ``upsert_documents`` fills them in.
"""

from __future__ import annotations

import re

from pipeline.errors import StoreError
from pipeline.store.rules import graph_name

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: labels and relationship types of the store's own structure; an ontology term with one of
#: these names gets a prefix, so an ontology class called "Document" never joins the documents
RESERVED = frozenset({"Entity", "Assertion", "Chunk", "Document", "Quarantined", "AuditEntry",
                      "StoreMeta", "StoreOntology", "Annotation", "ChangeRequest",
                      "SUBJECT", "OBJECT",
                      "STATED_IN", "PART_OF", "ANNOTATES"})
RESERVED_PREFIX = "Onto_"

META_ID = "verikg"


def identifier(name: str) -> str:
    """``name`` quoted for use as a label or relationship type, if it is a safe identifier."""
    if not _IDENTIFIER.fullmatch(name):
        raise StoreError(f"{name!r} cannot be a Neo4j label or relationship type")
    return f"`{name}`"


def _ontology_name(iri: str, what: str) -> str:
    name = graph_name(iri, what)
    return identifier(RESERVED_PREFIX + name if name in RESERVED else name)


def class_label(type_iri: str) -> str:
    """The extra label an entity node carries for its ontology class."""
    return _ontology_name(type_iri, "class")


def relationship_type(predicate_iri: str) -> str:
    """The type of the relationship an assertion draws between two entity nodes."""
    return _ontology_name(predicate_iri, "predicate")


# --------------------------------------------------------------------------- schema

CONSTRAINTS = tuple(
    f"CREATE CONSTRAINT verikg_{name.lower()}_{key} IF NOT EXISTS "
    f"FOR (n:{name}) REQUIRE n.{key} IS UNIQUE"
    for name, key in (("Entity", "id"), ("Assertion", "id"), ("Document", "id"),
                      ("Chunk", "id"), ("Quarantined", "id"), ("AuditEntry", "seq"),
                      ("StoreMeta", "id"), ("ChangeRequest", "id")))

INDEXES = tuple(
    f"CREATE INDEX verikg_{label.lower()}_{key} IF NOT EXISTS FOR (n:{label}) ON (n.{key})"
    for label, key in (("Annotation", "entity_id"), ("AuditEntry", "actor"),
                       ("AuditEntry", "action"), ("AuditEntry", "target"), ("AuditEntry", "at"),
                       ("AuditEntry", "request_id"), ("ChangeRequest", "status"),
                       ("Quarantined", "chunk_id")))

# --------------------------------------------------------------------------- writes

BUMP_VERSION = """
MERGE (m:StoreMeta {id: $meta})
ON CREATE SET m.version = 0, m.audit_seq = 0
SET m.version = m.version + 1
WITH m, m.audit_seq AS base
SET m.audit_seq = base + size($entries)
WITH base
UNWIND range(0, size($entries) - 1) AS i
CREATE (e:AuditEntry)
SET e = $entries[i], e.seq = base + i + 1
"""

# entries that record no graph change (refusals, reviews): the version stays
APPEND_AUDIT = """
MERGE (m:StoreMeta {id: $meta})
ON CREATE SET m.version = 0, m.audit_seq = 0
SET m.audit_seq = m.audit_seq + size($entries)
WITH m.audit_seq - size($entries) AS base
UNWIND range(0, size($entries) - 1) AS i
CREATE (e:AuditEntry)
SET e = $entries[i], e.seq = base + i + 1
"""

EXISTING_DOCUMENTS = "UNWIND $ids AS id MATCH (d:Document {id: id}) RETURN d.id AS id"

EXISTING_CHUNKS = """
UNWIND $ids AS id MATCH (c:Chunk {id: id}) WHERE c.text IS NOT NULL RETURN c.id AS id
"""

MERGE_DOCUMENTS = "UNWIND $rows AS r MERGE (d:Document {id: r.id}) ON CREATE SET d += r"

# only chunks not yet stored arrive here, so filling in a placeholder is safe
MERGE_CHUNKS = """
UNWIND $rows AS r
MERGE (c:Chunk {id: r.id})
SET c += r
WITH c, r
MATCH (d:Document {id: r.document_id})
MERGE (c)-[:PART_OF]->(d)
"""

# the stored records a quarantine write merges with: by id, and those of the covered chunks
STORED_QUARANTINE = """
UNWIND $ids AS id MATCH (q:Quarantined {id: id}) RETURN q.payload AS payload
"""

QUARANTINE_OF_CHUNKS = """
UNWIND $ids AS id MATCH (q:Quarantined {chunk_id: id}) RETURN q.payload AS payload
"""

# a record refused again or resolved is replaced in place (``quarantine.plan_quarantine``)
MERGE_QUARANTINE = "UNWIND $rows AS r MERGE (q:Quarantined {id: r.id}) SET q += r"

EXISTING_ASSERTIONS = """
UNWIND $ids AS id
MATCH (a:Assertion {id: id})
RETURN a.id AS id, a.confidence AS confidence, a.status AS status,
       a.violations AS violations,
       [(a)-[p:STATED_IN]->(c:Chunk) | [c.id, p.model, p.prompt_version]] AS keys
"""

ENTITY_TYPES = """
UNWIND $ids AS id MATCH (e:Entity {id: id}) RETURN e.id AS id, e.type_iri AS type_iri
"""


def create_entities(label: str) -> str:
    """Create entities of one class (``label`` comes from ``class_label``)."""
    return ("UNWIND $rows AS r MERGE (e:Entity {id: r.id}) "
            f"ON CREATE SET e.label = r.label, e.type_iri = r.type_iri SET e:{_checked(label)}")


def retype_entities(old_label: str, new_label: str) -> str:
    """Move entities from one class label to another (the pipeline resolved a new class)."""
    return ("UNWIND $rows AS r MATCH (e:Entity {id: r.id}) SET e.type_iri = r.type_iri "
            f"REMOVE e:{_checked(old_label)} SET e:{_checked(new_label)}")


CREATE_ASSERTIONS = """
UNWIND $rows AS r
MATCH (s:Entity {id: r.subject_id})
MERGE (a:Assertion {id: r.id})
ON CREATE SET a.predicate = r.predicate, a.confidence = r.confidence, a.status = r.status,
              a.literal_value = r.literal_value, a.literal_datatype = r.literal_datatype,
              a.violations = CASE WHEN r.violations = '[]' THEN null ELSE r.violations END,
              a.violation_checks = CASE WHEN size(r.violation_checks) = 0 THEN null
                                        ELSE r.violation_checks END
MERGE (a)-[:SUBJECT]->(s)
WITH a, r
OPTIONAL MATCH (o:Entity {id: r.object_id})
FOREACH (_ IN CASE WHEN o IS NULL THEN [] ELSE [1] END | MERGE (a)-[:OBJECT]->(o))
"""


def link_entities(rel_type: str) -> str:
    """Draw the typed relationship of assertions with one predicate between their entities."""
    return ("UNWIND $rows AS r "
            "MATCH (s:Entity {id: r.subject_id}), (o:Entity {id: r.object_id}) "
            f"MERGE (s)-[x:{_checked(rel_type)} {{id: r.id}}]->(o) "
            "ON CREATE SET x.confidence = r.confidence, x.status = r.status")


ADD_PROVENANCE = """
UNWIND $rows AS r
MATCH (a:Assertion {id: r.assertion_id})
MERGE (c:Chunk {id: r.chunk_id})
MERGE (a)-[p:STATED_IN {model: r.model, prompt_version: r.prompt_version}]->(c)
ON CREATE SET p += r.props
"""

# the typed entity relationship of an assertion, found from the assertion (never by a scan)
_TYPED_EDGE = ("OPTIONAL MATCH (a)-[:SUBJECT]->(:Entity)-[x]->(:Entity)<-[:OBJECT]-(a) "
               "WHERE x.id = a.id")

SET_CONFIDENCE = f"""
UNWIND $rows AS r
MATCH (a:Assertion {{id: r.id}})
SET a.confidence = r.confidence
WITH a, r
{_TYPED_EDGE}
SET x.confidence = r.confidence
"""

# rows {id, violations, checks}: both null when the new write has no violations
SET_VIOLATIONS = """
UNWIND $rows AS r
MATCH (a:Assertion {id: r.id})
SET a.violations = r.violations, a.violation_checks = r.checks
"""

SET_STATUS = f"""
MATCH (a:Assertion {{id: $id}})
SET a.status = $status
WITH a
{_TYPED_EDGE}
SET x.status = $status
RETURN count(DISTINCT a) AS n
"""

REMOVE_ASSERTION = f"""
MATCH (a:Assertion {{id: $id}})
{_TYPED_EDGE}
DELETE x
DETACH DELETE a
RETURN count(*) AS n
"""

RENAME_ENTITY = "MATCH (e:Entity {id: $id}) SET e.label = $label RETURN count(e) AS n"

# an assertion's own row (``rules.assertion_row`` keys), read before a change alters it
ASSERTION_ROW = """
MATCH (a:Assertion {id: $id})-[:SUBJECT]->(s:Entity)
OPTIONAL MATCH (a)-[:OBJECT]->(o:Entity)
RETURN a {.*, subject_id: s.id, object_id: o.id} AS a
"""

ENTITY = "MATCH (e:Entity {id: $id}) RETURN e {.id, .label, .type_iri} AS e"

ENTITY_USES = """
MATCH (:Entity {id: $id})<-[:SUBJECT|OBJECT]-(a:Assertion) RETURN count(DISTINCT a) AS n
"""

# an entity and its annotations (``DeleteEntity`` checks first that no assertion names it)
DELETE_ENTITY = """
MATCH (e:Entity {id: $id})
OPTIONAL MATCH (n:Annotation {entity_id: $id})
WITH e, collect(n) AS notes
FOREACH (n IN notes | DETACH DELETE n)
DETACH DELETE e
"""

ANNOTATIONS_OF = """
MATCH (n:Annotation {entity_id: $id})
RETURN n.entity_id AS entity_id, n.property AS property, n.value AS value
"""

HAS_ANNOTATION = """
MATCH (n:Annotation {entity_id: $entity_id, property: $property, value: $value})
RETURN count(n) AS n
"""

ADD_ANNOTATION = """
MATCH (e:Entity {id: $entity_id})
CREATE (n:Annotation {entity_id: $entity_id, property: $property, value: $value})
CREATE (n)-[:ANNOTATES]->(e)
"""

REMOVE_ANNOTATION = """
MATCH (n:Annotation {entity_id: $entity_id, property: $property, value: $value})
DETACH DELETE n
"""

CHANGE_REQUEST = "MATCH (r:ChangeRequest {id: $id}) RETURN r {.*} AS r"

CREATE_CHANGE_REQUEST = "CREATE (r:ChangeRequest) SET r = $row"

# only the review and application fields: author, text and filing time stay as filed
UPDATE_CHANGE_REQUEST = """
MATCH (r:ChangeRequest {id: $id})
SET r.status = $row.status, r.reviewer = $row.reviewer, r.reviewer_role = $row.reviewer_role,
    r.reviewed_at = $row.reviewed_at, r.reason = $row.reason, r.applied_by = $row.applied_by,
    r.applied_by_role = $row.applied_by_role, r.applied_at = $row.applied_at
"""

CHANGE_REQUESTS = """
MATCH (r:ChangeRequest)
WHERE ($status IS NULL OR r.status = $status) AND ($author IS NULL OR r.author = $author)
RETURN r {.*} AS r
"""

# deletes in slices so a large graph does not need one huge transaction; the version node
# stays, so the version keeps growing across a reset
RESET_SLICE = """
MATCH (n) WHERE NOT n:StoreMeta
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS n
"""

# --------------------------------------------------------------------------- reads

_ASSERTION_PROJECTION = """
MATCH (a)-[:SUBJECT]->(s:Entity)
OPTIONAL MATCH (a)-[:OBJECT]->(o:Entity)
RETURN a {.*} AS a, s {.id, .label, .type_iri} AS s, o {.id, .label, .type_iri} AS o,
       [(a)-[p:STATED_IN]->(c:Chunk) | p {.*, chunk_id: c.id}] AS provenance
"""

ASSERTIONS = ("MATCH (a:Assertion) WHERE $status IS NULL OR a.status = $status WITH a"
              + _ASSERTION_PROJECTION)

ASSERTION = "MATCH (a:Assertion {id: $id}) WITH a" + _ASSERTION_PROJECTION

NEIGHBOURS = ("MATCH (:Entity {id: $id})<-[:SUBJECT|OBJECT]-(a:Assertion) WITH DISTINCT a"
              + _ASSERTION_PROJECTION)

FLAGGED = ("MATCH (a:Assertion) WHERE a.violation_checks IS NOT NULL "
           "AND ($check IS NULL OR $check IN a.violation_checks) WITH a"
           + _ASSERTION_PROJECTION)

ENTITIES = "MATCH (e:Entity) RETURN e.id AS id, e.label AS label, e.type_iri AS type_iri"

ENTITIES_BY_ID = """
UNWIND $ids AS id MATCH (e:Entity {id: id})
RETURN e.id AS id, e.label AS label, e.type_iri AS type_iri
"""

ANNOTATIONS = """
MATCH (n:Annotation) WHERE $id IS NULL OR n.entity_id = $id
RETURN n.entity_id AS entity_id, n.property AS property, n.value AS value
"""

QUARANTINED = "MATCH (q:Quarantined) RETURN q.payload AS payload"

CHUNKS = "UNWIND $ids AS id MATCH (c:Chunk {id: id}) WHERE c.text IS NOT NULL RETURN c {.*} AS c"

DOCUMENTS = "UNWIND $ids AS id MATCH (d:Document {id: id}) RETURN d {.*} AS d"

AUDIT_LOG = """
MATCH (e:AuditEntry)
WHERE ($actor IS NULL OR e.actor = $actor) AND ($action IS NULL OR e.action = $action)
  AND ($target IS NULL OR e.target = $target) AND ($since IS NULL OR e.at >= $since)
  AND ($until IS NULL OR e.at <= $until)
  AND ($request_id IS NULL OR coalesce(e.request_id, '') = $request_id)
RETURN e {.*} AS e ORDER BY e.seq
"""

COUNT_DOCUMENTS = "MATCH (d:Document) RETURN count(d) AS n"
COUNT_CHUNKS = "MATCH (c:Chunk) WHERE c.text IS NOT NULL RETURN count(c) AS n"
COUNT_ENTITIES = "MATCH (e:Entity) RETURN count(e) AS n"
COUNT_BY_STATUS = "MATCH (a:Assertion) RETURN a.status AS status, count(*) AS n"

VERSION = "OPTIONAL MATCH (m:StoreMeta {id: $meta}) RETURN coalesce(m.version, 0) AS version"

#: the ontology the store was built with (one node; ``reset`` removes it with the rest)
ONTOLOGY = "MATCH (o:StoreOntology {id: $meta}) RETURN o {.path, .sha256, .source} AS o"
SET_ONTOLOGY = ("MERGE (o:StoreOntology {id: $meta}) "
                "SET o.path = $path, o.sha256 = $sha256, o.source = $source")


def _checked(quoted: str) -> str:
    """Re-check a quoted name at the point it enters a query (defence in depth)."""
    if not (quoted.startswith("`") and quoted.endswith("`")):
        raise StoreError(f"{quoted!r} was not produced by identifier()")
    return identifier(quoted[1:-1])
