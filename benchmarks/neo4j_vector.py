"""Neo4j 5.26's own vector index as a filtered vector-search baseline, queried through Cypher.

``Neo4jVectorBaseline`` starts a throwaway Neo4j 5.26 Community (``deploy/neo4j/launch.sh``) in a
temporary HOME on a free port, loads the vectors as ``(:Vec {vid, <attributes>, embedding})``
nodes over Bolt, builds a cosine ``VECTOR INDEX`` on ``embedding`` (plus a range index per
attribute) and answers filtered top-k queries two ways:

- ``search``: the vector index. ``db.index.vector.queryNodes`` is an HNSW (Lucene) search that
  knows nothing of the filter, so the predicate runs afterwards as a Cypher ``WHERE``; like the
  FAISS post-filter baseline it over-fetches ``min(n, ceil(k / selectivity * 2))`` neighbours
  (approximate: recall can fall below 1, and at low selectivity fewer than k may survive);
- ``search_exact``: brute force in Cypher, ``MATCH (node:Vec) WHERE <filter>`` then
  ``vector.similarity.cosine`` over the matches, ``ORDER BY ... LIMIT k`` (exact; the range
  indexes let the planner seek the filtered nodes instead of scanning them all).

Filters are written in VeriKG's own filter language (``pipeline.index.where``, the same string
``VectorIndex.search(where=...)`` takes, e.g. ``"sel < 10"`` or ``"a >= 3 and not b in [1, 2]"``)
and translated into Cypher on ``node.<attribute>`` with every literal passed as a parameter, so
one query text (and one cached plan) serves every threshold and nothing is spliced in as code.

Queries travel in batches (``UNWIND`` of up to ``QUERY_BATCH`` query vectors, each answered in a
``CALL`` subquery): one round trip and one read transaction per batch, the same answers as one
query per vector, and cheaper when the index search itself is short.

Findings that shaped the code (Neo4j 5.26.30 on Java 17, Python driver 6.4):

- Bolt transport is the bottleneck of the load, not the store. The pure-Python PackStream packer
  costs about 1.3 us per float (0.5 ms per 384-d vector) and the driver formats a debug string
  with ``repr`` of all parameters on every RUN even with debug logging off, which costs as much
  again. So vectors travel as one string each (``"%.9g"`` per component, which round-trips
  float32 exactly) and are parsed server-side with ``[x IN split(s, ',') | toFloat(x)]``; the
  parameter lists are a ``list`` subclass with a constant ``repr``. Formatting the next batch
  overlaps the server's work on the current one (a one-thread pipeline).
- ``db.create.setNodeVectorProperty`` stores the list as a float32 array (half the store of a
  plain ``LIST<FLOAT>`` property, which is float64) and writes faster; the index accepts either.
- By default the index is created after the load (one population job, which leaves a few large
  Lucene segments) and awaited by polling ``SHOW INDEXES`` (``db.awaitIndexes`` waits inside a
  transaction, and the launcher's 5-minute transaction timeout is shorter than a 200k build).
  ``index_first=True`` builds it during the load instead: less total build time, but the
  index ends up in many small segments, each searched separately, and queries are slower.
- Building the HNSW graph dominates set-up time. Lucene 9.11 (inside Neo4j 5.26) uses SIMD
  distance code only on Java 20-22; on the Java 17 that runs the launcher it uses scalar code.
- ``queryNodes``' k is only checked to be positive and to fit a Java int; Lucene then refuses
  k >= 2,147,483,630 and allocates a ``long[k + 1]`` heap per index segment up front, so memory,
  not a documented limit, is the practical cap. ``MAX_QUERY_K`` is the hard cap; ``fetch`` is
  also capped at n. The k is also the HNSW beam width (there is no separate ef), so the
  over-fetch raises recall as well as leaving enough rows after the filter.
- The index scores cosine as ``(1 + cos) / 2`` and ``vector.similarity.cosine`` returns the same
  normalised value; neither changes the order.

    .venv/bin/python benchmarks/neo4j_vector.py [--n 20000] [--queries 32] [--index-first]
        [--no-quantization] [--correlation uncorrelated|correlated|both]
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from common import clustered_vectors, exact_filtered, recall  # benchmarks/ is on sys.path
from neo4j import READ_ACCESS, Driver, GraphDatabase, ManagedTransaction, Session

from pipeline.index.where import WhereExpr, _BoolOp, _Compare, _Not, parse_where

LAUNCH_SH = Path(__file__).resolve().parent.parent / "deploy" / "neo4j" / "launch.sh"
MAX_QUERY_K = 2_147_483_629
"""The largest k ``db.index.vector.queryNodes`` accepts in 5.26 (Lucene's heap-size limit)."""
MAX_DIMENSIONS = 4096
"""The largest ``vector.dimensions`` a Neo4j 5.26 vector index accepts."""
LOAD_BATCH = 1000
"""Nodes per write transaction: ~4 MB of Bolt message per batch at d = 384."""
QUERY_BATCH = 256
"""Query vectors per round trip (one UNWIND query, one read transaction)."""

_CYPHER_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _QuietList(list):  # type: ignore[type-arg]
    """A list whose ``repr`` is constant-time.

    The driver builds ``" ".join(map(repr, fields))`` for a debug log line on every RUN message,
    logging enabled or not; for a batch of vectors that ``repr`` costs as much as packing it.
    PackStream packs any ``list`` subclass as a list, so the server sees no difference.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} items>"


@dataclass(frozen=True)
class BuildStats:
    """Seconds of wall time (and of the Neo4j JVM's CPU, where /proc has it) per phase."""

    n: int
    dim: int
    start_seconds: float
    load_seconds: float
    index_seconds: float
    load_server_cpu_seconds: float | None
    index_server_cpu_seconds: float | None
    index_options: Mapping[str, Any]
    index_first: bool = False

    def describe(self) -> str:
        def cpu(value: float | None) -> str:
            return f", server CPU {value:.1f} s" if value is not None else ""
        load = f"load {self.load_seconds:.1f} s{cpu(self.load_server_cpu_seconds)}"
        index = (f"index build {self.index_seconds:.1f} s{cpu(self.index_server_cpu_seconds)}"
                 + (" (created empty, before the load)" if self.index_first else ""))
        phases = f"{index}; {load}" if self.index_first else f"{load}; {index}"
        return (f"n = {self.n}, d = {self.dim}: start {self.start_seconds:.1f} s; {phases}; "
                f"index config "
                f"{dict(self.index_options.get('indexConfig', {}))}")


def cypher_filter(where: str | WhereExpr | None, attributes: Mapping[str, Any] | None = None,
                  var: str = "node", rename: Mapping[str, str] | None = None,
                  ) -> tuple[str, dict[str, Any]]:
    """Translate a VeriKG filter into a Cypher predicate on ``var``'s properties.

    Returns ``(predicate, parameters)``: ``"sel < 10"`` gives ``("node.`sel` < $w0", {"w0": 10})``.
    ``None`` or an empty string gives ``("true", {})``. Column names are checked against
    ``attributes`` when given (Neo4j would silently compare a missing property as null, which
    matches nothing) and backtick-quoted; literals become parameters. ``in`` / ``not in`` map to
    Cypher's ``IN``, ``==`` / ``!=`` to ``=`` / ``<>``; ``and``, ``or``, ``not`` and nesting keep
    their meaning (a property is never null here, so Cypher's three-valued logic never shows).
    ``rename`` maps a column name in the filter to the property it stands for.
    """
    if where is None or (isinstance(where, str) and not where.strip()):
        return "true", {}
    expr = where if isinstance(where, WhereExpr) else parse_where(where.strip())
    rename = dict(rename or {})
    if attributes is not None:
        unknown = sorted({rename.get(c, c) for c in expr.columns} - set(attributes))
        if unknown:
            raise ValueError(f"unknown attribute {unknown[0]!r} in filter {expr.source!r}; "
                             f"known: {', '.join(sorted(attributes)) or '(none)'}")
    params: dict[str, Any] = {}

    def param(value: Any) -> str:
        name = f"w{len(params)}"
        params[name] = list(value) if isinstance(value, tuple) else value
        return f"${name}"

    def walk(node: WhereExpr) -> str:
        if isinstance(node, _BoolOp):
            joiner = " AND " if node.op == "and" else " OR "
            return "(" + joiner.join(walk(p) for p in node.parts) + ")"
        if isinstance(node, _Not):
            return f"(NOT {walk(node.part)})"
        if isinstance(node, _Compare):
            column = rename.get(node.column, node.column)
            prop = f"{var}.`{column.replace('`', '``')}`"
            if node.op == "in":
                return f"{prop} IN {param(node.value)}"
            if node.op == "not in":
                return f"(NOT {prop} IN {param(node.value)})"
            return f"{prop} {_CYPHER_OPS[node.op]} {param(node.value)}"
        raise TypeError(f"unexpected filter node {type(node).__name__}")

    return walk(expr), params


def post_filter_fetch(n: int, k: int, selectivity: float) -> int:
    """Neighbours to ask the index for: ``min(n, ceil(k / selectivity * 2))``, at least k.

    The same over-fetch rule as the FAISS post-filter baseline; capped at ``MAX_QUERY_K``.
    """
    fetch = n if selectivity <= 0 else min(n, math.ceil(k / selectivity * 2))
    return max(1, min(max(fetch, min(k, n)), MAX_QUERY_K))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of ``pid`` so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Neo4jVectorBaseline:
    """A throwaway Neo4j 5.26 holding ``vectors`` behind a cosine vector index.

    ``vectors``: (n, d) float32, unit length (cosine == inner product, as in the other
    baselines); row i becomes the node with ``vid = i``. ``attributes``: name -> (n,) integer
    (or float) array, stored as node properties of that name. ``home``: where the instance
    lives (default: a temporary directory, deleted on exit; a given ``home`` is kept, must not
    hold a database yet). ``heap`` / ``pagecache``: JVM heap (``JAVA_OPTS`` -Xms/-Xmx) and Neo4j
    page cache; the defaults fit 200k x 384 comfortably. ``index_config``: extra
    ``indexConfig`` entries, e.g. ``{"vector.quantization.enabled": False}`` or
    ``{"vector.hnsw.m": 32, "vector.hnsw.ef_construction": 200}`` (Neo4j's defaults otherwise:
    m 16, ef_construction 100, int8 quantisation on).

    ``attribute_indexes``: a range index per attribute (lets ``search_exact`` seek the
    filtered nodes). ``index_first``: create the indexes before the load rather than after
    (see the module docstring). ``load_batch`` / ``query_batch``: nodes per write transaction,
    query vectors per round trip.

    Use as a context manager: entering starts the server, loads and indexes (``stats`` says how
    long each took); leaving, normally or by an exception, stops the server by its PID
    (``launch.sh stop``) and deletes a temporary home. ``search`` (vector index) and
    ``search_exact`` (Cypher brute force) answer filtered top-k; ``store_bytes`` and
    ``vector_index_bytes`` size what Neo4j keeps.
    """

    def __init__(self, vectors: np.ndarray, attributes: Mapping[str, np.ndarray], *,
                 home: Path | None = None, heap: str = "4g", pagecache: str = "2g",
                 label: str = "Vec", index_name: str = "vec_embedding",
                 index_config: Mapping[str, Any] | None = None,
                 attribute_indexes: bool = True, index_first: bool = False,
                 load_batch: int = LOAD_BATCH, query_batch: int = QUERY_BATCH,
                 start_timeout: float = 600.0) -> None:
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] == 0 or not 1 <= x.shape[1] <= MAX_DIMENSIONS:
            raise ValueError(f"vectors must be (n > 0, 1..{MAX_DIMENSIONS}); got {x.shape}")
        attrs = {name: np.asarray(col).reshape(-1) for name, col in attributes.items()}
        for name, col in attrs.items():
            if col.shape[0] != x.shape[0]:
                raise ValueError(f"attribute {name!r} has {col.shape[0]} rows, vectors "
                                 f"{x.shape[0]}")
            if col.dtype.kind not in "iuf":
                raise ValueError(f"attribute {name!r} must be numeric, not {col.dtype}")
            if name in ("vid", "embedding"):
                raise ValueError(f"attribute name {name!r} is reserved")
        self.vectors = x
        self.attributes = attrs
        self.n, self.dim = x.shape
        self.label = label
        self.index_name = index_name
        self.index_config = dict(index_config or {})
        self.attribute_indexes = attribute_indexes
        self.index_first = index_first
        self.load_batch = load_batch
        self.query_batch = query_batch
        self.heap = heap
        self.pagecache = pagecache
        self.start_timeout = start_timeout
        self._own_home = home is None
        self.home = Path(home) if home is not None else None
        self.uri = ""
        self.stats: BuildStats | None = None
        self._password = secrets.token_hex(12)
        self._driver: Driver | None = None
        self._session: Session | None = None
        self._started = False
        self._start_seconds = 0.0
        self._queries: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}
        self._vec_fmt = ",".join(["%.9g"] * self.dim)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Neo4jVectorBaseline:
        try:
            self.start()
            self.load()
        except BaseException:
            try:
                self.close()
            except Exception as exc:  # keep the original error; say what was left behind
                print(f"warning: {exc}", file=sys.stderr)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The PID of the running Neo4j, from ``HOME/neo4j.pid`` (launch.sh writes it)."""
        if self.home is None:
            return None
        pid_file = self.home / "neo4j.pid"
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        """Start Neo4j in the home on a free port and connect; raises if it cannot."""
        if self.home is None:
            self.home = Path(tempfile.mkdtemp(prefix="verikg-neo4j-vector-"))
        elif (self.home / "db").exists():
            raise ValueError(f"{self.home} already holds a database; give an empty home")
        self.home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, JAVA_OPTS=f"-Xms{self.heap} -Xmx{self.heap}",
                   VERIKG_NEO4J_PAGECACHE=self.pagecache,
                   VERIKG_NEO4J_START_TIMEOUT=str(int(self.start_timeout)))
        t = time.perf_counter()
        self._started = True  # from here on close() must try to stop it
        atexit.register(self.close)
        port = _free_port()
        try:
            proc = subprocess.run([str(LAUNCH_SH), "start", str(self.home), str(port),
                                   self._password], env=env, capture_output=True, text=True,
                                  timeout=self.start_timeout + 900, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"launch.sh start did not return: {exc.stderr!r}") from exc
        if proc.returncode != 0:
            raise RuntimeError(f"Neo4j could not start (launch.sh exited {proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")
        self.uri = proc.stdout.strip().splitlines()[-1].split()[-1]
        self._driver = GraphDatabase.driver(self.uri, auth=("neo4j", self._password))
        self._driver.verify_connectivity()
        self._session = self._driver.session(default_access_mode=READ_ACCESS)
        self._start_seconds = time.perf_counter() - t

    def close(self) -> None:
        """Close the driver, stop Neo4j by its PID, delete a temporary home. Idempotent."""
        atexit.unregister(self.close)
        try:
            if self._session is not None:
                self._session.close()
            if self._driver is not None:
                self._driver.close()
        finally:
            self._session = self._driver = None
            if self._started and self.home is not None:
                self._started = False
                proc = subprocess.run([str(LAUNCH_SH), "stop", str(self.home)],
                                      capture_output=True, text=True, timeout=300, check=False)
                if proc.returncode != 0:
                    raise RuntimeError(f"launch.sh stop {self.home} failed: "
                                       f"{proc.stdout}{proc.stderr}")
            if self._own_home and self.home is not None:
                shutil.rmtree(self.home, ignore_errors=True)
                self.home = None

    # ------------------------------------------------------------------ loading

    def _batches(self) -> Iterator[_QuietList]:
        """Row batches for the load query, each formatted while the previous one is sent."""
        names = list(self.attributes)
        cols = [self.attributes[name] for name in names]
        fmt = self._vec_fmt

        def build(lo: int) -> _QuietList:
            hi = min(self.n, lo + self.load_batch)
            props = [dict(zip(["vid", *names], row, strict=True)) for row in zip(
                range(lo, hi), *(c[lo:hi].tolist() for c in cols), strict=True)]
            return _QuietList({"p": p, "e": fmt % tuple(v)}
                              for p, v in zip(props, self.vectors[lo:hi].tolist(), strict=True))

        starts = range(0, self.n, self.load_batch)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="neo4j-load") as pool:
            pending = pool.submit(build, starts[0])
            for nxt in [*starts[1:], None]:
                batch = pending.result()
                if nxt is not None:
                    pending = pool.submit(build, nxt)
                yield batch

    def load(self) -> BuildStats:
        """Write the nodes and build the indexes (vector index, a range index per attribute).

        By default the nodes go in first and the indexes are populated afterwards (one
        population job); with ``index_first`` the indexes exist before the load and every
        write transaction updates them. ``stats`` records both phases.
        """
        assert self._driver is not None, "start() first"
        label = f"`{self.label.replace('`', '``')}`"
        query = (f"UNWIND $rows AS r CREATE (n:{label}) SET n = r.p WITH n, r "
                 "CALL db.create.setNodeVectorProperty(n, 'embedding', "
                 "[x IN split(r.e, ',') | toFloat(x)])")
        pid = self.pid
        phases: dict[str, tuple[float, float | None]] = {}
        options: dict[str, Any] = {}

        def phase(name: str, work: Callable[[Session], None]) -> None:
            assert self._driver is not None
            cpu0, t = _cpu_seconds(pid), time.perf_counter()
            with self._driver.session() as session:
                work(session)
            cpu1 = _cpu_seconds(pid)
            phases[name] = (time.perf_counter() - t,
                            None if cpu0 is None or cpu1 is None else cpu1 - cpu0)

        def write_nodes(session: Session) -> None:
            def write(tx: ManagedTransaction, rows: _QuietList) -> None:
                tx.run(query, rows=rows).consume()

            for rows in self._batches():
                session.execute_write(write, rows)

        def build_indexes(session: Session) -> None:
            if self.attribute_indexes:
                for name in self.attributes:
                    index = f"{self.label}_{name}".replace("`", "``")
                    prop = name.replace("`", "``")
                    session.run(f"CREATE RANGE INDEX `{index}` IF NOT EXISTS "
                                f"FOR (n:{label}) ON (n.`{prop}`)").consume()
            config = {"vector.dimensions": self.dim, "vector.similarity_function": "cosine",
                      **self.index_config}
            vector_index = self.index_name.replace("`", "``")
            session.run(f"CREATE VECTOR INDEX `{vector_index}` IF NOT EXISTS FOR (n:{label}) "
                        "ON n.embedding OPTIONS {indexConfig: $config}",
                        config=config).consume()
            options.update(self._await_indexes(session))

        for name in (("index", "load") if self.index_first else ("load", "index")):
            phase(name, write_nodes if name == "load" else build_indexes)
        self.stats = BuildStats(
            n=self.n, dim=self.dim, start_seconds=self._start_seconds,
            load_seconds=phases["load"][0], index_seconds=phases["index"][0],
            load_server_cpu_seconds=phases["load"][1],
            index_server_cpu_seconds=phases["index"][1],
            index_options=options, index_first=self.index_first)
        return self.stats

    def _await_indexes(self, session: Session, timeout: float = 7200.0) -> dict[str, Any]:
        """Poll ``SHOW INDEXES`` until every index is ONLINE; the vector index's options.

        Polling, not ``db.awaitIndexes``: that waits inside one transaction, and the launcher's
        transaction timeout (5 minutes) is shorter than a large build.
        """
        deadline = time.monotonic() + timeout
        while True:
            rows = session.run("SHOW INDEXES YIELD name, type, state, populationPercent, "
                               "options, failureMessage").data()
            failed = [r for r in rows if r["state"] == "FAILED"]
            if failed:
                raise RuntimeError(f"index {failed[0]['name']} failed: "
                                   f"{failed[0]['failureMessage']}")
            if all(r["state"] == "ONLINE" for r in rows):
                vec = [r for r in rows if r["name"] == self.index_name]
                return dict(vec[0]["options"]) if vec else {}
            if time.monotonic() > deadline:
                raise TimeoutError(f"indexes not ONLINE after {timeout:.0f} s: {rows}")
            time.sleep(0.2)

    # ------------------------------------------------------------------ sizes

    def _database_dir(self) -> Path:
        assert self.home is not None, "start() first"
        return self.home / "db" / "data" / "databases" / "neo4j"

    def store_bytes(self) -> int:
        """Bytes on disk of the database: node store (the embeddings again, as float32
        arrays), attribute range indexes and the vector index; transaction logs excluded.

        On disk *now*: Neo4j Community has no checkpoint on demand (``db.checkpoint`` and
        ``STOP DATABASE`` are Enterprise-only), so node-store pages written since the last
        checkpoint (every 15 minutes or 250 MiB of transaction log by default) are counted
        only once one has happened. The vector index is complete on disk as soon as its
        population finishes (the default order); see ``vector_index_bytes``.
        """
        return sum(p.stat().st_size for p in self._database_dir().rglob("*") if p.is_file())

    def vector_index_bytes(self) -> int:
        """Bytes on disk of the vector index alone: Lucene's own float32 copy of the vectors,
        their int8 copy when quantised (the default) and the HNSW graph. Complete once the
        index is populated (with ``index_first``: after Neo4j's next checkpoint)."""
        root = self._database_dir() / "schema" / "index"
        return sum(p.stat().st_size for d in root.glob("vector-*") for p in d.rglob("*")
                   if p.is_file())

    # ------------------------------------------------------------------ queries

    # Every query runs as a batch: UNWIND the query vectors (strings, parsed server-side) and
    # answer each in a subquery. One round trip and one read transaction per batch instead of
    # per vector (measured 1.4x the single-query QPS at fetch 20; the same at fetch 2000, where
    # the index search dominates). The final ORDER BY makes the row order explicit.
    _BATCH_HEAD = "UNWIND range(0, size($qs) - 1) AS i CALL (i) { "
    _BATCH_TAIL = " } RETURN i, vid ORDER BY i, score DESC"
    _QUERY_VECTOR = "[x IN split($qs[i], ',') | toFloat(x)]"

    def _query(self, kind: str, where: str | WhereExpr | None,
               rename: Mapping[str, str] | None) -> tuple[str, dict[str, Any]]:
        """The Cypher text and filter parameters for ``kind`` ("ann" or "exact"), cached."""
        key = (kind, where.source if isinstance(where, WhereExpr) else str(where),
               tuple(sorted((rename or {}).items())))
        if key not in self._queries:
            pred, params = cypher_filter(where, self.attributes, rename=rename)
            if kind == "ann":
                body = (f"CALL db.index.vector.queryNodes($index, $fetch, {self._QUERY_VECTOR}) "
                        f"YIELD node, score WHERE {pred} ")
            else:
                body = (f"WITH {self._QUERY_VECTOR} AS q "
                        f"MATCH (node:`{self.label.replace('`', '``')}`) WHERE {pred} "
                        "WITH node, vector.similarity.cosine(node.embedding, q) AS score ")
            body += "RETURN node.vid AS vid, score ORDER BY score DESC LIMIT $k"
            self._queries[key] = (self._BATCH_HEAD + body + self._BATCH_TAIL, params)
        return self._queries[key]

    def _run(self, query: str, params: dict[str, Any], queries: np.ndarray,
             k: int) -> np.ndarray:
        assert self._session is not None, "start() first"
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        out = np.full((q.shape[0], k), -1, dtype=np.int64)
        fmt = self._vec_fmt
        for lo in range(0, q.shape[0], self.query_batch):
            vecs = _QuietList(fmt % tuple(v) for v in q[lo:lo + self.query_batch].tolist())
            filled = np.zeros(len(vecs), dtype=np.int64)
            for i, vid in self._session.run(query, params, qs=vecs, k=k).values():
                out[lo + i, filled[i]] = vid
                filled[i] += 1
        return out

    def search(self, queries: np.ndarray, k: int, where: str | WhereExpr | None = None,
               selectivity: float = 1.0, *,
               rename: Mapping[str, str] | None = None) -> np.ndarray:
        """Filtered top-k through the vector index: (nq, k) int64 ``vid``s, -1 padded.

        Per query vector: ``queryNodes`` over-fetches ``post_filter_fetch(n, k, selectivity)``
        neighbours, the filter drops the others, the best k remain (fewer when fewer survive).
        ``selectivity`` is the caller's fraction of rows the filter keeps. ``rename`` maps
        column names in ``where`` to attribute names (``{"sel": "correlated"}`` runs
        ``"sel < 10"`` on the ``correlated`` attribute). Up to ``query_batch`` vectors travel
        per round trip.
        """
        query, params = self._query("ann", where, rename)
        params = {**params, "index": self.index_name,
                  "fetch": post_filter_fetch(self.n, k, selectivity)}
        return self._run(query, params, queries, k)

    def search_exact(self, queries: np.ndarray, k: int, where: str | WhereExpr | None = None,
                     *, rename: Mapping[str, str] | None = None) -> np.ndarray:
        """Exact filtered top-k by brute force in Cypher: (nq, k) int64 ``vid``s, -1 padded.

        ``MATCH`` the nodes that pass the filter (a range-index seek), score each with
        ``vector.similarity.cosine``, keep the best k. ``rename`` as in ``search``.
        """
        query, params = self._query("exact", where, rename)
        return self._run(query, params, queries, k)


# ---------------------------------------------------------------------- smoke run


def clustered(n: int, dim: int, nq: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``vector_search.py``'s clustered vectors and queries, and each vector's cluster."""
    x, q, cluster, _ = clustered_vectors(n, dim, nq, seed)
    return x, q, cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=32)
    ap.add_argument("--exact-queries", type=int, default=None,
                    help="queries for the Cypher brute force, which reads every matching "
                         "node (default: --queries up to N = 20,000, else 8)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", default="2g")
    ap.add_argument("--correlation", choices=("uncorrelated", "correlated", "both"),
                    default="uncorrelated")
    ap.add_argument("--index-first", action="store_true",
                    help="create the indexes before the load instead of after it")
    ap.add_argument("--no-quantization", action="store_true",
                    help="vector.quantization.enabled: false (Neo4j's default is true)")
    args = ap.parse_args()

    x, q, cluster = clustered(args.n, args.dim, args.queries, args.seed)
    rng = np.random.default_rng(args.seed + 2)
    attrs = {"uncorrelated": rng.integers(0, 1000, args.n).astype(np.int32),
             "correlated": ((cluster + rng.integers(0, 3, args.n)) % 1000).astype(np.int32)}
    columns = list(attrs) if args.correlation == "both" else [args.correlation]
    n_exact = min(args.queries, args.exact_queries or (args.queries if args.n <= 20_000 else 8))

    t0 = time.perf_counter()
    config = {"vector.quantization.enabled": False} if args.no_quantization else {}
    with Neo4jVectorBaseline(x, attrs, heap=args.heap, pagecache=args.pagecache,
                             index_first=args.index_first, index_config=config) as neo:
        assert neo.stats is not None
        print(f"Neo4j at {neo.uri} (PID {neo.pid}) ready in {time.perf_counter() - t0:.1f} s; "
              f"{neo.stats.describe()}; store {neo.store_bytes() / 2**20:.0f} MiB "
              f"(vector index {neo.vector_index_bytes() / 2**20:.0f} MiB)", flush=True)
        # warm the plan cache and the JIT once per query shape
        neo.search(q[:4], args.k, "sel < 500", 0.5, rename={"sel": columns[0]})
        neo.search_exact(q[:2], args.k, "sel < 500", rename={"sel": columns[0]})
        for col in columns:
            for s in (0.01, 0.1, 1.0):
                threshold = int(round(s * 1000))
                where, rename = f"sel < {threshold}", {"sel": col}
                mask = attrs[col] < threshold
                truth = exact_filtered(x, q, mask, args.k)
                fetch = post_filter_fetch(args.n, args.k, float(mask.mean()))
                t = time.perf_counter()
                ann = neo.search(q, args.k, where, float(mask.mean()), rename=rename)
                ann_qps = q.shape[0] / (time.perf_counter() - t)
                t = time.perf_counter()
                ex = neo.search_exact(q[:n_exact], args.k, where, rename=rename)
                ex_qps = n_exact / (time.perf_counter() - t)
                print(f"{col:12s} {where:10s} (selectivity {mask.mean():6.1%}, fetch "
                      f"{fetch:6d}): vector index {ann_qps:7.1f} QPS, recall@{args.k} "
                      f"{recall(ann, truth):.3f} | Cypher brute force {ex_qps:7.1f} QPS, "
                      f"recall@{args.k} {recall(ex, truth[:n_exact]):.3f}", flush=True)
    print(f"Neo4j stopped; {time.perf_counter() - t0:.1f} s in all", flush=True)


if __name__ == "__main__":
    main()
