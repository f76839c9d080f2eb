"""HermiT, the OWL 2 DL reasoner bundled with owlready2, run on one ontology with a time limit.

Two findings need a real reasoner: an inconsistent ontology (no model at all) and unsatisfiable
classes (equivalent to ``owl:Nothing``: nothing can ever be one). The graph goes through
owlready2 the way its ``sync_reasoner`` sends it: loaded into a fresh ``World`` of its own —
never the default world, so checks of different ontologies never mix — and saved as
N-Triples for HermiT. HermiT itself is then started here rather than through
``sync_reasoner_hermit``, for two reasons measured on the Gene Ontology slice
(``go-nucleus.owl.ttl``, 266 classes, RO property chains):

* ``sync_reasoner`` always classifies classes, object and data properties and individuals
  (``-c -O -D -I``): 3.5 minutes, where the two questions asked here (``-k`` consistency,
  ``-U`` unsatisfiable classes) take under 40 s;
* it waits on Java without a time limit; here the JVM is killed when ``timeout_s`` passes and
  the result says so.

Nothing here raises for a reasoner problem: no Java, a timeout or a Java error each come back
as a ``ReasonerResult`` status that the checks turn into a warning. Datatypes outside OWL 2's
datatype map (``xsd:gYear`` and the other Gregorian types, used by the sample ontology) are
ignored by HermiT (``--ignoreUnsupportedDatatypes``) instead of failing the run. ``owl:imports``
are not followed (the file is checked on its own, offline).

Results of completed runs are kept per process by content key (the file's SHA-256), so a build
that checks the same ontology again does not start Java again.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections import OrderedDict
from enum import StrEnum
from pathlib import Path

import owlready2
from rdflib import OWL, Graph

from pipeline.errors import OntologyError
from pipeline.models import Frozen

#: seconds HermiT may run before it is stopped and a ``reasoner-timeout`` warning is reported
DEFAULT_REASONER_TIMEOUT_S = 120.0
#: the JVM heap, as owlready2 sets it for its own reasoner calls (MiB)
JAVA_MEMORY_MB = 2000
HERMIT_DIR = Path(owlready2.__file__).resolve().parent / "hermit"
NOTHING = str(OWL.Nothing)
_CACHE_SIZE = 32
_cache: OrderedDict[str, ReasonerResult] = OrderedDict()


class ReasonerStatus(StrEnum):
    OK = "ok"
    INCONSISTENT = "inconsistent"
    #: HermiT ran past its time limit and was stopped
    TIMEOUT = "timeout"
    #: no Java on PATH (owlready2.JAVA_EXE)
    UNAVAILABLE = "unavailable"
    #: Java or HermiT failed (the detail says how)
    FAILED = "failed"
    #: the caller turned the reasoner off
    SKIPPED = "skipped"


class ReasonerResult(Frozen):
    reasoner: str = "HermiT"
    status: ReasonerStatus
    #: IRIs of the named classes equivalent to owl:Nothing (sorted)
    unsatisfiable: tuple[str, ...] = ()
    seconds: float = 0.0
    detail: str = ""


def java_executable() -> str | None:
    """The Java owlready2 is configured to start, if it is on PATH."""
    return shutil.which(str(owlready2.JAVA_EXE))


def _without_imports(graph: Graph) -> Graph:
    if (None, OWL.imports, None) not in graph:
        return graph
    copy = Graph()
    for triple in graph:
        if triple[1] != OWL.imports:
            copy.add(triple)
    return copy


def _through_owlready2(graph: Graph, folder: Path) -> Path:
    """Load ``graph`` into a fresh owlready2 World and save it as HermiT's input."""
    source = folder / "source.nt"
    _without_imports(graph).serialize(source, format="nt", encoding="utf-8")
    world = owlready2.World()
    try:
        with source.open("rb") as fh:
            world.get_ontology(source.as_uri()).load(fileobj=fh)
        target = folder / "hermit-input.nt"
        world.save(str(target), format="ntriples")
    finally:
        world.close()
    return target


_UNSAT_HEADER = re.compile(r"^Classes equivalent to '<?" + re.escape(NOTHING) + r">?':\s*$")


def parse_hermit_output(text: str) -> tuple[bool, tuple[str, ...]]:
    """(consistent, unsatisfiable class IRIs) from the output of ``CommandLine -k -U -N``."""
    if "InconsistentOntologyException" in text or "Inconsistent ontology" in text or \
            re.search(r"#Thing>? is not satisfiable", text):
        return False, ()
    unsat: list[str] = []
    in_list = False
    for line in text.splitlines():
        if _UNSAT_HEADER.match(line.strip()):
            in_list = True
            continue
        if in_list:
            if line.startswith(("\t", " ")) and line.strip():
                iri = line.strip().strip("<>")
                if iri != NOTHING:
                    unsat.append(iri)
            else:
                in_list = False
    return True, tuple(sorted(set(unsat)))


