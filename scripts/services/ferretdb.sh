#!/usr/bin/env bash
# FerretDB (a MongoDB wire-protocol server) for the MongoDB adapter's tests, on a machine with
# no Docker: built from source with Go, run in the background on loopback.
#
#   ferretdb.sh start    build FerretDB if needed, start it, wait until it answers; prints the URL
#   ferretdb.sh stop     stop the FerretDB this script started
#   ferretdb.sh status   "running <url> (pid N)" and exit 0, or "stopped" and exit 3
#   ferretdb.sh url      prints mongodb://127.0.0.1:27117/
#
# `start` is idempotent and safe to run from several test runs at once (a lock serialises
# them); a second `start` reuses the running server. Non-interactive; runs as root or not.
#
# The backend is FerretDB's SQLite one (a file per database under $FERRETDB_STATE_DIR/sqlite):
# since FerretDB 1.10.1 it is supported on par with PostgreSQL, the MongoDB adapter's tests pass
# on both, and it needs nothing else on the machine. The PostgreSQL backend needs a role that can
# log in over TCP without a password, which a fresh Debian's pg_hba.conf (scram-sha-256 on
# 127.0.0.1) does not give; FERRETDB_HANDLER=postgresql uses it where trust auth is set up.
#
# Environment (all optional):
#   FERRETDB_PORT             listen port on 127.0.0.1 (27117, so a real MongoDB on 27017 is left alone)
#   FERRETDB_HANDLER          backend: sqlite (default) or postgresql
#   FERRETDB_POSTGRESQL_URL   postgres://postgres@127.0.0.1:5432/ferretdb (the database is created if missing)
#   FERRETDB_STATE_DIR        log, pid, SQLite files and build tree: /tmp/ytrag-ferretdb
#   FERRETDB_BIN              the binary: $(go env GOBIN), else $(go env GOPATH)/bin, + /ferretdb
#   FERRETDB_START_TIMEOUT    seconds to wait for the port once started (30)
#   GO                        the go command (go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

readonly VERSION=v1.24.2
readonly MODULE=github.com/FerretDB/FerretDB
readonly HOST=127.0.0.1
readonly PORT="${FERRETDB_PORT:-27117}"
readonly HANDLER="${FERRETDB_HANDLER:-sqlite}"
readonly PG_URL="${FERRETDB_POSTGRESQL_URL:-postgres://postgres@127.0.0.1:5432/ferretdb}"
readonly STATE_DIR="${FERRETDB_STATE_DIR:-/tmp/ytrag-ferretdb}"
readonly START_TIMEOUT="${FERRETDB_START_TIMEOUT:-30}"
readonly LOG_FILE="$STATE_DIR/ferretdb.log"
readonly PID_FILE="$STATE_DIR/ferretdb.pid"
readonly URL="mongodb://$HOST:$PORT/"

