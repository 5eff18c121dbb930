# Shared settings of the image scripts (sourced, not run). Everything generated — the base
# rootfs tarball and buildah's storage — lives in a cache directory outside the repository,
# so a second run reuses it:
#   YTRAG_IMAGE_CACHE   default /var/tmp/ytrag-images (base/, storage/, run/, tmp/)
#   YTRAG_BASE_IMAGE    the locally made base image's name (default localhost/ytrag-base:trixie-node24)
# buildah keeps its own storage there (vfs driver, chroot isolation: no daemon, no overlay
# mounts, works inside a container or VM without privileges beyond root).
IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$IMAGES_DIR/../.." && pwd)"
CACHE_DIR="${YTRAG_IMAGE_CACHE:-/var/tmp/ytrag-images}"
BASE_IMAGE_NAME="${YTRAG_BASE_IMAGE:-localhost/ytrag-base:trixie-node24}"
export BUILDAH_ISOLATION=chroot

# buildah with the project's storage: `bah images`, `bah run …`. Its temporary files and the
# Dockerfile's cache mounts (pnpm's store) go to the cache directory too.
bah() {
  mkdir -p "$CACHE_DIR/tmp"
  TMPDIR="$CACHE_DIR/tmp" buildah --root "$CACHE_DIR/storage" --runroot "$CACHE_DIR/run" --storage-driver vfs "$@"
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): buildah's chroot isolation and debootstrap need root (run with sudo)" >&2
    exit 1
  fi
}

need_tool() {
  if ! command -v "$1" >/dev/null; then
    echo "$(basename "$0"): $1 is not installed; bash scripts/system-deps.sh installs it" >&2
    exit 1
  fi
}
