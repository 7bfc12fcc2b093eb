#!/usr/bin/env python3
"""Writes a runnable nginx configuration from the shipped site (etc/nginx/sensorsys.conf), for
the tests and benchmarks that put the real nginx in front of real servers.

    nginx_site.py DIR LISTEN_PORT UPSTREAM_PORT... [--instances] [--tls] [--worker-connections N]

The site as shipped, with: the HTTPS server on 127.0.0.1:LISTEN_PORT (plain HTTP/1.1 without
--tls: TLS is not what the caller tests, and the agent then needs no certificate), the redirect
server on another free loopback port, no IPv6 listeners, the dashboard from the checkout's www/,
and the upstream's server lines pointed at UPSTREAM_PORT... in order (lines beyond them dropped). --instances first swaps
the site's upstream block for the one in etc/nginx/sensorsys-instances.conf, as its comment tells
an administrator to. --tls makes a throwaway certificate in DIR. Writes DIR/site.conf and
DIR/nginx.conf (one process, not a daemon, everything under DIR); start it with
`nginx -p DIR -c DIR/nginx.conf`.
"""
import argparse
import os
import re
import socket
import subprocess
import sys

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upstream_block(text):
    """(start, end) of the `upstream sensorsys_server { ... }` block in text."""
    match = re.search(r"^upstream sensorsys_server \{.*?^\}\n", text, re.M | re.S)
    if not match:
        sys.exit("nginx_site.py: no upstream sensorsys_server block")
    return match.span()


def point_upstream(block, ports):
    """The block's server lines pointed at ports in order; lines beyond the ports are dropped
    (as an administrator with fewer instances would)."""
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+", block, re.M)
    if len(servers) < len(ports):
        sys.exit(f"nginx_site.py: the upstream has {len(servers)} server lines, "
                 f"{len(ports)} ports given")
    it = iter(ports)

    def point(match):
        port = next(it, None)
        return "" if port is None else f"{match.group(1)}{port}{match.group(2)}\n"

    return re.sub(r"^(\s*server 127\.0\.0\.1:)\d+(.*)\n", point, block, flags=re.M)


def site(args):
    with open(os.path.join(REPO, "etc/nginx/sensorsys.conf")) as f:
        text = f.read()
    start, end = upstream_block(text)
    block = text[start:end]
    if args.instances:
        with open(os.path.join(REPO, "etc/nginx/sensorsys-instances.conf")) as f:
            other = f.read()
        s, e = upstream_block(other)
        block = other[s:e]
    text = text[:start] + point_upstream(block, args.upstream) + text[end:]
    out = []
    for line in text.splitlines():
        trimmed = line.strip()
        if trimmed.startswith("listen [::]"):
            continue
        if trimmed == "listen 80;":
            line = f"    listen 127.0.0.1:{free_port()};"
        elif trimmed.startswith("listen 443 ssl"):
            rest = trimmed[len("listen 443"):] if args.tls else ";"
            line = f"    listen 127.0.0.1:{args.listen}{rest}"
        elif trimmed.startswith("ssl_") and not args.tls:
            continue
        elif trimmed.startswith("ssl_certificate "):
            line = f"    ssl_certificate {args.dir}/cert.pem;"
        elif trimmed.startswith("ssl_certificate_key "):
            line = f"    ssl_certificate_key {args.dir}/key.pem;"
        elif trimmed == "root /usr/share/sensorsys/www;":
            line = f"        root {REPO}/www;"
        out.append(line)
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("listen", type=int)
    p.add_argument("upstream", type=int, nargs="+")
    p.add_argument("--instances", action="store_true")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--worker-connections", type=int, default=1024)
    args = p.parse_args()
    args.dir = os.path.realpath(args.dir)
    if args.tls:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-keyout", f"{args.dir}/key.pem", "-out",
                        f"{args.dir}/cert.pem"], check=True, capture_output=True)
    with open(os.path.join(args.dir, "site.conf"), "w") as f:
        f.write(site(args))
    d = args.dir
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
                f"events {{ worker_connections {args.worker_connections}; }}\n"
                f"http {{\n access_log off;\n client_body_temp_path {d}/body;\n"
                f" proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fcgi;\n"
                f" uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n"
                f" include {d}/site.conf;\n}}\n")


if __name__ == "__main__":
    main()
