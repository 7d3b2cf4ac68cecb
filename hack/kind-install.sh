#!/usr/bin/env bash
# Install jobscrape on a local kind cluster. NOT run in this project's CI (it needs Docker,
# which the CI machines do not have); kept here for people who have Docker.
#   bash hack/kind-install.sh [cluster-name]
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-jobscrape}"
image="ghcr.io/jobscrape/jobscrape:0.1.0"
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
kind get clusters | grep -qx "$name" || kind create cluster --name "$name"
docker build -t "$image" .
kind load docker-image "$image" --name "$name"
kubectl --context "kind-$name" apply -k manifests/
kubectl --context "kind-$name" -n jobscrape-system rollout status deployment/jobscrape-operator --timeout=180s
kubectl --context "kind-$name" create namespace jobs --dry-run=client -o yaml | kubectl --context "kind-$name" apply -f -
kubectl --context "kind-$name" -n jobs apply -f examples/small.yaml
echo "installed; try: kubectl --context kind-$name -n jobs get jobsources"
