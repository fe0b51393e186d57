#!/usr/bin/env bash
# `make flink-up` / `make flink-down`: a Flink session cluster (one JobManager, one TaskManager by
# default) on loopback, for running the build with --runner=FlinkRunner --flink_master=localhost:8081.
#
# Flink comes from the package index as two archives, unpacked into a cache directory rather than
# installed: apache-flink (scripts and configuration) and apache-flink-libraries (the jars). Their
# Python pins conflict with Beam's, so they never enter the project's environment.
#
#   deploy/flink/local-cluster.sh up|down|status|job-server-jar|home|taskmanager-kill|taskmanager-start
#
# taskmanager-kill / taskmanager-start: kill every TaskManager with SIGKILL (lost machines), and start
# one TaskManager again, for recovery tests of streaming jobs.
#
# job-server-jar: Beam's Flink job server, assembled with Maven from Beam's Flink runner and job
# service modules of BEAM_RUNNER_VERSION; prints the path of a launcher jar that Beam's
# FlinkRunner takes as --flink_job_server_jar. Beam publishes the same server as one shaded jar
# (beam-runners-flink-<flink>-job-server); the Maven mirror this project is built against serves
# none of those, but serves the modules of 2.62.0 for Flink 1.19, hence the defaults.
#
# Environment: FLINK_VERSION and BEAM_RUNNER_VERSION (defaults below), FLINK_REST_PORT (8081),
# FLINK_RPC_PORT (6123), FLINK_SLOTS (2: slots in all), FLINK_TASKMANAGERS (1: the slots are shared out
# among them), WARCFORGE_CACHE (~/.cache/warcforge), PYTHON (python3, any with pip).
#
# A TaskManager runs one Python SDK worker (Beam's --sdk_worker_parallelism=1) for all its slots, and one
# Python process computes on one core at a time: FLINK_TASKMANAGERS=$FLINK_SLOTS gives each slot a
# worker of its own, as deploy/flink/session-cluster.yaml does (README, "Flink on this machine").
set -euo pipefail

FLINK_VERSION="${FLINK_VERSION:-1.19.3}"
BEAM_RUNNER_VERSION="${BEAM_RUNNER_VERSION:-2.62.0}"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
FLINK_SLOTS="${FLINK_SLOTS:-2}"
FLINK_TASKMANAGERS="${FLINK_TASKMANAGERS:-1}"
CACHE="${WARCFORGE_CACHE:-$HOME/.cache/warcforge}"
PYTHON="${PYTHON:-python3}"
DIST="$CACHE/flink-$FLINK_VERSION"
FLINK_HOME="$DIST/pyflink"
# A cluster per REST port: its configuration, pid files and logs apart from any other's, so two
# clusters on loopback (a test run beside a benchmark) never stop or reconfigure each other.
RUN_DIR="$CACHE/flink-run"
[ "$FLINK_REST_PORT" = 8081 ] || RUN_DIR="$CACHE/flink-run-$FLINK_REST_PORT"
export FLINK_CONF_DIR="$RUN_DIR/conf"
HERE="$(cd "$(dirname "$0")" && pwd)"

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
    rm -rf "$DIST" && mv "$partial" "$DIST"
}

configure() {
    # Flattened keys replace the shipped config.yaml (in this cluster's own copy of conf/): loopback
    # only, small memory, fixed ports.
    if ! [[ "$FLINK_SLOTS" =~ ^[1-9][0-9]*$ && "$FLINK_TASKMANAGERS" =~ ^[1-9][0-9]*$ ]] \
            || [ $((FLINK_SLOTS % FLINK_TASKMANAGERS)) -ne 0 ]; then
        say "error: FLINK_TASKMANAGERS=$FLINK_TASKMANAGERS must be a whole number of at least 1 that divides FLINK_SLOTS=$FLINK_SLOTS"
        exit 2
    fi
    mkdir -p "$RUN_DIR/log" "$FLINK_CONF_DIR"
    cp "$FLINK_HOME"/conf/log4j*.properties "$FLINK_HOME"/conf/logback*.xml "$FLINK_HOME"/conf/masters \
        "$FLINK_CONF_DIR/"
    # start-cluster.sh starts a TaskManager per line of workers, on this machine for "localhost".
    for _ in $(seq 1 "$FLINK_TASKMANAGERS"); do echo localhost; done > "$FLINK_CONF_DIR/workers"
    sed -e "s|@SLOTS_PER_TASKMANAGER@|$((FLINK_SLOTS / FLINK_TASKMANAGERS))|g" -e "s|@SLOTS@|$FLINK_SLOTS|g" \
        -e "s|@REST_PORT@|$FLINK_REST_PORT|g" -e "s|@RPC_PORT@|$FLINK_RPC_PORT|g" -e "s|@RUN_DIR@|$RUN_DIR|g" \
        "$HERE/local-config.yaml" > "$FLINK_CONF_DIR/config.yaml"
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
        # Up means the TaskManagers have registered their slots, not only that the REST port answers.
        if overview | grep -q "\"slots-total\":$FLINK_SLOTS"; then
            say "up: http://localhost:$FLINK_REST_PORT ($FLINK_SLOTS slots, $FLINK_TASKMANAGERS TaskManager(s)); logs in $RUN_DIR/log"
            return
        fi
        sleep 0.5
    done
    say "error: $FLINK_SLOTS slots did not register within 60 s; logs in $RUN_DIR/log"
    "$FLINK_HOME/bin/stop-cluster.sh" >/dev/null 2>&1 || true
    exit 1
}

