-- wrk script: POST /readings/bulk of 100 readings, each request with timestamps of its own, so
-- every reading is new (no duplicate short-cut). Used by hostile_load.py for the ingest rate
-- with and without attackers.
--
--   wrk -t T -c C -d S -s ingest.lua URL -- TOKEN DEVICE_PREFIX

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("slot", #threads)
end

function init(args)
   headers = { Authorization = "Bearer " .. args[1], ["Content-Type"] = "application/json" }
   device = string.format("%s-%d", args[2], slot)
   n = 0
   stored, failed = 0, 0
end

function request()
   n = n + 1
   local parts = {}
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
