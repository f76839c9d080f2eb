"""All settings in one place, read from the environment (prefix ``VERIKG_``) at the edges.

Library code never reads the environment itself: the CLI and the flows build a ``Settings``
and pass what each stage needs. Secrets are ``SecretStr`` and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: the embedded store's file in the data directory (``flows.clients.DataDir`` names the rest)
EMBEDDED_STORE_FILE = "kg.sqlite"


class Settings(BaseSettings):
    """Every setting of a run. ``Settings()`` reads ``VERIKG_*`` from the environment: the CLI
    and the flows do that, then pass what each stage needs; the library never does."""

    model_config = SettingsConfigDict(env_prefix="VERIKG_", extra="ignore")

    #: where runs keep their state: the embedded store, the index, the LLM response cache
    data_dir: Path = Path(".verikg")

    #: graph store descriptor: ``sqlite:PATH`` (embedded default; empty path = data_dir) or a
    #: Bolt URI such as ``bolt://127.0.0.1:7687`` / ``neo4j+s://host`` for Neo4j
    store: str = "sqlite:"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    #: or the name of a Prefect ``Secret`` block holding it, read where clients are built
    #: (``flows/secrets.py``) when ``neo4j_password`` is empty
    neo4j_password_block: str = ""
    neo4j_database: str = "neo4j"
    #: how long a Neo4j write keeps retrying (with backoff) while the server is away — a
    #: restart mid-ingest costs time, not the run; past it the build fails and a rerun resumes
    neo4j_retry_seconds: float = Field(default=60.0, ge=0)
    #: assertions per store transaction while a build writes
    store_batch_size: int = Field(default=200, ge=1)

    #: LLM: ``embedded`` (llama-cpp-python + Gemma 3 270M, offline, smoke-level quality) or
    #: ``openai`` (any OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp server, OpenAI)
    llm: str = "embedded"
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_api_key: SecretStr = SecretStr("")
    #: or the name of a Prefect ``Secret`` block holding it (as ``neo4j_password_block``)
    llm_api_key_block: str = ""
    llm_temperature: float = 0.7
    llm_max_tokens: int = 384
    llm_timeout_s: float = 120.0
    #: LLM calls at once: per process, and across workers through Prefect's ``verikg-llm``
    #: global concurrency limit when flows run against a server
    llm_concurrency: int = Field(default=2, ge=1, le=64)

    #: extraction: samples per chunk (confidence = agreement) and corrective retries per sample
    samples: int = Field(default=3, ge=1, le=20)
    max_retries: int = Field(default=2, ge=0, le=10)
    chunk_chars: int = Field(default=1200, ge=200)
    chunk_overlap: int = Field(default=0, ge=0)

    #: documents: a file that cannot be read as a document (binary, empty, an unknown
    #: encoding, over the size limit, a symlink loop ...) is ``skip``-ped — the build goes on,
    #: reports it and quarantines it as a document with its reason — or ``fail``s the build
    on_bad_document: Literal["fail", "skip"] = "skip"
    #: the largest file read as a document (bytes); a larger one is a bad document
    max_document_bytes: int = Field(default=50_000_000, ge=1)
    #: a file longer than this (characters) is read a window at a time and stored as parts of
    #: at most this size, each cut at a paragraph or sentence end (``source#char=a,b``)
    document_part_chars: int = Field(default=1_000_000, ge=1_000)

    #: embeddings: a sentence-transformers model path; empty = the packaged all-MiniLM-L6-v2
    embedding_model: str = ""
    embedding_batch_size: int = 64
    #: "auto" (fp16 on CUDA, bf16 on a CPU with AMX-BF16, else fp32), "fp32", "bf16", "fp16"
    embedding_precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    device: str = "cpu"

    #: the vector index's int8 scan kernel (C, compiled on first use); False: float32 scans only
    int8_kernel: bool = True
    #: where the compiled kernel is cached; empty = ~/.cache/verikg/kernels
    kernel_cache: str = ""
    #: the instruction set it is compiled for: ``native`` (this CPU's extensions) or a portable
    #: target such as ``x86-64-v2`` (the same answers, the plain loops)
    int8_march: str = Field(default="native", pattern=r"^[A-Za-z0-9_.+-]+$")

    def store_descriptor(self) -> str:
        if self.store in ("sqlite:", "sqlite"):
            return f"sqlite:{self.data_dir / EMBEDDED_STORE_FILE}"
        return self.store
