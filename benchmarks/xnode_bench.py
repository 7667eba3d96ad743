#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Cross-node pod-to-pod TCP throughput and latency, side by side in one run.

Four setups, each two node namespaces on an emulated underlay (a bridge in
a namespace of its own), one pod on node 1 talking to one on node 2:

  cubenet-vxlan   cubenet's node chain, VXLAN overlay (the multinode test's
                  cluster: cubenetd per node, pods made by the CNI plugin,
                  the other nodes written as peers), pod MTU 1450
  kernel-vxlan    the kernel's own: pods on a bridge (cni0), an L3 VXLAN
                  device with static neighbour and FDB entries per remote
                  node -- what flannel's vxlan backend sets up; MTU 1450
  cubenet-native  cubenet's node chain, native routing, MTU 1500
  kernel-routed   plain routed veths, the remote pod range routed to the
                  remote node's address -- flannel's host-gw without the
                  bridge (what the brief names as the reference); MTU 1500

Measured with xnode-perf (benchmarks/xnode_perf.c): TCP stream throughput
for --seconds, and one-byte TCP request/response round trips for --seconds.
The setups are interleaved round by round (the order rotates), so a load
that comes and goes on the machine hits all of them; each figure is the
median over the rounds with its min..max, and each ratio is taken per
round (cubenet against its reference measured beside it) then summarised
the same way. Not a pass/fail test. Needs root.

    sudo python3 benchmarks/xnode_bench.py --rounds 5 --seconds 2
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests/cni"))
from test_multinode import Cluster  # noqa: E402

BUILD = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
PERF = os.path.join(BUILD, "xnode-perf")
PORT = 5201


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


class CubenetPair:
    """The multinode test's cluster; pods p10 (node 1) and p20 (node 2)."""

    def __init__(self, mode):
        self.name = f"cubenet-{mode}"
        self.cluster = Cluster(mode, pods_per_node=1)

    def start(self):
        self.cluster.start()
        _, self.client_ns, _ = self.cluster.pods["p10"]
        _, self.server_ns, self.server_ip = self.cluster.pods["p20"]
        return self

    def stop(self):
        self.cluster.stop()


