#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The seed's experiment on this machine, in one run, as ratios.

    sudo benchmarks/run.py            # everything (about 15 minutes)
    sudo benchmarks/run.py --quick    # a smoke run at small counts (CI)

Throughput: a generator namespace sends live XDP frames (build/xdp-bench)
into a DUT namespace whose veth runs threaded NAPI pinned to CPU 1, so the
DUT has a core of its own while the generator keeps CPU 0; the DUT bounces
frames back (XDP_TX) or, for iptables DNAT, routes them to a sink
namespace; a sink counts in XDP. Scenarios, side by side at every frame
size and IMIX, repeated, median and spread reported:

  ceiling     the DUT only bounces frames
  chain       cubenet's lb configured through cubenetd's API (the daemon
              composes parser -> classifier -> maglev -> l2rewrite)
  mono        the same cubes built as one program (benchmarks/mono.bpf.c)
  dnat        iptables DNAT through the kernel stack (the kube-proxy way)

at the seed's two scales, 1 VIP x 255 backends and 128 VIPs x 4,000
backends, with and without the connection table. Also: ns per packet per
cube (build/cube-cost), Maglev build times (build/maglev-bench), API time
for 10,000 VIPs, and CNI ADD/DEL latency against the bridge plugin
(benchmarks/cni_bench.py).

Writes the raw results (every repetition) as JSON and PNG plots into
--out (default benchmarks/results), and, unless --quick, the tables into
benchmarks/RESULTS.md between its "bench:begin/end" markers.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "tests/daemon"))
from restconf_client import Daemon, UnixHTTPConnection  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cni_bench  # noqa: E402

SIZES = ["60", "124", "252", "508", "1020", "1276", "1514", "imix"]
DUT_CPU = 1
SCALES = {"1x255": (1, 255, 65537), "128x4000": (128, 4000, 3079)}


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


