-- wrk script: POST /readings/bulk of 100 readings, each request with timestamps of its own, so
-- every reading is new (no duplicate short-cut). Used by hostile_load.py for the ingest rate
-- with and without attackers.
--
--   wrk -t T -c C -d S -s ingest.lua URL -- TOKEN DEVICE_PREFIX [agent]
--
-- With "agent" (bench/server/footprint.sh): the agent's full payload (bme280, cpu_temp, disk)
-- from 100 devices per connection slot, each a reading a minute, as a fleet of Pis sends them.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("slot", #threads)
end

function init(args)
   headers = { Authorization = "Bearer " .. args[1], ["Content-Type"] = "application/json" }
   device = string.format("%s-%d", args[2], slot)
   agent = args[3] == "agent"
   n = 0
   stored, failed = 0, 0
end

-- The agent's payload of reading i (1-100) of request n, for device d.
local function agentReading(d, n, i)
   local stamp = os.date("!%Y-%m-%dT%H:%M:%S", 1900000000 + n * 60)
   return string.format(
      '{"device_id":"%s","ts_utc":"%sZ","ts_local":"%s+00:00","payload":' ..
      '{"bme280":{"temperature":{"c":%.2f,"f":%.2f},"pressure":{"hpa":%.2f},' ..
      '"humidity":{"rh":%.2f}},"cpu_temp":{"c":%.2f,"f":%.2f},' ..
      '"disk":{"total_mb":29000,"used_mb":%d,"free_mb":%d}}}',
      d, stamp, stamp, 20 + i / 10, 68 + i / 10, 1013 + i / 100, 40 + i / 10,
      45 + i / 10, 113 + i / 10, 8000 + n, 21000 - n)
end

function request()
   n = n + 1
   local parts = {}
   if agent then
      for i = 1, 100 do parts[i] = agentReading(string.format("%s-%03d", device, i), n, i) end
      return wrk.format("POST", "/readings/bulk", headers,
                        '{"readings":[' .. table.concat(parts, ",") .. ']}')
   end
   for i = 1, 100 do
      -- A second apart (a Pi at 1 Hz): 60 readings share a rollup minute.
      local t = 1900000000 + (n * 100 + i)
      local stamp = os.date("!%Y-%m-%dT%H:%M:%S", t)
      parts[i] = string.format('{"device_id":"%s","ts_utc":"%sZ","ts_local":"%s+00:00",' ..
                               '"payload":{"cpu_temp":{"c":%.2f,"f":%.2f}}}',
                               device, stamp, stamp, 40 + i / 10, 104 + i / 10)
   end
   return wrk.format("POST", "/readings/bulk", headers,
                     '{"readings":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
   if status == 201 or status == 200 then stored = stored + 100 else failed = failed + 1 end
end

function done(summary, latency, requests)
   local total, bad = 0, 0
   for _, t in ipairs(threads) do
      total = total + (t:get("stored") or 0)
      bad = bad + (t:get("failed") or 0)
   end
   io.write(string.format("RESULT readings=%d failed_requests=%d seconds=%.3f readings_per_s=%.1f\n",
                          total, bad, summary.duration / 1e6, total / (summary.duration / 1e6)))
end
