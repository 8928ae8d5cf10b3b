#!/usr/bin/env bash
# Hostile clients at bounded rates against a release `roost serve` with
# production settings on a freshly seeded PostgreSQL database and Redis,
# while a bystander runs an ordinary search page: the server's memory and
# open file descriptors, sampled every second, and the bystander's latency
# (benches/hostile.py says what each attack sends). Writes
# benches/results/hostile.json and prints the figures docs/SECURITY.md
# keeps.
#
#   benches/hostile.sh [DURATION=60]
#
# Environment (all optional):
#   SCALE=0.1        the seeded dataset (500 listings)
#   BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres): a
#                    PostgreSQL URL whose user may create databases; a fresh
#                    one, roost_hostile_<pid>, is made and dropped at exit
#   BENCH_REDIS_URL (redis://127.0.0.1:6379): keys go under
#                    hostile_<pid>: and are deleted at exit
#
# The attackers and the bystander all connect over loopback; the server
# trusts the loopback proxy, so each attack's X-Forwarded-For is its client
# address and the per-IP limits apply to each as they would in production.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-60}
SCALE=${SCALE:-0.1}
PG=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
BIN="${CARGO_TARGET_DIR:-target}/release/roost"
OUT="benches/results/hostile.json"

BENCH=hostile.sh
# shellcheck source=benches/lib.sh
. benches/lib.sh

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a whole number of seconds, not $DURATION"
for tool in psql redis-cli jq curl python3; do
  command -v "$tool" >/dev/null || die "$tool is needed and not installed"
done
# Slow and trickling connections need descriptors on this side too.
ulimit -n 4096 2>/dev/null || true

log "building the release binary"
cargo build --release --quiet
[ -x "$BIN" ] || die "no binary at $BIN after the build"

pid=""
bench_stop() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; }
bench_store hostile
server_env+=(ROOST_TRUSTED_PROXIES=127.0.0.1)
bench_seed "$SCALE"
city=$(psql "$db_url" -qAtXc "SELECT city FROM properties WHERE status = 'LISTED' GROUP BY city ORDER BY count(*) DESC, city LIMIT 1")

port=$(free_port)
env "${server_env[@]}" ROOST_BIND="127.0.0.1:$port" "$BIN" serve >"$work/server.log" 2>&1 &
pid=$!
wait_healthy "http://127.0.0.1:$port" "$pid" "$work/server.log"

log "attacking for ${DURATION}s (bystander: a search page in $city)"
python3 benches/hostile.py "$port" "$pid" "$city" "$DURATION" >"$work/report.json"
kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server died under the attack"; }
redis_bytes=$(redis-cli -u "$REDIS" --scan --pattern "${prefix}*" | while read -r key; do
  redis-cli -u "$REDIS" memory usage "$key"
done | awk '{ s += $1 } END { print s + 0 }')

jq --arg machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)" \
  --arg date "$(date -u +%F)" --argjson redis "$redis_bytes" --arg scale "$SCALE" \
  '. + { machine: $machine, date: $date, scale: $scale, redis_bytes_after: $redis }' \
  "$work/report.json" >"$OUT"

jq -r '
  "| figure | value | goal |",
  "| --- | --- | --- |",
  "| server RSS, before / peak | \(.baseline.rss_mib) / \(.max_rss_mib) MiB | under 150 MiB |",
  "| open descriptors, before / peak | \(.baseline.fds) / \(.max_fds) | under 200 |",
  "| bystander p50 / p99 (\(.bystander.requests) searches, \(.bystander.failed) failed) | \(.bystander.p50_ms) / \(.bystander.p99_ms) ms | p99 under 50 ms |",
  "| bystander p99 by 10 s window | \([.bystander.windows[].p99_ms] | map(tostring) | join(", ")) ms | |",
  "| Redis under the run'"'"'s prefix afterwards | \(.redis_bytes_after) bytes | bounded |",
  "",
  "| attack | answers |",
  "| --- | --- |",
  (.attacks | to_entries[] | "| \(.key) | \(.value | to_entries | map("\(.key): \(.value)") | join(", ")) |")
' "$OUT"