class KernelPair:
    """Two nodes wired by the kernel alone: vxlan (bridge + L3 VXLAN device,
    flannel's vxlan backend) or routed (veths, routes to the other node)."""

    def __init__(self, mode):
        self.mode = mode
        self.name = f"kernel-{mode}"
        self.tag = "xk" + uuid.uuid4().hex[:6]
        self.netns = []

    def ns(self, name):
        full = f"{self.tag}-{name}"
        sh("ip", "netns", "add", full)
        self.netns.append(full)
        sh("ip", "-n", full, "link", "set", "lo", "up")
        return full

    def start(self):
        ul = self.ns("ul")
        sh("ip", "-n", ul, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", ul, "link", "set", "br0", "up")
        nodes, pods, macs = {}, {}, {}
        mtu = 1450 if self.mode == "vxlan" else 1500
        for i in (1, 2):
            n = nodes[i] = self.ns(f"n{i}")
            sh("ip", "link", "add", f"ul{i}", "netns", ul, "type", "veth", "peer", "name",
               "eth0", "netns", n)
            sh("ip", "-n", ul, "link", "set", f"ul{i}", "master", "br0", "up")
            sh("ip", "-n", n, "addr", "add", f"198.51.100.{i}/24", "dev", "eth0")
            sh("ip", "-n", n, "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            p = pods[i] = self.ns(f"p{i}")
            sh("ip", "link", "add", "veth0", "netns", n, "type", "veth", "peer", "name", "eth0",
               "netns", p)
            sh("ip", "-n", p, "link", "set", "eth0", "mtu", str(mtu), "up")
            sh("ip", "-n", n, "link", "set", "veth0", "mtu", str(mtu), "up")
            sh("ip", "-n", p, "addr", "add", f"10.250.{i}.2/24", "dev", "eth0")
            sh("ip", "-n", p, "route", "add", "default", "via", f"10.250.{i}.1")
            if self.mode == "vxlan":
                sh("ip", "-n", n, "link", "add", "cni0", "type", "bridge")
                sh("ip", "-n", n, "addr", "add", f"10.250.{i}.1/24", "dev", "cni0")
                sh("ip", "-n", n, "link", "set", "veth0", "master", "cni0")
                sh("ip", "-n", n, "link", "set", "cni0", "up")
                sh("ip", "-n", n, "link", "add", "flannel.1", "type", "vxlan", "id", "1",
                   "local", f"198.51.100.{i}", "dev", "eth0", "dstport", "8472", "nolearning")
                sh("ip", "-n", n, "link", "set", "flannel.1", "mtu", "1450", "up")
                sh("ip", "-n", n, "addr", "add", f"10.250.{i}.0/32", "dev", "flannel.1")
                out = json.loads(sh("ip", "-n", n, "-j", "link", "show", "flannel.1").stdout)
                macs[i] = out[0]["address"]
            else:
                sh("ip", "-n", n, "addr", "add", f"10.250.{i}.1/32", "dev", "veth0")
                sh("ip", "-n", n, "route", "add", f"10.250.{i}.2/32", "dev", "veth0")
        for i, j in ((1, 2), (2, 1)):
            n = nodes[i]
            if self.mode == "vxlan":
                sh("ip", "-n", n, "route", "add", f"10.250.{j}.0/24", "via", f"10.250.{j}.0",
                   "dev", "flannel.1", "onlink")
                sh("ip", "-n", n, "neigh", "add", f"10.250.{j}.0", "lladdr", macs[j], "dev",
                   "flannel.1", "nud", "permanent")
                sh("ip", "netns", "exec", n, "bridge", "fdb", "append", macs[j], "dev",
                   "flannel.1", "dst", f"198.51.100.{j}")
            else:
                sh("ip", "-n", n, "route", "add", f"10.250.{j}.0/24", "via",
                   f"198.51.100.{j}")
        self.client_ns, self.server_ns, self.server_ip = pods[1], pods[2], "10.250.2.2"
        return self

    def stop(self):
        for n in reversed(self.netns):
            sh("ip", "netns", "del", n, check=False)


def run_perf(setup, what, seconds):
    out = sh("ip", "netns", "exec", setup.client_ns, PERF, what, setup.server_ip, str(PORT),
             str(seconds)).stdout
    return json.loads(out)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(s, digits=2):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}..{s['max']:.{digits}f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", help="write the raw figures here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    if not os.path.exists(PERF):
        sys.exit(f"{PERF} missing: cmake --build build --target xnode-perf")
    load = os.getloadavg()[0]
    setups = [CubenetPair("vxlan"), KernelPair("vxlan"), CubenetPair("native"),
              KernelPair("routed")]
    servers = []
    try:
        for s in setups:
            s.start()
            p = subprocess.Popen(["ip", "netns", "exec", s.server_ns, PERF, "server",
                                  str(PORT)], stdout=subprocess.PIPE, text=True)
            servers.append(p)
            assert p.stdout.readline().strip() == "ready"
            run_perf(s, "rr", 0.2)  # neighbours resolved, paths warm
        raw = {s.name: {"gbps": [], "p50_us": [], "p99_us": []} for s in setups}
        for r in range(args.rounds):
            order = setups[r % len(setups):] + setups[:r % len(setups)]
            for s in order:
                t = run_perf(s, "stream", args.seconds)
                rr = run_perf(s, "rr", args.seconds)
                raw[s.name]["gbps"].append(t["gbps"])
                raw[s.name]["p50_us"].append(rr["p50_us"])
                raw[s.name]["p99_us"].append(rr["p99_us"])
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{n} {v['gbps'][-1]:.2f} Gbit/s {v['p50_us'][-1]:.1f} us"
                for n, v in raw.items()), file=sys.stderr)
    finally:
        for p in servers:
            p.kill()
            p.wait()
        for s in setups:
            s.stop()
    print(f"# Cross-node pod-to-pod TCP, {args.rounds} rounds of {args.seconds:g} s each "
          f"measure; kernel {platform.release()}, {os.cpu_count()} CPUs, "
          f"1-minute load average at start {load:.2f}\n")
    print("| setup | throughput Gbit/s | RR p50 us | RR p99 us |")
    print("|---|---|---|---|")
    for name, v in raw.items():
        print(f"| {name} | {fmt(summary(v['gbps']))} | {fmt(summary(v['p50_us']), 1)} | "
              f"{fmt(summary(v['p99_us']), 1)} |")
    print("\n| cubenet against its reference (per round) | throughput (x, higher is better) "
          "| RR p50 latency (x, lower is better) |")
    print("|---|---|---|")
    for mine, ref in (("cubenet-vxlan", "kernel-vxlan"), ("cubenet-native", "kernel-routed")):
        tp = [a / b for a, b in zip(raw[mine]["gbps"], raw[ref]["gbps"])]
        lat = [a / b for a, b in zip(raw[mine]["p50_us"], raw[ref]["p50_us"])]
        print(f"| {mine} / {ref} | {fmt(summary(tp))} | {fmt(summary(lat))} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "seconds": args.seconds, "raw": raw,
                       "time": time.time()}, f, indent=1)


if __name__ == "__main__":
    main()
