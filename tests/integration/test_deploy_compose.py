"""``deploy/compose.yaml``: valid under the Compose specification, and consistent with the rest
of the repository.

There is no ``docker compose`` here, so the file is validated by ``check-jsonschema`` against
the official Compose specification schema it vendors (``vendor.compose-spec``, from
github.com/compose-spec/compose-spec, ``schema/compose-spec.json``) — the schema ``docker
compose`` itself validates with. The schema cannot see across the file (a ``depends_on`` on a
service that does not exist is valid JSON), so the project-level checks below do that: every
reference resolves, images are pinned to the versions the repository uses, the worker polls
the work pool ``deploy/prefect.yaml`` deploys to, and no secret value is written inline.
Mutated copies prove both halves fail on a broken file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PREFECT_YAML = DEPLOY / "prefect.yaml"
#: the work pool of deploy/prefect.yaml; used alone only while that file does not exist yet
POOL = "verikg"
#: environment names that hold secrets; such a variable may only point at one (``*_FILE``
#: under /run/secrets, ``*_BLOCK`` naming a Prefect Secret block), never carry the value
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|(^|_)AUTH($|_)", re.IGNORECASE)
#: ``scheme://user:password@host``; the password may only be a placeholder Prefect fills in
URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s]*)@", re.IGNORECASE)
PLACEHOLDER = re.compile(r"^\$\$\{[A-Z][A-Z0-9_]*\}$")
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


def load(path: Path = COMPOSE) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path} is not a YAML mapping"
    return doc


def validate_against_spec(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema's verdict on ``path`` under the vendored Compose specification."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)], capture_output=True, text=True, timeout=300, check=False)


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {} for name in deps}
    return {name: spec or {} for name, spec in deps.items()}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _names(entries: list[Any] | None, key: str = "source") -> list[str]:
    return [e if isinstance(e, str) else e[key] for e in entries or []]


def _named_volumes(service: dict[str, Any]) -> list[str]:
    names = []
    for v in service.get("volumes") or []:
        source = v.split(":", 1)[0] if isinstance(v, str) else v.get("source", "")
        if source and not source.startswith((".", "/", "~", "$")):
            names.append(source)
    return names


def _strings(node: Any) -> list[str]:
    """Every key and string value in a loaded YAML document (what compose interpolates)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [t for v in node for t in _strings(v)]
    return [node] if isinstance(node, str) else []


