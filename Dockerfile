# One Dockerfile for every function's image:
#
#   docker build --build-arg FUNCTION=indexer -t youtube-rag/indexer .
#   docker run --rm -p 8080:8080 youtube-rag/indexer          # GET :8080/health/ready
#
# FUNCTION is a folder of functions/ (api, discover, download, transcribe, indexer, dead-letter).
# BASE_IMAGE is any Debian trixie-based Node 24 image (node and npm on PATH, apt working), by
# default the official node:24-trixie-slim; scripts/images/base.sh makes a like one locally when
# no registry is reachable, and scripts/images/build.sh builds this file with buildah on it.
# Trixie because its backports carry a yt-dlp recent enough for YouTube: docs/images.md says
# which yt-dlp, which JavaScript runtime it uses and where its challenge solver comes from.
#
# The build stage installs the workspace from the lockfile and bundles the function with
# esbuild (scripts/images/bundle.mjs) into one ES module; the image then holds Node, that
# bundle and the few packages that ship native files (sqlite-vec's extension, the static
# ffmpeg), nothing else of the workspace: no pnpm, no sources, no dependencies the function
# does not import. yt-dlp and ffmpeg are only in the images of the functions that run them.
# The final image is one root filesystem made in the runtime-root stage and copied into an
# empty image: Node (stripped) with its libraries, a shell and coreutils for the functions
# without yt-dlp; the base's Debian without npm, headers and documentation for the two with it.
# The function runs as uid 1000 under tini, listening on PORT (8080).
ARG BASE_IMAGE=node:24-trixie-slim

