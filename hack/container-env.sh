# shellcheck shell=bash
# Sourced by hack/build-image.sh and hack/podman.sh: the project's own container storage and
# engine settings, under the project cache, never the system's (/var/lib/containers,
# /etc/containers/storage.conf). Defines:
#   IMAGE_WORK       $JOBSCRAPE_CACHE/image: storage, run state, configs, OCI archives
#   CONTAINER_STORE  (array) the global flags every podman/buildah call gets
# and exports CONTAINERS_CONF / CONTAINERS_STORAGE_CONF pointing at files written there:
# runtime runc (crun 1.8 refuses this cgroup-v1/hybrid host), cgroupfs, explicit ulimits (root
# lacks CAP_SYS_RESOURCE here: the runtime's own setrlimit would fail), overlay storage
# without a private bind mount of its home (nothing stays mounted after a command).

JOBSCRAPE_CACHE="${JOBSCRAPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobscrape}"
IMAGE_WORK="$JOBSCRAPE_CACHE/image"
mkdir -p "$IMAGE_WORK/storage" "$IMAGE_WORK/run" "$IMAGE_WORK/tmp" "$IMAGE_WORK/net"

_jobscrape_write_if_changed() {  # path content: rewrite only when different
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
  fi
}

_jobscrape_write_if_changed "$IMAGE_WORK/containers.conf" "# written by hack/container-env.sh
[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]
netns = \"none\"

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$IMAGE_WORK/run/libpod\"
static_dir = \"$IMAGE_WORK/storage/libpod\"
volume_path = \"$IMAGE_WORK/storage/volumes\"

[network]
network_config_dir = \"$IMAGE_WORK/net\""

_jobscrape_write_if_changed "$IMAGE_WORK/storage.conf" "# written by hack/container-env.sh
[storage]
driver = \"overlay\"
graphroot = \"$IMAGE_WORK/storage\"
runroot = \"$IMAGE_WORK/run\"

[storage.options.overlay]
mountopt = \"nodev\"
skip_mount_home = \"true\""

export CONTAINERS_CONF="$IMAGE_WORK/containers.conf"
export CONTAINERS_STORAGE_CONF="$IMAGE_WORK/storage.conf"
# big temporary files of image copies stay beside the storage too
export TMPDIR="$IMAGE_WORK/tmp"
# shellcheck disable=SC2034  # used by the scripts that source this file
# (the command line's --storage-driver drops storage.conf's options: they are repeated here)
CONTAINER_STORE=(--root "$IMAGE_WORK/storage" --runroot "$IMAGE_WORK/run" --storage-driver overlay
                 --storage-opt overlay.mountopt=nodev --storage-opt overlay.skip_mount_home=true)

# Image copies (podman import, buildah bud's commits, buildah push) keep a blob-info cache that,
# for root, c/image puts in /var/lib/containers/cache whatever --root says. They run through
# `isolated`: a private mount namespace in which that folder is the project's
# ($IMAGE_WORK/var-lib-containers); the namespace, and any mount made in it, ends with the command.
isolated() {
  mkdir -p "$IMAGE_WORK/var-lib-containers" /var/lib/containers
  # shellcheck disable=SC2016  # $0 and $@ are the inner sh's
  unshare --mount --propagation private -- \
    sh -c 'mount --bind "$0" /var/lib/containers && exec "$@"' "$IMAGE_WORK/var-lib-containers" "$@"
}