def consistency_problems(doc: dict[str, Any]) -> list[str]:
    """What in a compose document is wrong for this project (empty when nothing is)."""
    problems: list[str] = []
    services: dict[str, dict[str, Any]] = doc.get("services") or {}
    volumes = set(doc.get("volumes") or {})
    secrets = doc.get("secrets") or {}
    for name, service in services.items():
        for dep, spec in _depends_on(service).items():
            if dep not in services:
                problems.append(f"{name}: depends_on names no service {dep!r}")
            elif (spec.get("condition") == "service_healthy"
                  and "healthcheck" not in services[dep]):
                problems.append(f"{name}: waits for {dep} to be healthy, which has no "
                                "healthcheck")
        for secret in _names(service.get("secrets")):
            if secret not in secrets:
                problems.append(f"{name}: uses secret {secret!r}, not declared")
        for volume in _named_volumes(service):
            if volume not in volumes:
                problems.append(f"{name}: uses volume {volume!r}, not declared")
        image = str(service.get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        if "build" not in service and not re.search(r"\d", tag):
            problems.append(f"{name}: image {image!r} is not pinned to a version")
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith(("_FILE", "_BLOCK")):
                problems.append(f"{name}: {key} carries a secret value inline")
            if key.endswith("_FILE") and SECRET_NAME.search(key) \
                    and not value.startswith("/run/secrets/"):
                problems.append(f"{name}: {key} points outside /run/secrets")
            for password in URL_CREDENTIALS.findall(value):
                if not PLACEHOLDER.match(password):
                    problems.append(f"{name}: {key} has a password written into a URL")
    for secret, spec in secrets.items():
        source = str((spec or {}).get("file", ""))
        if not source.startswith("./secrets/"):
            problems.append(f"secret {secret!r} is not a file under deploy/secrets/")
    return problems


def worker_pool(doc: dict[str, Any]) -> str | None:
    command = doc["services"]["worker"].get("command") or []
    if isinstance(command, str):
        command = command.split()
    for flag, value in zip(command, command[1:], strict=False):
        if flag in ("--pool", "-p"):
            return str(value)
    return None


def deployed_pools() -> set[str]:
    """The work pools deploy/prefect.yaml's deployments name (the POOL constant until the
    file exists)."""
    if not PREFECT_YAML.exists():
        return {POOL}
    doc = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8")) or {}
    pools = {str(d["work_pool"]["name"]) for d in doc.get("deployments") or []
             if isinstance(d.get("work_pool"), dict) and d["work_pool"].get("name")}
    assert pools, f"{PREFECT_YAML} names no work pool"
    return pools


@pytest.fixture()
def mutated(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """Writes a copy of compose.yaml, changed by a function, into a temporary directory."""
    def write(change: Callable[[dict[str, Any]], None]) -> Path:
        doc = load()
        change(doc)
        path = tmp_path / "compose.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path
    return write


# ---------------------------------------------------------------- the Compose specification

def test_compose_file_is_valid_under_the_compose_specification() -> None:
    result = validate_against_spec(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_validator_is_the_compose_specification_schema() -> None:
    from check_jsonschema.builtin_schemas import get_builtin_schema

    schema = get_builtin_schema("vendor.compose-spec")
    assert schema["title"] == "Compose Specification"
    assert {"services", "volumes", "secrets", "networks"} <= set(schema["properties"])


def test_a_rewritten_copy_still_validates(
        mutated: Callable[[Callable[[dict[str, Any]], None]], Path]) -> None:
    # the control for the next test: rewriting the file through PyYAML breaks nothing
    result = validate_against_spec(mutated(lambda doc: None))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("change, error", [
    (lambda d: d["services"]["neo4j"].update(imagee="neo4j:5"), "'imagee' was unexpected"),
    (lambda d: d["services"]["worker"]["deploy"].update(replicas=[2]),
     "$.services.worker.deploy.replicas"),
    (lambda d: d["services"]["prefect-server"]["depends_on"]["postgres"].update(
        condition="service_ready"), "$.services['prefect-server'].depends_on"),
    (lambda d: d["services"]["postgres"].update(healthcheck={"test": "x", "interval": 5}),
     "$.services.postgres.healthcheck.interval"),
    (lambda d: d.update(volumes=["postgres-data"]), "$.volumes"),
], ids=["misspelt-key", "replicas-list", "unknown-condition", "interval-number",
        "volumes-list"])
def test_a_broken_compose_file_fails_the_specification(
        mutated: Callable[[Callable[[dict[str, Any]], None]], Path],
        change: Callable[[dict[str, Any]], None], error: str) -> None:
    result = validate_against_spec(mutated(change))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors were encountered" in result.stdout
    assert error in result.stdout, result.stdout


# ---------------------------------------------------------------- consistency with the repo

def test_compose_file_is_consistent() -> None:
    assert consistency_problems(load()) == []


def test_the_shape_is_the_documented_one() -> None:
    services = load()["services"]
    assert set(services) == {"postgres", "prefect-server", "neo4j", "worker"}
    server = services["prefect-server"]
    url = _environment(server)["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    assert "prefect server start --host 0.0.0.0" in " ".join(server["command"])
    assert _depends_on(server)["postgres"]["condition"] == "service_healthy"
    worker = services["worker"]
    env = _environment(worker)
    assert env["VERIKG_STORE"] == "bolt://neo4j:7687"
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert {"neo4j", "prefect-server"} <= set(_depends_on(worker))
    assert "replicas" in worker["deploy"]
    assert set(_names(worker["secrets"])) == {"neo4j_auth", "llm_api_key"}
    assert _environment(services["neo4j"])["NEO4J_AUTH_FILE"] == "/run/secrets/neo4j_auth"


def test_the_worker_polls_the_deployed_work_pool() -> None:
    # deploy/prefect.yaml is written alongside; until it lands, the pool is the constant
    pools = deployed_pools()
    assert worker_pool(load()) in pools and pools == {POOL}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f'"--pool", "{POOL}"' in dockerfile


def test_images_are_the_versions_the_repository_uses() -> None:
    services = load()["services"]
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    prefect = next(p["version"] for p in lock["package"] if p["name"] == "prefect")
    assert services["prefect-server"]["image"].startswith(f"prefecthq/prefect:{prefect}-")
    pom = (DEPLOY / "neo4j" / "pom.xml").read_text(encoding="utf-8")
    neo4j = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", pom)
    assert neo4j is not None
    assert services["neo4j"]["image"] == f"neo4j:{neo4j.group(1)}-community"


def test_the_worker_image_installs_the_locked_project() -> None:
    worker = load()["services"]["worker"]
    context = (DEPLOY / worker["build"]["context"]).resolve()
    assert context == REPO
    text = (context / worker["build"]["dockerfile"]).read_text(encoding="utf-8")
    assert "uv sync --locked" in text
    base = re.search(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert base is not None and re.search(r":\d+\.\d+\.\d+", base.group(1)), base
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.MULTILINE):
        sources = line.split()[:-1]  # the last word is the destination
        assert sources and all((REPO / s).exists() for s in sources), line
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    sent = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {s.rstrip("/") for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text,
                                                    re.MULTILINE) for s in line.split()[:-1]}
    assert copied <= sent, f"COPY sources the build context leaves out: {copied - sent}"
    assert os.access(DEPLOY / "worker-entrypoint.sh", os.X_OK)


def test_secret_files_and_local_settings_are_never_committed() -> None:
    probes = ["deploy/.env", "deploy/secrets/neo4j_auth", "deploy/secrets/postgres_password",
              "deploy/secrets/llm_api_key"]
    result = subprocess.run(["git", "-C", str(REPO), "check-ignore", *probes],
                            capture_output=True, text=True, timeout=60, check=False)
    assert sorted(result.stdout.split()) == sorted(probes), result.stderr
    assert not [p for p in (DEPLOY / "secrets").iterdir() if p.name != "README.md"
                and subprocess.run(["git", "-C", str(REPO), "ls-files", "--error-unmatch",
                                    str(p)], capture_output=True, check=False).returncode == 0]


def test_env_example_documents_every_variable_and_holds_no_secret() -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    defined = {line.split("=", 1)[0] for line in example.splitlines()
               if line and not line.startswith("#")}
    used = {name for text in _strings(load()) for name in INTERPOLATION.findall(text)}
    assert used <= defined, f"variables compose.yaml uses but .env.example omits: " \
                            f"{sorted(used - defined)}"
    assert not [name for name in defined if SECRET_NAME.search(name)]


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["services"]["worker"]["depends_on"].update(redis={"condition":
                                                                   "service_started"}),
     "depends_on names no service 'redis'"),
    (lambda d: d["services"]["worker"]["environment"].update(VERIKG_NEO4J_PASSWORD="hunter2"),
     "VERIKG_NEO4J_PASSWORD carries a secret value inline"),
    (lambda d: d["services"]["prefect-server"]["environment"].update(
        PREFECT_API_DATABASE_CONNECTION_URL="postgresql+asyncpg://prefect:hunter2@postgres/p"),
     "password written into a URL"),
    (lambda d: d["services"]["neo4j"].update(image="neo4j:latest"), "not pinned"),
    (lambda d: d["services"]["postgres"].pop("healthcheck"), "has no healthcheck"),
    (lambda d: d["services"]["worker"]["secrets"].append("vault_token"), "'vault_token'"),
    (lambda d: d["volumes"].pop("neo4j-data"), "'neo4j-data', not declared"),
], ids=["missing-service", "inline-password", "password-in-url", "latest", "no-healthcheck",
        "undeclared-secret", "undeclared-volume"])
