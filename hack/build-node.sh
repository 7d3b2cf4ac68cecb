#!/usr/bin/env bash
# Builds (or reuses) what a real local node needs (dev/jobscrape_dev/devcluster/node.py):
#   bin/kubelet, bin/kube-scheduler  Kubernetes $K8S_VERSION from the Go module proxy, built in
#                                    the module workdir and with the ldflags of
#                                    hack/build-control-plane.sh
#   images/pause.tar                 the static pause binary (kubernetes' build/pause/linux/pause.c,
#                                    gcc -static) as an OCI archive: localhost/jobscrape/pause:3.10
#   bin/incluster                    a static in-cluster API client (client-go's InClusterConfig,
#                                    verified TLS): `incluster METHOD PATH [BODY]`; busybox's own
#                                    TLS cannot talk to Go >= 1.25 servers (it sends no
#                                    signature_algorithms, so only SHA-1 signatures would do)
#   images/busybox.tar               Debian's busybox-static with its applets in /bin, /tmp 1777,
#                                    and /bin/incluster: localhost/jobscrape/busybox:1.35 (tests)
# Everything is cached by version under $JOBSCRAPE_CACHE/k8s/node-<version>/; images are built
# with buildah on vfs storage below that folder (never the system's container storage or
# cache) which is removed afterwards. Installs the Debian packages the node needs when missing
# (containerd, runc, containernetworking-plugins, nftables, buildah, busybox-static, gcc).
# Run as root. Prints the node folder on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
CACHE="${JOBSCRAPE_CACHE:-$HOME/.cache/jobscrape}"
OUT="$CACHE/k8s/node-$K8S_VERSION"
HERE="$(cd "$(dirname "$0")" && pwd)"
PAUSE_REF="localhost/jobscrape/pause:3.10"
BUSYBOX_REF="localhost/jobscrape/busybox:1.35"
IMAGE_RECIPE=2  # bump when the image recipes below change: cached archives are rebuilt

