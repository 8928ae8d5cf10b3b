#!/usr/bin/env bash
# The load benchmark: the reference workload's operations (Q1-Q4 and M1 of
# the workload definition; docs/BENCHMARKS.md) against a release
# `roost serve` with production settings on a freshly seeded PostgreSQL
# database and Redis. Each operation is first checked against the database,
# then warmed up, then measured at a fixed concurrency: requests per second,
# p50 and p99 latency, errors, SQL statements per request, and the server's
# memory. The whole measurement runs twice: response cache off, then on.
# Prints a table and writes benches/results/load-scale<SCALE>.json.
#
#   benches/load.sh [SCALE=1]
#
# Environment (all optional):
#   DURATION=10      seconds each operation is measured
#   WARMUP=3         seconds each operation is warmed up first
#   CONCURRENCY=32   connections kept busy
#   OPS="Q1 Q1_100 Q2 Q3 Q4 M1"   which operations (M1 is left out above
#                    scale 1 unless named)
#   CACHE_MODES="off on"          which response cache modes
#   CITY=...         the city of Q1 and Q3 (default: the one with the most
#                    listings)
#   BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres): a
#                    PostgreSQL URL whose user may create databases; a fresh
#                    one, roost_bench_<pid>, is made and dropped at exit
#   BENCH_REDIS_URL (redis://127.0.0.1:6379): keys go under bench_<pid>:
#                    and are deleted at exit
#
# Load generators: oha (installed with `cargo install oha --locked` when
# missing) sends Q1-Q4, whose request is the same every time. M1 cannot
# repeat one body: every createBooking must ask for a different free stay.
# It runs under wrk with benches/createbooking.lua, which sends a distinct
# pre-computed stay per request and counts answers carrying GraphQL errors.
# wrk (a distribution package) and a Lua file were chosen over a Rust client
# in benches/: nothing more to compile or maintain, and a C event loop that
# costs the two shared cores less than the server it measures. Both tools
# keep CONCURRENCY connections busy (closed loop), so their figures compare.

# GraphQL and jq variables are written $name in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${1:-1}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-32}
CACHE_MODES=${CACHE_MODES:-off on}
PG=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
BIN="${CARGO_TARGET_DIR:-target}/release/roost"
OUT="benches/results/load-scale${SCALE}.json"
if [ -z "${OPS:-}" ]; then
  if awk -v s="$SCALE" 'BEGIN { exit !(s <= 1) }'; then
    OPS="Q1 Q1_100 Q2 Q3 Q4 M1"
  else
    OPS="Q1 Q1_100 Q2 Q3"
  fi
fi
# Requests per second of WORKLOAD.md's first column (an engine that
# compiles each request to one SQL statement), measured the same way.
# They are for scale 1: at another scale there is nothing to compare with.
REFERENCE='{"Q1": 990, "Q2": 1040, "Q3": 510, "Q4": 1860}'
awk -v s="$SCALE" 'BEGIN { exit !(s == 1) }' || REFERENCE='{}'

BENCH=load.sh
# shellcheck source=benches/lib.sh
. benches/lib.sh

