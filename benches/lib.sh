# Shared by the benchmark scripts that run a release `roost serve` with
# production settings on a fresh PostgreSQL database and Redis key prefix.
# Source it after setting BENCH (the script's name, for messages), PG and
# REDIS; it defines:
#
#   die MSG / log MSG      fail with, or print, a message on stderr
#   bench_store NAME       a fresh database roost_NAME_<pid> and Redis prefix
#                          NAME_<pid>:, a work directory, the server's
#                          environment in `server_env`, all removed at exit
#                          (after `bench_stop`, which a script may define)
#   bench_seed SCALE       seeds the database
#   free_port              prints a free loopback port
#   wait_healthy URL PID LOG   waits for /health, or prints LOG and dies
#
# shellcheck shell=bash

die() {
  echo "$BENCH: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

bench_stop() { :; }

bench_store() {
  psql "$PG" -qAtXc 'SELECT 1' >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at $PG (set BENCH_DATABASE_URL)"
  redis-cli -u "$REDIS" ping >/dev/null 2>&1 ||
    die "Redis does not answer at $REDIS (set BENCH_REDIS_URL)"
  work=$(mktemp -d)
  db="roost_$1_$$"
  db_url="${PG%/*}/$db"
  prefix="$1_$$:"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  psql "$PG" -qAtXc "CREATE DATABASE $db" >/dev/null
  server_env=(
    ROOST_ENV=production
    "JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    "DATABASE_URL=$db_url"
    "ROOST_DATA_DIR=$work/data"
    "REDIS_URL=$REDIS"
    "ROOST_REDIS_PREFIX=$prefix"
    ROOST_LOG_LEVEL=warn
    RUST_LOG=warn
  )
}

bench_cleanup() {
  bench_stop
  psql "$PG" -qAtXc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS" --scan --pattern "${prefix}*" 2>/dev/null |
    xargs -r -n 500 redis-cli -u "$REDIS" unlink >/dev/null 2>&1 || true
  rm -rf "$work"
}

# The seed refuses to run in production (its accounts share a published
# password), so it writes the database under development settings.
bench_seed() {
  log "seeding scale $1 into $db"
  env "${server_env[@]}" ROOST_ENV=development "$BIN" seed --scale "$1" >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

wait_healthy() {
  for _ in $(seq 1 150); do
    curl -fs "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  curl -fs "$1/health" >/dev/null 2>&1 && return 0
  cat "$3" >&2
  die "the server did not start on $1"
}
