"""Text2KGBench development data: recorded LLM answers raw (the baseline) and after VeriKG's
contracts (ours), side by side, with the benchmark's own metrics.

For each of the five development ontologies, both recorded systems (Vicuna-13B and
Alpaca-LoRA-13B) are scored raw and verified by ``evaluate_text2kgbench`` (the same code as
``verikg eval text2kgbench``); the agreement of the two systems is the confidence. Calibration
is then checked leave-one-ontology-out: an isotonic map from agreement to the probability of a
verified triple being right is fitted on the other four ontologies and applied to the fifth,
and its ECE is compared with the raw agreement's.

Also reported, per system: the *grounded ceiling* — the F1 of keeping exactly the gold triples
among the answers whose subject and object the benchmark finds in the sentence. No filter can
beat it without hallucinating by the benchmark's own definition.

    .venv/bin/python benchmarks/text2kgbench_contracts.py [--data .../shared/data/text2kgbench]
        [--out benchmarks/results]

Writes ``text2kgbench_contracts.json``, ``text2kgbench_contracts.md`` and one reliability
diagram per ontology into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.confidence.calibration import Calibrator, calibration, reliability_diagram
from pipeline.evaluation.runner import evaluate_text2kgbench
from pipeline.evaluation.shared_data import shared_data_dir

ONTOLOGIES = [("dbpedia_webnlg", "1_university"), ("dbpedia_webnlg", "7_company"),
              ("dbpedia_webnlg", "8_celestialbody"), ("wikidata_tekgen", "6_computer"),
              ("wikidata_tekgen", "8_politics")]
SYSTEMS = ["Vicuna-13B", "Alpaca-LoRA-13B"]
SHOWN = ("precision", "recall", "f1", "onto_conf", "sub_halluc", "rel_halluc", "obj_halluc")


def _one(folder: Path, ontology: str) -> Path:
    found = sorted(p for p in folder.iterdir() if f"{ontology}_" in p.name)
    if len(found) != 1:
        raise SystemExit(f"expected one file for {ontology} in {folder}, found {found}")
    return found[0]


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path,
                    default=(shared_data_dir() or Path("shared/data")) / "text2kgbench")
    ap.add_argument("--out", type=Path, default=here / "results")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    results = {}
    for family, onto in ONTOLOGIES:
        base = args.data / family
        started = time.perf_counter()
        r = evaluate_text2kgbench(
            base / "ontologies" / f"{onto}_ontology.json",
            base / "ground_truth" / f"ont_{onto}_ground_truth.jsonl",
            [_one(base / "baselines" / s / "llm_responses", onto) for s in SYSTEMS],
            out=args.out / f"{onto}.result.json")
        r["seconds"] = round(time.perf_counter() - started, 2)
        results[onto] = r

    # leave one ontology out: fit on four, check calibration on the fifth
    for onto, r in results.items():
        train = [p for other, o in results.items() if other != onto
                 for p in o["confidence"]["points"]]
        test = r["confidence"]["points"]
        cal = Calibrator.fit([c for c, _ in train], [ok for _, ok in train])
        mapped = calibration(cal([c for c, _ in test]), [ok for _, ok in test])
        reliability_diagram(mapped, args.out / f"{onto}.calibrated.png",
                            title=f"{onto}: calibrated on the other four (ECE {mapped.ece:.3f})")
        r["confidence"]["calibrated_ece"] = mapped.ece

    summary = {
        onto: {"systems": {s: {k: {m: round(v[m], 6) for m in SHOWN} if k != "ceiling"
                               else {"f1": round(v["f1"], 6)}
                               for k, v in r["systems"][s].items()} for s in SYSTEMS},
               "ece_agreement": round(r["confidence"]["ece"], 6),
               "ece_calibrated": round(r["confidence"]["calibrated_ece"], 6),
               "verified_triples": r["confidence"]["count"],
               "merges": r["merges"], "contested": r["contested"], "islands": r["islands"],
               "contracts_failed": {c: v["failed"] for c, v in r["contracts"].items()},
               "seconds": r["seconds"]}
        for onto, r in results.items()}
    (args.out / "text2kgbench_contracts.json").write_text(json.dumps(summary, indent=1) + "\n",
                                                          encoding="utf-8")
    lines = ["| ontology | system | output | P | R | F1 | OC | SH | RH | OH |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for onto, s in summary.items():
        for system in SYSTEMS:
            for kind in ("raw", "verified"):
                v = s["systems"][system][kind]
                lines.append(f"| {onto} | {system} | {kind} | "
                             + " | ".join(f"{v[m]:.3f}" for m in SHOWN) + " |")
            lines.append(f"| {onto} | {system} | grounded ceiling | | | "
                         f"{s['systems'][system]['ceiling']['f1']:.3f} | | | | |")
    lines += ["", "| ontology | verified triples | ECE (agreement) | ECE (calibrated, "
              "leave-one-ontology-out) |", "|---|---|---|---|"]
    lines += [f"| {o} | {s['verified_triples']} | {s['ece_agreement']:.3f} | "
              f"{s['ece_calibrated']:.3f} |" for o, s in summary.items()]
    table = "\n".join(lines) + "\n"
    (args.out / "text2kgbench_contracts.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
