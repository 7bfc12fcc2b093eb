#!/usr/bin/env python3
"""The server's memory comes back after big requests (issue #14, README "Memory").

    memory_bound.py SERVER_BINARY PG_INFO_FILE

Against one server with auth on, after a warm-up of small requests (RSS measured as the base):
  1. one reading holding a 10 MB string, stored (200), then read back with GET /readings/latest,
     then a newer small reading of the same device (the latest-reading cache holds each
     device's newest reading, whatever its size: that is by design, not a leak);
  2. the same body gzip-compressed, then a newer small reading;
  3. 8 concurrent 15 MiB posts without a token: refused (401) before their body is read.
After each, the resident size must be back within MEMORY_BACK_MIB (default 8) of the base.
Prints RESULT lines with every number.
"""

import gzip
import http.client
import json
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_load import Server, check, failures, rss_kib  # noqa: E402

BACK_MIB = float(os.environ.get("MEMORY_BACK_MIB", "8"))


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    except (BrokenPipeError, ConnectionResetError):
        return "cut before the body was sent", b""  # refused early: also fine for memory
    finally:
        conn.close()


def settled_rss(pid, base=None):
    """RSS once the server let go: the worker trims at once, the live feed reconnects after it
    fetched the big row (asynchronously); up to 10 s, the first value back within the bound."""
    time.sleep(0.5)
    for _ in range(40):
        rss = rss_kib(pid)
        if base is None or rss - base <= BACK_MIB * 1024:
            return rss
        time.sleep(0.25)
    return rss


def main():
    binary, info = sys.argv[1], sys.argv[2]
    with open(info) as f:
        conninfo = re.search(r"^CONNINFO=(.*)$", f.read(), re.M).group(1)
    with tempfile.TemporaryDirectory(prefix="sensorsys-memory.") as work:
        server = Server(binary, conninfo, work)
        try:
            run(server)
        finally:
            server.stop()
    return 1 if failures else 0


def run(server):
    pid, port = server.proc.pid, server.port
    auth = {"Authorization": "Bearer " + server.token, "Content-Type": "application/json"}
    small = json.dumps({"device_id": "mem", "ts_utc": "2030-01-01T00:00:00Z",
                        "ts_local": "2030-01-01T00:00:00+00:00", "payload": {"c": 1}})
    for _ in range(50):
        request(port, "POST", "/readings", small, auth)
        request(port, "GET", "/readings/latest?device_id=mem", None, auth)
    base = settled_rss(pid)
    big = json.dumps({"device_id": "mem", "ts_utc": "2030-01-01T00:01:00Z",
                      "ts_local": "2030-01-01T00:01:00+00:00",
                      "payload": {"note": "x" * (10 * 1000 * 1000)}})

    def newer_small(minute):
        # The latest-reading cache keeps each device's newest reading, whatever its size: a
        # newer small one takes the big one's place there.
        stamp = f"2030-01-01T00:{minute:02d}:30"
        request(port, "POST", "/readings", small.replace("2030-01-01T00:00:00", stamp), auth)

    status, _ = request(port, "POST", "/readings", big, auth)
    status_read, body = request(port, "GET", "/readings/latest?device_id=mem", None, auth)
    newer_small(1)
    after_plain = settled_rss(pid, base)
    check("a reading with a 10 MB string is stored and read back",
          f"POST {status}, GET {status_read} of {len(body)} bytes",
          status in (200, 201) and status_read == 200 and len(body) > 10_000_000)
    # Not asserted here: the live feed lets go of the row when it has fetched it, which on a
    # loaded machine may come after the wait; the next two checks would see it if it stayed.
    print(f"  RSS after it: {base} -> {after_plain} KiB", flush=True)

    zipped = gzip.compress(big.replace("00:01:00", "00:02:00").encode())
    status, _ = request(port, "POST", "/readings", zipped, {**auth, "Content-Encoding": "gzip"})
    newer_small(2)
    after_gzip = settled_rss(pid, base)
    check("the same reading gzip-compressed is stored", status, status in (200, 201))
    check(f"RSS back within {BACK_MIB} MiB after it", f"{base} -> {after_gzip} KiB",
          after_gzip - base <= BACK_MIB * 1024)

    settled_rss(pid, base)
    statuses = []
    huge = b"[" + b" " * (15 * 1024 * 1024) + b"]"

    def post_without_token():
        statuses.append(request(port, "POST", "/readings/bulk", huge,
                                {"Content-Type": "application/json"})[0])

    threads = [threading.Thread(target=post_without_token) for _ in range(8)]
    for t in threads:
        t.start()
    peak = base
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kib(pid))
        time.sleep(0.02)
    after_refused = settled_rss(pid)
    check("8 concurrent 15 MiB posts without a token are refused",
          statuses, len(statuses) == 8 and all(s in (401, "cut before the body was sent")
                                                for s in statuses))
    check(f"their bodies are never held: peak within {BACK_MIB} MiB of the base",
          f"{base} -> peak {peak} KiB", peak - base <= BACK_MIB * 1024)
    print(f"RESULT rss_kib base={base} after_10mb={after_plain} after_10mb_gzip={after_gzip}"
          f" peak_refused={peak} after_refused={after_refused}")
    check("the server logged no error", server.errors()[:3], not server.errors())


if __name__ == "__main__":
    sys.exit(main())