[[ $SCALE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SCALE must be a number, not $SCALE"
for n in DURATION WARMUP CONCURRENCY; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a whole number of at least 1, not ${!n}"
done

# ---------------------------------------------------------------- tools
export PATH="$HOME/.cargo/bin:$PATH"
for tool in psql redis-cli jq curl awk; do
  command -v "$tool" >/dev/null || die "$tool is needed and not installed"
done
if ! command -v oha >/dev/null; then
  log "installing oha (cargo install oha --locked)"
  cargo install oha --locked
fi
if [[ " $OPS " == *" M1 "* ]] && ! command -v wrk >/dev/null; then
  log "installing wrk"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    sudo apt-get install -y wrk >/dev/null
  fi
  command -v wrk >/dev/null || die "could not install wrk (needed for M1; or leave M1 out of OPS)"
fi
# oha 1.x names its JSON switch --output-format json; older ones -j. With
# -w the requests in flight at the deadline finish instead of counting as
# errors ("aborted due to deadline").
oha_help=$(oha --help 2>/dev/null)
if grep -q -- '--output-format' <<<"$oha_help"; then
  OHA_ARGS=(--output-format json)
else
  OHA_ARGS=(-j)
fi
grep -q -- '--wait-ongoing-requests-after-deadline' <<<"$oha_help" && OHA_ARGS+=(-w)

log "building the release binary"
cargo build --release --quiet
[ -x "$BIN" ] || die "no binary at $BIN after the build"

# ---------------------------------------------------------------- setup
port=""
pid=""
sampler=""

stop_server() {
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=""
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
bench_stop() { stop_server; }
bench_store bench

# A query on the bench database: SQL on stdin, psql variables as -v name=value.
q() { psql "$db_url" -qAtX -v ON_ERROR_STOP=1 "$@"; }

# SQL for the global id of a row, as the API writes it:
# base64url("<Type>:<uuid>") without padding; and back to the uuid.
gid() {
  printf "translate(rtrim(replace(encode(convert_to('%s:' || (%s)::text, 'UTF8'), 'base64'), chr(10), ''), '='), '+/', '-_')" "$1" "$2"
}
ungid() {
  echo "split_part(convert_from(decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64'), 'UTF8'), ':', 2)::uuid"
}

bench_seed "$SCALE"

# pg_stat_statements counts every statement the server sends, when the
# library is preloaded; else the server's own counter does.
stats_source="server"
if [ "$(psql "$PG" -qAtXc "SELECT current_setting('shared_preload_libraries') ~ 'pg_stat_statements'")" = t ] &&
  q -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null 2>&1; then
  stats_source="pg_stat_statements"
else
  cat >&2 <<'EOF'
== pg_stat_statements is not preloaded: statements per request come from the
   server's own counter (roost_db_statements_total in /metrics). To count them
   in PostgreSQL instead:
     ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';
   then restart PostgreSQL.
EOF
fi

# ---------------------------------------------------------------- operations
today=$(date -u +%F)
city=${CITY:-$(q <<'SQL'
SELECT city FROM properties WHERE status = 'LISTED' AND deleted_at IS NULL
GROUP BY city ORDER BY count(*) DESC, city LIMIT 1
SQL
)}
[ -n "$city" ] || die "the seeded database has no listed property"
stay_in=$(date -u -d "$today + 30 days" +%F)
stay_out=$(date -u -d "$today + 35 days" +%F)
property_id=$(q <<'SQL'
SELECT p.id FROM properties p JOIN reviews r ON r.property_id = p.id
WHERE p.status = 'LISTED' AND p.deleted_at IS NULL
GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1
SQL
)
[ -n "$property_id" ] || die "the seeded database has no reviewed listing"
user_id=$(q <<<"SELECT id FROM users ORDER BY id OFFSET (SELECT count(*) / 2 FROM users) LIMIT 1")
property_gid=$(q <<<"SELECT $(gid Property "'$property_id'")")
user_gid=$(q <<<"SELECT $(gid User "'$user_id'")")
guest_email=guest1@example.com
guest_password='password123!'

listing_fields='id title pricePerNight { amount currency } location { city } host { id firstName }'
q1_query="query Q1(\$city: String!, \$first: Int!) { properties(filter: {city: \$city}, orderBy: PRICE_ASC, first: \$first) { nodes { $listing_fields rating { average count } } } }"
q2_query='query Q2($id: ID!) { property(id: $id) { id amenities { name } host { firstName listings { totalCount } } reviews(first: 10) { nodes { rating comment author { firstName } } } } }'
q3_query="query Q3(\$city: String!, \$checkIn: Date!, \$checkOut: Date!) { properties(filter: {city: \$city, guests: 2, checkIn: \$checkIn, checkOut: \$checkOut}, orderBy: PRICE_ASC, first: 20) { nodes { $listing_fields } } }"
q4_query='query Q4($id: ID!) { user(id: $id) { firstName lastName } }'
m1_query='mutation M1($input: CreateBookingInput!) { createBooking(input: $input) { id status checkIn checkOut } }'

body_of() {
  case "$1" in
    Q1) jq -nc --arg q "$q1_query" --arg city "$city" '{query: $q, variables: {city: $city, first: 20}}' ;;
    Q1_100) jq -nc --arg q "$q1_query" --arg city "$city" '{query: $q, variables: {city: $city, first: 100}}' ;;
    Q2) jq -nc --arg q "$q2_query" --arg id "$property_gid" '{query: $q, variables: {id: $id}}' ;;
    Q3) jq -nc --arg q "$q3_query" --arg city "$city" --arg i "$stay_in" --arg o "$stay_out" \
      '{query: $q, variables: {city: $city, checkIn: $i, checkOut: $o}}' ;;
    Q4) jq -nc --arg q "$q4_query" --arg id "$user_gid" '{query: $q, variables: {id: $id}}' ;;
    *) die "no body for $1" ;;
  esac
}

