-- wrk script for footprint.sh: POST /readings/bulk of 100 readings of the agent's full payload
-- (bme280, cpu_temp, disk), one device per connection slot, a reading a minute per device.
--
--   wrk -t T -c C -d S -s footprint.lua URL -- DEVICE_PREFIX

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("slot", #threads)
end

function init(args)
   prefix = args[1]
   n = 0
   stored, failed = 0, 0
end

function request()
   n = n + 1
   local parts = {}
   for i = 1, 100 do
      -- 100 devices per thread, each a reading a minute, starting in 2030.
      local device = string.format("%s-%d-%03d", prefix, slot, i)
      local t = 1900000000 + n * 60
      local stamp = os.date("!%Y-%m-%dT%H:%M:%S", t)
      parts[i] = string.format(
         '{"device_id":"%s","ts_utc":"%sZ","ts_local":"%s+00:00","payload":' ..
         '{"bme280":{"temperature":{"c":%.2f,"f":%.2f},"pressure":{"hpa":%.2f},' ..
         '"humidity":{"rh":%.2f}},"cpu_temp":{"c":%.2f,"f":%.2f},' ..
         '"disk":{"total_mb":29000,"used_mb":%d,"free_mb":%d}}}',
         device, stamp, stamp, 20 + i / 10, 68 + i / 10, 1013 + i / 100, 40 + i / 10,
         45 + i / 10, 113 + i / 10, 8000 + n, 21000 - n)
   end
   return wrk.format("POST", "/readings/bulk", { ["Content-Type"] = "application/json" },
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
