#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker) once, from the Prometheus Go module through the Go
# module proxy, into a cache outside the checkout; later runs find it there and do nothing.
# Prints the binary's path. test/monitoring/rules.test.ts runs it (PROMTOOL, or this path).
# The first build takes a few minutes (the module has many dependencies).
set -euo pipefail
# Prometheus v3.x is published as Go module versions v0.3xx.y of github.com/prometheus/prometheus.
version="${PROMTOOL_MODULE_VERSION:-v0.316.0}"
dir="${PROMTOOL_CACHE_DIR:-/var/tmp/ytrag-tools}/promtool-${version}"
if [ ! -x "$dir/promtool" ]; then
  go="$(command -v go || echo /usr/local/go/bin/go)"
  mkdir -p "$dir"
  GOBIN="$dir" GOFLAGS=-mod=mod "$go" install "github.com/prometheus/prometheus/cmd/promtool@${version}" >&2
fi
echo "$dir/promtool"
