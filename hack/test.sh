#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (idempotent), then runs
# ruff and pytest against a real local control plane. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
JOBSCRAPE_K8S_BIN_DIR="$(bash hack/build-control-plane.sh)"
export JOBSCRAPE_K8S_BIN_DIR
.venv/bin/ruff check .
exec .venv/bin/pytest "$@"
