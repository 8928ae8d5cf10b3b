#!/usr/bin/env bash
# The subscription benchmark: a release `roost serve` with production
# settings (PostgreSQL and Redis when reachable, else the embedded default),
# SUBSCRIBERS WebSocket clients following hostBookingEvents, and EVENTS
# bookings that each fan out to all of them. Prints and writes
# benches/results/subscriptions.json.
#
#   benches/subscriptions.sh [SUBSCRIBERS=5000] [EVENTS=20]
#
# BENCH_DATABASE_URL / BENCH_REDIS_URL choose the servers (a PostgreSQL URL
# whose user may create databases; a fresh database is made and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."

SUBSCRIBERS=${1:-5000}
EVENTS=${2:-20}
PG=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}

# Client and server each hold one descriptor per connection.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release --quiet
cargo bench --no-run --quiet --bench subscribers

data=$(mktemp -d)
port=$((18000 + RANDOM % 1000))
db=""
env_vars=(
  ROOST_ENV=production
  "JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
  ROOST_BIND="127.0.0.1:$port"
  ROOST_DATA_DIR="$data"
  ROOST_SERVE_RUNS_WORKER=true
  ROOST_LOG_LEVEL=warn
  RUST_LOG=warn
  # One address and one account open every socket here: the bounds per
  # address and per account, and the per-IP rate limit, are off.
  ROOST_WS_MAX_SOCKETS_PER_IP=0
  ROOST_WS_MAX_SOCKETS_PER_USER=0
  ROOST_RATE_LIMIT_IP_PER_SECOND=0
)
if command -v psql >/dev/null && psql "$PG" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  db="roost_bench_subs_$$"
  psql "$PG" -qc "CREATE DATABASE $db"
  env_vars+=("DATABASE_URL=${PG%/*}/$db")
  backend="PostgreSQL"
else
  backend="SQLite"
fi
if command -v redis-cli >/dev/null && redis-cli -u "$REDIS" ping >/dev/null 2>&1; then
  env_vars+=("REDIS_URL=$REDIS" "ROOST_REDIS_PREFIX=bench_$$:")
  backend="$backend + Redis"
fi

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$db" ] && psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$data"
}
trap cleanup EXIT

env "${env_vars[@]}" "${CARGO_TARGET_DIR:-target}/release/roost" serve &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done

mkdir -p benches/results
echo "== $SUBSCRIBERS subscribers, $EVENTS events, $backend"
cargo bench --quiet --bench subscribers -- \
  --url "http://127.0.0.1:$port" --pid "$pid" \
  --subscribers "$SUBSCRIBERS" --events "$EVENTS" \
  --out benches/results/subscriptions.json
