#!/usr/bin/env bash
# buildah with the project's image storage (see common.sh), e.g.
#   bash scripts/images/buildah.sh images
#   bash scripts/images/buildah.sh push localhost/youtube-rag/indexer:local docker-archive:/tmp/indexer.tar
set -euo pipefail
source "$(dirname "$0")/common.sh"
bah "$@"