say() { printf 'ferretdb.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

log_tail() {
  if [[ -s $LOG_FILE ]]; then
    say "last lines of $LOG_FILE:"
    tail -n 20 "$LOG_FILE" >&2
  fi
}

go_cmd() {
  if [[ -n ${GO:-} ]]; then
    printf '%s\n' "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    die "Go is needed to build FerretDB $VERSION: install it (https://go.dev/doc/install) or set GO=/path/to/go"
  fi
}

ferretdb_bin() {
  if [[ -n ${FERRETDB_BIN:-} ]]; then
    printf '%s\n' "$FERRETDB_BIN"
    return
  fi
  # Where `go install` would put it.
  local go dir=''
  if go=$(go_cmd 2>/dev/null); then
    dir=$("$go" env GOBIN)
    [[ -n $dir ]] || dir="$("$go" env GOPATH | cut -d: -f1)/bin"
  fi
  printf '%s/ferretdb\n' "${dir:-${HOME:-/root}/go/bin}"
}

port_open() {
  # bash's /dev/tcp: no nc or curl needed. A subshell, so the descriptor closes at once.
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

# The pid of the FerretDB this script started, if that process is still alive.
our_pid() {
  [[ -s $PID_FILE ]] || return 1
  local pid
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A recycled pid belongs to something else: only trust it if it is still a ferretdb.
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *ferretdb* ]] || return 1
  printf '%s\n' "$pid"
}

# The pid of whatever listens on the port, when `ss` can tell.
listener_pid() {
  command -v ss >/dev/null 2>&1 || return 1
  ss -Hltnp "sport = :$PORT" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1 | grep .
}

# A plain `go install …@$VERSION` builds a binary that panics at start-up ("Invalid
# build/version/version.txt file content"): FerretDB's own builds generate that file, and the
# module zip has none. So the module's source is copied, the file written, and the copy built.
build_ferretdb() {
  local bin=$1 go dir src
  go=$(go_cmd)
  say "building FerretDB $VERSION with $("$go" version | cut -d' ' -f3) into $bin (a few minutes the first time; log: $STATE_DIR/build.log)"
  if ! dir=$(cd "$STATE_DIR" && GOFLAGS=-mod=mod "$go" mod download -json "$MODULE@$VERSION" 2>>"$STATE_DIR/build.log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || [[ -z $dir || ! -d $dir ]]; then
    tail -n 20 "$STATE_DIR/build.log" >&2 || true
    die "could not download $MODULE@$VERSION (is the Go module proxy reachable?)"
  fi
  src="$STATE_DIR/build/FerretDB-$VERSION"
  rm -rf "$src"
  mkdir -p "$src" "$(dirname "$bin")"
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  printf '%s\n' "$VERSION" >"$src/build/version/version.txt"
  # -buildvcs=false: the copy is no repository, and a parent one must not leak its commit in.
  if ! (cd "$src" && GOFLAGS=-buildvcs=false "$go" build -trimpath -o "$bin.tmp.$$" ./cmd/ferretdb) >>"$STATE_DIR/build.log" 2>&1; then
    rm -f "$bin.tmp.$$"
    tail -n 30 "$STATE_DIR/build.log" >&2 || true
    die "building FerretDB $VERSION failed (full log: $STATE_DIR/build.log)"
  fi
  mv -f "$bin.tmp.$$" "$bin"
  rm -rf "$STATE_DIR/build"
}

# Whether the binary says it is $VERSION. Its output is read whole first: `… | grep -q` under
# pipefail fails when grep exits at the first match and the binary then dies writing the rest.
reports_version() {
  local output
  output=$("$1" --version 2>/dev/null) || return 1
  grep -qx "version: $VERSION" <<<"$output"
}

ensure_binary() {
  local bin
  bin=$(ferretdb_bin)
  # `--version` also catches the broken binary a plain `go install` leaves behind.
  if [[ -x $bin ]] && reports_version "$bin"; then
    printf '%s\n' "$bin"
    return
  fi
  build_ferretdb "$bin"
  reports_version "$bin" || die "$bin was built but does not report version $VERSION"
  printf '%s\n' "$bin"
}

prepare_postgresql() {
  command -v psql >/dev/null 2>&1 || die "psql not found: install postgresql-client, or use FERRETDB_HANDLER=sqlite"
  # The URL's path names the database; the server is reached through the maintenance database.
  local database=${PG_URL##*/}
  database=${database%%\?*}
  [[ $database =~ ^[A-Za-z0-9_]+$ ]] || die "unexpected database name '$database' in FERRETDB_POSTGRESQL_URL"
  local admin_url="${PG_URL%/*}/postgres"
  if ! psql "$admin_url" -XtAqc 'SELECT 1' >/dev/null 2>"$STATE_DIR/psql.err"; then
    cat "$STATE_DIR/psql.err" >&2
    die "PostgreSQL is not reachable at ${admin_url}: start it, or use FERRETDB_HANDLER=sqlite"
  fi
  if [[ -z $(psql "$admin_url" -XtAqc "SELECT 1 FROM pg_database WHERE datname = '$database'") ]]; then
    say "creating PostgreSQL database $database"
    psql "$admin_url" -XtAqc "CREATE DATABASE \"$database\"" >/dev/null
  fi
}

backend_flags() {
  case $HANDLER in
    postgresql)
      prepare_postgresql
      printf '%s\n' --handler=postgresql "--postgresql-url=$PG_URL"
      ;;
    sqlite)
      mkdir -p "$STATE_DIR/sqlite"
      printf '%s\n' --handler=sqlite "--sqlite-url=file:$STATE_DIR/sqlite/"
      ;;
    *) die "FERRETDB_HANDLER must be postgresql or sqlite, not '$HANDLER'" ;;
  esac
}