url=""
token=""
guest_id=""

post() {
  local auth=()
  [ "${2:-}" = signed-in ] && auth=(-H "Authorization: Bearer $token")
  curl -sS --max-time 30 -H 'Content-Type: application/json' "${auth[@]}" --data "$1" "$url/graphql"
}

# Checks one answer of each operation against the database.
fail_check() {
  echo "load.sh: $1 answered wrongly: $2" >&2
  echo "  expected: $3" >&2
  echo "  got:      $4" >&2
  exit 1
}
no_errors() {
  jq -e 'has("errors") | not' >/dev/null <<<"$2" || fail_check "$1" "GraphQL errors" "none" "$2"
}

# What Q1 returns: listed properties of the city, cheapest first.
expected_q1() {
  q -v city="$city" -v n="$1" <<SQL
SELECT coalesce(string_agg(g, ',' ORDER BY price_cents, id), '') FROM (
  SELECT $(gid Property id) AS g, price_cents, id FROM properties
  WHERE search_city = lower(trim(:'city')) AND status = 'LISTED' AND deleted_at IS NULL
  ORDER BY price_cents, id LIMIT :n) page
SQL
}

check() {
  local op=$1 resp expected got
  case "$op" in
    Q1 | Q1_100)
      local n=20
      [ "$op" = Q1_100 ] && n=100
      resp=$(post "$(body_of "$op")")
      no_errors "$op" "$resp"
      expected=$(expected_q1 "$n")
      got=$(jq -r '[.data.properties.nodes[].id] | join(",")' <<<"$resp")
      if [ -z "$expected" ] || [ "$got" != "$expected" ]; then
        fail_check "$op" "ids in price order, $city" "$expected" "$got"
      fi
      ;;
    Q2)
      resp=$(post "$(body_of Q2)")
      no_errors Q2 "$resp"
      expected=$(q -v id="$property_id" <<'SQL'
SELECT (SELECT coalesce(string_agg(a.name, '|' ORDER BY a.position), '')
          FROM property_amenities pa JOIN amenities a ON a.code = pa.amenity_code
         WHERE pa.property_id = p.id)
    || ' / ' || u.first_name || ' '
    || (SELECT count(*) FROM properties h
         WHERE h.host_id = p.host_id AND h.status = 'LISTED' AND h.deleted_at IS NULL)
    || ' / ' || (SELECT coalesce(string_agg(r.rating || ':' || a.first_name, ',' ORDER BY r.created_at DESC, r.id DESC), '')
                   FROM (SELECT * FROM reviews WHERE property_id = p.id
                          ORDER BY created_at DESC, id DESC LIMIT 10) r
                   JOIN users a ON a.id = r.author_id)
FROM properties p JOIN users u ON u.id = p.host_id WHERE p.id = :'id'
SQL
      )
      got=$(jq -r '.data.property | ([.amenities[].name] | join("|")) + " / "
        + .host.firstName + " " + (.host.listings.totalCount | tostring) + " / "
        + ([.reviews.nodes[] | "\(.rating):\(.author.firstName)"] | join(","))' <<<"$resp")
      [ "$got" = "$expected" ] ||
        fail_check Q2 "amenities / host and listings / 10 newest reviews (rating:author)" "$expected" "$got"
      ;;
    Q3)
      resp=$(post "$(body_of Q3)")
      no_errors Q3 "$resp"
      # The search service's availability filter, restated.
      expected=$(q -v city="$city" -v i="$stay_in" -v o="$stay_out" <<SQL
SELECT coalesce(string_agg(g, ',' ORDER BY price_cents, id), '') FROM (
  SELECT $(gid Property p.id) AS g, p.price_cents, p.id FROM properties p
  WHERE p.search_city = lower(trim(:'city')) AND p.status = 'LISTED' AND p.deleted_at IS NULL
    AND p.max_guests >= 2 AND p.min_nights <= 5 AND p.max_nights >= 5
    AND NOT EXISTS (SELECT 1 FROM calendar_days cd WHERE cd.property_id = p.id
                     AND cd.blocked AND cd.day >= :'i' AND cd.day < :'o')
    AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.property_id = p.id
                     AND b.status IN ('PENDING_PAYMENT', 'AWAITING_HOST', 'CONFIRMED')
                     AND b.check_in < :'o' AND b.check_out > :'i')
  ORDER BY p.price_cents, p.id LIMIT 20) page