class Topology:
    """gen: g0 <-> dut: d0 [DUT] d1 <-> snk: s0"""

    def __init__(self):
        self.tag = f"cnb{os.getpid()}"
        self.ns = {n: f"{self.tag}-{n}" for n in ("gen", "dut", "snk")}

    def __enter__(self):
        try:
            self.build()
        except BaseException:
            self.__exit__()
            raise
        return self

    def build(self):
        gen, dut, snk = self.ns["gen"], self.ns["dut"], self.ns["snk"]
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", gen, "link", "add", "g0", "type", "veth", "peer", "name", "d0", "netns", dut)
        sh("ip", "-n", dut, "link", "add", "d1", "type", "veth", "peer", "name", "s0", "netns", snk)
        for ns, dev in ((gen, "g0"), (dut, "d0"), (dut, "d1"), (snk, "s0")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        # The DUT's own core: its receive path in a NAPI thread (GRO on keeps
        # the veth's NAPI, and so the thread, alive between programs).
        sh("ip", "netns", "exec", dut, "ethtool", "-K", "d0", "gro", "on")
        sh("ip", "netns", "exec", dut, "sh", "-c", "echo 1 > /sys/class/net/d0/threaded")
        # iptables DNAT: VIPs 10.100.0.x to a backend behind d1.
        sh("ip", "-n", dut, "addr", "add", "10.100.9.1/24", "dev", "d0")
        sh("ip", "-n", dut, "addr", "add", "10.201.0.1/24", "dev", "d1")
        sh("ip", "-n", snk, "addr", "add", "10.201.0.2/24", "dev", "s0")
        s0_mac = json.loads(sh("ip", "-n", snk, "-j", "link", "show", "s0").stdout)[0]["address"]
        sh("ip", "-n", dut, "neigh", "add", "10.201.0.2", "lladdr", s0_mac, "dev", "d1",
           "nud", "permanent")
        sh("ip", "netns", "exec", dut, "sysctl", "-qw", "net.ipv4.ip_forward=1",
           "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.d0.rp_filter=0")
        self.dnat_vips = 0

    def set_dnat_vips(self, n):
        if n == self.dnat_vips:
            return
        sh("ip", "netns", "exec", self.ns["dut"], "iptables", "-t", "nat", "-F", "PREROUTING")
        for v in range(n):  # one rule per VIP, as kube-proxy writes them
            sh("ip", "netns", "exec", self.ns["dut"], "iptables", "-t", "nat", "-A", "PREROUTING",
               "-d", f"10.100.0.{1 + v}", "-p", "udp", "--dport", "80", "-j", "DNAT",
               "--to-destination", "10.201.0.2")
        self.dnat_vips = n

    def __exit__(self, *exc):
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def lb_config(vips, backends, table, conn):
    per_vip = backends // vips
    return {"cubenet-lb:lbs": {"lb": [{
        "name": "bench", "netdev": "d0", "connection-table-size": 1 << 20,
        "vip": [{"address": f"10.100.0.{1 + v}", "port": 80, "protocol": "udp",
                 "table-size": table, "connection-table": conn,
                 "backend": [{"name": f"b{v * per_vip + i}",
                              "mac": "02:be:%02x:%02x:%02x:%02x" % (
                                  v, (v * per_vip + i) >> 16 & 0xff,
                                  (v * per_vip + i) >> 8 & 0xff, (v * per_vip + i) & 0xff)}
                             for i in range(per_vip)]}
                for v in range(vips)]}]}}


def api(daemon, method, path, body=None):
    conn = UnixHTTPConnection(daemon.socket, timeout=600)
    started = time.monotonic()
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/yang-data+json"})
    r = conn.getresponse()
    text = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {text[:300]}")
    return time.monotonic() - started


class Runner:
    def __init__(self, topo, daemon, seconds):
        self.topo, self.daemon, self.seconds = topo, daemon, seconds

    def xdp_bench(self, scenario, frame, vips=1, backends=255, table=65537, conn=False,
                  sink=False):
        args = [os.path.join(BUILD, "xdp-bench"), "--dut-cpu", str(DUT_CPU), "--vips",
                str(vips), "--backends", str(backends), "--table", str(table)]
        if conn:
            args.append("--conn")
        args += [self.topo.ns["gen"], self.topo.ns["dut"], scenario, frame, str(self.seconds)]
        if sink:
            args.append(self.topo.ns["snk"])
        return json.loads(sh(*args).stdout)

    def run(self, sc, frame):
        kind, scale, conn = sc["kind"], sc.get("scale", "1x255"), sc.get("conn", False)
        vips, backends, table = SCALES[scale]
        if kind == "ceiling":
            return self.xdp_bench("ceiling", frame)
        if kind == "mono":
            return self.xdp_bench("mono", frame, vips, backends, table, conn)
        if kind == "dnat":
            self.topo.set_dnat_vips(vips)
            return self.xdp_bench("dnat", frame, vips, sink=True)
        # The lb through the daemon's API: attached for the run, then gone.
        api(self.daemon, "PUT", "/restconf/data/cubenet-lb:lbs",
            lb_config(vips, backends, table, conn))
        try:
            return self.xdp_bench("attached", frame, vips, backends, table, conn)
        finally:
            api(self.daemon, "DELETE", "/restconf/data/cubenet-lb:lbs")


def scenarios(quick):
    full = [
        {"name": "ceiling", "kind": "ceiling"},
        {"name": "chain 1x255", "kind": "chain", "scale": "1x255"},
        {"name": "chain 1x255 +conn", "kind": "chain", "scale": "1x255", "conn": True},
        {"name": "chain 128x4000", "kind": "chain", "scale": "128x4000"},
        {"name": "chain 128x4000 +conn", "kind": "chain", "scale": "128x4000", "conn": True},
        {"name": "mono 1x255", "kind": "mono", "scale": "1x255"},
        {"name": "mono 128x4000", "kind": "mono", "scale": "128x4000"},
        {"name": "dnat 1 VIP", "kind": "dnat", "scale": "1x255"},
        {"name": "dnat 128 VIPs", "kind": "dnat", "scale": "128x4000"},
    ]
    if quick:
        keep = {"ceiling", "chain 1x255", "mono 1x255", "dnat 1 VIP"}
        return [s for s in full if s["name"] in keep]
    return full


def throughput(args, out):
    sizes = ["60", "imix"] if args.quick else SIZES
    scs = scenarios(args.quick)
    points = []
    total = args.repeats * len(sizes) * len(scs)
    done = 0
    with Topology() as topo:
        daemon = Daemon(netns=topo.ns["dut"]).start()
        try:
            runner = Runner(topo, daemon, args.seconds)
            # Repeats outermost: drift over the run touches every scenario alike.
            for rep in range(args.repeats):
                for frame in sizes:
                    for sc in scs:
                        r = runner.run(sc, frame)
                        r.update(name=sc["name"], repeat=rep)
                        points.append(r)
                        done += 1
                        progress(f"[{done}/{total}] {sc['name']:<22} {frame:>5} B  "
                                 f"repeat {rep + 1}: {r['delivered_mpps']:.2f} Mpps "
                                 f"(offered {r['offered_mpps']:.2f})")
        finally:
            daemon.cleanup()
    out["throughput"] = points
    out["scenarios"] = [s["name"] for s in scs]
    out["sizes"] = sizes


def summarize(points, name, frame):
    vals = [p["delivered_mpps"] for p in points if p["name"] == name and p["frame"] == frame]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "gbps": statistics.median(p["delivered_gbps"] for p in points
                                      if p["name"] == name and p["frame"] == frame),
            "offered": statistics.median(p["offered_mpps"] for p in points
                                         if p["name"] == name and p["frame"] == frame)}