start() {
  mkdir -p "$STATE_DIR"
  # Several test runs may start at once: one builds and starts, the others wait and reuse it.
  exec 9>"$STATE_DIR/start.lock"
  flock -w 900 9 || die "timed out waiting for another ferretdb.sh start (lock $STATE_DIR/start.lock)"

  local pid
  if pid=$(our_pid) && port_open; then
    printf '%s\n' "$URL"
    return 0
  fi
  if port_open; then
    # Someone else's server on the port: reuse it if it is a FerretDB, never start a second one.
    if pid=$(listener_pid) && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *ferretdb* ]]; then
      printf '%s\n' "$pid" >"$PID_FILE"
      say "reusing the FerretDB already listening on $HOST:$PORT (pid $pid)"
      printf '%s\n' "$URL"
      return 0
    fi
    die "$HOST:$PORT is taken by another program${pid:+ (pid $pid)}; set FERRETDB_PORT to use another port"
  fi
  if pid=$(our_pid); then
    # Alive but not listening: a start-up that hung, or a server gone bad. Start afresh.
    say "FerretDB (pid $pid) is not listening on $HOST:$PORT; restarting it"
    stop_pid "$pid"
  fi

  local bin flags
  bin=$(ensure_binary)
  mapfile -t flags < <(backend_flags)
  ((${#flags[@]})) || exit 1
  mkdir -p "$STATE_DIR/state"
  printf '\n==== %s starting FerretDB %s (%s) on %s:%s\n' "$(date -u +%FT%TZ)" "$VERSION" "$HANDLER" "$HOST" "$PORT" >>"$LOG_FILE"
  # setsid: its own session, so Ctrl-C in the terminal that ran the tests does not stop it.
  # 9>&-: the lock must not live on in the server. --debug-addr=-: no second port (8088) to clash.
  # ERROR: at INFO and WARN it logs every connection and every unknown command (endSessions).
  setsid "$bin" "${flags[@]}" \
    "--listen-addr=$HOST:$PORT" \
    "--state-dir=$STATE_DIR/state" \
    --debug-addr=- \
    --telemetry=disable \
    --log-level=ERROR \
    </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail
      die "FerretDB exited during start-up (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail
      stop_pid "$pid"
      rm -f "$PID_FILE"
      die "FerretDB (pid $pid) did not accept connections on $HOST:$PORT within ${START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.1
  done
  say "FerretDB $VERSION ($HANDLER) is up on $HOST:$PORT (pid $pid, log $LOG_FILE)"
  printf '%s\n' "$URL"
}

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "FerretDB (pid $pid) did not stop within 10s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local pid
  if pid=$(our_pid); then
    stop_pid "$pid"
    say "stopped FerretDB (pid $pid)"
  else
    say "FerretDB is not running"
  fi
  rm -f "$PID_FILE"
}

status() {
  local pid
  if pid=$(our_pid) && port_open; then
    printf 'running %s (pid %s)\n' "$URL" "$pid"
  else
    printf 'stopped\n'
    return 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) printf '%s\n' "$URL" ;;
  *)
    printf 'usage: %s start|stop|status|url\n' "$0" >&2
    exit 2
    ;;
esac