down() {
    [ -x "$FLINK_HOME/bin/stop-cluster.sh" ] || { say "not unpacked, nothing to stop"; return; }
    # Stopping needs no shape: stop-all below stops every TaskManager, however many were started.
    FLINK_SLOTS=1 FLINK_TASKMANAGERS=1 configure
    "$FLINK_HOME/bin/stop-cluster.sh" >/dev/null 2>&1 || true
    # stop-cluster.sh stops one TaskManager per line of workers: those of a cluster started with more
    # FLINK_TASKMANAGERS than this call was given stop here.
    "$FLINK_HOME/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do overview >/dev/null || { say "down"; return; }; sleep 0.5; done
    say "error: the cluster still answers on localhost:$FLINK_REST_PORT"
    exit 1
}

taskmanager_kill() {
    # SIGKILL, as a lost machine: no deregistration; the JobManager notices by heartbeat or connection loss.
    # Flink's daemon script names it after FLINK_IDENT_STRING, which defaults to the user's name.
    local pidfile="$RUN_DIR/flink-${FLINK_IDENT_STRING:-${USER:-}}-taskexecutor.pid"
    [ -s "$pidfile" ] || { say "error: no TaskManager pid in $pidfile"; exit 1; }
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$pidfile"
    : > "$pidfile"
    say "TaskManager(s) killed"
}

taskmanager_ids() {
    "$PYTHON" -c "import json, urllib.request as u; print(' '.join(sorted(t['id'] for t in json.load(u.urlopen('http://localhost:$FLINK_REST_PORT/taskmanagers', timeout=2))['taskmanagers'])))" 2>/dev/null
}

taskmanager_start() {
    configure
    local before
    before="$(taskmanager_ids)"
    "$FLINK_HOME/bin/taskmanager.sh" start >/dev/null
    for _ in $(seq 1 120); do
        # Up means a TaskManager that was not there before has registered (a killed one may still be listed).
        for id in $(taskmanager_ids); do
            case " $before " in *" $id "*) ;; *) say "TaskManager up"; return ;; esac
        done
        sleep 0.5
    done
    say "error: the TaskManager did not register within 60 s"
    exit 1
}

job_server_jar() {
    # Beam names Flink by major.minor: Flink 1.19.3 runs with Beam's flink-1.19 runner.
    local flink="${FLINK_VERSION%.*}"
    local dir="$CACHE/jars/beam-flink-$flink-job-server-$BEAM_RUNNER_VERSION"
    local jar="$dir/job-server.jar"
    if [ ! -f "$jar" ]; then
        local partial="$dir.partial"
        rm -rf "$partial" && mkdir -p "$partial/lib"
        sed -e "s|@FLINK@|$flink|g" -e "s|@BEAM@|$BEAM_RUNNER_VERSION|g" "$HERE/job-server-pom.xml" \
            > "$partial/pom.xml"
        say "assembling Beam's Flink $flink job server $BEAM_RUNNER_VERSION with Maven"
        if ! mvn -B -f "$partial/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
                -DoutputDirectory="$partial/lib" >"$partial/mvn.log" 2>&1; then
            say "error: Maven could not fetch Beam's Flink $flink runner $BEAM_RUNNER_VERSION and its dependencies:"
            grep -m 1 -oE "Could not (find|resolve|transfer) [^[]*" "$partial/mvn.log" >&2 \
                || tail -n 5 "$partial/mvn.log" >&2
            exit 3
        fi
        # A jar that holds only a manifest: its Class-Path names the modules, so `java -jar` runs the server.
        {
            echo "Main-Class: org.apache.beam.runners.flink.FlinkJobServerDriver"
            # A continuation line starts with one space; the second space separates the entries. Only
            # jars: the runner ships every Class-Path entry to the cluster, and a directory fails there.
            echo "Class-Path: lib/beam-runners-flink-$flink-$BEAM_RUNNER_VERSION.jar"
            for path in "$partial"/lib/*.jar; do echo "  lib/$(basename "$path")"; done
        } > "$partial/MANIFEST.MF"
        jar --create --file "$partial/job-server.jar" --manifest "$partial/MANIFEST.MF" -C "$partial" pom.xml
        rm -rf "$dir" && mv "$partial" "$dir"
    fi
    echo "$jar"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) overview && echo || { say "no cluster on localhost:$FLINK_REST_PORT"; exit 1; } ;;
    job-server-jar) job_server_jar ;;
    taskmanager-kill) taskmanager_kill ;;
    taskmanager-start) taskmanager_start ;;
    home) unpack && echo "$FLINK_HOME" ;;
    *) echo "usage: $0 up|down|status|job-server-jar|home|taskmanager-kill|taskmanager-start" >&2; exit 2 ;;
esac
