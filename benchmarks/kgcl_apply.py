"""KGCL change requests applied per second to a knowledge graph of ``--assertions`` assertions
(100,000 by default), batched ``--batch`` commands per request, on the embedded SQLite store
and, with ``--neo4j`` (start a throwaway Neo4j 5.26 with ``deploy/neo4j/launch.sh``) or
``--neo4j-uri`` (a running server whose database is WIPED), on Neo4j.

The graph: people and organisations with ``worksFor`` and ``knows`` assertions, each with one
provenance record (a quote), written through ``write_assertions`` as the pipeline writes.
Each request is a realistic curation mix, cycling through five commands that each touch
objects no earlier command touched (so every request is valid):

    create edge ent:A ex:mentors ent:B                     (a new curated assertion)
    delete edge ent:A ex:knows ent:B                       (an extracted one)
    rename ent:A from 'Person 123' to 'Person 123 (v1)'
    change relationship between ent:A and ent:B from ex:knows to ex:advises
    create exact synonym 'alias 7' for ent:A

Entities are named by id (``ent:…``), as tools write requests; a label reference makes the
compiler read every entity once per request. Each cell times whole requests end to end
(parse, check every command against the store, one transaction) and splits the time into
parse (kgcl-schema's grammar), check (resolving and checking every command against the
store: reads only) and apply (the transaction; with ``--index``, plus the index delta).
``--index`` keeps a ``KGIndex`` of the whole graph in step with a deterministic hash embedder
(64 dimensions), so the figure is VeriKG's own work, not the embedding model's (the model
embeds 2-3 new texts per rename or new edge).

A cell stops after ``--commands`` commands or ``--max-seconds``, whichever comes first;
throughput is commands (and primitive store changes) per second of wall-clock time, latency
the per-request median and 95th percentile.

    .venv/bin/python benchmarks/kgcl_apply.py [--assertions 100000] [--batch 1 --batch 100
        --batch 1000] [--commands 2000] [--max-seconds 120] [--index] [--neo4j |
        --neo4j-uri bolt://HOST:PORT --neo4j-password PW] [--out benchmarks/results]

Writes ``kgcl_apply.json`` and ``kgcl_apply.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from pipeline.embeddings.base import Embedder
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.parser import parse_change_request
from pipeline.kgcl.store_apply import apply_compiled
from pipeline.kgcl.store_plan import compile_request
from pipeline.models import (
    IRI,
    Assertion,
    ChunkId,
    DocumentId,
    EntityRef,
    Ontology,
    OntologyClass,
    OntologyProperty,
    PropertyKind,
    Provenance,
    RunId,
    Span,
    Triple,
)
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore

EX = "http://example.org/bench#"
LAUNCH_SH = Path(__file__).resolve().parent.parent / "deploy" / "neo4j" / "launch.sh"
KINDS = ("create_edge", "delete_edge", "rename", "change_relationship", "synonym")


def ontology() -> Ontology:
    person, org = IRI(EX + "Person"), IRI(EX + "Organization")

    def prop(name: str, domain: str, range_: str) -> OntologyProperty:
        return OntologyProperty(iri=IRI(EX + name), label=name, kind=PropertyKind.OBJECT,
                                domain=(IRI(domain),), range=(IRI(range_),))

    return Ontology(iri=IRI(EX.rstrip("#")), label="bench",
                    classes=(OntologyClass(iri=person, label="Person"),
                             OntologyClass(iri=org, label="Organization")),
                    properties=(prop("worksFor", person, org), prop("knows", person, person),
                                prop("mentors", person, person),
                                prop("advises", person, person)))


class HashEmbedder(Embedder):
    """Deterministic unit vectors from a hash of the text (no model: VeriKG's cost only)."""

    @property
    def model_id(self) -> str:
        return "bench-hash-64"

    @property
    def dim(self) -> int:
        return 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            digest = np.frombuffer(hashlib.sha512(text.encode()).digest(), dtype=np.uint8)
            v = digest.astype(np.float32) - 127.5
            out[i] = v / np.linalg.norm(v)
        return out


# --------------------------------------------------------------------------- the graph


@dataclass
class Graph:
    """The generated graph and the pools each command kind draws fresh objects from."""

    people: list[EntityRef]
    knows: list[tuple[EntityRef, EntityRef]]  # extracted ``knows`` edges, not yet touched
    next_pair: int = 0
    next_rename: int = 0
    next_synonym: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def generate(n: int, seed: int) -> tuple[list[Assertion], Graph]:
    """``n`` assertions: half ``worksFor`` (person → organisation), half ``knows``."""
    rng = np.random.default_rng(seed)
    n_people = max(4, n // 2)
    n_orgs = max(2, n // 20)
    people = [EntityRef.make(f"Person {i:06d}", EX + "Person") for i in range(n_people)]
    orgs = [EntityRef.make(f"Organisation {i:05d}", EX + "Organization") for i in range(n_orgs)]
    out: dict[str, Assertion] = {}
    knows: list[tuple[EntityRef, EntityRef]] = []
    i = 0
    while len(out) < n:
        s = people[int(rng.integers(n_people))]
        if i % 2 == 0:
            o, pred = orgs[int(rng.integers(n_orgs))], "worksFor"
        else:
            o, pred = people[int(rng.integers(n_people))], "knows"
            if o.id == s.id:
                continue
        i += 1
        triple = Triple(subject=s, predicate=IRI(EX + pred), object=o)
        if triple.key in out:
            continue
        quote = f"{s.label} {pred} {o.label}."
        prov = Provenance(document_id=DocumentId(f"doc:{len(out) // 50}"),
                          chunk_id=ChunkId(f"chunk:{len(out) // 5}"),
                          span=Span(start=0, end=len(quote)), quote=quote, model="bench",
                          prompt_version="v1", run_id=RunId("bench"), attempts=1)
        out[triple.key] = Assertion.of(triple, confidence=0.8, provenance=(prov,))
        if pred == "knows":
            knows.append((s, o))
    order = rng.permutation(len(knows))
    mentioned = {a.triple.subject.id for a in out.values()} | {
        a.triple.object.id for a in out.values() if isinstance(a.triple.object, EntityRef)}
    stored = [p for p in people if p.id in mentioned]  # only these become entities
    graph = Graph(people=stored, knows=[knows[j] for j in order],
                  labels={p.id: p.label for p in stored})
    return list(out.values()), graph


def commands(graph: Graph, count: int, start: int) -> list[str]:
    """The next ``count`` commands of the cycle; each touches objects no command touched."""
    out = []
    people = graph.people
    for j in range(start, start + count):
        kind = KINDS[j % len(KINDS)]
        if kind == "create_edge":
            # consecutive people 2k, 2k+1: ``mentors`` is never extracted, so always new
            a, b = people[(2 * graph.next_pair) % len(people)], people[
                (2 * graph.next_pair + 1) % len(people)]
            graph.next_pair += 1
            out.append(f"create edge {a.id} ex:mentors {b.id}")
        elif kind in ("delete_edge", "change_relationship"):
            s, o = graph.knows.pop()
            out.append(f"delete edge {s.id} ex:knows {o.id}" if kind == "delete_edge" else
                       f"change relationship between {s.id} and {o.id} from ex:knows to "
                       "ex:advises")
        elif kind == "rename":
            p = people[graph.next_rename % len(people)]
            graph.next_rename += 1
            new = f"{graph.labels[p.id]} (v{graph.next_rename})"
            out.append(f"rename {p.id} from '{graph.labels[p.id]}' to '{new}'")
            graph.labels[p.id] = new
        else:
            p = people[graph.next_synonym % len(people)]
            graph.next_synonym += 1
            out.append(f"create exact synonym 'alias {graph.next_synonym}' for {p.id}")
    return out


def load(store: GraphStore, assertions: Sequence[Assertion], chunk: int = 5000) -> float:
    t = time.perf_counter()
    for i in range(0, len(assertions), chunk):
        store.write_assertions(assertions[i:i + chunk], actor="bench")
    return time.perf_counter() - t


# --------------------------------------------------------------------------- Neo4j


@contextmanager
def neo4j_server(heap: str, pagecache: str) -> Iterator[tuple[str, str]]:
    """A throwaway Neo4j in a temporary home (launch.sh), stopped by its PID afterwards."""
    home = Path(tempfile.mkdtemp(prefix="verikg-neo4j-kgcl-"))
    password = secrets.token_hex(12)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = dict(os.environ, JAVA_OPTS=f"-Xms{heap} -Xmx{heap}", VERIKG_NEO4J_PAGECACHE=pagecache)

    def stop() -> None:
        subprocess.run([str(LAUNCH_SH), "stop", str(home)], capture_output=True, text=True,
                       timeout=300, check=False)
        shutil.rmtree(home, ignore_errors=True)

    atexit.register(stop)
    try:
        proc = subprocess.run([str(LAUNCH_SH), "start", str(home), str(port), password],
                              env=env, capture_output=True, text=True, timeout=1200,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"Neo4j could not start:\n{proc.stdout}\n{proc.stderr}")
        yield proc.stdout.strip().splitlines()[-1].split()[-1], password
    finally:
        atexit.unregister(stop)
        stop()


# --------------------------------------------------------------------------- measuring


def cell(store: GraphStore, onto: Ontology, graph: Graph, batch: int, total: int,
         max_seconds: float, index: KGIndex | None, start: int) -> dict[str, Any]:
    """Apply requests of ``batch`` commands until ``total`` commands or ``max_seconds``."""
    lat: list[float] = []
    parse_s = check_s = apply_s = 0.0
    done = changes = 0
    began = time.perf_counter()
    while done < total and time.perf_counter() - began < max_seconds:
        text = "\n".join(commands(graph, batch, start + done))
        t0 = time.perf_counter()
        parsed = parse_change_request(text)
        t1 = time.perf_counter()
        compiled = compile_request(parsed, store, onto)
        t2 = time.perf_counter()
        outcome = apply_compiled(compiled, store, actor="bench", role="admin", index=index)
        t3 = time.perf_counter()
        lat.append(t3 - t0)
        parse_s, check_s, apply_s = parse_s + t1 - t0, check_s + t2 - t1, apply_s + t3 - t2
        done += outcome.commands
        changes += outcome.changes
    wall = time.perf_counter() - began
    busy = parse_s + check_s + apply_s
    return {
        "batch": batch, "requests": len(lat), "commands": done, "changes": changes,
        "seconds": round(wall, 3),
        "commands_per_s": round(done / wall, 1) if wall else 0.0,
        "changes_per_s": round(changes / wall, 1) if wall else 0.0,
        "parse_share": round(parse_s / busy, 3) if busy else 0.0,
        "check_share": round(check_s / busy, 3) if busy else 0.0,
        "apply_share": round(apply_s / busy, 3) if busy else 0.0,
        "commands_per_s_without_parsing": round(done / (check_s + apply_s), 1)
        if check_s + apply_s else 0.0,
        "p50_ms": round(statistics.median(lat) * 1000, 2) if lat else None,
        "p95_ms": round(float(np.percentile(lat, 95)) * 1000, 2) if lat else None,
    }


def run_backend(name: str, store: GraphStore, assertions: Sequence[Assertion], graph: Graph,
                args: argparse.Namespace) -> dict[str, Any]:
    onto = ontology()
    store.reset()
    load_s = load(store, assertions)
    counts = store.counts()
    print(f"[{name}] loaded {counts.assertions} assertions, {counts.entities} entities in "
          f"{load_s:.1f} s", flush=True)
    index = None
    index_s = None
    if args.index:
        t = time.perf_counter()
        index = KGIndex.build(store, HashEmbedder(), ontology=onto)
        index_s = round(time.perf_counter() - t, 2)
        print(f"[{name}] index of {index.size} rows built in {index_s} s", flush=True)
    cells = []
    start = 0
    for batch in args.batch:
        result = cell(store, onto, graph, batch, max(batch, args.commands), args.max_seconds,
                      index, start)
        start += result["commands"]
        cells.append(result)
        print(f"[{name}] batch {batch}: {result['commands_per_s']} commands/s "
              f"({result['changes_per_s']} changes/s), p50 {result['p50_ms']} ms, "
              f"{result['requests']} request(s)", flush=True)
    if index is not None:
        assert index.version == store.version(), "the index fell behind the store"
    return {"backend": name, "assertions": counts.assertions, "entities": counts.entities,
            "load_seconds": round(load_s, 1), "index_rows": index.size if index else None,
            "index_build_seconds": index_s, "cells": cells}


def markdown(meta: dict[str, Any], results: list[dict[str, Any]]) -> str:
    lines = [f"KGCL change requests applied to a store of {meta['assertions']:,} assertions; "
             f"{'with' if meta['index'] else 'without'} the vector index kept in step"
             + (" (hash embedder, 64 d)" if meta["index"] else "") + f"; machine: "
             f"{meta['machine']}, {meta['cpus']} CPU(s). Each request cycles through create "
             "edge, delete edge, rename, change relationship (2 store changes) and create "
             "synonym, entities named by id; one transaction per request.", ""]
    for r in results:
        lines += [f"### {r['backend']} ({r['assertions']:,} assertions, {r['entities']:,} "
                  f"entities; loaded in {r['load_seconds']} s"
                  + (f"; index {r['index_rows']:,} rows built in {r['index_build_seconds']} s"
                     if r["index_rows"] else "") + ")", "",
                  "| commands per request | requests | commands | commands/s | store "
                  "changes/s | p50 ms/request | p95 ms/request | time: parse / check / apply "
                  "| commands/s without parsing |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in r["cells"]:
            lines.append(f"| {c['batch']} | {c['requests']} | {c['commands']} | "
                         f"{c['commands_per_s']} | {c['changes_per_s']} | {c['p50_ms']} | "
                         f"{c['p95_ms']} | {c['parse_share']:.0%} / {c['check_share']:.0%} / "
                         f"{c['apply_share']:.0%} | {c['commands_per_s_without_parsing']} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assertions", type=int, default=100_000)
    ap.add_argument("--batch", type=int, action="append",
                    help="commands per request (repeat; default 1, 100, 1000)")
    ap.add_argument("--commands", type=int, default=2000, help="commands per cell (at most)")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="time bound per cell")
    ap.add_argument("--index", action="store_true", help="keep a KGIndex in step")
    ap.add_argument("--neo4j", action="store_true", help="also start a throwaway Neo4j")
    ap.add_argument("--neo4j-uri", help="also use this running Neo4j (its database is wiped)")
    ap.add_argument("--neo4j-password", default="")
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", default="1g")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    args.batch = args.batch or [1, 100, 1000]

    assertions, graph = generate(args.assertions, args.seed)
    needed = sum(max(b, args.commands) for b in args.batch) // len(KINDS) * 2 + 10
    if len(graph.knows) < needed:
        print(f"note: only {len(graph.knows)} knows edges for ~{needed} deletions; cells may "
              "stop early", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="verikg-kgcl-bench-") as tmp, \
            SQLiteGraphStore(Path(tmp) / "kg.sqlite") as lite:
        results.append(run_backend("sqlite", lite, assertions, _fresh(graph), args))
    if args.neo4j or args.neo4j_uri:
        server = (_given(args.neo4j_uri, args.neo4j_password) if args.neo4j_uri
                  else neo4j_server(args.heap, args.pagecache))
        with server as (uri, password), \
                Neo4jGraphStore(uri, user="neo4j", password=SecretStr(password)) as neo:
            results.append(run_backend("neo4j", neo, assertions, _fresh(graph), args))
            neo.reset()

    meta = {"assertions": args.assertions, "batches": args.batch, "commands": args.commands,
            "max_seconds": args.max_seconds, "index": args.index, "seed": args.seed,
            "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kgcl_apply.json").write_text(json.dumps({"meta": meta, "results": results},
                                                         indent=2) + "\n", encoding="utf-8")
    (args.out / "kgcl_apply.md").write_text(markdown(meta, results) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'kgcl_apply.json'} and {args.out / 'kgcl_apply.md'}")


def _fresh(graph: Graph) -> Graph:
    """The same pools for every backend, so each applies the very same requests."""
    return Graph(people=graph.people, knows=list(graph.knows), next_pair=graph.next_pair,
                 next_rename=graph.next_rename, next_synonym=graph.next_synonym,
                 labels=dict(graph.labels))


@contextmanager
def _given(uri: str, password: str) -> Iterator[tuple[str, str]]:
    yield uri, password


if __name__ == "__main__":
    main()
