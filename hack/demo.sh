#!/usr/bin/env bash
# The one-command demo on a fresh machine: installs what it needs (idempotent), then starts a
# local control plane, the operator, the pod executor and a board server, creates a JobSource
# and shows its first run. `--once` exits after that run; otherwise it runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
JOBSCRAPE_K8S_BIN_DIR="$(bash hack/build-control-plane.sh)"
export JOBSCRAPE_K8S_BIN_DIR
exec .venv/bin/python -m jobscrape_dev.devcluster.demo "$@"
