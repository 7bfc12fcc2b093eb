-- wrk script for tests/load/load_test.sh: 500 keep-alive clients on the server's read and
-- write routes, each counting its own answers.
--
--   wrk -t N -c N ... -s per_connection.lua URL -- TOKEN
--
-- wrk runs its Lua once per thread and tells the script nothing about connections, so the test
-- runs exactly one connection per thread (-t N -c N): each thread's counters are then that
-- connection's, and done() can say whether every connection was answered. Each connection
-- rotates GET /readings/latest, GET /readings (a one-hour range, limit 100) and
-- POST /readings/bulk (10 readings of its own device, no reading_id: the server makes one).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("slot", #threads)
end

function init(args)
   local auth = "Bearer " .. args[1]
   answered, ok, client_errors, server_errors, other = 0, 0, 0, 0, 0
   n = 0
   latest = wrk.format("GET", "/readings/latest?device_id=load-fixed", { Authorization = auth })
   range = wrk.format("GET", "/readings?start_date=2030-01-01T05:00:00Z" ..
                      "&end_date=2030-01-01T06:00:00Z&device_id=load-fixed&limit=100",
                      { Authorization = auth })
   post_headers = { Authorization = auth, ["Content-Type"] = "application/json" }
   device = string.format("load-w%d", slot)
end

local function bulk()
   local parts = {}
   for i = 1, 10 do
      -- A distinct timestamp per reading of this connection; the same sequence in every run.
      local t = 2000000000 + (n * 10 + i) * 60
      local stamp = os.date("!%Y-%m-%dT%H:%M:%S", t)
      parts[i] = string.format('{"device_id":"%s","ts_utc":"%sZ","ts_local":"%s+00:00",' ..
                               '"payload":{"cpu_temp":{"c":%.2f,"f":%.2f},' ..
                               '"disk":{"total_mb":29000,"used_mb":%d,"free_mb":%d}}}',
                               device, stamp, stamp, 40 + i / 10, 104 + i / 10, 8000 + i, 21000 - i)
   end
   return wrk.format("POST", "/readings/bulk", post_headers,
                     '{"readings":[' .. table.concat(parts, ",") .. ']}')
end

function request()
   n = n + 1
   local k = n % 3
   if k == 1 then return latest end
   if k == 2 then return range end
   return bulk()
end

function response(status, headers, body)
   answered = answered + 1
   if status >= 200 and status < 300 then
      ok = ok + 1
   elseif status >= 500 then
      server_errors = server_errors + 1
   elseif status >= 400 then
      client_errors = client_errors + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local total, least, most, unanswered = 0, math.huge, 0, 0
   local sums = { ok = 0, client_errors = 0, server_errors = 0, other = 0 }
   for _, t in ipairs(threads) do
      local a = t:get("answered") or 0
      total = total + a
      if a < least then least = a end
      if a > most then most = a end
      if a == 0 then unanswered = unanswered + 1 end
      for k in pairs(sums) do sums[k] = sums[k] + (t:get(k) or 0) end
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT connections=%d answered=%d per_connection_min=%d per_connection_max=%d " ..
      "unanswered_connections=%d ok=%d status_4xx=%d status_5xx=%d status_other=%d " ..
      "err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d " ..
      "req_per_s=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
      #threads, total, least, most, unanswered, sums.ok, sums.client_errors, sums.server_errors,
      sums.other, e.connect, e.read, e.write, e.timeout, e.status,
      total / (summary.duration / 1e6), latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000))
end