# --- Debian packages (binary name or file -> package)
declare -A NEED=(
  [containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [nft]=nftables [buildah]=buildah [/bin/busybox]=busybox-static [gcc]=gcc [ctr]=containerd
)
missing=()
for what in "${!NEED[@]}"; do
  if [[ "$what" == /* ]]; then [ -e "$what" ] && continue; else command -v "$what" >/dev/null && continue; fi
  missing+=("${NEED[$what]}")
done
# /bin/busybox may come from the dynamic `busybox` package: the image needs the static one
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
fi

mkdir -p "$OUT/bin" "$OUT/images"
exec 9>"$OUT/.build.lock"
flock -w 3600 9  # one build at a time (parallel test runs share this folder)
start=$(date +%s)

# --- kubelet and kube-scheduler: the control plane's helper module (go.mod mapping the staging
#     modules onto the published ones) is made by build-control-plane.sh; reuse it.
KDIR="$CACHE/k8s/build/kubernetes-$K8S_VERSION"
if [ ! -f "$KDIR/go.mod.done" ]; then
  K8S_VERSION="$K8S_VERSION" bash "$HERE/build-control-plane.sh" >/dev/null
fi
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
for b in kubelet kube-scheduler; do
  if [ ! -x "$OUT/bin/$b" ]; then
    command -v go >/dev/null || { echo "go is required to build $b" >&2; exit 1; }
    echo "building $b $K8S_VERSION ..." >&2
    t=$(date +%s)
    (cd "$KDIR" && GOFLAGS=-mod=mod CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ldflags" -o "$OUT/bin/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$OUT/bin/$b.tmp" "$OUT/bin/$b"
    echo "$b built in $(( $(date +%s) - t ))s" >&2
  fi
done

# --- incluster: client-go's rest package only (its own helper module; modules from the proxy)
IDIR="$CACHE/k8s/build/incluster-$K8S_VERSION"
if [ ! -x "$OUT/bin/incluster" ]; then
  echo "building incluster ..." >&2
  mkdir -p "$IDIR"
  cat > "$IDIR/main.go" <<'GO'
// incluster: a minimal in-cluster API client for tests on the local node. It loads the
// ServiceAccount config exactly like controllers in pods do (client-go rest.InClusterConfig:
// KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA, verified TLS) and sends one request:
//   incluster METHOD PATH [BODY]
// The response body goes to stdout, "HTTP <code>" to stderr; exit 0 on 2xx, 1 otherwise.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"k8s.io/client-go/rest"
)

func fail(what string, err error) {
	fmt.Fprintln(os.Stderr, what+":", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: incluster METHOD PATH [BODY]")
		os.Exit(2)
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		fail("in-cluster config", err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		fail("client", err)
	}
	var body io.Reader
	if len(os.Args) > 3 {
		body = strings.NewReader(os.Args[3])
	}
	req, err := http.NewRequest(os.Args[1], strings.TrimSuffix(cfg.Host, "/")+os.Args[2], body)
	if err != nil {
		fail("request", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		fail("request", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
	fmt.Fprintln(os.Stderr, "HTTP", resp.StatusCode)
	if resp.StatusCode/100 != 2 {
		os.Exit(1)
	}
}
GO
  if [ ! -f "$IDIR/go.sum" ]; then
    printf 'module jobscrape.local/incluster\n\ngo 1.24\n\nrequire k8s.io/client-go v0.%s\n' \
      "${K8S_VERSION#v1.}" > "$IDIR/go.mod"
    (cd "$IDIR" && GOFLAGS=-mod=mod go mod tidy >&2)
  fi
  (cd "$IDIR" && GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w" -o "$OUT/bin/incluster.tmp" .)
  mv "$OUT/bin/incluster.tmp" "$OUT/bin/incluster"
  rm -f "$OUT/images/busybox.tar"
fi

# --- images: OCI archives made with buildah on private vfs storage
if [ "$(cat "$OUT/images/recipe" 2>/dev/null)" != "$IMAGE_RECIPE" ]; then
  rm -f "$OUT/images/"*.tar
fi
if [ ! -f "$OUT/images/pause.tar" ] || [ ! -f "$OUT/images/busybox.tar" ]; then
  echo "building images ..." >&2
  TMP="$(mktemp -d "$OUT/imgbuild.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  # buildah 1.28 writes its blob-info cache to /var/lib/containers/cache whatever --root says:
  # each call runs in a private mount namespace with an empty tmpfs on /var/lib
  B=(unshare --mount --propagation private sh -c 'mount -t tmpfs jobscrape-buildah /var/lib && exec "$@"' sh
     buildah --root "$TMP/storage" --runroot "$TMP/run" --storage-driver vfs)
  export TMPDIR="$TMP"
  pause_c="$(cd "$KDIR" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  mkdir -p "$TMP/pause"
  gcc -Os -static -DVERSION=v3.10-jobscrape -o "$TMP/pause/pause" "$pause_c"
  strip "$TMP/pause/pause" 2>/dev/null || true

  c=$("${B[@]}" from --quiet scratch)
  "${B[@]}" copy --quiet "$c" "$TMP/pause/pause" /pause
  "${B[@]}" config --entrypoint '["/pause"]' --cmd '' --user 65535:65535 "$c"
  "${B[@]}" commit --quiet "$c" "$PAUSE_REF" >/dev/null
  "${B[@]}" push --quiet "$PAUSE_REF" "oci-archive:$OUT/images/pause.tar.tmp:$PAUSE_REF"
  mv "$OUT/images/pause.tar.tmp" "$OUT/images/pause.tar"

  root="$TMP/busybox"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  cp "$OUT/bin/incluster" "$root/bin/incluster"
  for a in $(/bin/busybox --list); do
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nnonroot:x:65532:65532:nonroot:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n' > "$root/etc/group"
  c=$("${B[@]}" from --quiet scratch)
  "${B[@]}" copy --quiet "$c" "$root" /
  "${B[@]}" config --env PATH=/bin --cmd '["/bin/sh"]' "$c"
  "${B[@]}" commit --quiet "$c" "$BUSYBOX_REF" >/dev/null
  "${B[@]}" push --quiet "$BUSYBOX_REF" "oci-archive:$OUT/images/busybox.tar.tmp:$BUSYBOX_REF"
  mv "$OUT/images/busybox.tar.tmp" "$OUT/images/busybox.tar"
  echo "$IMAGE_RECIPE" > "$OUT/images/recipe"
  printf '%s\n%s\n' "$PAUSE_REF" "$BUSYBOX_REF" > "$OUT/images/refs"
fi
echo "node binaries and images ready in $(( $(date +%s) - start ))s" >&2
echo "$OUT"
