#!/usr/bin/env bash
# Builds function images from the Dockerfile with buildah (no Docker engine needed), on the
# locally made base image (base.sh) unless --base names another one.
#
#   bash scripts/images/build.sh indexer download       # → localhost/youtube-rag/indexer:local, …
#   bash scripts/images/build.sh --all                  # every folder of functions/
#   bash scripts/images/build.sh --base docker.io/library/node:24-trixie-slim api
#   bash scripts/images/build.sh --prune indexer        # then drop cached layers this build did not use
#
# Each image is tagged ${YTRAG_IMAGE_PREFIX:-localhost/youtube-rag/}<function>:${YTRAG_IMAGE_TAG:-local}
# in the project's buildah storage (common.sh); the layers are cached there, so a rebuild
# without changes only reuses them (about half a minute per image: the storage driver is vfs,
# which copies the whole image at each layer). Cached layers of older sources add up, a few GB
# per function: --prune removes every untagged image this run did not use.
# Inspect or export with scripts/images/buildah.sh, e.g.
#   bash scripts/images/buildah.sh push localhost/youtube-rag/api:local docker-archive:/tmp/api.tar
set -euo pipefail
source "$(dirname "$0")/common.sh"

base=""
prune=false
functions=()
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --prune) prune=true; shift ;;
    --all) for dir in "$REPO_ROOT"/functions/*/; do [ -f "$dir/src/main.ts" ] && functions+=("$(basename "$dir")"); done; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
    *) functions+=("$1"); shift ;;
  esac
done
if [ ${#functions[@]} -eq 0 ]; then
  echo "usage: bash scripts/images/build.sh [--base IMAGE] <function>… | --all" >&2
  exit 2
fi
for fn in "${functions[@]}"; do
  if [ ! -f "$REPO_ROOT/functions/$fn/src/main.ts" ]; then
    echo "build.sh: no function $fn (functions/$fn/src/main.ts)" >&2
    exit 2
  fi
done

need_root
need_tool buildah
pull=()
if [ -z "$base" ]; then
  bash "$IMAGES_DIR/base.sh"
  base="$BASE_IMAGE_NAME"
  pull=(--pull=never)
fi

# A host that reaches the npm registry through a TLS-intercepting proxy trusts its CA through
# NODE_EXTRA_CA_CERTS (or SSL_CERT_FILE); the build stage gets that bundle too, mounted for its
# RUN steps only (it is not copied into any image).
ca_file="${YTRAG_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-}}}"
ca=()
if [ -n "$ca_file" ] && [ -f "$ca_file" ]; then
  ca=(--volume "$ca_file:/tmp/ytrag-build-ca.crt:ro"
    --build-arg NODE_EXTRA_CA_CERTS=/tmp/ytrag-build-ca.crt --build-arg SSL_CERT_FILE=/tmp/ytrag-build-ca.crt)
fi

# The image's size: its layers (uncompressed, as stored) from its manifest; quicker than
# `buildah images`, which measures every layer on disk.
image_size() {
  bah inspect --type image --format '{{.Manifest}}' "$1" |
    grep -oE '"size": ?[0-9]+' | grep -oE '[0-9]+$' | awk '{ total += $1 } END { printf "%.0f MB\n", total / 1e6 }'
}

log="$(mktemp)"
used="$(mktemp)"
trap 'rm -f "$log" "$used"' EXIT
for fn in "${functions[@]}"; do
  tag="${YTRAG_IMAGE_PREFIX:-localhost/youtube-rag/}$fn:${YTRAG_IMAGE_TAG:-local}"
  started=$SECONDS
  echo "build: $tag (FUNCTION=$fn, BASE_IMAGE=$base)"
  bah build --isolation chroot --layers "${pull[@]}" "${ca[@]}" \
    --build-arg FUNCTION="$fn" --build-arg BASE_IMAGE="$base" \
    -f "$REPO_ROOT/Dockerfile" -t "$tag" "$REPO_ROOT" 2>&1 | tee "$log"
  echo "build: $tag $(image_size "$tag") in $((SECONDS - started)) s"
  # The layers (images) this build made or reused, by the ids it printed.
  grep -oE '^--> (Using cache )?[0-9a-f]{11,64}' "$log" | grep -oE '[0-9a-f]{11,64}$' >>"$used" || true
done

if $prune; then
  # Untagged leaves not used by this run, repeatedly: removing a leaf makes its parent one.
  removed=0
  while :; do
    pass=0
    for id in $(bah images --all --no-trunc --filter dangling=true --format '{{.ID}}' | sed 's/^sha256://'); do
      if ! grep -q "^${id:0:11}" "$used" && bah rmi "$id" >/dev/null 2>&1; then pass=$((pass + 1)); fi
    done
    [ "$pass" -gt 0 ] || break
    removed=$((removed + pass))
  done
  echo "build: pruned $removed cached layers this run did not use"
fi