SQL
      )
      got=$(jq -r '[.data.properties.nodes[].id] | join(",")' <<<"$resp")
      if [ -z "$expected" ] || [ "$got" != "$expected" ]; then
        fail_check Q3 "ids free $stay_in to $stay_out for 2 guests, $city" "$expected" "$got"
      fi
      [ "$got" != "$(expected_q1 20)" ] ||
        log "note: Q3's first page equals Q1's; the availability filter rules out none of it"
      ;;
    Q4)
      resp=$(post "$(body_of Q4)")
      no_errors Q4 "$resp"
      expected=$(q -v id="$user_id" <<<"SELECT first_name || ' ' || last_name FROM users WHERE id = :'id'")
      got=$(jq -r '.data.user | "\(.firstName) \(.lastName)"' <<<"$resp")
      [ "$got" = "$expected" ] || fail_check Q4 "the user's names" "$expected" "$got"
      ;;
    M1)
      stays "$work/check.jsonl" 1
      [ -s "$work/check.jsonl" ] || die "M1: no free stay left to book"
      resp=$(post "$(head -n 1 "$work/check.jsonl")" signed-in)
      no_errors M1 "$resp"
      got=$(jq -r '.data.createBooking.status' <<<"$resp")
      local booked
      booked=$(q -v guest="$guest_id" -v stay="$(head -n 1 "$work/check.jsonl")" \
        -v id="$(jq -r '.data.createBooking.id' <<<"$resp")" <<SQL
SELECT coalesce(max(b.status), 'none') FROM bookings b
WHERE b.id = $(ungid ":'id'") AND b.guest_id = :'guest'
  AND b.property_id = $(ungid "(:'stay'::json #>> '{variables,input,propertyId}')")
  AND b.check_in = (:'stay'::json #>> '{variables,input,checkIn}')::date
  AND b.check_out = (:'stay'::json #>> '{variables,input,checkOut}')::date
SQL
      )
      if [ "$got" != PENDING_PAYMENT ] || [ "$booked" != PENDING_PAYMENT ]; then
        fail_check M1 "a PENDING_PAYMENT booking, in the answer and in the database" \
          "PENDING_PAYMENT / PENDING_PAYMENT" "$got / $booked ($resp)"
      fi
      ;;
  esac
}

# Writes up to $2 createBooking bodies to $1, one per line: stays of the
# listing's minimum nights on instant-book listings not hosted by the
# guest, each after every active booking and blocked night the listing
# has and at least 190 days ahead (past the seeded bookings), no two
# overlapping; ordered so that consecutive requests go to different
# listings. Stays already booked by an earlier run are excluded by the same
# rule, so each run gets fresh ones.
stays() {
  q -v guest="$guest_id" -v m="$m1_query" -v n="$2" \
    -v first="$(date -u -d "$today + 190 days" +%F)" \
    -v last="$(date -u -d "$today + 360 days" +%F)" >"$1" <<SQL
WITH free AS (
  SELECT p.id, greatest(p.min_nights, 1) AS nights,
         greatest(:'first'::date,
                  (SELECT max(b.check_out) FROM bookings b WHERE b.property_id = p.id
                      AND b.status IN ('PENDING_PAYMENT', 'AWAITING_HOST', 'CONFIRMED')),
                  (SELECT max(cd.day) + 1 FROM calendar_days cd
                    WHERE cd.property_id = p.id AND cd.blocked)) AS start
    FROM properties p
   WHERE p.status = 'LISTED' AND p.deleted_at IS NULL AND p.instant_book
     AND p.host_id <> :'guest' AND greatest(p.min_nights, 1) <= p.max_nights)
SELECT json_build_object('query', :'m', 'variables', json_build_object('input', json_build_object(
         'propertyId', $(gid Property id), 'checkIn', start + k * nights,
         'checkOut', start + (k + 1) * nights, 'guests', 1)))
  FROM free, generate_series(0, (:'last'::date - start) / nights) AS k
 ORDER BY k, id LIMIT :n
SQL
}

metric_sum() {
  curl -fsS "$url/metrics" | awk -v name="$1" -v filter="${2:-}" '
    index($0, name) == 1 && substr($0, length(name) + 1, 1) ~ /[{ ]/ && index($0, filter) { sum += $NF }
    END { printf "%d\n", sum }'
}
requests_served() { metric_sum roost_http_requests_total 'route="/graphql"'; }
statements_sent() {
  if [ "$stats_source" = pg_stat_statements ]; then
    q <<<"SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%'"
  else
    metric_sum roost_db_statements_total
  fi
}
reset_statements() {
  [ "$stats_source" = pg_stat_statements ] && q -c 'SELECT pg_stat_statements_reset()' >/dev/null
  return 0
}

start_server() {
  local mode=$1 extra=()
  [ "$mode" = on ] && extra=(ROOST_RESPONSE_CACHE=true)
  port=$(free_port)
  url="http://127.0.0.1:$port"
  # Production settings; the in-process worker stays off as in production
  # (`roost worker` runs beside it), so every statement counted is a
  # request's. Limits that would refuse the load are lifted: the per-IP and
  # per-user rates (every request comes from one address and M1 from one
  # user) and the complexity limit (`first: 100` costs more than 1,000).
  env -u ROOST_RESPONSE_CACHE "${server_env[@]}" "${extra[@]}" \
    ROOST_BIND="127.0.0.1:$port" \
    ROOST_SERVE_RUNS_WORKER=false \
    ROOST_MAX_QUERY_COMPLEXITY=100000 \
    ROOST_RATE_LIMIT_IP_PER_SECOND=0 \
    ROOST_RATE_LIMIT_USER_PER_SECOND=0 \
    ROOST_ACCESS_TOKEN_TTL=6h \
    "$BIN" serve >"$work/server-$mode.log" 2>&1 &
  pid=$!
  wait_healthy "$url" "$pid" "$work/server-$mode.log"
  # Resident set size, sampled through the runs; the peak is read from
  # VmHWM at the end.
  (while :; do
    awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || exit 0
    sleep 0.5
  done) >>"$work/rss-$mode.txt" &
  sampler=$!
}

sign_in() {
  local resp
  resp=$(post "$(jq -nc --arg e "$guest_email" --arg p "$guest_password" \
    '{query: "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken user { id } } }", variables: {e: $e, p: $p}}')")
  token=$(jq -r '.data.login.accessToken // empty' <<<"$resp")
  [ -n "$token" ] || die "could not sign in as $guest_email: $resp"
  guest_id=$(q -v e="$guest_email" <<<"SELECT id FROM users WHERE email = :'e'")
}

