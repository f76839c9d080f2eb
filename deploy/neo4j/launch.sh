#!/usr/bin/env bash
# Starts and stops a local Neo4j 5.26 Community (embedded DBMS + Bolt on 127.0.0.1) for
# development and tests; see Neo4jLauncher.java. Every instance lives in its own HOME:
#
#   launch.sh start HOME PORT PASSWORD   build if needed, start, wait until Bolt answers;
#                                        prints "VERIKG_NEO4J_READY bolt://127.0.0.1:PORT"
#   launch.sh stop HOME                  SIGTERM by the PID in HOME/neo4j.pid, SIGKILL later
#   launch.sh status HOME                exit 0 and "running PID URI" if up, exit 3 if not
#
# Environment: JAVA_OPTS (default -Xmx1g -Xms256m), VERIKG_NEO4J_PAGECACHE (default 128m),
# VERIKG_NEO4J_START_TIMEOUT (seconds, default 120), VERIKG_NEO4J_STOP_TIMEOUT (default 60).
# The password reaches the JVM through its environment, not its command line, so it does
# not show in the process list. The log is HOME/neo4j-launcher.log (Neo4j's own: HOME/logs).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
STAMP="$TARGET/.launcher-built"
MAIN_CLASS="verikg.Neo4jLauncher"

die() { echo "launch.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# Builds the launcher when target/ is missing or older than pom.xml or the sources. Tries
# offline first (the ~/.m2 cache suffices once built), then online. A lock keeps concurrent
# starts from building over each other.
build_if_needed() {
    mkdir -p "$TARGET"
    exec 9>"$TARGET/.build.lock"
    flock 9
    if [[ -f "$STAMP" && -f "$TARGET/classpath.txt" \
          && -z "$(find "$HERE/pom.xml" "$HERE/src" -newer "$STAMP" -print -quit)" ]]; then
        exec 9>&-
        return 0
    fi
    echo "launch.sh: building the Neo4j launcher with Maven (first run downloads Neo4j)" >&2
    if ! (cd "$HERE" && { mvn -q -B -o package -DskipTests >"$TARGET/build.log" 2>&1 \
                          || mvn -q -B package -DskipTests >"$TARGET/build.log" 2>&1; }); then
        tail -n 40 "$TARGET/build.log" >&2
        exec 9>&-
        die "Maven build failed (full log: $TARGET/build.log)"
    fi
    touch "$STAMP"
    exec 9>&-  # closing the descriptor releases the lock (and Java does not inherit it)
}

# The PID in HOME/neo4j.pid if that process is alive and is our launcher (not a reused PID).
running_pid() {
    local home="$1" pid
    [[ -f "$home/neo4j.pid" ]] || return 1
    pid="$(cat "$home/neo4j.pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN_CLASS" || return 1
    echo "$pid"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stops PID: SIGTERM (Neo4j shuts down cleanly from its shutdown hook), SIGKILL after a
# timeout. Waits until the process is gone.
stop_pid() {
    local pid="$1" deadline=$((SECONDS + ${VERIKG_NEO4J_STOP_TIMEOUT:-60}))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if (( SECONDS >= deadline )); then
            echo "launch.sh: PID $pid did not stop in ${timeout}s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        # a zombie (our own child) counts as gone
        [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == Z* ]] && break
        sleep 0.1
    done
}

cmd_start() {
    [[ $# -eq 3 ]] || usage
    local home="$1" port="$2" password="$3" pid log timeout deadline
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"
    (( ${#password} >= 8 )) || die "PASSWORD must have at least 8 characters"
    mkdir -p "$home"
    home="$(cd "$home" && pwd)"
    if pid="$(running_pid "$home")"; then
        die "Neo4j is already running from $home (PID $pid); stop it first"
    fi
    if port_open "$port"; then
        die "port $port on 127.0.0.1 is already in use; choose another PORT"
    fi
    build_if_needed

    log="$home/neo4j-launcher.log"
    [[ -f "$log" ]] && mv -f "$log" "$log.1"
    : >"$log"
    # shellcheck disable=SC2086  # JAVA_OPTS is a list of options
    VERIKG_NEO4J_LAUNCHER_PASSWORD="$password" nohup java ${JAVA_OPTS:--Xmx1g -Xms256m} \
        -XX:+ExitOnOutOfMemoryError \
        -cp "$TARGET/classes:$(cat "$TARGET/classpath.txt")" "$MAIN_CLASS" \
        --home "$home/db" --port "$port" --pagecache "${VERIKG_NEO4J_PAGECACHE:-128m}" \
        >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$home/neo4j.pid"
    echo "$port" >"$home/neo4j.port"

    timeout="${VERIKG_NEO4J_START_TIMEOUT:-120}"
    deadline=$((SECONDS + timeout))
    while (( SECONDS < deadline )); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$home/neo4j.pid"
            echo "launch.sh: Neo4j exited during start-up; last lines of $log:" >&2
            tail -n 40 "$log" >&2
            exit 1
        fi
        if grep -q "^VERIKG_NEO4J_READY " "$log" && port_open "$port"; then
            grep "^VERIKG_NEO4J_READY " "$log" | tail -n 1
            return 0
        fi
        sleep 0.25
    done
    echo "launch.sh: Neo4j did not answer on port $port within ${timeout}s; last lines of" \
         "$log:" >&2
    tail -n 40 "$log" >&2
    stop_pid "$pid"
    rm -f "$home/neo4j.pid"
    exit 1
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local home="$1" pid
    [[ -d "$home" ]] || die "no such HOME: $home"
    if ! pid="$(running_pid "$home")"; then
        rm -f "$home/neo4j.pid"
        echo "not running"
        return 0
    fi
    stop_pid "$pid"
    rm -f "$home/neo4j.pid"
    echo "stopped PID $pid"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    local home="$1" pid
    if pid="$(running_pid "$home")"; then
        echo "running $pid bolt://127.0.0.1:$(cat "$home/neo4j.port" 2>/dev/null || echo '?')"
        return 0
    fi
    echo "stopped"
    exit 3
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    *) usage ;;
esac
