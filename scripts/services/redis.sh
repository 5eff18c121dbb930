#!/usr/bin/env bash
# Redis for the rate limiter's tests: checks that one answers on 127.0.0.1:${REDIS_PORT:-6379}
# and, when none does, starts one in the background that keeps nothing on disk.
#
#   redis.sh start    use the running Redis, else start one (installing redis-server from Debian's packages if missing)
#   redis.sh status   "running <url>" and exit 0, or "stopped" and exit 3
set -euo pipefail
readonly PORT="${REDIS_PORT:-6379}"
readonly URL="redis://127.0.0.1:$PORT"

say() { printf 'redis.sh: %s\n' "$*" >&2; }

answers() {
  # PING over a plain TCP socket: no redis-cli needed to check.
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply=''
  read -r -t 2 reply <&3 || true
  exec 3>&-
  [[ $reply == +PONG* ]]
}

case "${1:-}" in
  status)
    if answers; then echo "running $URL"; else echo stopped; exit 3; fi
    ;;
  start)
    if answers; then
      say "Redis answers at $URL"
    else
      if ! command -v redis-server >/dev/null; then
        say "installing redis-server"
        sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq redis-server >/dev/null
      fi
      say "starting redis-server on 127.0.0.1:$PORT"
      redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir /tmp --logfile /tmp/ytrag-redis.log
      for _ in $(seq 50); do answers && break; sleep 0.1; done
      answers || { say "Redis did not start; see /tmp/ytrag-redis.log"; exit 1; }
    fi
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|status" >&2
    exit 2
    ;;
esac
