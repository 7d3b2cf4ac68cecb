#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (idempotent), then runs
# ruff, import-linter (lint-imports) and pytest against a real local control plane. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
JOBSCRAPE_K8S_BIN_DIR="$(bash hack/build-control-plane.sh)"
export JOBSCRAPE_K8S_BIN_DIR
.venv/bin/ruff check .
.venv/bin/lint-imports  # the layers only point down (contracts in pyproject.toml)
exec .venv/bin/pytest "$@"
