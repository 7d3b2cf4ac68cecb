#!/usr/bin/env bash
# Builds (or reuses) the helm v3 CLI from the Go module proxy, for the chart's tests.
# The binary is cached outside the repo by version: $JOBSCRAPE_CACHE/helm/<version>/helm.
# Prints the binary's path on its last line (stdout); progress goes to stderr.
# If HELM_BIN names an executable already, that one is used.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${JOBSCRAPE_CACHE:-$HOME/.cache/jobscrape}"
OUT="$CACHE/helm/$HELM_VERSION"

if [ -n "${HELM_BIN:-}" ] && [ -x "$HELM_BIN" ]; then
  echo "using HELM_BIN=$HELM_BIN" >&2
  echo "$HELM_BIN"
  exit 0
fi
if [ -x "$OUT/helm" ]; then
  echo "$OUT/helm"
  exit 0
fi

command -v go >/dev/null || { echo "go is required to build helm" >&2; exit 1; }
mkdir -p "$OUT"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
start=$(date +%s)
echo "building helm $HELM_VERSION ..." >&2
# Stamp what helm's Makefile stamps: its version, and the Kubernetes minor of its client-go
# module as the default for `helm template`/`lint` capabilities (else they assume 1.20).
gomod=$(cd "$CACHE" && go mod download -json "helm.sh/helm/v3@$HELM_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
k8s_minor=$(awk '$1=="k8s.io/client-go"{split($2,v,"."); print v[2]; exit}' "$gomod")
[ -n "$k8s_minor" ] || { echo "no k8s.io/client-go in helm's go.mod ($gomod)" >&2; exit 1; }
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
# `go install pkg@version` builds the module with its own go.mod (helm's has no replace
# directives, so this works).
GOBIN="$OUT/.build" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mv "$OUT/.build/helm" "$OUT/helm"
rmdir "$OUT/.build" 2>/dev/null || true
echo "helm $HELM_VERSION built in $(( $(date +%s) - start ))s" >&2
echo "$OUT/helm"
