#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CNI ADD and DEL latency: the cubenet plugin against the reference bridge
plugin (containernetworking-plugins), both with host-local IPAM, each call
run as a runtime runs it (a fresh process, config on stdin) inside a node
namespace, for pods made one after the other.

    sudo benchmarks/cni_bench.py [PODS]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "tests/daemon"))
from restconf_client import Daemon  # noqa: E402


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def call(node, plugin_dir, command, conf, cid, netns):
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
           "CNI_NETNS": netns, "CNI_IFNAME": "eth0",
           "CNI_PATH": f"{plugin_dir}:/usr/lib/cni"}
    started = time.perf_counter()
    r = subprocess.run(["nsenter", f"--net=/run/netns/{node}",
                        os.path.join(plugin_dir, conf["type"])], input=json.dumps(conf),
                       capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if r.returncode:
        raise RuntimeError(f"{conf['type']} {command}: {r.stdout}{r.stderr}")
    return elapsed * 1000


def measure(pods):
    tag = f"cnc{os.getpid()}"
    node = f"{tag}-node"
    tmp = tempfile.mkdtemp(prefix="cni-bench-")
    netns = [f"{tag}-p{i}" for i in range(pods)]
    sh("ip", "netns", "add", node)
    daemon = None
    try:
        for ns in netns:
            sh("ip", "netns", "add", ns)
        daemon = Daemon(netns=node).start()
        ipam = {"type": "host-local", "dataDir": os.path.join(tmp, "ipam"),
                "ranges": [[{"subnet": "10.248.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}
        plugins = {
            "cubenet": ({"cniVersion": "1.0.0", "name": "bench-cubenet", "type": "cubenet",
                         "socket": daemon.socket, "ipam": ipam}, os.path.join(BUILD, "cni")),
            "bridge": ({"cniVersion": "1.0.0", "name": "bench-bridge", "type": "bridge",
                        "bridge": "cnbench0", "isGateway": True, "ipam": ipam},
                       "/usr/lib/cni"),
        }
        out = {}
        for name, (conf, plugin_dir) in plugins.items():
            add = [call(node, plugin_dir, "ADD", conf, f"{name}{i}", f"/run/netns/{netns[i]}")
                   for i in range(pods)]
            dele = [call(node, plugin_dir, "DEL", conf, f"{name}{i}", f"/run/netns/{netns[i]}")
                    for i in range(pods)]
            out[name] = {op: {"p50_ms": statistics.median(v),
                              "p99_ms": sorted(v)[min(len(v) - 1, int(len(v) * 0.99))],
                              "mean_ms": statistics.mean(v)}
                         for op, v in (("add", add), ("del", dele))}
        return {"pods": pods, **out}
    finally:
        if daemon:
            daemon.cleanup()
        for ns in netns + [node]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["rm", "-rf", tmp])


def markdown(r):
    lines = [f"CNI latency, {r['pods']} pods one after the other, ms (p50 / p99):", "",
             "| plugin | ADD | DEL |", "|---|---|---|"]
    for name in ("cubenet", "bridge"):
        a, d = r[name]["add"], r[name]["del"]
        lines.append(f"| {name} | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} | "
                     f"{d['p50_ms']:.1f} / {d['p99_ms']:.1f} |")
    lines.append(f"\ncubenet / bridge, ADD p50: "
                 f"{r['cubenet']['add']['p50_ms'] / r['bridge']['add']['p50_ms']:.2f}x; "
                 f"DEL p50: {r['cubenet']['del']['p50_ms'] / r['bridge']['del']['p50_ms']:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
    print(json.dumps(result, indent=1))
    print(markdown(result))
