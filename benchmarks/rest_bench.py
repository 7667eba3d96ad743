#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""REST figures for cubenetd: latency and rate of (1) adding one route to a
router through POST, (2) replacing the whole config through PUT, each write
being validated, applied to the cube maps and saved before the reply.

    sudo benchmarks/rest_bench.py [--routes N] [--replaces N] [--config-routes N]
"""
import argparse
import ipaddress
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/daemon"))
from restconf_client import Daemon  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def base_config(routes):
    return {
        "cubenet-core:cubes": {"cube": [{"name": "r0", "type": "router"}]},
        "cubenet-router:routers": {"router": [{
            "name": "r0",
            "interface": [{"port": 0, "netdev": "lo",
                           "ipv4": {"address": "10.255.0.1", "prefix-length": 24}}],
            "route": [{"prefix": str(net), "port": 0}
                      for net in list(ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=24))
                      [:routes]]}]}}


def report(name, lat):
    total = sum(lat)
    print(f"| {name} | {len(lat)} | {len(lat) / total:.0f} | {pct(lat, 50) * 1e3:.2f} | "
          f"{pct(lat, 99) * 1e3:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--routes", type=int, default=1000, help="routes added one by one")
    ap.add_argument("--replaces", type=int, default=50, help="whole-config replaces")
    ap.add_argument("--config-routes", type=int, default=1000,
                    help="routes in each replaced config")
    args = ap.parse_args()

    d = Daemon()
    try:
        d.start()
        c = d.client()
        r = c.put("/restconf/data", base_config(0))
        assert r.status in (201, 204), r.body
        print(f"cubenetd REST, unix socket, {platform.node()}, kernel {platform.release()}, "
              f"{os.cpu_count()} CPUs\n")
        print("| write | requests | per second | p50 ms | p99 ms |\n|---|---|---|---|---|")

        lat = []
        nets = ipaddress.ip_network("172.16.0.0/12").subnets(new_prefix=28)
        for _ in range(args.routes):
            body = {"cubenet-router:route": [{"prefix": str(next(nets)), "port": 0}]}
            t = time.perf_counter()
            r = c.post("/restconf/data/cubenet-router:routers/router=r0", body)
            lat.append(time.perf_counter() - t)
            assert r.status == 201, r.body
        report(f"add one route (POST; table grows 0 -> {args.routes})", lat)

        lat = []
        for i in range(args.replaces):
            body = base_config(args.config_routes - (i % 2))  # alternate, so each is a change
            t = time.perf_counter()
            r = c.put("/restconf/data", body)
            lat.append(time.perf_counter() - t)
            assert r.status in (201, 204), r.body
        report(f"replace the whole config (PUT; {args.config_routes} routes)", lat)
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