def control_plane(args, out):
    progress("per-cube cost (cube-cost) ...")
    cost = sh(os.path.join(BUILD, "cube-cost"), "100000" if args.quick else "1000000").stdout
    out["cube_cost_ns"] = [{"what": w.strip("* "), "hook": h, "ns": int(ns)} for w, h, ns in
                           re.findall(r"^\| (.+?) +\| (xdp|tc) +\| +(-?\d+) \|$", cost, re.M)]
    progress("Maglev build times (maglev-bench) ...")
    mb = sh(os.path.join(BUILD, "maglev-bench"), *(["--quick"] if args.quick else [])).stdout
    out["maglev_build"] = [json.loads(line) for line in mb.splitlines() if line.strip()]
    n_vips = 1000 if args.quick else 10000
    progress(f"{n_vips} VIPs through the API ...")
    ns = f"cnbapi{os.getpid()}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "p0")
        sh("ip", "-n", ns, "link", "set", "d0", "up")
        daemon = Daemon(netns=ns).start()
        try:
            body = {"cubenet-lb:lbs": {"lb": [{"name": "api", "netdev": "d0", "vip": [
                {"address": f"10.{64 + (v >> 16)}.{(v >> 8) & 0xff}.{v & 0xff}", "port": 80,
                 "protocol": "tcp", "table-size": 251,
                 "backend": [{"name": "b", "mac": "02:00:00:00:%02x:%02x" % (
                     (v >> 8) & 0xff, v & 0xff)}]} for v in range(n_vips)]}]}}
            first = api(daemon, "PUT", "/restconf/data/cubenet-lb:lbs", body)
            body["cubenet-lb:lbs"]["lb"][0]["vip"][0]["backend"].append(
                {"name": "b2", "mac": "02:00:00:00:ff:ff"})
            change = api(daemon, "PUT", "/restconf/data/cubenet-lb:lbs", body)
            started = time.monotonic()
            api(daemon, "POST", "/restconf/data/cubenet-lb:lbs/lb=api/vip=10.64.0.0,80,tcp",
                {"cubenet-lb:backend": [{"name": "b3", "mac": "02:00:00:00:ff:fe"}]})
            one = time.monotonic() - started
        finally:
            daemon.cleanup()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    out["api"] = {"vips": n_vips, "program_all_s": first, "replace_one_backend_s": change,
                  "post_one_backend_s": one}
    pods = 5 if args.quick else 50
    progress(f"CNI ADD/DEL latency, {pods} pods, cubenet and bridge ...")
    out["cni"] = cni_bench.measure(pods)


def plot(out, outdir):
    """Throughput against frame size per scenario, like the seed's figures."""
    dat = os.path.join(outdir, "throughput.dat")
    sizes = [s for s in out["sizes"] if s != "imix"]
    with open(dat, "w") as f:
        for name in out["scenarios"]:
            f.write(f'"{name}"\n')
            for frame in sizes:
                s = summarize(out["throughput"], name, frame)
                f.write(f"{int(frame) + 4} {s['median']:.3f} {s['min']:.3f} {s['max']:.3f}\n")
            f.write("\n\n")
    png = os.path.join(outdir, "throughput.png")
    script = (f'set terminal pngcairo size 1000,600 noenhanced\nset output "{png}"\n'
              'set title "delivered Mpps against frame size (median, min..max of repeats)"\n'
              'set xlabel "frame size (bytes, with FCS)"\nset ylabel "Mpps"\n'
              'set logscale x 2\nset key outside right\nset grid\nset yrange [0:*]\n'
              f'plot for [i=0:{len(out["scenarios"]) - 1}] "{dat}" index i using 1:2:3:4 '
              'with yerrorlines title columnheader(1)\n')
    if subprocess.run(["gnuplot"], input=script, text=True, capture_output=True).returncode:
        progress("gnuplot failed: no plot")
        return None
    return png


def ratio(a, b):
    return a / b if a and b else float("nan")


