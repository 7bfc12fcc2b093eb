#!/usr/bin/python3
"""Where the devices page spends its script time with 200 devices reporting every second: the
browser test's server and feed, headless chromium, Chrome's sampling CPU profiler over CDP
(Profiler.start/stop) for 6 s; prints self and inclusive milliseconds per function.

    bench/www/devices_profile.py [SERVER_BINARY=build/default/server/sensorsys-server]

Needs chromium, chromium-driver and python3-selenium (scripts/install-deps.sh installs them).
"""
import collections
import os
import sys
import threading
import time
from datetime import datetime, timezone

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/default/server/sensorsys-server")
sys.argv = [sys.argv[0], BINARY, REPO, "/tmp"]
sys.path.insert(0, os.path.join(REPO, "tests/browser"))
import dashboard_test as d  # noqa: E402  (the test's Stack: PostgreSQL + server with auth)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402


def key(node):
    cf = node["callFrame"]
    return f'{cf["functionName"] or "(anonymous)"} {cf["url"].split("/")[-1]}:{cf["lineNumber"] + 1}'


def main():
    stack = d.Stack()
    drv = None
    stop = threading.Event()
    devices = [f"load-{i:03d}" for i in range(200)]

    def feed():
        n = 0
        while not stop.is_set():
            now = datetime.now(timezone.utc)
            stack.post([d.reading(x, now, d.kitchen_payload(20 + (n % 50) / 10)) for x in devices])
            n += 1
            stop.wait(max(0.0, 1.0 - (datetime.now(timezone.utc) - now).total_seconds()))

    thread = threading.Thread(target=feed)
    try:
        opts = webdriver.ChromeOptions()
        opts.binary_location = d.CHROMIUM
        for f in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1920,1080"):
            opts.add_argument(f)
        drv = webdriver.Chrome(service=Service(d.CHROMEDRIVER), options=opts)
        thread.start()
        drv.get(stack.base + "/")
        drv.execute_script("sessionStorage.setItem('sensorsys.token', arguments[0])", stack.admin)
        drv.get(stack.base + "/#/")
        drv.refresh()
        time.sleep(4)  # every card made, sparklines drawn
        drv.execute_cdp_cmd("Profiler.enable", {})
        drv.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 200})
        drv.execute_cdp_cmd("Profiler.start", {})
        time.sleep(6)
        prof = drv.execute_cdp_cmd("Profiler.stop", {})["profile"]
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        if drv:
            drv.quit()
        stack.stop()
    nodes = {n["id"]: n for n in prof["nodes"]}
    parent = {c: n["id"] for n in prof["nodes"] for c in n.get("children", [])}
    own, inclusive = collections.Counter(), collections.Counter()
    for sample, dt in zip(prof["samples"], prof["timeDeltas"]):
        own[key(nodes[sample])] += dt
        seen, at = set(), sample
        while at in nodes:
            if key(nodes[at]) not in seen:
                seen.add(key(nodes[at]))
                inclusive[key(nodes[at])] += dt
            at = parent.get(at)
    print(f"profiled {sum(prof['timeDeltas']) / 1000:.0f} ms; self time:")
    for name, us in own.most_common(15):
        print(f"{us / 1000:9.1f} ms  {name}")
    print("inclusive:")
    for name, us in inclusive.most_common(15):
        print(f"{us / 1000:9.1f} ms  {name}")


if __name__ == "__main__":
    main()
