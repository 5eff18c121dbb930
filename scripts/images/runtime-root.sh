#!/bin/sh
# Assembles a function image's root filesystem in a folder, inside the Dockerfile's runtime-root
# stage (as root, on the base image). The final image is that folder copied whole into an empty
# image: what is left out here weighs nothing, unlike files deleted in a later layer.
#
#   sh runtime-root.sh <out> node   <node> <tini> <jemalloc>   # Node alone (api, dead-letter, indexer, transcribe)
#   sh runtime-root.sh <out> debian <node> <tini> <jemalloc>   # the base's Debian, for yt-dlp's Python (discover, download)
#
# `node` mode holds Node and the shared libraries it links, a POSIX shell (dash) and coreutils
# (for `kubectl exec` and the image tests), the user and group files and /tmp: no package
# manager, no Python, no npm. `debian` mode is the whole base (with the yt-dlp installed in this
# stage) less npm, corepack, Node's C headers, documentation, manuals, locales and apt's lists.
# Both take <node> (the base's Node, stripped of its symbol tables by the build stage), <tini>
# and <jemalloc> (the allocator the image preloads, put at /usr/local/lib/libjemalloc.so.2).
set -eu
out=$1 mode=$2 node=$3 tini=$4 jemalloc=$5
# The library folder's name (x86_64-linux-gnu, aarch64-linux-gnu): where Node's libc is.
multiarch=$(basename "$(dirname "$(readlink -f "$(ldd "$node" | grep -o '/[^ ]*/libc\.so[^ ]*')")")")

# Copies a file to the same canonical path under $out (Debian is usr-merged: /lib is usr/lib).
place() {
  source=$(readlink -f "$1")
  mkdir -p "$out$(dirname "$source")"
  cp -p "$source" "$out$source"
}

# Every shared library an executable or library links (ldd's answer, recursively resolved by
# ldd itself), copied under the name it is linked by, in the library folder.
place_libraries() {
  ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r library; do
    target="$out/usr/lib/$multiarch/$(basename "$library")"
    case "$library" in */ld-linux*) target="$out$(readlink -f "$library")" ;; esac
    [ -e "$target" ] || { mkdir -p "$(dirname "$target")"; cp -pL "$library" "$target"; }
  done
}

rm -rf "$out"
mkdir -p "$out"
case "$mode" in
  node)
    mkdir -p "$out/usr/bin" "$out/usr/sbin" "$out/usr/lib/$multiarch" "$out/usr/lib64" "$out/etc" "$out/usr/local/bin"
    for link in bin sbin lib lib64; do ln -s "usr/$link" "$out/$link"; done
    # The programs of dash and coreutils, without their documentation, and without the few
    # that would bring a library of their own for what a function's container never does:
    # checksums (libcrypto, 6.5 MB) and reading login records (libsystemd).
    dpkg -L dash coreutils | while read -r path; do
      case "$path" in /usr/share/*) continue ;; esac
      if [ -f "$path" ] && [ ! -L "$path" ] && ! ldd "$path" 2>/dev/null | grep -qE 'libcrypto|libsystemd'; then place "$path"; fi
    done
    ln -sf dash "$out/usr/bin/sh"
    # The loader where the x86-64 ABI puts it (/lib64 → usr/lib64).
    for loader in /lib64/ld-linux-*.so.*; do [ -e "$loader" ] && ln -sf "../lib/$multiarch/$(basename "$(readlink -f "$loader")")" "$out/usr/lib64/$(basename "$loader")"; done
    ;;
  debian)
    # Not the output, nor this script's folder, where the stage put the stripped Node and tini.
    tar -C / --one-file-system \
      --exclude=./proc --exclude=./sys --exclude=./dev --exclude=".$out" --exclude=".$(dirname "$(readlink -f "$0")")" \
      --exclude=./usr/local/lib/node_modules --exclude=./usr/local/include --exclude=./usr/local/share \
      --exclude=./usr/local/bin/npm --exclude=./usr/local/bin/npx --exclude=./usr/local/bin/corepack \
      --exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/info --exclude=./usr/share/locale \
      --exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*' --exclude='./var/log/*' --exclude='./tmp/*' \
      -cf - . | tar -C "$out" -xpf -
    mkdir -p "$out/proc" "$out/sys" "$out/dev"
    ;;
  *)
    echo "runtime-root.sh: mode is node or debian, not $mode" >&2
    exit 2
    ;;
esac

mkdir -p "$out/usr/local/bin" "$out/usr/local/lib"
cp "$node" "$out/usr/local/bin/node"
cp "$tini" "$out/usr/local/bin/tini"
cp -L "$jemalloc" "$out/usr/local/lib/libjemalloc.so.2"

# The function's user (uid 1000, as the manifests' runAsUser), its home, and a /tmp anyone may use.
if [ "$mode" = node ]; then
  for executable in "$out"/usr/bin/* "$out"/usr/local/bin/* "$out/usr/local/lib/libjemalloc.so.2"; do
    if [ -f "$executable" ] && [ ! -L "$executable" ]; then place_libraries "$executable"; fi
  done
  printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' 'node:x:1000:1000::/home/node:/usr/sbin/nologin' >"$out/etc/passwd"
  printf '%s\n' 'root:x:0:' 'node:x:1000:' >"$out/etc/group"
  mkdir -p "$out/root"
fi
mkdir -p "$out/home/node" "$out/tmp"
chown 1000:1000 "$out/home/node"
chmod 1777 "$out/tmp"
