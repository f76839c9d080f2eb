"""Ontology verification: every check an ontology must pass before extraction runs under it.

Each finding is data — a reason code, a severity, the IRIs involved and a message — so a user
sees every problem at once. Errors stop a build (``flows/build_kg.py`` refuses an ontology
with errors before extraction starts); warnings are reported. The rules, one per reason code,
are in ``issues.RULES`` (and the README's "Ontology checks" section).

The same checks run wherever an ontology enters: ``verikg ontology check`` (``check_file``),
the build (``check_ontology`` on the loaded ``Ontology``, which re-reads the file it came from,
so a user-supplied ontology gets exactly the CLI's checks), and any code holding an rdflib
graph (``check_graph``). The structural checks read the RDF graph (``terms.py``): the
``Ontology`` model is too coarse for restrictions, individuals and punning. Consistency and
unsatisfiable classes come from HermiT (``reasoner.py``), bounded by a time limit; a timeout or
a missing Java is a warning, never a hang or a crash. Competency questions are checked for
syntax and terms, and — over a built knowledge graph the caller passes in — for answers.

The quirks a loader reads in a non-literal way (``quirks.py``: a range named like a datatype,
a property both object and datatype, …) are warnings with the note's code, computed from the
graph by the loader's own reading (``loader.read_properties``), so the check and the build
read a file the same way; ``check_ontology`` adds the notes of a loaded ``Ontology`` too.

- ``issues``: reason codes, their rules and severities, ``OntologyIssue``.
- ``structural``: the checks on the RDF graph (domains and ranges, undeclared terms, subclass
  cycles, orphans, class/individual conflation, disconnected schema, duplicate labels).
- ``reasoning``: findings from HermiT's answer, explained from the graph.
- ``cqs``: competency questions — syntax, terms, and answers over a knowledge graph.
- ``report``: ``check_graph`` / ``check_file`` / ``check_ontology`` and the ``CheckReport``.
"""

from pipeline.ontology.checks.cqs import check_cqs, check_cqs_against
from pipeline.ontology.checks.issues import RULES, OntologyIssue, OntologyIssueCode, Rule
from pipeline.ontology.checks.reasoning import reasoner_findings
from pipeline.ontology.checks.report import (
    REPORT_SCHEMA,
    CheckReport,
    CQSummary,
    OntologySummary,
    check_file,
    check_graph,
    check_ontology,
    ontology_graph,
    read_graph,
    resolve_ontology_path,
)
from pipeline.ontology.checks.structural import note_findings

__all__ = ["REPORT_SCHEMA", "RULES", "CQSummary", "CheckReport", "OntologyIssue",
           "OntologyIssueCode", "OntologySummary", "Rule", "check_cqs", "check_cqs_against",
           "check_file", "check_graph", "check_ontology", "note_findings", "ontology_graph",
           "read_graph", "reasoner_findings", "resolve_ontology_path"]
