-- M1 of benches/load.sh: createBooking under wrk, every request a different
-- stay. benches/load.sh writes one request body per line (a free property
-- and dates no other line overlaps, chosen in SQL before the run) and runs
--
--   wrk -t THREADS ... -s benches/createbooking.lua URL -- BODIES TOKEN THREADS
--
-- Thread t (1-based) sends lines t, t + THREADS, t + 2 * THREADS, ... so no
-- two requests of the run ask for the same stay. A response that is not 200
-- or that carries GraphQL "errors" counts as an error. done() prints one
-- line, "M1RESULT {json}", that load.sh reads.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  stride = tonumber(args[3])
  sent = 0
  errors = 0
  exhausted = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

function request()
  local body = bodies[id + sent * stride]
  sent = sent + 1
  if body == nil then
    -- Out of prepared stays: repeat the last one (it fails, and is counted).
    exhausted = exhausted + 1
    body = bodies[#bodies]
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local graphql_errors, out_of_stays = 0, 0
  for _, thread in ipairs(threads) do
    graphql_errors = graphql_errors + thread:get("errors")
    out_of_stays = out_of_stays + thread:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'M1RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"non_2xx":%d,"errors":%d,"out_of_stays":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, graphql_errors, out_of_stays))
end