def test_a_broken_compose_file_fails_the_consistency_checks(
        change: Callable[[dict[str, Any]], None], expected: str) -> None:
    doc = load()
    change(doc)
    problems = consistency_problems(doc)
    assert any(expected in p for p in problems), problems


# ---------------------------------------------------------------- the worker's entry point

def test_worker_entrypoint_turns_secret_files_into_settings(tmp_path: Path) -> None:
    sh = shutil.which("sh")
    assert sh is not None
    (tmp_path / "neo4j_auth").write_text("neo4j/pa/ss-word\n", encoding="utf-8")
    (tmp_path / "llm_api_key").write_text("sk-test-key\n", encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", ""), "VERIKG_SECRETS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sh, str(DEPLOY / "worker-entrypoint.sh"), sys.executable, "-c",
         "import os; print(os.environ['VERIKG_NEO4J_USER'], "
         "os.environ['VERIKG_NEO4J_PASSWORD'], os.environ['VERIKG_LLM_API_KEY'])"],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["neo4j", "pa/ss-word", "sk-test-key"]

    (tmp_path / "neo4j_auth").write_text("no-user-here", encoding="utf-8")
    bad = subprocess.run([sh, str(DEPLOY / "worker-entrypoint.sh"), "true"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bad.returncode == 2 and "user/password" in bad.stderr
    assert "no-user-here" not in bad.stderr
