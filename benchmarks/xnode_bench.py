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

--family 6 dials the pods' IPv6 addresses instead. cubenet's overlay
carries them in its IPv4 VXLAN tunnel, and so does kernel-vxlan here
(IPv6 on cni0 and flannel.1, an IPv6 neighbour entry per remote node);
kernel-routed routes the remote IPv6 range via the remote node's IPv6
address. flannel itself, dual-stack, gives IPv6 a VXLAN device of its own
over the IPv6 underlay (flannel-v6.1, 20 bytes more a packet); that one is
measured too, as kernel-vxlan-over-ipv6 (MTU 1430), beside the others but
not as cubenet's reference: its encapsulation is not cubenet's.

Measured with xnode-perf (benchmarks/xnode_perf.c): TCP stream throughput
for --seconds, and one-byte TCP request/response round trips for --seconds.
Beside each stream, the CPU time its client and server took per GB carried
(their system time holds the softirq work the stream makes them do: both
nodes' forwarding, here; ksoftirqd's share is not in it): a cost that other
work on the machine disturbs less than it disturbs throughput.
The setups are interleaved round by round (the order rotates), so a load
that comes and goes on the machine hits all of them; each figure is the
median over the rounds with its min..max, and each ratio is taken per
round (cubenet against its reference measured beside it) then summarised
the same way. Not a pass/fail test. Needs root.

