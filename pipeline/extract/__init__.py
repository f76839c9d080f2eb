"""Extraction: LLM proposals under the ontology, each checked by the extraction contract."""

from pipeline.extract.base import Extractor
from pipeline.extract.llm_extractor import LLMExtractor

__all__ = [
    "Extractor",
    "LLMExtractor",
]
