#!/bin/sh
# Entry point of the VeriKG worker image: turns the compose/Kubernetes secrets mounted under
# /run/secrets into the settings VeriKG reads, then runs the command (a Prefect worker).
# The values are read when the container starts, so they never appear in compose.yaml, the
# image, `docker inspect` or a job template; flow runs inherit them from the worker.
#
#   /run/secrets/neo4j_auth    "user/password", the format the Neo4j image reads too
#                              -> VERIKG_NEO4J_USER, VERIKG_NEO4J_PASSWORD
#   /run/secrets/llm_api_key   the key (an empty file: none) -> VERIKG_LLM_API_KEY
#
# A setting already in the environment, or a Prefect Secret block named by
# VERIKG_NEO4J_PASSWORD_BLOCK / VERIKG_LLM_API_KEY_BLOCK, is left alone.
set -eu
dir="${VERIKG_SECRETS_DIR:-/run/secrets}"

if [ -r "$dir/neo4j_auth" ] && [ -z "${VERIKG_NEO4J_PASSWORD:-}" ]; then
    auth="$(cat "$dir/neo4j_auth")"
    case "$auth" in
        */*) ;;
        *) echo "worker-entrypoint: $dir/neo4j_auth must read user/password" >&2; exit 2 ;;
    esac
    VERIKG_NEO4J_USER="${auth%%/*}"
    VERIKG_NEO4J_PASSWORD="${auth#*/}"
    export VERIKG_NEO4J_USER VERIKG_NEO4J_PASSWORD
    unset auth
fi
if [ -r "$dir/llm_api_key" ] && [ -z "${VERIKG_LLM_API_KEY:-}" ]; then
    VERIKG_LLM_API_KEY="$(cat "$dir/llm_api_key")"
    export VERIKG_LLM_API_KEY
fi
exec "$@"
