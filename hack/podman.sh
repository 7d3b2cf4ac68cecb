#!/usr/bin/env bash
# podman on the project's own storage (the one hack/build-image.sh builds into), with runc and
# the settings of hack/container-env.sh. Arguments go to podman, e.g.
#   bash hack/podman.sh run --rm --network none "$(bash hack/build-image.sh)" --version
#   bash hack/podman.sh images
set -euo pipefail
# shellcheck source=container-env.sh
source "$(dirname "$0")/container-env.sh"
command -v podman >/dev/null || { echo "podman is missing: run hack/setup.sh" >&2; exit 1; }
exec podman "${CONTAINER_STORE[@]}" "$@"
