#!/usr/bin/env python3
"""Fan-out latency of the live feed: N WebSocket clients on GET /live (instance B), readings
posted one by one to POST /readings (instance A, or B itself); each client timestamps every
reading on receipt. Prints p50/p99/max of (receipt - time the POST was sent), which includes the
insert's commit, so it is an upper bound of commit -> receipt. Same machine clock for both.

  bench/server/live_fanout.py --live http://127.0.0.1:8000 [--post http://127.0.0.1:8001]
                              [--clients 1000] [--readings 200] [--interval 0.01] [--token T]
                              [--measured 50] [--hold SECONDS]

One Python process cannot read 1000 sockets as fast as the server writes them: timing every
client would measure this script's own queue. So all but --measured clients complete the
handshake and then never read (their reading is paused; the readings fit in their socket
buffers, so the server does the whole fan-out to them), and the --measured ones timestamp what
they receive (the server visits its clients in no fixed order, so they sample the fan-out). --hold: connect every client as a passive one to a device
nobody writes, print "READY", hold them SECONDS and exit (idle dashboards during a benchmark).
Standard library only (a minimal RFC 6455 client: the server's frames are never masked).
"""
import argparse
import asyncio
import base64
import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse
import uuid


async def handshake(host, port, path, token):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  f"Sec-WebSocket-Key: {key}\r\n{auth}\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head.decode(errors="replace"))
    return reader, writer


async def passive(host, port, path, token, ready, stop):
    _, writer = await handshake(host, port, path, token)
    # asyncio reads every registered socket into its buffer whether or not anybody awaits it:
    # without this, this process read all 1000 sockets on every reading (50,000 reads a second)
    # and the timed clients waited behind them, adding ~100 ms to what was measured.
    writer.transport.pause_reading()
    ready.append(1)
    await stop.wait()
    writer.close()


async def client(host, port, path, token, latencies, ready, done_count, expected):
    reader, writer = await handshake(host, port, path, token)
    ready.append(1)
    got = 0
    while got < expected:
        b0, b1 = await reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(await reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(n)
        now = time.time()
        if b0 & 0x0F != 1:
            continue
        message = json.loads(payload)
        sent = message.get("reading", {}).get("payload", {}).get("sent_at")
        if sent is None:
            continue
        latencies.append(now - sent)
        got += 1
    done_count.append(1)
    writer.close()


def poster(url, token, readings, interval, device):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for i in range(readings):
        body = json.dumps({"device_id": device, "reading_id": str(uuid.uuid4()),
                           "ts_utc": "2030-01-01T00:00:00Z", "ts_local": "2030-01-01T00:00:00Z",
                           "payload": {"sent_at": time.time(), "n": i}})
        conn.request("POST", "/readings", body, headers)
        conn.getresponse().read()
        time.sleep(interval)


async def connected(ready, count, tasks):
    """Waits until count clients completed their handshake; a failed one raises."""
    while len(ready) < count:
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
        await asyncio.sleep(0.05)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--live", required=True)
    p.add_argument("--post")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--readings", type=int, default=200)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--token", default=os.environ.get("TOKEN", ""))
    p.add_argument("--measured", type=int, default=50)
    p.add_argument("--hold", type=float)
    a = p.parse_args()
    device = "bench-live-" + uuid.uuid4().hex[:8]
    u = urllib.parse.urlparse(a.live)
    latencies, ready, done = [], [], []
    stop = asyncio.Event()
    path = f"/live?device_id={device}"
    if a.hold is not None:
        holders = [asyncio.create_task(passive(u.hostname, u.port, path + "-idle", a.token, ready,
                                               stop)) for _ in range(a.clients)]
        await connected(ready, a.clients, holders)
        print("READY", flush=True)
        await asyncio.sleep(a.hold)
        stop.set()
        await asyncio.gather(*holders)
        return
    measured = min(a.measured, a.clients)
    passives = [asyncio.create_task(passive(u.hostname, u.port, path, a.token, ready, stop))
                for _ in range(a.clients - measured)]
    await connected(ready, len(passives), passives)
    tasks = [asyncio.create_task(client(u.hostname, u.port, path, a.token,
                                        latencies, ready, done, a.readings))
             for _ in range(measured)]
    await connected(ready, a.clients, tasks)
    t = threading.Thread(target=poster,
                         args=(a.post or a.live, a.token, a.readings, a.interval, device))
    t.start()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
    t.join()
    stop.set()
    await asyncio.gather(*passives)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    print(f"clients {a.clients} ({measured} timed), readings {a.readings}, messages {len(ms)}: "
          f"p50 {statistics.median(ms):.1f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms, "
          f"max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