def _java_error(text: str) -> str:
    """The first line of a Java exception, without the stack."""
    for line in text.splitlines():
        if "Exception" in line or "Error" in line:
            return line.strip()[:400]
    return (text.strip().splitlines() or ["(no output)"])[0][:400]


def run_hermit(graph: Graph, *, timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S,
               cache_key: str | None = None) -> ReasonerResult:
    """Ask HermiT whether ``graph`` is consistent and which named classes are unsatisfiable.

    ``timeout_s`` bounds the Java process (``None`` or ``0`` skips the reasoner:
    status ``skipped``). ``cache_key`` identifies the content (e.g. the file's SHA-256):
    a completed answer for the same key is reused within the process."""
    if not timeout_s:
        return ReasonerResult(status=ReasonerStatus.SKIPPED, detail="reasoner turned off")
    if cache_key is not None and cache_key in _cache:
        _cache.move_to_end(cache_key)
        return _cache[cache_key]
    java = java_executable()
    if java is None:
        return ReasonerResult(status=ReasonerStatus.UNAVAILABLE,
                              detail=f"no Java found ('{owlready2.JAVA_EXE}' is not on PATH); "
                                     "HermiT needs a Java runtime (17 is known to work)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="verikg-hermit-") as tmp:
        try:
            hermit_input = _through_owlready2(graph, Path(tmp))
        except Exception as exc:  # owlready2 raises many kinds on input it cannot read
            return ReasonerResult(status=ReasonerStatus.FAILED,
                                  seconds=time.perf_counter() - started,
                                  detail=f"owlready2 cannot load the ontology: "
                                         f"{type(exc).__name__}: {str(exc)[:300]}")
        classpath = f"{HERMIT_DIR}:{HERMIT_DIR / 'HermiT.jar'}"
        command = [java, f"-Xmx{JAVA_MEMORY_MB}M", "-cp", classpath,
                   "org.semanticweb.HermiT.cli.CommandLine", "-k", "-U", "-N",
                   "--ignoreUnsupportedDatatypes", hermit_input.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            # subprocess.run has killed the JVM (the one process started here) and reaped it
            return ReasonerResult(status=ReasonerStatus.TIMEOUT,
                                  seconds=time.perf_counter() - started,
                                  detail=f"HermiT did not finish within {timeout_s:g} s")
        except OSError as exc:
            return ReasonerResult(status=ReasonerStatus.UNAVAILABLE,
                                  seconds=time.perf_counter() - started,
                                  detail=f"cannot start Java: {exc}")
    seconds = time.perf_counter() - started
    text = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    consistent, unsat = parse_hermit_output(text)
    if not consistent:
        result = ReasonerResult(status=ReasonerStatus.INCONSISTENT, seconds=seconds,
                                detail="HermiT: the ontology is inconsistent")
    elif done.returncode != 0:
        result = ReasonerResult(status=ReasonerStatus.FAILED, seconds=seconds,
                                detail=f"HermiT exited with {done.returncode}: "
                                       f"{_java_error(text)}")
    else:
        result = ReasonerResult(status=ReasonerStatus.OK, unsatisfiable=unsat, seconds=seconds)
    if cache_key is not None:
        _cache[cache_key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget the answers kept for this process (tests that time the reasoner use it)."""
    _cache.clear()


def read_with_owlready2(path: Path) -> Graph:
    """Read a file rdflib cannot (OWL/XML) through owlready2, in a World of its own."""
    world = owlready2.World()
    try:
        with path.open("rb") as fh:
            world.get_ontology(path.resolve().as_uri()).load(fileobj=fh)
        with tempfile.TemporaryDirectory(prefix="verikg-owl-") as tmp:
            out = Path(tmp) / "converted.nt"
            world.save(str(out), format="ntriples")
            graph = Graph()
            graph.parse(out, format="nt")
    except Exception as exc:  # owlready2's parsers raise many kinds
        raise OntologyError(f"{path}: cannot parse the ontology ({type(exc).__name__}: "
                            f"{str(exc).strip()[:300]})") from exc
    finally:
        world.close()
    return graph


__all__ = ["DEFAULT_REASONER_TIMEOUT_S", "ReasonerResult", "ReasonerStatus", "clear_cache",
           "java_executable", "parse_hermit_output", "read_with_owlready2", "run_hermit"]
