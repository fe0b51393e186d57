#!/usr/bin/env bash
# Build and launch warcforge as a Dataflow flex template.
#
#   deploy/dataflow/flex-template.sh build     # push the image, write the template spec to GCS
#   deploy/dataflow/flex-template.sh launch RECIPE OUTPUT [JOB_NAME]
#   deploy/dataflow/flex-template.sh build-refresh    # the refresh template (beam_jobs/refresh.py)
#   deploy/dataflow/flex-template.sh launch-refresh RECIPE ROOT [JOB_NAME]
#
# Needs gcloud and docker, logged in. Settings (environment):
#   PROJECT, REGION                 the Google Cloud project and region
#   REPOSITORY                      Artifact Registry repository (default: warcforge)
#   BUCKET                          gs://bucket for the template spec and temporary files
#   VERSION                         image tag (default: the project version, 0.2.0)
#   MAX_WORKERS, MACHINE_TYPE       worker pool (defaults: 100, n2-highmem-4)
set -euo pipefail
: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}" "${BUCKET:?set BUCKET (gs://...)}"
REPOSITORY="${REPOSITORY:-warcforge}"
VERSION="${VERSION:-0.2.0}"
MAX_WORKERS="${MAX_WORKERS:-100}"
MACHINE_TYPE="${MACHINE_TYPE:-n2-highmem-4}"
REGISTRY="$REGION-docker.pkg.dev/$PROJECT/$REPOSITORY"
WORKER="$REGISTRY/worker:$VERSION"
TEMPLATE_IMAGE="$REGISTRY/flex-template:$VERSION"
SPEC="$BUCKET/templates/warcforge-$VERSION.json"
REFRESH_IMAGE="$REGISTRY/flex-template-refresh:$VERSION"
REFRESH_SPEC="$BUCKET/templates/warcforge-refresh-$VERSION.json"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# template_image IMAGE SPEC METADATA [docker build args]: the launcher image over the worker image, and its spec.
template_image() {
    local image="$1" spec="$2" metadata="$3"; shift 3
    docker build -f "$here/Dockerfile" --build-arg "WORKER_IMAGE=$WORKER" "$@" -t "$image" "$root"
    docker push "$image"
    gcloud dataflow flex-template build "$spec" --image "$image" --sdk-language PYTHON \
        --metadata-file "$here/$metadata" --project "$PROJECT"
}

# template_run SPEC IMAGE JOB RECIPE OUTPUT: launch a template on Dataflow.
template_run() {
    gcloud dataflow flex-template run "$3" --template-file-gcs-location "$1" \
        --project "$PROJECT" --region "$REGION" --temp-location "$BUCKET/tmp" --staging-location "$BUCKET/staging" \
        --max-workers "$MAX_WORKERS" --worker-machine-type "$MACHINE_TYPE" \
        --additional-experiments use_runner_v2 \
        --parameters "config=$4,output=$5,sdk_container_image=$2"
}

case "${1:-}" in
build)
    docker build -f "$root/deploy/docker/Dockerfile" -t "$WORKER" "$root"
    docker push "$WORKER"
    template_image "$TEMPLATE_IMAGE" "$SPEC" metadata.json
    ;;
launch)
    template_run "$SPEC" "$TEMPLATE_IMAGE" "${4:-warcforge-$(date -u +%Y%m%d-%H%M%S)}" \
        "${2:?recipe (gs:// or a path in the image)}" "${3:?output gs:// directory}"
    ;;
build-refresh)
    template_image "$REFRESH_IMAGE" "$REFRESH_SPEC" metadata-refresh.json --build-arg ENTRY=beam_jobs/refresh.py
    ;;
launch-refresh)
    template_run "$REFRESH_SPEC" "$REFRESH_IMAGE" "${4:-warcforge-refresh-$(date -u +%Y%m%d-%H%M%S)}" \
        "${2:?refresh recipe (gs:// or a path in the image)}" "${3:?ROOT gs:// directory}"
    ;;
*)
    echo "usage: $0 build | launch RECIPE OUTPUT [JOB_NAME] | build-refresh | launch-refresh RECIPE ROOT [JOB_NAME]" >&2
    exit 2
    ;;
esac
