#!/usr/bin/env bash
# Submit a warcforge build to the Flink session cluster on Kubernetes (session-cluster.yaml and
# job-server.yaml applied). The driver runs here: it resolves the inputs, submits the portable
# pipeline through the job server, waits, then publishes the output atomically, so it must live
# until the job ends (run it from a scheduler or a Kubernetes Job with the worker image).
#
#   deploy/flink/submit.sh configs/fineweb-like.yaml s3://my-bucket/datasets/fineweb-like-v1 [build flags]
#
# Input and output must be URLs every TaskManager can reach (s3://, gs://, https://, crawl:).
set -euo pipefail
recipe="$1"; output="$2"; shift 2

# The job server, and the cluster's REST API: a build that does not finish (Ctrl-C, SIGTERM, a failure)
# cancels its job there before it removes its staging files. Not --flink_master: the job server would
# submit to that address (localhost, here) instead of its own. The REST API comes to a local port of its
# own (FLINK_REST_LOCAL_PORT), not 8081, where a local Flink (make flink-up) may already listen.
rest_port="${FLINK_REST_LOCAL_PORT:-18081}"

# Each forward in a session of its own, so that a terminal's Ctrl-C reaches the build alone: the build then
# cancels its job through the REST forward, which kubectl would have closed at once on the same Ctrl-C (Go's
# signal handling undoes an ignored SIGINT). exec: $! is kubectl itself, which the trap stops at the end.
detached() {
    if command -v setsid >/dev/null 2>&1; then
        exec setsid "$@"
    fi
    exec python -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
forwards=()
for ports in "service/warcforge-beam-job-server 8099:8099" "service/warcforge-beam-job-server 8098:8098" \
             "service/warcforge-rest $rest_port:8081"; do
    # One port a forward: kubectl goes on when one of several ports cannot be had, and the check below would pass.
    # shellcheck disable=SC2086 # the two words of $ports
    detached kubectl port-forward $ports >/dev/null &
    forwards+=("$!")
done
trap 'kill "${forwards[@]}" 2>/dev/null || true' EXIT
sleep 3
for pid in "${forwards[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "submit.sh: a kubectl port-forward did not start (is a local port among 8099, 8098, $rest_port in use?)" >&2
        exit 2
    fi
done
if ! curl -sf "http://localhost:$rest_port/overview" | grep -q '"flink-version"'; then
    echo "submit.sh: no Flink REST API answers through the port-forward on localhost:$rest_port" >&2
    exit 2
fi

python -m beam_jobs.build --config "$recipe" --output "$output" \
    --runner=PortableRunner --job_endpoint=localhost:8099 --artifact_endpoint=localhost:8098 \
    --flink_rest_url="http://localhost:$rest_port" \
    --environment_type=EXTERNAL --environment_config=localhost:50000 \
    --parallelism=32 "$@"
