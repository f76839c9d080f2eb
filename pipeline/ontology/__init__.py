"""Ontology: loading OWL and competency questions, and checking the ontology before use."""

from pipeline.ontology.checks.issues import OntologyIssue, OntologyIssueCode
from pipeline.ontology.checks.report import check_ontology
from pipeline.ontology.loader import load_competency_questions, load_ontology

__all__ = ["OntologyIssue", "OntologyIssueCode", "check_ontology", "load_competency_questions",
           "load_ontology"]
