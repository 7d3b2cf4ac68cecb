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
# reinstall when a lock file or either distribution's metadata changed since the last install
needs_install=0
[ -f "$stamp" ] || needs_install=1
for f in pyproject.toml dev/pyproject.toml requirements/*.txt; do
  if [ "$f" -nt "$stamp" ]; then needs_install=1; fi
done
if [ "$needs_install" = 1 ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # exactly the locked, hash-checked set: runtime + [test] extra + jobscrape-dev's dependencies
  # (bash hack/lock.sh regenerates it from pyproject.toml) ...
  .venv/bin/python -m pip install -q --require-hashes -r requirements/test.txt
  # ... then the two work-tree distributions, editable, resolving nothing more (hatchling and
  # editables, the build backend, come from the lock)
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . -e ./dev
  touch "$stamp"
fi

bash hack/build-control-plane.sh >/dev/null
bash hack/build-helm.sh >/dev/null  # helm v3 for the chart's tests (cached by version)
bash hack/build-image.sh >/dev/null  # the project's image (buildah; cached by a hash of its inputs)
bash hack/build-node.sh >/dev/null  # kubelet, kube-scheduler, pause image for the real node (cached by version)
