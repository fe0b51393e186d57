#!/usr/bin/env bash
# `make flink-up` / `make flink-down`: a Flink session cluster (one JobManager, one TaskManager)
# on loopback, for running the build with --runner=FlinkRunner --flink_master=localhost:8081.
#
# Flink comes from the package index as two archives, unpacked into a cache directory rather than
# installed: apache-flink (scripts and configuration) and apache-flink-libraries (the jars). Their
# Python pins conflict with Beam's, so they never enter the project's environment.
#
#   deploy/flink/local-cluster.sh up|down|status|smoke|job-server-jar|home
#
# smoke: runs a small Flink SQL batch job on the cluster and prints its result (500500).
# job-server-jar: fetches Beam's Flink job server for the pinned Beam release with Maven and
# prints its path; Beam's FlinkRunner takes it as --flink_job_server_jar.
#
# Environment: FLINK_VERSION (default below), BEAM_VERSION, FLINK_REST_PORT (8081), FLINK_SLOTS (2),
# WARCFORGE_CACHE (~/.cache/warcforge), PYTHON (python3, any with pip).
set -euo pipefail

FLINK_VERSION="${FLINK_VERSION:-1.20.3}"
BEAM_VERSION="${BEAM_VERSION:-2.75.0}"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_SLOTS="${FLINK_SLOTS:-2}"
CACHE="${WARCFORGE_CACHE:-$HOME/.cache/warcforge}"
PYTHON="${PYTHON:-python3}"
DIST="$CACHE/flink-$FLINK_VERSION"
FLINK_HOME="$DIST/pyflink"
RUN_DIR="$CACHE/flink-run"

say() { echo "flink: $*" >&2; }

unpack() {
    [ -x "$FLINK_HOME/bin/start-cluster.sh" ] && [ -f "$FLINK_HOME/lib/flink-dist-$FLINK_VERSION.jar" ] && return
    command -v java >/dev/null || { say "error: java is not on PATH (Flink $FLINK_VERSION needs Java 11 or 17)"; exit 2; }
    local wheels="$CACHE/wheels"
    mkdir -p "$wheels"
    say "downloading apache-flink $FLINK_VERSION and apache-flink-libraries $FLINK_VERSION into $wheels"
    "$PYTHON" -m pip download --quiet --no-deps --dest "$wheels" \
        "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
    local partial="$DIST.partial"
    rm -rf "$partial" && mkdir -p "$partial"
    "$PYTHON" -m zipfile -e "$(ls "$wheels"/apache_flink-"$FLINK_VERSION"-*.whl | head -n 1)" "$partial"
    tar -xzf "$wheels/apache-flink-libraries-$FLINK_VERSION.tar.gz" -C "$partial"
    local deps="$partial/apache-flink-libraries-$FLINK_VERSION/deps"
    cp -r "$deps/lib" "$deps/opt" "$deps/plugins" "$partial/pyflink/"
    cp "$deps/bin/"*.jar "$partial/pyflink/bin/"
    chmod +x "$partial/pyflink/bin/"*.sh "$partial/pyflink/bin/flink"
    # The SQL client (used by `smoke`) needs the SQL gateway, which the archives leave out.
    mvn -B -q dependency:copy -Dartifact="org.apache.flink:flink-sql-gateway:$FLINK_VERSION" \
        -DoutputDirectory="$partial/pyflink/opt" >&2
    rm -rf "$DIST" && mv "$partial" "$DIST"
}

configure() {
    # Flattened keys replace the shipped config.yaml: loopback only, small memory, fixed ports.
    mkdir -p "$RUN_DIR/log"
    cat > "$FLINK_HOME/conf/config.yaml" <<EOF
jobmanager.rpc.address: localhost
jobmanager.bind-host: localhost
jobmanager.memory.process.size: 1024m
taskmanager.host: localhost
taskmanager.bind-host: localhost
taskmanager.memory.process.size: 2048m
taskmanager.numberOfTaskSlots: $FLINK_SLOTS
parallelism.default: $FLINK_SLOTS
rest.address: localhost
rest.bind-address: localhost
rest.port: $FLINK_REST_PORT
env.log.dir: $RUN_DIR/log
env.pid.dir: $RUN_DIR
EOF
}

