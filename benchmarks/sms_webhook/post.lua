-- wrk script: POST pre-signed Twilio SMS webhooks, one distinct request after another.
-- wrk's Lua has no HMAC, so the requests are signed beforehand (requests.tsv: body TAB signature).
-- KANAL_BENCH_MODE=duplicate sends the first request over and over (Twilio retrying one webhook).

local path = os.getenv("KANAL_BENCH_REQUESTS")
local mode = os.getenv("KANAL_BENCH_MODE") or "unique"
local nthreads = tonumber(os.getenv("KANAL_BENCH_THREADS") or "1")
-- KANAL_BENCH_DELAY_MS paces each connection (a light, steady load instead of a flood).
local pause = tonumber(os.getenv("KANAL_BENCH_DELAY_MS") or "0")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local bodies, signatures, sent = {}, {}, 0

function init(args)
  local n = 0
  for line in io.lines(path) do
    if (mode == "duplicate" and n == 0) or (mode ~= "duplicate" and n % nthreads == id) then
      local tab = line:find("\t", 1, true)
      table.insert(bodies, line:sub(1, tab - 1))
      table.insert(signatures, line:sub(tab + 1))
    end
    n = n + 1
    if mode == "duplicate" and n > 0 then break end
  end
end

function request()
  sent = sent + 1
  local i = ((sent - 1) % #bodies) + 1
  wrapped = sent > #bodies
  return wrk.format("POST", "/twilio/sms", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[i],
    ["I-Twilio-Idempotency-Token"] = signatures[i],
  }, bodies[i])
end

if pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    if thread:get("wrapped") and mode ~= "duplicate" then
      io.write("WARNING: a thread ran out of distinct requests and repeated some\n")
      break
    end
  end
  io.write(string.format("JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, " ..
    "\"p90_us\": %d, \"p99_us\": %d, \"errors\": %d, \"non2xx\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
