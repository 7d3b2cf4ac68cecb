#!/usr/bin/env bash
# Builds the project's image from the Dockerfile with buildah, without a Docker engine and
# without the system's container storage; cached, so a second run with nothing changed takes
# seconds.
#
#   bash hack/build-image.sh                  -> last stdout line: localhost/jobscrape:<hash12>
#   bash hack/build-image.sh --print-archive  -> last stdout line: the image's OCI archive
#   bash hack/build-image.sh --print-base     -> last stdout line: the base image reference
#   bash hack/build-image.sh --rebuild-base   -> a fresh base (e.g. for Debian security updates)
# Progress goes to stderr.
#
# Everything lives under $JOBSCRAPE_CACHE/image (default ~/.cache/jobscrape/image, see
# hack/container-env.sh): overlay storage, run state, containers.conf (runc, ulimits), and
#   jobscrape-<hash12>.oci.tar   the image as an OCI archive named localhost/jobscrape:<hash12>
#                                (for `ctr images import` on a node); the newest 3 are kept
#   jobscrape-latest.oci.tar     a symlink to the newest
# Run the image with `bash hack/podman.sh run ...` (same storage and settings).
#
# The base image stands in for python:3.11-slim-bookworm (which needs a registry): Debian
# bookworm + python3 made with mmdebstrap from the machine's own Debian mirror (read from its
# apt sources), with the machine's extra CA certificates (pip needs them where egress is
# TLS-intercepted) and without EXTERNALLY-MANAGED (pip installs as root, as in the official
# image); imported as localhost/jobscrape-base:<hash12> and given as --build-arg BASE_IMAGE.
# Both images are named by a hash of their inputs: the base by its recipe, mirror and CA
# certificates; the project image by the Dockerfile, .dockerignore, the lock files,
# pyproject.toml, README.md, the operator/ sources and the base image's id.
# Builds: chroot isolation, host network (no bridge, no firewall rules), nothing left mounted.
# Installs mmdebstrap buildah podman runc skopeo with apt-get when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

print=image
KEEP=3  # project images (and archives) kept
rebuild_base=0
for arg in "$@"; do
  case "$arg" in
    --print-archive) print=archive ;;
    --print-base) print=base ;;
    --rebuild-base) rebuild_base=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "build-image: $*" >&2; }

# --- host tools (idempotent) ------------------------------------------------------------------
need=()
for tool in mmdebstrap buildah podman runc skopeo; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq mmdebstrap buildah podman runc skopeo >&2
fi

# shellcheck source=container-env.sh
source hack/container-env.sh
ST=("${CONTAINER_STORE[@]}")
# one build at a time per cache (setup.sh and a test may both ask)
exec 9>"$IMAGE_WORK/.lock"
flock 9

sha() { sha256sum | cut -c1-64; }
image_id() { podman "${ST[@]}" image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# --- base image -------------------------------------------------------------------------------
SUITE=bookworm  # the image's Python (3.11) is bookworm's
BASE_PACKAGES=python3,python3-venv,python3-pip,python-is-python3,ca-certificates,passwd

# the Debian mirror(s) of this machine's apt sources (one-line and deb822 formats), as
# "deb URI SUITE main" lines for SUITE, SUITE-updates and SUITE-security
debian_sources() {
  python3 - "$SUITE" <<'PY'
import glob, sys

suite = sys.argv[1]
entries: list[tuple[str, list[str]]] = []  # (uri, suites) of enabled binary sources
for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        continue
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) < 3 or words[0] != "deb":
            continue
        i = 1
        if words[1].startswith("["):  # [ options ]
            while not words[i].endswith("]"):
                i += 1
            i += 1
        entries.append((words[i], [words[i + 1]]))
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path, encoding="utf-8").read().split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
            continue
        for uri in fields.get("uris", "").split():
            entries.append((uri, fields.get("suites", "").split()))


def mirror(name: str) -> str | None:
    return next((uri for uri, suites in entries if name in suites), None)


main = mirror(suite)
if main is None:  # a machine on another Debian release: its main mirror serves bookworm too
    codename = ""
    for line in open("/etc/os-release", encoding="utf-8"):
        if line.startswith("VERSION_CODENAME="):
            codename = line.split("=", 1)[1].strip().strip('"')
    main = mirror(codename) if codename else None
if main is None:
    sys.exit(f"no Debian mirror for {suite} in /etc/apt/sources*; set JOBSCRAPE_DEBIAN_MIRROR")
print(f"deb {main} {suite} main")
print(f"deb {mirror(suite + '-updates') or main} {suite}-updates main")
security = mirror(suite + "-security")
if security:
    print(f"deb {security} {suite}-security main")
PY
}

if [ -n "${JOBSCRAPE_DEBIAN_MIRROR:-}" ]; then
  sources="deb $JOBSCRAPE_DEBIAN_MIRROR $SUITE main"
else
  sources="$(debian_sources)"
fi
mapfile -t source_lines <<<"$sources"

# the machine's extra CA certificates (none on most machines; required where egress is
# TLS-intercepted)
shopt -s nullglob
host_cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob

# shellcheck disable=SC2016  # the hooks' "$1" (the new root) is expanded by mmdebstrap
MMDEBSTRAP_ARGS=(
  --variant=apt --include="$BASE_PACKAGES"
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
  --customize-hook='for f in /usr/local/share/ca-certificates/*.crt; do [ -e "$f" ] && cp "$f" "$1"/usr/local/share/ca-certificates/; done; true'
  --customize-hook='chroot "$1" update-ca-certificates'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin'
)
IMPORT_CHANGES=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8'
  --change 'CMD ["python3"]'
)
base_hash=$( {
  printf '%s\n' "$SUITE" "${MMDEBSTRAP_ARGS[@]}" "${IMPORT_CHANGES[@]}" "${source_lines[@]}"
  [ ${#host_cas[@]} -eq 0 ] || cat "${host_cas[@]}"
} | sha)
BASE_REF="localhost/jobscrape-base:${base_hash:0:12}"

if [ "$rebuild_base" = 1 ] && image_id "$BASE_REF" >/dev/null; then
  log "dropping $BASE_REF (--rebuild-base)"
  podman "${ST[@]}" untag "$BASE_REF" >&2
fi
if ! image_id "$BASE_REF" >/dev/null; then
  log "making the base image $BASE_REF with mmdebstrap from: ${source_lines[*]}"
  start=$(date +%s)
  tar="$IMAGE_WORK/tmp/base-${base_hash:0:12}.tar"
  rm -f "$tar"
  mmdebstrap --quiet "${MMDEBSTRAP_ARGS[@]}" "$SUITE" "$tar" "${source_lines[@]}" >&2
  isolated podman "${ST[@]}" import "${IMPORT_CHANGES[@]}" --message "jobscrape base: Debian $SUITE + python3" \
    "$tar" "$BASE_REF" >/dev/null
  rm -f "$tar"
  # earlier bases go (an image still built on one keeps its layers)
  podman "${ST[@]}" images --format '{{.Repository}}:{{.Tag}}' \
    | { grep '^localhost/jobscrape-base:' | grep -v -x -e "$BASE_REF" || true; } \
    | while IFS= read -r old; do podman "${ST[@]}" untag "$old" >/dev/null 2>&1 || true; done
  log "base image made in $(( $(date +%s) - start ))s"
fi
base_id=$(image_id "$BASE_REF")
if [ "$print" = base ]; then
  echo "$BASE_REF"
  exit 0
fi

# --- project image ----------------------------------------------------------------------------
VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
# the build context as .dockerignore leaves it for the image (operator/ without caches)
context_files() {
  printf '%s\n' Dockerfile .dockerignore requirements/runtime.txt requirements/build.txt \
    pyproject.toml README.md
  find operator -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*.db' ! -name '*.db-*' \
    | LC_ALL=C sort
}
image_hash=$( {
  printf '%s\n' "base=$base_id" "version=$VERSION"
  context_files | while IFS= read -r f; do sha256sum -- "$f"; done
} | sha)
TAG="${image_hash:0:12}"
IMAGE_REF="localhost/jobscrape:$TAG"
ARCHIVE="$IMAGE_WORK/jobscrape-$TAG.oci.tar"

if image_id "$IMAGE_REF" >/dev/null && [ -s "$ARCHIVE" ]; then
  log "up to date: $IMAGE_REF"
else
  start=$(date +%s)
  log "building $IMAGE_REF (base $BASE_REF)"
  # --layers: a change of the sources alone reuses the locked-dependencies layer
  isolated buildah "${ST[@]}" bud --layers --force-rm --isolation chroot --network host --pull-never \
    --build-arg "BASE_IMAGE=$BASE_REF" --build-arg "VERSION=$VERSION" \
    -f Dockerfile -t "$IMAGE_REF" -t localhost/jobscrape:latest . >&2
  log "image built in $(( $(date +%s) - start ))s; writing $ARCHIVE"
  rm -f "$ARCHIVE.tmp"
  isolated buildah "${ST[@]}" push --quiet "$IMAGE_REF" "oci-archive:$ARCHIVE.tmp:$IMAGE_REF" >&2
  mv "$ARCHIVE.tmp" "$ARCHIVE"
  # keep the newest few project images and archives (a test may still be running an older
  # one); the base and the layer cache stay
  find "$IMAGE_WORK" -maxdepth 1 -name 'jobscrape-*.oci.tar' -type f -printf '%T@ %f\n' \
    | sort -rn | tail -n +$((KEEP + 1)) | while read -r _ old; do
      rm -f "${IMAGE_WORK:?}/$old"
      old_tag=${old#jobscrape-}
      podman "${ST[@]}" rmi "localhost/jobscrape:${old_tag%.oci.tar}" >/dev/null 2>&1 || true
    done
  podman "${ST[@]}" image prune -f >/dev/null 2>&1 || true
  log "done in $(( $(date +%s) - start ))s"
fi
ln -sfn "jobscrape-$TAG.oci.tar" "$IMAGE_WORK/jobscrape-latest.oci.tar"
size=$(podman "${ST[@]}" image inspect --format '{{.Size}}' "$IMAGE_REF")
log "$IMAGE_REF: $(( size / 1000000 )) MB; OCI archive $ARCHIVE ($(( $(stat -c %s "$ARCHIVE") / 1000000 )) MB)"
if [ "$print" = archive ]; then
  echo "$ARCHIVE"
else
  echo "$IMAGE_REF"
fi
