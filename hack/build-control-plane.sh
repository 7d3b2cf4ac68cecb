#!/usr/bin/env bash
# Builds (or reuses) etcd, kube-apiserver and kube-controller-manager from the Go module proxy.
# Binaries are cached outside the repo by version: $JOBSCRAPE_CACHE/k8s/<k8s>-etcd<etcd>/.
# Prints the directory holding the three binaries on its last line.
# If KUBEBUILDER_ASSETS names a folder with the three binaries already, that folder is used.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${JOBSCRAPE_CACHE:-$HOME/.cache/jobscrape}"
OUT="$CACHE/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}"
BINARIES=(etcd kube-apiserver kube-controller-manager)

have_all() {
  local dir="$1" b
  for b in "${BINARIES[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && have_all "$KUBEBUILDER_ASSETS"; then
  echo "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS" >&2
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi
if have_all "$OUT"; then
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null || { echo "go is required to build the control plane" >&2; exit 1; }
mkdir -p "$OUT"
WORK="$CACHE/k8s/build"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
start=$(date +%s)

# --- kubernetes: a helper module requiring k8s.io/kubernetes, with its staging replaces mapped
#     onto the published v0.<minor>.<patch> modules (derived from upstream go.mod).
KDIR="$WORK/kubernetes-$K8S_VERSION"
mkdir -p "$KDIR"
if [ ! -f "$KDIR/go.mod.done" ]; then
  upstream_mod=$(cd "$KDIR" && GOFLAGS= go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  staging_version="v0.${K8S_VERSION#v1.}"
  go_directive=$(awk '$1=="go"{print $2; exit}' "$upstream_mod")
  {
    echo "module jobscrape.local/controlplane"
    echo
    echo "go $go_directive"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    # upstream lines look like: k8s.io/api => ./staging/src/k8s.io/api
    awk -v v="$staging_version" '
      $2=="=>" && $3 ~ /^\.\/staging\/src\// { print "\t" $1 " => " $1 " " v }
    ' "$upstream_mod"
    echo ")"
  } > "$KDIR/go.mod"
  echo 'package controlplane' > "$KDIR/doc.go"
  touch "$KDIR/go.mod.done"
fi

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
for b in kube-apiserver kube-controller-manager; do
  if [ ! -x "$OUT/$b" ]; then
    echo "building $b $K8S_VERSION ..." >&2
    (cd "$KDIR" && go build -trimpath -ldflags "$ldflags" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$OUT/$b.tmp" "$OUT/$b"
  fi
done

# --- etcd: the server module's main package, through a helper module as well (its own go.mod
#     replaces sibling modules with local folders, so `go install pkg@version` cannot build it).
EDIR="$WORK/etcd-$ETCD_VERSION"
mkdir -p "$EDIR"
if [ ! -f "$EDIR/go.mod" ]; then
  printf 'module jobscrape.local/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$EDIR/go.mod"
  echo 'package etcd' > "$EDIR/doc.go"
fi
if [ ! -x "$OUT/etcd" ]; then
  echo "building etcd $ETCD_VERSION ..." >&2
  (cd "$EDIR" && go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi
echo "control plane binaries built in $(( $(date +%s) - start ))s" >&2
echo "$OUT"
