#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine; safe to run again.
# - Debian packages for the servers the tests start
# - a virtual environment at .venv with the package and its test extra, and the test/dev
#   machinery (jobscrape-dev, dev/: local control plane, pod executor, board server) editable
#   beside it; neither the wheel nor the image holds the latter
# - the control-plane binaries (built from Go modules, cached by version)
set -euo pipefail
cd "$(dirname "$0")/.."

# prometheus: promtool and the server of the monitoring tests; postgresql: the store tests' server;
# the Pub/Sub emulator (Java 17): the Pub/Sub tests (from Google's apt repository, set up on
# these machines)
APT_PACKAGES=(prometheus postgresql openjdk-17-jre-headless google-cloud-cli-pubsub-emulator)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.jobscrape-installed
# reinstall when either distribution's metadata changed since the last install
needs_install=0
[ -f "$stamp" ] || needs_install=1
for f in pyproject.toml dev/pyproject.toml; do
  if [ "$f" -nt "$stamp" ]; then needs_install=1; fi
done
if [ "$needs_install" = 1 ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]' -e ./dev
  touch "$stamp"
fi

bash hack/build-control-plane.sh >/dev/null
bash hack/build-helm.sh >/dev/null  # helm v3 for the chart's tests (cached by version)
