-- wrk script: POST pre-signed Twilio SMS webhooks, one distinct request after another.
-- wrk's Lua has no HMAC, so the requests are signed beforehand (requests.tsv: body TAB signature).
-- KANAL_BENCH_MODE=duplicate sends the first request over and over (Twilio retrying one webhook).
-- Run with one connection per thread (-tN -cN): a thread's requests are then strictly
-- sequential, so each response belongs to the thread's last request and every request that
-- got no 200 (error, other status, in flight at the end) can be named.

local path = os.getenv("KANAL_BENCH_REQUESTS")
local mode = os.getenv("KANAL_BENCH_MODE") or "unique"
local nthreads = tonumber(os.getenv("KANAL_BENCH_THREADS") or "1")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local bodies, signatures = {}, {}
sent, wrapped, pending, unacked = 0, false, 0, {}

function init(args)
  -- Each thread reads only its own share (requests.tsv.<id>, written beforehand): reading the
  -- whole file in every thread kept some threads loading while others already ran, which
  -- staggered their timed windows and inflated the rate.
  local own = path
  if mode ~= "duplicate" then own = path .. "." .. id end
  for line in io.lines(own) do
    local tab = line:find("\t", 1, true)
    table.insert(bodies, line:sub(1, tab - 1))
    table.insert(signatures, line:sub(tab + 1))
    if mode == "duplicate" then break end
  end
end

function request()
  if pending > 0 then table.insert(unacked, pending) end  -- the last one never got an answer
  sent = sent + 1
  local i = ((sent - 1) % #bodies) + 1
  if sent > #bodies then wrapped = true end
  pending = i
  return wrk.format("POST", "/twilio/sms", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[i],
    ["I-Twilio-Idempotency-Token"] = signatures[i],
  }, bodies[i])
end

function response(status, headers, body)
  if status ~= 200 then table.insert(unacked, pending) end
  pending = 0
end

function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    if thread:get("wrapped") and mode ~= "duplicate" then
      io.write("WARNING: a thread ran out of distinct requests and repeated some\n")
    end
    local lost = {}
    for _, i in ipairs(thread:get("unacked")) do table.insert(lost, tostring(i)) end
    if thread:get("pending") > 0 then table.insert(lost, tostring(thread:get("pending"))) end
    table.insert(parts, string.format("{\"id\": %d, \"sent\": %d, \"unacked\": [%s]}",
      thread:get("id"), thread:get("sent"), table.concat(lost, ", ")))
  end
  io.write(string.format("JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, " ..
    "\"p90_us\": %d, \"p99_us\": %d, \"errors\": %d, \"non2xx\": %d, \"threads\": [%s]}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, table.concat(parts, ", ")))
end