def markdown(out, args):
    pts = out["throughput"]
    lines = [f"Machine: {os.cpu_count()} CPUs, kernel {platform.release()}, "
             f"{time.strftime('%Y-%m-%d')}; {args.seconds} s per point, "
             f"{args.repeats} repeats, median (min..max). The DUT's receive path runs on "
             f"CPU {DUT_CPU} (threaded NAPI), the generator on CPU 0.", "",
             "Delivered Mpps:", "",
             "| scenario | " + " | ".join(f"{s} B" if s != "imix" else "IMIX" for s in out["sizes"])
             + " |", "|---" * (len(out["sizes"]) + 1) + "|"]
    for name in out["scenarios"]:
        cells = []
        for frame in out["sizes"]:
            s = summarize(pts, name, frame)
            cells.append(f"{s['median']:.2f} ({s['min']:.2f}..{s['max']:.2f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    imix = {n: summarize(pts, n, "imix") for n in out["scenarios"]}
    lines += ["", "IMIX in Gbit/s delivered (mean frame 361.8 B): " + ", ".join(
        f"{n} {s['gbps']:.2f}" for n, s in imix.items() if s), ""]
    m = {n: summarize(pts, n, "60")["median"] for n in out["scenarios"]}
    targets = [
        ("chain / ceiling at 64 B", ratio(m.get("chain 1x255"), m.get("ceiling")), ">= 90 %"),
        ("chain / iptables DNAT at 64 B", ratio(m.get("chain 1x255"), m.get("dnat 1 VIP")),
         ">= 10x"),
        ("chain / monolithic at 64 B", ratio(m.get("chain 1x255"), m.get("mono 1x255")),
         "within 5 %"),
    ]
    if "chain 128x4000" in m:
        targets += [
            ("chain 128x4000 / 1x255 at 64 B", ratio(m["chain 128x4000"], m["chain 1x255"]),
             "within 3 %"),
            ("the same with the connection table",
             ratio(m["chain 128x4000 +conn"], m["chain 1x255 +conn"]), "within 3 %"),
            ("chain 128 VIPs / iptables DNAT 128 VIPs",
             ratio(m["chain 128x4000"], m["dnat 128 VIPs"]), ">= 10x"),
        ]
    lines += ["| ratio (64 B) | measured | target |", "|---|---|---|"]
    for what, value, target in targets:
        shown = f"{value:.1f}x" if "x" in target else f"{value:.0%}"
        lines.append(f"| {what} | {shown} | {target} |")
    if "cube_cost_ns" in out:
        lines += ["", "ns per packet, `BPF_PROG_TEST_RUN` (XDP): " + ", ".join(
            f"{c['what']} {c['ns']}" for c in out["cube_cost_ns"] if c["hook"] == "xdp")]
    if "maglev_build" in out:
        lines += ["", "Maglev table build (µs, median of 5): " + ", ".join(
            f"N={b['backends']}/M={b['table_size']} {b['build_us']}" for b in out["maglev_build"])]
    if "api" in out:
        a = out["api"]
        lines += ["", f"API: {a['vips']} VIPs programmed in one PUT in {a['program_all_s']:.2f} s; "
                  f"the same config with one backend more: {a['replace_one_backend_s']:.2f} s; "
                  f"one backend POSTed to a VIP among them: {a['post_one_backend_s']:.2f} s."]
    if "cni" in out:
        lines += ["", cni_bench.markdown(out["cni"])]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run at small counts")
    p.add_argument("--seconds", type=int, help="seconds per point (3; quick: 1)")
    p.add_argument("--repeats", type=int, help="repeats per point (3; quick: 1)")
    p.add_argument("--out", help="where JSON and plots go (benchmarks/results)")
    args = p.parse_args()
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.repeats = args.repeats or (1 if args.quick else 3)
    outdir = args.out or os.path.join(ROOT, "benchmarks/results")
    os.makedirs(outdir, exist_ok=True)
    out = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                       "date": time.strftime("%Y-%m-%d %H:%M")},
           "seconds": args.seconds, "repeats": args.repeats, "quick": args.quick}
    throughput(args, out)
    control_plane(args, out)
    with open(os.path.join(outdir, "run.json"), "w") as f:
        json.dump(out, f, indent=1)
    png = plot(out, outdir)
    table = markdown(out, args)
    print(table)
    if png:
        print(f"\nplot: {png}")
    if not args.quick:
        path = os.path.join(ROOT, "benchmarks/RESULTS.md")
        text = open(path).read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin in text and end in text:
            text = (text[:text.index(begin) + len(begin)] + "\n" + table + "\n\n![throughput]"
                    "(results/throughput.png)\n" + text[text.index(end):])
            with open(path, "w") as f:
                f.write(text)
            progress("RESULTS.md updated")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    main()
