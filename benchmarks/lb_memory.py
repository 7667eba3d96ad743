#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Kernel memory of an lb against what it holds, and the time the API takes.

Starts cubenetd in a namespace of its own, configures one lb with V VIPs of
B backends each through the API, and reads the memlock of every BPF map on
the machine before and after (bpftool), so the figure includes the Maglev
rings (inner maps no pin names). Prints a markdown table; run as root:

    benchmarks/lb_memory.py [--quick]
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/daemon"))
from restconf_client import Daemon, UnixHTTPConnection  # noqa: E402

LBS = "/restconf/data/cubenet-lb:lbs"


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def map_bytes():
    time.sleep(2)  # maps let go of are freed after an RCU grace period
    return sum(int(m.get("bytes_memlock", 0)) for m in json.loads(sh("bpftool", "-j", "map")))


def put(daemon, body):
    conn = UnixHTTPConnection(daemon.socket, timeout=600)
    started = time.monotonic()
    conn.request("PUT", LBS, body=json.dumps(body),
                 headers={"Content-Type": "application/yang-data+json"})
    r = conn.getresponse()
    r.read()
    if r.status not in (200, 201, 204):
        sys.exit(f"PUT failed: {r.status}")
    return time.monotonic() - started


def lb_body(n_vips, n_backends, table_size):
    vips = []
    for v in range(n_vips):
        vips.append({
            "address": f"10.{64 + (v >> 16)}.{(v >> 8) & 0xff}.{v & 0xff}", "port": 80,
            "protocol": "tcp", "table-size": table_size,
            "backend": [{"name": f"b{b}", "mac": "02:00:%02x:%02x:%02x:%02x" %
                         ((v >> 8) & 0xff, v & 0xff, b >> 8, b & 0xff)}
                        for b in range(n_backends)]})
    return {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": "eth0",
                                       "connection-table-size": 65536, "vip": vips}]}}


def main():
    quick = "--quick" in sys.argv
    ns = f"cnmem{os.getpid()}"
    sh("ip", "netns", "add", ns)
    daemon = None
    try:
        sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        daemon = Daemon(netns=ns).start()
        base = map_bytes()
        put(daemon, lb_body(0, 0, 251))
        empty = map_bytes() - base
        print(f"kernel memory of BPF maps (memlock), one lb, {os.cpu_count()} CPUs\n")
        print("| VIPs | backends per VIP | table size | apply (s) | map bytes | "
              "bytes per VIP | bytes per backend |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| 0 | 0 | - | - | {empty} | - | - |")
        cases = [(128, 1, 3079), (128, 31, 3079), (1024, 1, 251), (1024, 4, 251),
                 (4096, 1, 251), (128, 1, 65537)]
        if quick:
            cases = [(16, 1, 251), (16, 4, 251)]
        one_backend = {}
        for vips, backends, size in cases:
            put(daemon, lb_body(0, 0, 251))
            seconds = put(daemon, lb_body(vips, backends, size))
            used = map_bytes() - base
            per_vip = per_backend = "-"
            if backends == 1:
                one_backend[(vips, size)] = used
                per_vip = f"{(used - empty) / vips:.0f}"
            elif (vips, size) in one_backend:
                ref = one_backend[(vips, size)]
                per_backend = f"{(used - ref) / (vips * (backends - 1)):.0f}"
            print(f"| {vips} | {backends} | {size} | {seconds:.2f} | {used} | {per_vip} | "
                  f"{per_backend} |", flush=True)
    finally:
        if daemon:
            daemon.cleanup()
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    main()
