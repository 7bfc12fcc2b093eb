-- wrk script for bench/server/partitions.sh: random reads over the benchmark's data set, or
-- bulk ingest, with p50/p99 and req/s on one RESULT line.
--
--   wrk -t T -c C -d S -s partitions.lua URL -- MODE FROM_EPOCH UNTIL_EPOCH DEVICES
--
-- MODE: range_dev (GET /readings, a random 1-day range anywhere in [FROM, UNTIL), a random
-- device, limit 100), range_all (the same for all devices), latest (GET /readings/latest of a
-- random device), series (GET /readings/series, 30 days of one metric of a random device,
-- step 1h), ingest (POST /readings/bulk of 500 readings, new reading ids, times from
-- FROM_EPOCH on, one device per thread and request slot). Devices are dev-0000 ... DEVICES-1.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("slot", #threads)
end

function init(args)
   mode = args[1]
   from, until_ = tonumber(args[2]), tonumber(args[3])
   devices = tonumber(args[4])
   math.randomseed(os.time() * 1000 + slot)
   headers = { ["Content-Type"] = "application/json" }
   n = 0
end

local function stamp(t)
   return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function device()
   return string.format("dev-%04d", math.random(0, devices - 1))
end

local function range(seconds)
   local s = from + math.random(0, until_ - from - seconds)
   return stamp(s), stamp(s + seconds - 1)
end

local function bulk()
   n = n + 1
   local dev = string.format("ingest-%d-%d", slot, n % 100)
   local base = from + math.floor(n / 100) * 500
   local parts = {}
   for i = 1, 500 do
      local t = os.date("!%Y-%m-%dT%H:%M:%S", base + i)
      parts[i] = string.format('{"device_id":"%s","ts_utc":"%sZ","ts_local":"%s+00:00",' ..
         '"payload":{"bme280":{"temperature":{"c":%.2f},"pressure":{"hpa":1013.2},' ..
         '"humidity":{"rh":45.1}},"cpu_temp":{"c":48.3},"disk":{"used_mb":8000}}}',
         dev, t, t, 20 + i / 100)
   end
   return wrk.format("POST", "/readings/bulk", headers,
                     '{"readings":[' .. table.concat(parts, ",") .. ']}')
end

function request()
   if mode == "ingest" then return bulk() end
   local path
   if mode == "latest" then
      path = "/readings/latest?device_id=" .. device()
   elseif mode == "series" then
      local s, e = range(30 * 86400)
      path = string.format("/readings/series?device_id=%s&metric=bme280.temperature.c" ..
                           "&start_date=%s&end_date=%s&step=1h", device(), s, e)
   else
      local s, e = range(86400)
      path = string.format("/readings?start_date=%s&end_date=%s&limit=100", s, e)
      if mode == "range_dev" then path = path .. "&device_id=" .. device() end
   end
   return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   io.write(string.format("RESULT %s requests=%d non2xx=%d p50_ms=%.3f p99_ms=%.3f req_per_s=%.1f\n",
                          threads[1]:get("mode"), summary.requests, summary.errors.status,
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                          summary.requests / seconds))
end
