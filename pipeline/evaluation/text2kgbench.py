"""Text2KGBench: its file layout and its official per-sentence metrics, reimplemented.

The benchmark (Mihindukulasooriya et al., ISWC 2023) scores a system per test sentence and
macro-averages over every gold sentence of an ontology (a sentence the system skipped scores 0
everywhere). The rules, as the benchmark's evaluation defines them:

* **P / R / F1** — system triples whose relation is not among the sentence's gold relations
  (spaces written as ``_``) are dropped first; the rest and the gold triples are compared as
  sets of ``lower(sub + rel + obj)`` strings with whitespace and ``_`` removed. No system
  triples after the filter → 0, 0, 0.
* **onto_conf** — the share of *all* system triples whose relation is exactly an ontology
  relation label with spaces written as ``_`` (1 when there are none); ``rel_halluc`` = 1 − it.
* **sub_halluc / obj_halluc** — the share of system triples whose subject (object), tokenised
  and Porter-stemmed, concatenated, lower-cased, with whitespace, ``_`` and ``01januari``
  removed, is not a substring of the same processing of the sentence immediately followed by
  the ontology's concept labels (0 when there are no triples).

Tokenisation and stemming are NLTK's ``word_tokenize`` and ``PorterStemmer``, the benchmark's
own choice, so the figures agree with its published files. ``word_tokenize`` first splits
sentences with the Punkt model, which is a data download; here sentences are split at ``.``,
``!`` or ``?`` followed by whitespace instead. That only matters where a sentence-final word
would stem differently with its period attached ("industry." vs "industri"), and it reproduces
every published per-sentence score of the development data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigurationError
from pipeline.evaluation.bench_ontology import BenchOntology, load_bench_ontology
from pipeline.models import Frozen

METRICS = ("precision", "recall", "f1", "onto_conf", "sub_halluc", "rel_halluc", "obj_halluc")
_BLANK = re.compile(r"_|\s+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")

RawTriple = tuple[str, str, str]


# --------------------------------------------------------------------------- files


class GoldSentence(Frozen):
    id: str
    sent: str
    triples: tuple[RawTriple, ...]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{path}:{n}: not a JSON object: {exc.msg}") from exc
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigurationError(f"{path}:{n}: expected a JSON object with an \"id\"")
        out.append(item)
    return out


def load_gold(path: str | Path) -> list[GoldSentence]:
    out = []
    for item in _read_jsonl(Path(path)):
        try:
            triples = tuple((t["sub"], t["rel"], t["obj"]) for t in item.get("triples", []))
            out.append(GoldSentence(id=item["id"], sent=item["sent"], triples=triples))
        except (KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}: gold item {item.get('id')!r} lacks {exc}") from exc
    return out


def load_responses(path: str | Path) -> dict[str, tuple[RawTriple, ...]]:
    """System triples per sentence id; an item whose triples are not [s, p, o] lists keeps
    only the well-formed ones, exactly as the benchmark's evaluation would fail on them."""
    out: dict[str, tuple[RawTriple, ...]] = {}
    for item in _read_jsonl(Path(path)):
        triples = item.get("triples") or []
        if not isinstance(triples, list):
            raise ConfigurationError(f"{path}: item {item['id']!r} has \"triples\" that is not "
                                     "a list of [subject, relation, object]")
        out[item["id"]] = tuple(
            (str(t[0]), str(t[1]), str(t[2])) for t in triples
            if isinstance(t, list | tuple) and len(t) == 3)
    return out


def load_official_scores(path: str | Path) -> dict[str, dict[str, float]]:
    """The per-sentence scores the benchmark's own evaluation wrote (floats or 2-decimal
    strings), keyed by sentence id."""
    return {item["id"]: {m: float(item[m]) for m in METRICS if m in item}
            for item in _read_jsonl(Path(path))}


# --------------------------------------------------------------------------- metrics


def triple_key(sub: str, rel: str, obj: str) -> str:
    return "".join(_BLANK.sub("", part).lower() for part in (sub, rel, obj))


@lru_cache(maxsize=1)
def _nltk() -> tuple[Any, Any]:
    from nltk.stem import PorterStemmer
    from nltk.tokenize import word_tokenize
    return PorterStemmer(), word_tokenize


@lru_cache(maxsize=65536)
def stemmed(text: str) -> str:
    """The benchmark's processing of a string: tokenise, Porter-stem, concatenate,
    lower-case, drop whitespace and ``_``."""
    stemmer, tokenize = _nltk()
    joined = "".join(stemmer.stem(tok) for sentence in _SENTENCE_BREAK.split(text)
                     for tok in tokenize(sentence, preserve_line=True))
    return _BLANK.sub("", joined).lower()


def hallucination_context(sentence: str, concept_labels: Sequence[str]) -> str:
    # the sentence and the labels are joined with no separator, as the benchmark does
    return stemmed(sentence + " ".join(concept_labels))


def is_hallucinated(mention: str, context: str) -> bool:
    return stemmed(mention).replace("01januari", "") not in context


def sentence_scores(gold: GoldSentence, system: Sequence[Sequence[str]] | None,
                    onto: BenchOntology) -> dict[str, float]:
    """The benchmark's scores for one sentence; ``system`` None means no entry at all."""
    if system is None:
        return dict.fromkeys(METRICS, 0.0)
    gold_rels = {rel.replace(" ", "_") for _, rel, _ in gold.triples}
    kept = {triple_key(*t) for t in system if t[1] in gold_rels}
    expected = {triple_key(*t) for t in gold.triples}
    if kept:
        hit = len(expected & kept)
        p, r = hit / len(kept), hit / len(expected)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
    else:
        p = r = f1 = 0.0
    if not system:
        return {"precision": p, "recall": r, "f1": f1, "onto_conf": 1.0, "rel_halluc": 0.0,
                "sub_halluc": 0.0, "obj_halluc": 0.0}
    conformant = onto.conformant_relations
    oc = sum(t[1] in conformant for t in system) / len(system)
    context = hallucination_context(gold.sent, onto.concept_labels)
    sh = sum(is_hallucinated(t[0], context) for t in system) / len(system)
    oh = sum(is_hallucinated(t[2], context) for t in system) / len(system)
    return {"precision": p, "recall": r, "f1": f1, "onto_conf": oc, "rel_halluc": 1 - oc,
            "sub_halluc": sh, "obj_halluc": oh}


def average(per_sentence: Iterable[Mapping[str, float]], n: int) -> dict[str, float]:
    """The macro average over ``n`` gold sentences (the benchmark's denominator)."""
    totals = dict.fromkeys(METRICS, 0.0)
    for scores in per_sentence:
        for m in METRICS:
            totals[m] += scores[m]
    return {m: (totals[m] / n if n else 0.0) for m in METRICS}


def score_system(gold: Sequence[GoldSentence], system: Mapping[str, Sequence[Sequence[str]]],
                 onto: BenchOntology) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Averages and per-sentence scores (in gold order) of one system's triples."""
    per = [sentence_scores(g, system.get(g.id), onto) for g in gold]
    return average(per, len(gold)), per


__all__ = ["METRICS", "BenchOntology", "GoldSentence", "average", "hallucination_context",
           "is_hallucinated", "load_bench_ontology", "load_gold", "load_official_scores",
           "load_responses", "score_system", "sentence_scores", "stemmed", "triple_key"]
