"""The pipeline's embedding stage against the bare model, on the same sentences, one process.

- ``bare``: ``SentenceTransformer.encode(sentences, batch_size=64, normalize_embeddings=True)``
  on the packaged all-MiniLM-L6-v2 — what a user would write by hand;
- ``verikg-cold``: ``SentenceTransformerEmbedder.embed`` with an empty persistent cache
  (length-sorted batches, de-duplication, cache writes included);
- ``verikg-warm``: the same call again (every vector from the cache).

Sentences: the Text2KGBench development test sentences (643) and the demo corpus' sentences,
repeated to ``--n``; the repeated copies are what de-duplication saves, so the cold figure is
also reported on unique sentences only (``--unique``). Throughput is sentences per second,
best of ``--repeat``; the ratio is VeriKG's over the bare model's.

    .venv/bin/python benchmarks/embedding.py [--n 4000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.evaluation.shared_data import shared_data_dir
from pipeline.index.embedder import SentenceTransformerEmbedder, default_model_path


def sentences(data: Path, corpus: Path) -> list[str]:
    out = []
    for f in sorted(data.glob("*/test/*.jsonl")):
        out += [json.loads(line)["sent"] for line in f.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    for f in sorted(corpus.glob("*.md")):
        out += [s.strip() for s in f.read_text(encoding="utf-8").replace("\n", " ").split(". ")
                if s.strip()]
    return out


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path,
                    default=(shared_data_dir() or Path("shared/data")) / "text2kgbench")
    ap.add_argument("--corpus", type=Path, default=here.parent / "data" / "sample")
    ap.add_argument("--n", type=int, default=0, help="repeat sentences up to n (0: as is)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=here / "results")
    args = ap.parse_args()
    unique = list(dict.fromkeys(sentences(args.data, args.corpus)))
    texts = (unique * (args.n // len(unique) + 1))[:args.n] if args.n else unique

    from sentence_transformers import SentenceTransformer

    bare = SentenceTransformer(str(default_model_path()), device=args.device)
    bare.encode(unique[:64])  # warm-up: weights in cache, kernels chosen

    def best(fn, repeat: int) -> float:  # noqa: ANN001
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    rows = {}
    rows["bare"] = len(texts) / best(lambda: bare.encode(
        texts, batch_size=64, normalize_embeddings=True), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        def cold() -> None:
            cache = Path(tmp) / f"c{time.perf_counter_ns()}.sqlite"
            emb = SentenceTransformerEmbedder(device=args.device, cache_path=cache)
            emb._model = bare  # the same loaded model: only the stage's own work differs
            emb.embed(texts)
            emb.close()
        rows["verikg-cold"] = len(texts) / best(cold, args.repeat)
        warm = SentenceTransformerEmbedder(device=args.device,
                                           cache_path=Path(tmp) / "warm.sqlite")
        warm._model = bare
        warm.embed(texts)
        rows["verikg-warm"] = len(texts) / best(lambda: warm.embed(texts), args.repeat)
        a = warm.embed(unique[:200])
        b = bare.encode(unique[:200], normalize_embeddings=True)
        max_diff = float(np.abs(a - b).max())
        warm.close()
    result = {"sentences": len(texts), "unique": len(unique), "device": args.device,
              "sentences_per_second": rows,
              "ratio_cold_vs_bare": rows["verikg-cold"] / rows["bare"],
              "ratio_warm_vs_bare": rows["verikg-warm"] / rows["bare"],
              "max_abs_difference": max_diff}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embedding.json").write_text(json.dumps(result, indent=1) + "\n",
                                             encoding="utf-8")
    table = ("| method | sentences/s | x bare |\n|---|---|---|\n" + "\n".join(
        f"| {k} | {v:.0f} | {v / rows['bare']:.2f} |" for k, v in rows.items())
        + f"\n\n{len(texts)} sentences ({len(unique)} unique), device {args.device}; "
        f"largest difference between the vectors: {max_diff:.2e}\n")
    (args.out / "embedding.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
