#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The control plane at Kubernetes scale, through the API only: the pods
service with N ClusterIP services (2 ports, 10 endpoints each) programmed
in one request, then one endpoint added and removed in the first, a middle
and the last service, a pod added, the API back after a SIGKILL and
restart; the lb with V VIPs x 10 backends and one backend changed (weight,
added, drained), a GET of one VIP, V VIPs in one PUT; a router with R
routes and one route added. Figures: median and p99 over --changes
changes, daemon RSS and the kernel memory of the pinned maps.

    sudo benchmarks/scale_bench.py [--services 1000,5000,10000] [--vips 4096]
                                   [--routes 1000,10000] [--changes 50]
"""
import argparse
import glob
import ipaddress
import json
import os
import platform
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/daemon"))
from restconf_client import Daemon  # noqa: E402

SVCS = "/restconf/data/cubenet-pods:services"
PODS = "/restconf/data/cubenet-pods:pods"
LBS = "/restconf/data/cubenet-lb:lbs"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(v):
    return f"{v * 1e3:.2f}"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memlock(bpffs):
    """bytes_memlock of every map pinned under bpffs."""
    total = 0
    for path in glob.glob(os.path.join(bpffs, "**"), recursive=True):
        if os.path.isdir(path) or path.endswith("/prog"):
            continue
        r = subprocess.run(["bpftool", "-j", "map", "show", "pinned", path],
                           capture_output=True, text=True)
        if r.returncode == 0:
            total += json.loads(r.stdout).get("bytes_memlock", 0)
    return total


def endpoint(i, e):
    return {"address": str(ipaddress.ip_address("10.128.0.0") + i * 16 + e)}


def service(i, n_eps=10):
    return {"namespace": "bench", "name": f"s{i}",
            "cluster-ip": [str(ipaddress.ip_address("10.96.0.0") + i + 1)],
            "port": [{"port": 80, "protocol": "tcp", "target-port": 8080},
                     {"port": 443, "protocol": "tcp", "target-port": 8443}],
            "endpoint": [endpoint(i, e) for e in range(n_eps)]}


def timed(fn):
    t = time.monotonic()
    r = fn()
    return r, time.monotonic() - t


def check(r):
    assert r.status in (200, 201, 204), r.body
    return r


def pods_at(n, changes, out):
    d = Daemon()
    try:
        d.start()
        c = d.client()
        # One pod, so the node chain exists.
        check(c.put(PODS, {"cubenet-pods:pods": {"pod": [{
            "container-id": "bench0", "interface": "eth0", "network": "bench",
            "host-interface": "cnbench0", "address": ["10.128.255.1"]}]}}))
        body = {"cubenet-pods:services": {"service": [service(i) for i in range(n)]}}
        _, t_all = timed(lambda: check(c.put(SVCS, body)))
        row = {"services": n, "program_all_s": t_all}
        for where, i in (("first", 0), ("middle", n // 2), ("last", n - 1)):
            lat = []
            for k in range(changes):
                path = f"{SVCS}/service=bench,s{i}/endpoint"
                new = {"cubenet-pods:endpoint": [{"address": f"10.200.{k // 250}.{k % 250 + 1}"}]}
                _, t = timed(lambda: check(c.post(f"{SVCS}/service=bench,s{i}", new)))
                lat.append(t)
                _, t = timed(lambda: check(c.delete(
                    f"{path}={new['cubenet-pods:endpoint'][0]['address']}")))
                lat.append(t)
            row[f"endpoint_{where}_p50_ms"] = pct(lat, 50) * 1e3
            row[f"endpoint_{where}_p99_ms"] = pct(lat, 99) * 1e3
        lat = []
        for k in range(changes):
            pod = {"cubenet-pods:pod": [{"container-id": f"benchpod{k}", "interface": "eth0",
                                         "network": "bench", "host-interface": f"cnbp{k}",
                                         "address": [f"10.129.{k // 250}.{k % 250 + 1}"]}]}
            _, t = timed(lambda: check(c.post(PODS, pod)))
            lat.append(t)
        row["pod_add_p50_ms"] = pct(lat, 50) * 1e3
        row["pod_add_p99_ms"] = pct(lat, 99) * 1e3
        row["rss_kb"] = rss_kb(d.proc.pid)
        row["memlock_bytes"] = memlock(d.bpffs)
        # The API after a SIGKILL: how long until it answers again.
        d.stop(signal.SIGKILL)
        t0 = time.monotonic()
        d.start()
        check(d.client().get("/restconf/data/cubenet-pods:services/service=bench,s0"))
        row["api_after_restart_s"] = time.monotonic() - t0
        out.append(row)
        print(json.dumps(row), flush=True)
    finally:
        d.cleanup()


def lb_vip(v, n_bes=10, weight=1):
    return {"address": str(ipaddress.ip_address("10.64.0.0") + v + 1), "port": 80,
            "protocol": "tcp",
            "backend": [{"name": f"be{b}", "mac": f"02:77:{v >> 8 & 255:02x}:{v & 255:02x}:00:{b:02x}",
                         "weight": weight} for b in range(n_bes)]}


def lb_at(vips, changes, out, netdev, n_bes=10):
    d = Daemon()
    try:
        d.start()
        c = d.client()
        body = {"cubenet-lb:lbs": {"lb": [{"name": "lb0", "netdev": netdev,
                                           "attach-mode": "xdp-generic",
                                           "vip": [lb_vip(v, n_bes) for v in range(vips)]}]}}
        _, t_all = timed(lambda: check(c.put(LBS, body)))
        row = {"vips": vips, "put_all_s": t_all}
        vip0 = lb_vip(vips // 2)
        base = f"{LBS}/lb=lb0/vip={vip0['address']},80,tcp"
        for what, mk in () if not changes else (
            ("weight", lambda k: (base + "/backend=be1", "PATCH",
                                  {"cubenet-lb:backend": [{"name": "be1", "weight": 2 + k % 5}]})),
            ("add", lambda k: (base, "POST", {"cubenet-lb:backend": [{
                "name": f"extra{k}", "mac": f"02:78:00:00:{k >> 8 & 255:02x}:{k & 255:02x}"}]})),
            ("drain", lambda k: (base + "/backend=be2", "PATCH", {"cubenet-lb:backend": [{
                "name": "be2", "state": "draining" if k % 2 == 0 else "active"}]})),
        ):
            lat = []
            for k in range(changes):
                path, method, b = mk(k)
                _, t = timed(lambda: check(c.request(method, path, b)))
                lat.append(t)
            row[f"backend_{what}_p50_ms"] = pct(lat, 50) * 1e3
            row[f"backend_{what}_p99_ms"] = pct(lat, 99) * 1e3
        lat = []
        for _ in range(changes):
            _, t = timed(lambda: check(c.get(base)))
            lat.append(t)
        if lat:
            row["get_vip_p50_ms"] = pct(lat, 50) * 1e3
            row["get_vip_p99_ms"] = pct(lat, 99) * 1e3
        row["rss_kb"] = rss_kb(d.proc.pid)
        row["memlock_bytes"] = memlock(d.bpffs)
        out.append(row)
        print(json.dumps(row), flush=True)
    finally:
        d.cleanup()


def router_at(routes, changes, out):
    d = Daemon()
    nets = list(ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=24))
    try:
        d.start()
        c = d.client()
        check(c.put("/restconf/data", {
            "cubenet-core:cubes": {"cube": [{"name": "r0", "type": "router"}]},
            "cubenet-router:routers": {"router": [{
                "name": "r0", "interface": [{"port": 0, "netdev": "lo",
                                             "ipv4": {"address": "10.255.0.1",
                                                      "prefix-length": 24}}],
                "route": [{"prefix": str(n), "port": 0} for n in nets[:routes]]}]}}))
        lat = []
        for k in range(changes):
            _, t = timed(lambda: check(c.post("/restconf/data/cubenet-router:routers/router=r0",
                                              {"cubenet-router:route": [{
                                                  "prefix": str(nets[routes + k]), "port": 0}]})))
            lat.append(t)
        row = {"routes": routes, "route_add_p50_ms": pct(lat, 50) * 1e3,
               "route_add_p99_ms": pct(lat, 99) * 1e3}
        out.append(row)
        print(json.dumps(row), flush=True)
    finally:
        d.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", default="1000,5000,10000")
    ap.add_argument("--vips", default="4096")
    ap.add_argument("--put-vips", type=int, default=10000, help="VIPs in one PUT")
    ap.add_argument("--routes", default="1000,10000")
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    print(f"# {platform.node()}, kernel {platform.release()}, {os.cpu_count()} CPUs",
          flush=True)
    out = {"pods": [], "lb": [], "lb_put": [], "router": []}
    subprocess.run(["ip", "link", "add", "cnscale0", "type", "veth", "peer", "name", "cnscale1"],
                   check=True)
    try:
        subprocess.run(["ip", "link", "set", "cnscale0", "up"], check=True)
        subprocess.run(["ip", "link", "set", "cnscale1", "up"], check=True)
        for n in (int(x) for x in args.services.split(",") if x):
            pods_at(n, args.changes, out["pods"])
        for v in (int(x) for x in args.vips.split(",") if x):
            lb_at(v, args.changes, out["lb"], "cnscale0")
        if args.put_vips:
            # One backend each: an lb holds at most 65,536 backends.
            lb_at(args.put_vips, 0, out["lb_put"], "cnscale0", n_bes=1)
        for r in (int(x) for x in args.routes.split(",") if x):
            router_at(r, args.changes, out["router"])
    finally:
        subprocess.run(["ip", "link", "del", "cnscale0"], capture_output=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("needs root")
    main()