# Runs one operation for $2 seconds; prints
# {"requests", "seconds", "p50_ms", "p99_ms", "errors"} (load-generator side).
drive() {
  local op=$1 secs=$2 raw
  if [ "$op" = M1 ]; then
    local threads=2
    stays "$work/stays.jsonl" $((3000 * secs + 1000))
    raw=$(wrk -t "$threads" -c "$CONCURRENCY" -d "${secs}s" --timeout 30s \
      -s benches/createbooking.lua "$url/graphql" -- "$work/stays.jsonl" "$token" "$threads" |
      sed -n 's/^M1RESULT //p')
    [ -n "$raw" ] || die "M1: wrk gave no result"
    jq -c '{requests, seconds: (.duration_us / 1e6), p50_ms: (.p50_us / 1000), p99_ms: (.p99_us / 1000),
            errors: (.errors + .socket_errors), out_of_stays}' <<<"$raw"
  else
    raw=$(oha -c "$CONCURRENCY" -z "${secs}s" --no-tui "${OHA_ARGS[@]}" -m POST \
      -H 'Content-Type: application/json' -d "$(body_of "$op")" "$url/graphql")
    jq -c '{requests: ([.statusCodeDistribution[]] | add // 0),
            seconds: .summary.total,
            p50_ms: (.latencyPercentiles.p50 * 1000), p99_ms: (.latencyPercentiles.p99 * 1000),
            errors: ((([.statusCodeDistribution | to_entries[] | select(.key != "200") | .value] | add) // 0)
                     + (([.errorDistribution[]] | add) // 0))}' <<<"$raw"
  fi
}

# GraphQL errors in a sample of answers after a run (oha sees only the status).
sampled_errors() {
  local op=$1 n=0 body
  [ "$op" = M1 ] && { echo 0; return; }
  body=$(body_of "$op")
  for _ in $(seq 1 20); do
    post "$body" | jq -e 'has("errors")' >/dev/null && n=$((n + 1))
  done
  echo "$n"
}

measure() {
  local mode=$1 op=$2 run reqs0 stmts0 reqs stmts rss_max extra_errors
  log "$op (cache $mode): check, ${WARMUP}s warm-up, ${DURATION}s run"
  check "$op"
  drive "$op" "$WARMUP" >/dev/null
  : >"$work/rss-$mode.txt"
  reset_statements
  reqs0=$(requests_served)
  stmts0=$(statements_sent)
  run=$(drive "$op" "$DURATION")
  stmts=$(($(statements_sent) - stmts0))
  reqs=$(($(requests_served) - reqs0))
  rss_max=$(sort -n "$work/rss-$mode.txt" | tail -n 1)
  extra_errors=$(sampled_errors "$op")
  jq -c --arg mode "$mode" --arg op "$op" --argjson reqs "$reqs" --argjson stmts "$stmts" \
    --argjson rss "${rss_max:-0}" --argjson sampled "$extra_errors" '
    {mode: $mode, op: $op, requests: .requests,
     rps: (if .seconds > 0 then (.requests / .seconds * 10 | round / 10) else 0 end),
     p50_ms: (.p50_ms * 100 | round / 100), p99_ms: (.p99_ms * 100 | round / 100),
     errors: .errors, graphql_errors_in_sample_of_20: $sampled,
     statements_per_request: (if $reqs > 0 then ($stmts / $reqs * 100 | round / 100) else null end),
     rss_during_load_mib: ($rss / 1024 | round)}
    + (if .out_of_stays then {out_of_stays: .out_of_stays} else {} end)' <<<"$run" |
    tee -a "$work/results.jsonl" >&2
}

# ---------------------------------------------------------------- runs
# What else the machine was doing: the figures mean little on a busy one.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in $CACHE_MODES; do
  log "response cache $mode"
  start_server "$mode"
  [[ " $OPS " == *" M1 "* ]] && sign_in
  for op in $OPS; do
    measure "$mode" "$op"
  done
  peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
  jq -nc --arg mode "$mode" --argjson kib "$peak" '{mode: $mode, rss_peak_mib: ($kib / 1024 | round)}' \
    >>"$work/peaks.jsonl"
  stop_server
done

# ---------------------------------------------------------------- report
mkdir -p benches/results
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
pg_version=$(psql "$PG" -qAtXc 'SHOW server_version')
redis_version=$(redis-cli -u "$REDIS" info server | tr -d '\r' | awk -F: '/^redis_version:/ { print $2 }')
jq -n --slurpfile runs "$work/results.jsonl" --slurpfile peaks "$work/peaks.jsonl" \
  --argjson scale "$SCALE" --argjson duration "$DURATION" --argjson warmup "$WARMUP" \
  --argjson concurrency "$CONCURRENCY" --argjson reference "$REFERENCE" \
  --arg source "$stats_source" --arg city "$city" --arg date "$(date -u +%FT%TZ)" \
  --arg cpu "$cpu" --arg ram "$ram" --arg nproc "$(nproc)" \
  --arg load0 "$load_at_start" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg pg "$pg_version" --arg redis "$redis_version" --arg oha "$(oha --version 2>/dev/null | head -n 1)" '
  {date: $date, scale: $scale, duration_s: $duration, warmup_s: $warmup, concurrency: $concurrency,
   city: $city, statements_counted_by: $source,
   machine: {nproc: ($nproc | tonumber), ram: $ram, cpu: $cpu,
             load_average_at_start: $load0, load_average_at_end: $load,
             postgresql: $pg, redis: $redis, oha: $oha},
   reference_rps: $reference,
   rss_peak_mib: ($peaks | map({(.mode): .rss_peak_mib}) | add),
   operations: (reduce $runs[] as $r ({}; .[$r.op][$r.mode] = ($r | del(.op, .mode))))}' \
  >"$OUT"

{
  echo
  echo "Scale $SCALE, ${DURATION} s per operation at concurrency $CONCURRENCY, $(nproc) CPUs ($cpu), $ram;"
  echo "PostgreSQL $pg_version, Redis $redis_version; statements counted by $stats_source;"
  echo "load average (1, 5, 15 min) at start $load_at_start, at end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| operation | cache | req/s | p50 ms | p99 ms | errors | statements/request | server RSS during load, MiB | vs reference |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  jq -r --argjson reference "$REFERENCE" '
    .op as $op |
    [(if $op == "Q1_100" then "Q1 first: 100" else $op end), .mode, .rps, .p50_ms, .p99_ms,
     "\(.errors)" + (if .graphql_errors_in_sample_of_20 > 0 then " (+\(.graphql_errors_in_sample_of_20) of 20 sampled)" else "" end),
     (.statements_per_request // "n/a"),
     .rss_during_load_mib,
     (if $reference[$op] then "\(.rps / $reference[$op] * 100 | round / 100)× of \($reference[$op])" else "–" end)]
    | "| " + (map(tostring) | join(" | ")) + " |"' "$work/results.jsonl"
  echo
  jq -r '"Peak server RSS (VmHWM), cache \(.mode): \(.rss_peak_mib) MiB"' "$work/peaks.jsonl"
  echo "Written to $OUT"
} | tee "$work/table.md"
