#!/usr/bin/env bash
# Run a command with a real Neo4j 5.26 beside it: start it (launch.sh), export the connection
# for the tests, run the command, and stop Neo4j by its PID whatever happens.
# If Neo4j cannot start, exit non-zero and say why: tests never run against nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
home="${VERIKG_NEO4J_HOME:-$root/.run/neo4j-test}"
port="${VERIKG_NEO4J_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
password="${VERIKG_TEST_NEO4J_PASSWORD:-verikg-test-$(python3 -c 'import secrets; print(secrets.token_hex(6))')}"

rm -rf "$home"
mkdir -p "$home"
stop() { "$here/launch.sh" stop "$home" || true; }
trap stop EXIT
if ! "$here/launch.sh" start "$home" "$port" "$password"; then
  echo "error: Neo4j did not start; the tests need it (see the log above)" >&2
  exit 1
fi
export VERIKG_TEST_NEO4J_URI="bolt://127.0.0.1:$port"
export VERIKG_TEST_NEO4J_PASSWORD="$password"
echo "Neo4j 5.26 is up at $VERIKG_TEST_NEO4J_URI (pid $(cat "$home/neo4j.pid"))"
set +e
"$@"
rc=$?
set -e
exit $rc
