"""The benchmark's metrics, reimplemented: every published per-sentence score reproduced,
and each rule shown on a small case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import ConfigurationError
from pipeline.evaluation.text2kgbench import (
    METRICS,
    BenchOntology,
    GoldSentence,
    emptied_share,
    load_bench_ontology,
    load_gold,
    load_official_scores,
    load_responses,
    micro_scores,
    naive_filter,
    score_system,
    sentence_scores,
    stemmed,
)
from pipeline.models import PropertyKind
from tests.unit.evaluation.t2k_data import ONTOLOGIES, SYSTEMS, bench_file, gold_file, ontology_file


def _official_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def test_all_ten_official_files_are_covered() -> None:
    files = {bench_file(f, o, s, "eval_metrics") for f, o in ONTOLOGIES for s in SYSTEMS}
    assert len(files) == 10


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize(("family", "ontology"), ONTOLOGIES)
def test_every_official_per_sentence_score_is_reproduced(family: str, ontology: str,
                                                         system: str) -> None:
    onto = load_bench_ontology(ontology_file(family, ontology))
    gold = load_gold(gold_file(family, ontology))
    responses = load_responses(bench_file(family, ontology, system, "llm_responses"))
    rows = {row["id"]: row for row in
            _official_rows(bench_file(family, ontology, system, "eval_metrics"))}
    assert set(rows) == {g.id for g in gold}
    official = load_official_scores(bench_file(family, ontology, system, "eval_metrics"))
    _, per = score_system(gold, responses, onto)
    mismatches = []
    for g, mine in zip(gold, per, strict=True):
        row = rows[g.id]
        assert row["sent"] == g.sent  # the context the official script stemmed
        gold_rels = {rel.replace(" ", "_") for _, rel, _ in g.triples}
        assert [list(t) for t in responses[g.id] if t[1] in gold_rels] == \
            row["filtered_llm_triples"]
        for metric in METRICS:
            value = row[metric]
            if isinstance(value, str):
                # the Vicuna Wikidata files hold f"{x:.2f}" strings: the same formatting
                same = f"{mine[metric]:.2f}" == value
            else:
                # the other files hold the floats themselves: the same arithmetic
                same = mine[metric] == pytest.approx(value, rel=0, abs=1e-12)
            assert official[g.id][metric] == float(value)
            if not same:
                mismatches.append((g.id, metric, mine[metric], value))
    assert mismatches == []


def _onto() -> BenchOntology:
    return load_bench_ontology(ontology_file("dbpedia_webnlg", "7_company"))


def test_rules_on_small_cases() -> None:
    onto = _onto()
    g = GoldSentence(id="s1", sent="Trane was founded in Ireland by Reuben Trane.",
                     triples=(("Trane", "location", "Ireland"),
                              ("Trane", "keyPerson", "Reuben_Trane")))
    # a relation outside the gold relations is dropped before P/R, counted for conformance
    s = sentence_scores(g, [("Trane", "location", "Ireland"), ("Trane", "founder", "x")], onto)
    assert (s["precision"], s["recall"]) == (1.0, 0.5)
    assert s["onto_conf"] == 0.5 and s["rel_halluc"] == 0.5
    assert s["obj_halluc"] == 0.5  # "x" is nowhere in the sentence
    # underscores, spaces and case do not matter for matching
    s = sentence_scores(g, [("trane", "keyPerson", "Reuben Trane")], onto)
    assert s["precision"] == 1.0 and s["sub_halluc"] == 0.0
    # an empty answer: P=R=F1=0, conformance 1, no hallucination; no entry at all: all zero
    empty = sentence_scores(g, [], onto)
    assert empty["onto_conf"] == 1.0 and empty["f1"] == 0.0 and empty["sub_halluc"] == 0.0
    assert all(v == 0.0 for v in sentence_scores(g, None, onto).values())


def test_average_is_over_every_gold_sentence() -> None:
    onto = _onto()
    gold = [GoldSentence(id=f"s{i}", sent="Trane is in Ireland.",
                         triples=(("Trane", "location", "Ireland"),)) for i in range(4)]
    avg, _ = score_system(gold, {"s0": [("Trane", "location", "Ireland")]}, onto)
    assert avg["f1"] == 0.25 and avg["onto_conf"] == 0.25


def test_stemming_splits_sentence_final_periods() -> None:
    assert stemmed("the building materials industry. It was") == stemmed(
        "the building materials industry . It was")
    assert "industri" in stemmed("in the industry. Then")


def test_ontology_json_becomes_a_verikg_ontology() -> None:
    onto = _onto()
    props = {p.label: p for p in onto.ontology.properties}
    assert props["revenue"].kind is PropertyKind.DATATYPE
    assert props["revenue"].range[0].endswith("#decimal")
    assert props["foundingDate"].range[0].endswith("#date")
    assert props["parentCompany"].kind is PropertyKind.OBJECT
    assert onto.ontology.class_label(props["parentCompany"].range[0]) == "Company"
    assert props["leaderParty"].range == ()  # "Party" is no concept: the range stays open
    assert "foundingDate" in onto.conformant_relations


def test_bad_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "o.json"
    bad.write_text('{"concepts": []}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a Text2KGBench ontology"):
        load_bench_ontology(bad)
    lines = tmp_path / "g.jsonl"
    lines.write_text('{"id": "a", "sent": "x", "triples": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"g.jsonl:2"):
        load_gold(lines)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_responses(tmp_path / "missing.jsonl")
    for broken in ('{"concepts": 5, "relations": []}',
                   '{"concepts": [{"qid": "Q1"}], "relations": []}',
                   '{"concepts": [{"qid": "Q1", "label": 7}], "relations": []}',
                   '{"concepts": [], "relations": [{"domain": "Q1"}]}'):
        bad.write_text(broken, encoding="utf-8")
        with pytest.raises(ConfigurationError, match="not a Text2KGBench ontology"):
            load_bench_ontology(bad)
    resp = tmp_path / "r.jsonl"
    resp.write_text('{"id": "a", "triples": 5}\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a list"):
        load_responses(resp)


# --------------------------------------------------------------------------- summaries


def _politics() -> BenchOntology:
    return load_bench_ontology(ontology_file("wikidata_tekgen", "8_politics"))


def test_naive_filter_keeps_ontology_relations_whose_ends_are_in_the_sentence() -> None:
    onto = _politics()
    g = GoldSentence(id="p1", sent="Angela Merkel is a member of the CDU, elected in 2005.",
                     triples=())
    triples = [
        ("Angela Merkel", "member_of_political_party", "CDU"),    # kept as written
        ("angela merkel", "member of political party", "cdu"),    # spaces, any case of ends
        ("Angela Merkel", "member__of political_party", "CDU"),   # a run of either is one
        ("Angela Merkel", "member_of_political_party", "SPD"),    # object not in the sentence
        ("Merkel, Angela", "member_of_political_party", "CDU"),   # subject not in it
        ("Angela Merkel", "party", "CDU"),                        # not an ontology relation
        ("Angela Merkel", "Member_of_political_party", "CDU"),    # relation case is kept
        ("Angela_Merkel", "member_of_political_party", "CDU"),    # ends are taken as written
        ("Angela Merkel", "member of", "CDU"),                    # the label is "Member of"
        ("Angela Merkel", "Member of", "CDU"),
    ]
    expected = [("Angela Merkel", "member_of_political_party", "CDU"),
                ("angela merkel", "member_of_political_party", "cdu"),
                ("Angela Merkel", "member_of_political_party", "CDU"),
                ("Angela Merkel", "Member_of", "CDU")]
    assert naive_filter(g, triples, onto) == expected
    assert naive_filter(g.sent, triples, onto) == expected  # a plain sentence works too
    assert naive_filter(g, [], onto) == []


def test_naive_filter_on_camel_case_labels() -> None:
    onto = _onto()
    g = GoldSentence(id="c1", sent="Trane, founded by Reuben Trane, is based in Ireland.",
                     triples=())
    assert naive_filter(g, [("Trane", "keyPerson", "Reuben Trane"),
                            ("Trane", "key_person", "Reuben Trane"),
                            ("Trane", "location", "ireland")], onto) == [
        ("Trane", "keyPerson", "Reuben Trane"), ("Trane", "location", "ireland")]


def test_micro_scores_pool_the_official_per_sentence_rules() -> None:
    gold = [
        GoldSentence(id="a", sent="-", triples=(("Trane", "location", "Ireland"),
                                                ("Trane", "key person", "Reuben Trane"))),
        GoldSentence(id="b", sent="-", triples=(("X", "location", "Y"),)),
        GoldSentence(id="c", sent="-", triples=(("P", "owner", "Q"), ("P", "owner", "R"),
                                                ("P", "location", "S"))),
        GoldSentence(id="d", sent="-", triples=()),
    ]
    systems = {
        # 1 hit, 1 miss in a gold relation, 1 triple dropped by the relation filter;
        # the duplicate (up to case and spaces) counts once, as a set
        "a": [("trane", "location", "Ireland"), ("Trane", "location", "Cork"),
              ("Trane", "founder", "Reuben Trane"), ("Trane", "location", "ire land")],
        # "b" has no entry: nothing predicted there
        "c": [("P", "owner", "Q"), ("P", "Owner", "R")],  # "Owner" is not a gold relation
        "d": [("Z", "location", "W")],                     # no gold relations at all
    }
    m = micro_scores(gold, systems)
    assert (m["hits"], m["predicted"], m["gold_triples"]) == (2, 3, 6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 6)
    assert m["f1"] == pytest.approx(2 * (2 / 3) * (1 / 3) / (2 / 3 + 1 / 3))
    # without the filter: "P Owner R" now matches its gold triple, every triple counts
    assert (m["hits_unfiltered"], m["predicted_unfiltered"]) == (3, 6)
    assert m["precision_unfiltered"] == pytest.approx(3 / 6)


def test_micro_scores_with_nothing_predicted_or_nothing_gold() -> None:
    gold = [GoldSentence(id="a", sent="-", triples=(("A", "r", "B"),))]
    m = micro_scores(gold, {})
    assert (m["precision"], m["recall"], m["f1"], m["precision_unfiltered"]) == (0, 0, 0, 0)
    assert (m["predicted"], m["gold_triples"]) == (0, 1)
    assert micro_scores([], {"a": [("A", "r", "B")]})["predicted_unfiltered"] == 0


def test_micro_scores_on_the_development_data_agree_with_the_official_files() -> None:
    # pooled from the official per-sentence files' own filtered triples and gold triples
    family, ontology, system = "wikidata_tekgen", "6_computer", "Vicuna-13B"
    gold = load_gold(gold_file(family, ontology))
    rows = _official_rows(bench_file(family, ontology, system, "eval_metrics"))
    key = {row["id"]: row for row in rows}
    hits = predicted = expected = 0
    for g in gold:
        norm = [{"".join("".join(p.split()).replace("_", "").lower() for p in t)
                 for t in key[g.id][field]} for field in ("filtered_llm_triples", "gt_triples")]
        hits += len(norm[0] & norm[1])
        predicted += len(norm[0])
        expected += len(norm[1])
    m = micro_scores(gold, load_responses(bench_file(family, ontology, system, "llm_responses")))
    assert (m["hits"], m["predicted"], m["gold_triples"]) == (hits, predicted, expected)
    assert 0 < m["precision"] < 1 and 0 < m["recall"] < 1


def test_emptied_share_counts_answers_verification_emptied() -> None:
    gold = [GoldSentence(id=i, sent="-", triples=()) for i in "abcde"]
    raw = {"a": [("A", "r", "B")], "b": [("A", "r", "B")], "c": [("A", "r", "B")], "d": []}
    verified = {"a": [], "c": [("A", "r", "B")], "d": [], "e": [("A", "r", "B")]}
    # "a" emptied, "b" dropped altogether; "c" kept; "d" had nothing; "e" had no raw answer
    assert emptied_share(raw, verified, gold) == {"emptied_share": 2 / 5, "emptied": 2,
                                                  "gold_sentences": 5}
    assert emptied_share(raw, verified, []) == {"emptied_share": 0.0, "emptied": 0,
                                                "gold_sentences": 0}
