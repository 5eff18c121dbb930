#!/usr/bin/env bash
# Installs the system programs the pipeline and its tests use, from Debian's packages:
# yt-dlp (metadata and captions), ffmpeg (media), espeak-ng (speech fixtures), kubectl
# (kustomize builds of knative/), buildah and debootstrap (the function images: a Debian base
# made locally, the Dockerfile built without a Docker engine; test/images), chromium (the web
# page's browser tests and screenshots, test/web, driven by puppeteer-core), libjemalloc2 (the
# allocator the images preload, which the benchmarks preload too). Safe to run again: it
# installs only what is missing.
set -euo pipefail
need=()
command -v yt-dlp >/dev/null || need+=(yt-dlp)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v kubectl >/dev/null || need+=(kubectl)
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libjemalloc2 >/dev/null 2>&1 || need+=(libjemalloc2)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
yt-dlp --version | sed 's/^/yt-dlp /'
ffmpeg -version | head -1