FROM ${BASE_IMAGE} AS build
# Behind a TLS-intercepting proxy, the build (only) can be given its CA bundle: mount it and
# name it here, e.g. scripts/images/build.sh passes the host's NODE_EXTRA_CA_CERTS this way.
ARG NODE_EXTRA_CA_CERTS
ARG SSL_CERT_FILE
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# tini, to be PID 1: it passes signals on to Node and reaps what yt-dlp and ffmpeg leave.
# pnpm at the version the repository names (packageManager in package.json).
# binutils' strip, for the image's copy of Node (runtime-root below): without its symbol tables it
# is 109 MB instead of 127 MB; stack traces of JavaScript are V8's and keep their names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini binutils \
 && rm -rf /var/lib/apt/lists/* \
 && strip --strip-all -o /usr/local/bin/node.stripped "$(command -v node)" \
 && npm install --global --no-audit --no-fund --loglevel=error \
      "$(node -p "require('./package.json').packageManager")"
# (.dockerignore lets in only the workspace's manifests and sources and scripts/images.)
COPY . .
ARG FUNCTION
# The workspace from the lockfile, with pnpm's store in a cache mount (kept between builds,
# never in a layer), then the bundle, at /app as the image runs it, and V8's compile cache for it
# (one start of the function as the image's user, stopped once ready: a pod then skips compiling
# its JavaScript; Node keys the cache by path, user and its own version, which the stripped copy
# below shares). Few steps on purpose: buildah's vfs storage copies the
# whole image at each one.
RUN --mount=type=cache,id=youtube-rag-pnpm-store,target=/pnpm-store,sharing=locked \
    test -n "$FUNCTION" || { echo 'set --build-arg FUNCTION=<a folder of functions/>' >&2; exit 1; }; \
    YOUTUBE_DL_SKIP_DOWNLOAD=1 pnpm install --frozen-lockfile --prefer-offline --store-dir /pnpm-store --reporter=append-only \
 && node scripts/images/bundle.mjs "$FUNCTION" /app \
 && node scripts/images/compile-cache.mjs /app --user 1000:1000

# The runtime's root filesystem, assembled in /rootfs (scripts/images/runtime-root.sh): for the
# functions without yt-dlp, Node alone with the libraries it links, a shell and coreutils; for
# discover and download, the base's Debian with yt-dlp, less npm, headers and documentation.
FROM ${BASE_IMAGE} AS runtime-root
ARG FUNCTION
# yt-dlp only for the functions that run it: discover (playlists and channels) and download
# (metadata, captions, audio). Debian's, from trixie-backports: trixie's own (2025.04) predates
# the JavaScript challenges YouTube now sets, which yt-dlp (2025.11.12 on) solves with an
# external runtime; the image's Node 24 is that runtime (`--js-runtimes node`), so no Deno.
# Backports are added when the base lacks them (the official node:24-trixie-slim does; the
# local base has them). Without recommends: yt-dlp's Depends already bring what it uses
# (python3 with requests, urllib3, websockets, certifi, mutagen, pycryptodome); of the
# recommends, ffmpeg comes with the bundle and curl/wget/aria2 are downloaders never used
# (runs are --downloader native). See docs/images.md, also for the challenge solver's scripts.
# ffmpeg is not installed here: the function that runs it (download) imports the media
# package, whose static ffmpeg (@ffmpeg-installer) the bundle brings along, linked into /app/bin.
ARG DEBIAN_MIRROR=http://deb.debian.org/debian
# jemalloc for every function (ENV LD_PRELOAD below; IMAGE_JEMALLOC in scripts/images/bundle.mjs
# says why), put where the final image preloads it from.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && cp -L "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /usr/local/lib/libjemalloc.so.2 \
 && case "$FUNCTION" in \
      discover|download) ytdlp=true ;; \
      *) ytdlp=false ;; \
    esac \
 && if $ytdlp; then \
      . /etc/os-release \
      && if [ "$VERSION_CODENAME" != trixie ]; then \
           echo "BASE_IMAGE is Debian ${VERSION_CODENAME:-unknown}; yt-dlp comes from trixie-backports, so the base must be trixie" >&2; exit 1; \
         fi \
      && if ! grep -rqs 'trixie-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then \
           printf '%s\n' 'Types: deb' "URIs: $DEBIAN_MIRROR" 'Suites: trixie-backports' 'Components: main' \
             'Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp' >/etc/apt/sources.list.d/trixie-backports.sources; \
         fi \
      && apt-get update \
      && apt-get install -y --no-install-recommends -t trixie-backports ca-certificates yt-dlp \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && if ! id -u node >/dev/null 2>&1; then useradd --uid 1000 --user-group --create-home node; fi
COPY --from=build /usr/local/bin/node.stripped /usr/bin/tini-static /usr/local/lib/youtube-rag/
COPY scripts/images/runtime-root.sh /usr/local/lib/youtube-rag/
RUN case "$FUNCTION" in discover|download) mode=debian ;; *) mode=node ;; esac \
 && sh /usr/local/lib/youtube-rag/runtime-root.sh /rootfs "$mode" /usr/local/lib/youtube-rag/node.stripped /usr/local/lib/youtube-rag/tini-static /usr/local/lib/libjemalloc.so.2

# One layer: the root assembled above, nothing deleted underneath it.
FROM scratch
ARG FUNCTION
COPY --from=runtime-root /rootfs/ /
WORKDIR /app
# The embedded stores (used when no production store is configured) and yt-dlp's cache go to
# /tmp, so the image runs with a read-only root filesystem and /tmp as an emptyDir. NODE_OPTIONS
# caps V8's young generation, which a burst would otherwise leave at its largest; jemalloc,
# preloaded, gives back within a second what a burst freed (IMAGE_NODE_OPTIONS, IMAGE_JEMALLOC
# and IMAGE_MALLOC_CONF in scripts/images/bundle.mjs say why; test/images holds these the same).
ENV PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production \
    PORT=8080 \
    YOUTUBE_DL_SKIP_DOWNLOAD=1 \
    YOUTUBE_RAG__STORAGE__DIR=/tmp/youtube-rag \
    XDG_CACHE_HOME=/tmp/.cache \
    NODE_COMPILE_CACHE=/app/.node-compile-cache \
    NODE_OPTIONS=--max-semi-space-size=8 \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0
LABEL org.opencontainers.image.title="youtube-rag ${FUNCTION}" \
      org.opencontainers.image.description="youtube-rag's ${FUNCTION} function (Knative Service, CloudEvents over HTTP)" \
      io.youtube-rag.function="${FUNCTION}"
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tini", "--"]
CMD ["node", "/app/main.mjs"]
# Numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
# Last, so that a change of the sources rebuilds only these layers. Owned by root, like /app
# itself (made above, before USER): read-only to the function's user.
COPY --from=build /app/ ./