overview() {
    "$PYTHON" -c "import sys, urllib.request as u; sys.stdout.write(u.urlopen('http://localhost:$FLINK_REST_PORT/overview', timeout=2).read().decode())" 2>/dev/null
}

up() {
    unpack
    configure
    if overview >/dev/null; then say "a cluster already answers on localhost:$FLINK_REST_PORT"; return; fi
    say "starting Flink $FLINK_VERSION from $FLINK_HOME"
    "$FLINK_HOME/bin/start-cluster.sh" >/dev/null
    for _ in $(seq 1 120); do
        # Up means a TaskManager has registered its slots, not only that the REST port answers.
        if overview | grep -q "\"slots-total\":$FLINK_SLOTS"; then
            say "up: http://localhost:$FLINK_REST_PORT ($FLINK_SLOTS slots); logs in $RUN_DIR/log"
            return
        fi
        sleep 0.5
    done
    say "error: no TaskManager registered within 60 s; logs in $RUN_DIR/log"
    "$FLINK_HOME/bin/stop-cluster.sh" >/dev/null 2>&1 || true
    exit 1
}

down() {
    [ -x "$FLINK_HOME/bin/stop-cluster.sh" ] || { say "not unpacked, nothing to stop"; return; }
    configure
    "$FLINK_HOME/bin/stop-cluster.sh" >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do overview >/dev/null || { say "down"; return; }; sleep 0.5; done
    say "error: the cluster still answers on localhost:$FLINK_REST_PORT"
    exit 1
}

smoke() {
    local sql="$RUN_DIR/smoke.sql"
    mkdir -p "$RUN_DIR"
    cat > "$sql" <<EOF
SET 'execution.runtime-mode' = 'batch';
SET 'sql-client.execution.result-mode' = 'tableau';
CREATE TABLE numbers (n BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '1000');
SELECT SUM(n) FROM numbers;
EOF
    "$FLINK_HOME/bin/sql-client.sh" -f "$sql" 2>/dev/null | grep -oE '^\| +[0-9]+ +\|' | tr -d '| '
}

job_server_jar() {
    # Beam's Flink runner names Flink by major.minor: Flink 1.20.3 runs with the flink-1.20 job server.
    local artifact="beam-runners-flink-${FLINK_VERSION%.*}-job-server"
    local jar="$CACHE/jars/$artifact-$BEAM_VERSION.jar"
    if [ ! -f "$jar" ]; then
        mkdir -p "$CACHE/jars"
        say "fetching org.apache.beam:$artifact:$BEAM_VERSION with Maven"
        local log="$CACHE/jars/$artifact-$BEAM_VERSION.mvn.log"
        if ! mvn -B -U dependency:copy -Dartifact="org.apache.beam:$artifact:$BEAM_VERSION" \
                -DoutputDirectory="$CACHE/jars" >"$log" 2>&1; then
            say "error: Maven could not fetch org.apache.beam:$artifact:$BEAM_VERSION:"
            grep -m 1 -oE "Could not (find|resolve|transfer) [^[]*" "$log" >&2 || tail -n 5 "$log" >&2
            exit 3
        fi
    fi
    echo "$jar"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) overview && echo || { say "no cluster on localhost:$FLINK_REST_PORT"; exit 1; } ;;
    smoke) smoke ;;
    job-server-jar) job_server_jar ;;
    home) unpack && echo "$FLINK_HOME" ;;
    *) echo "usage: $0 up|down|status|smoke|job-server-jar|home" >&2; exit 2 ;;
esac