--baseline DIR also runs cubenet's two setups with the cubenetd of another
build tree (e.g. the main branch's build/), interleaved with the rest, and
reports this build against it: a change measured before and after in one
run.

    sudo python3 benchmarks/xnode_bench.py --rounds 5 --seconds 2 [--family 6] [--baseline DIR]
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
import restconf_client  # noqa: E402

BUILD = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
PERF = os.path.join(BUILD, "xnode-perf")
PORT = 5201
TICK = os.sysconf("SC_CLK_TCK")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


class CubenetPair:
    """The multinode test's cluster; pods p10 (node 1) and p20 (node 2)."""

    def __init__(self, mode, family, build=None):
        self.name = f"cubenet-{mode}" + (" (baseline)" if build else "")
        self.family = family
        self.build = build  # another tree's cubenetd, or this one's
        self.cluster = Cluster(mode, pods_per_node=1)

    def start(self):
        own = restconf_client.BUILD
        restconf_client.BUILD = self.build or own
        try:
            self.cluster.start()
        finally:
            restconf_client.BUILD = own
        _, self.client_ns, _, _ = self.cluster.pods["p10"]
        _, self.server_ns, ip4, ip6 = self.cluster.pods["p20"]
        self.server_ip = ip6 if self.family == 6 else ip4
        return self

    def stop(self):
        self.cluster.stop()


UNDERLAY = {4: "198.51.100.%d", 6: "2001:db8:51::%d"}  # node i's, as in the cluster


def pod_net(family, i):
    """Node i's pod side in the kernel references: its range, the pod, the
    node's gateway for it, the node's address on the VXLAN device (the
    range's first, as flannel gives it), and prefix lengths."""
    if family == 4:
        return {"range": f"10.250.{i}.0/24", "pod": f"10.250.{i}.2", "gw": f"10.250.{i}.1",
                "vtep": f"10.250.{i}.0", "len": 24, "host": 32}
    return {"range": f"fd00:250:{i}::/64", "pod": f"fd00:250:{i}::2", "gw": f"fd00:250:{i}::1",
            "vtep": f"fd00:250:{i}::", "len": 64, "host": 128}


class KernelPair:
    """Two nodes wired by the kernel alone: vxlan (bridge + L3 VXLAN device
    over the IPv4 underlay, flannel's vxlan backend; IPv6 pods ride it as
    cubenet's do), vxlan6 (the same over the IPv6 underlay: flannel's own
    device for IPv6, flannel-v6.1) or routed (veths, routes to the other
    node)."""

    def __init__(self, mode, family):
        self.mode = mode
        self.family = family
        self.name = {"vxlan6": "kernel-vxlan-over-ipv6"}.get(mode, f"kernel-{mode}")
        self.tag = "xk" + uuid.uuid4().hex[:6]
        self.netns = []

    def ns(self, name):
        full = f"{self.tag}-{name}"
        sh("ip", "netns", "add", full)
        self.netns.append(full)
        sh("ip", "-n", full, "link", "set", "lo", "up")
        return full

    def addr(self, n, address, dev):
        # nodad: no address stays tentative while the pair is measured
        sh("ip", "-n", n, "addr", "add", address, "dev", dev,
           *(("nodad",) if self.family == 6 else ()))

    def start(self):
        ul = self.ns("ul")
        sh("ip", "-n", ul, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", ul, "link", "set", "br0", "up")
        nodes, pods, macs = {}, {}, {}
        net = {i: pod_net(self.family, i) for i in (1, 2)}
        vxlan = self.mode in ("vxlan", "vxlan6")
        dev = "flannel-v6.1" if self.mode == "vxlan6" else "flannel.1"
        # flannel.1 is an IPv4 tunnel whatever its pods are; routes stay in the pods' family
        under = {"vxlan": UNDERLAY[4], "vxlan6": UNDERLAY[6]}.get(self.mode,
                                                                 UNDERLAY[self.family])
        mtu = {"vxlan": 1450, "vxlan6": 1430}.get(self.mode, 1500)
        for i in (1, 2):
            n = nodes[i] = self.ns(f"n{i}")
            sh("ip", "link", "add", f"ul{i}", "netns", ul, "type", "veth", "peer", "name",
               "eth0", "netns", n)
            sh("ip", "-n", ul, "link", "set", f"ul{i}", "master", "br0", "up")
            sh("ip", "-n", n, "addr", "add", f"{UNDERLAY[4] % i}/24", "dev", "eth0")
            sh("ip", "-n", n, "addr", "add", f"{UNDERLAY[6] % i}/64", "dev", "eth0", "nodad")
            sh("ip", "-n", n, "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1",
               "net.ipv6.conf.all.forwarding=1")
            p = pods[i] = self.ns(f"p{i}")
            sh("ip", "link", "add", "veth0", "netns", n, "type", "veth", "peer", "name", "eth0",
               "netns", p)
            sh("ip", "-n", p, "link", "set", "eth0", "mtu", str(mtu), "up")
            sh("ip", "-n", n, "link", "set", "veth0", "mtu", str(mtu), "up")
            self.addr(p, f"{net[i]['pod']}/{net[i]['len']}", "eth0")
            sh("ip", "-n", p, "route", "add", "default", "via", net[i]["gw"])
            if vxlan:
                sh("ip", "-n", n, "link", "add", "cni0", "type", "bridge")
                self.addr(n, f"{net[i]['gw']}/{net[i]['len']}", "cni0")
                sh("ip", "-n", n, "link", "set", "veth0", "master", "cni0")
                sh("ip", "-n", n, "link", "set", "cni0", "up")
                sh("ip", "-n", n, "link", "add", dev, "type", "vxlan", "id", "1", "local",
                   under % i, "dev", "eth0", "dstport", "8472", "nolearning")
                sh("ip", "-n", n, "link", "set", dev, "mtu", str(mtu), "up")
                self.addr(n, f"{net[i]['vtep']}/{net[i]['host']}", dev)
                out = json.loads(sh("ip", "-n", n, "-j", "link", "show", dev).stdout)
                macs[i] = out[0]["address"]
            else:
                self.addr(n, f"{net[i]['gw']}/{net[i]['host']}", "veth0")
                sh("ip", "-n", n, "route", "add", f"{net[i]['pod']}/{net[i]['host']}", "dev",
                   "veth0")
        for i, j in ((1, 2), (2, 1)):
            n = nodes[i]
            if vxlan:
                sh("ip", "-n", n, "route", "add", net[j]["range"], "via", net[j]["vtep"],
                   "dev", dev, "onlink")
                sh("ip", "-n", n, "neigh", "add", net[j]["vtep"], "lladdr", macs[j], "dev",
                   dev, "nud", "permanent")
                sh("ip", "netns", "exec", n, "bridge", "fdb", "append", macs[j], "dev", dev,
                   "dst", under % j)
            else:
                sh("ip", "-n", n, "route", "add", net[j]["range"], "via", under % j)
        self.client_ns, self.server_ns, self.server_ip = pods[1], pods[2], net[2]["pod"]
        return self

    def stop(self):
        for n in reversed(self.netns):
            sh("ip", "netns", "del", n, check=False)


def run_perf(setup, what, seconds):
    out = sh("ip", "netns", "exec", setup.client_ns, PERF, what, setup.server_ip, str(PORT),
             str(seconds)).stdout
    return json.loads(out)


def cpu_seconds(pid):
    """User and system time of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_stream(setup, server, seconds):
    """The stream's figures, and the CPU ms its client and server took per
    GB carried. `ip netns exec` execs the client: wait4 gives its usage."""
    before = cpu_seconds(server.pid)
    p = subprocess.Popen(["ip", "netns", "exec", setup.client_ns, PERF, "stream",
                          setup.server_ip, str(PORT), str(seconds)], stdout=subprocess.PIPE,
                         text=True)
    out = p.stdout.read()
    p.stdout.close()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"xnode-perf stream exited {p.returncode}")
    t = json.loads(out)
    cpu = usage.ru_utime + usage.ru_stime + cpu_seconds(server.pid) - before
    t["cpu_ms_per_gb"] = cpu * 1e3 / (t["bytes"] / 1e9)
    return t


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(s, digits=2):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}..{s['max']:.{digits}f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--family", type=int, choices=(4, 6), default=4,
                    help="the pods' addresses the client dials")
    ap.add_argument("--json", help="write the raw figures here")
    ap.add_argument("--baseline", metavar="DIR",
                    help="another build tree whose cubenetd runs cubenet's setups too")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    if not os.path.exists(PERF):
        sys.exit(f"{PERF} missing: cmake --build build --target xnode-perf")
    if args.baseline and not os.access(os.path.join(args.baseline, "cubenetd"), os.X_OK):
        sys.exit(f"{args.baseline}/cubenetd missing")
    load = os.getloadavg()[0]
    family = args.family
    setups = [CubenetPair("vxlan", family), KernelPair("vxlan", family),
              CubenetPair("native", family), KernelPair("routed", family)]
    if family == 6:
        setups.append(KernelPair("vxlan6", family))
    if args.baseline:
        setups += [CubenetPair(mode, family, os.path.abspath(args.baseline))
                   for mode in ("vxlan", "native")]
    servers = []
    try:
        for s in setups:
            s.start()
            p = subprocess.Popen(["ip", "netns", "exec", s.server_ns, PERF, "server",
                                  str(PORT)], stdout=subprocess.PIPE, text=True)
            servers.append(p)
            assert p.stdout.readline().strip() == "ready"
            run_perf(s, "rr", 0.2)  # neighbours resolved, paths warm
        raw = {s.name: {"gbps": [], "cpu_ms_per_gb": [], "p50_us": [], "p99_us": []}
               for s in setups}
        for r in range(args.rounds):
            order = setups[r % len(setups):] + setups[:r % len(setups)]
            for s in order:
                t = run_stream(s, servers[setups.index(s)], args.seconds)
                rr = run_perf(s, "rr", args.seconds)
                raw[s.name]["gbps"].append(t["gbps"])
                raw[s.name]["cpu_ms_per_gb"].append(t["cpu_ms_per_gb"])
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
    print(f"# Cross-node pod-to-pod TCP over IPv{family}, {args.rounds} rounds of {args.seconds:g} s each "
          f"measure; kernel {platform.release()}, {os.cpu_count()} CPUs, "
          f"1-minute load average at start {load:.2f}\n")
    print("| setup | throughput Gbit/s | CPU ms per GB | RR p50 us | RR p99 us |")
    print("|---|---|---|---|---|")
    for name, v in raw.items():
        print(f"| {name} | {fmt(summary(v['gbps']))} | {fmt(summary(v['cpu_ms_per_gb']), 0)} | "
              f"{fmt(summary(v['p50_us']), 1)} | {fmt(summary(v['p99_us']), 1)} |")
    print("\n| cubenet against its reference (per round) | throughput (x, higher is better) "
          "| CPU per GB (x, lower is better) | RR p50 latency (x, lower is better) |")
    print("|---|---|---|---|")
    pairs = [("cubenet-vxlan", "kernel-vxlan"), ("cubenet-native", "kernel-routed")]
    if args.baseline:
        pairs += [(f"{mine} (baseline)", ref) for mine, ref in pairs[:2]]
        pairs += [(mine, f"{mine} (baseline)") for mine, _ in pairs[:2]]
    for mine, ref in pairs:
        row = [[a / b for a, b in zip(raw[mine][k], raw[ref][k])]
               for k in ("gbps", "cpu_ms_per_gb", "p50_us")]
        print(f"| {mine} / {ref} | " + " | ".join(fmt(summary(r)) for r in row) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"family": family, "rounds": args.rounds, "seconds": args.seconds, "raw": raw,
                       "time": time.time()}, f, indent=1)


if __name__ == "__main__":
    main()
