#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of one node joining a 3-node cluster.

The 3-node cluster of tests/k8s/test_cluster3.py: three node namespaces on
an emulated underlay, each with its own cubenetd and cubenet-agent, one
real kube-apiserver (etcd, the controller manager) with their Nodes, a pod
a node (made by the CNI plugin, a TCP server in it). Each round, a fourth
node is made ready to join -- its namespace on the underlay, its
cubenetd, its agent (watching, its first sync done without its Node) and
its pod, whose range is the podCIDR its Node will carry -- and then its
Node object is created with its podCIDR and InternalIP in one POST. Measured from just before
that POST:

  routes  until every node's router holds the routes to every other
          node's pods (read from the pinned maps with bpftool, every 20 ms)
  reach   until every pair of pods reaches each other: one thread a pod,
          inside its network namespace, makes short TCP connects (20 ms
          timeout) to every other pod in rounds 5 ms apart; a pod is done
          at the end of its first round in which all succeed; reach is
          the last pod's (so it is late by up to a round: a failed connect
          and the pause, about 25 ms)

Then the Node is deleted, the fourth node taken down, and the next round
starts afresh with a new one (node 4, 5, ...: a new name, underlay address
and pod range each round, as a machine that joins brings; the same address
with a new MAC would measure the other nodes' stale ARP entries instead).
Reported per mode as median and min..max over the rounds. Not a pass/fail
test. Needs root and the kube binaries
(scripts/kube-build.sh).

    python3 benchmarks/join_bench.py --rounds 7
"""
import argparse
import ctypes
import os
import platform
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests/k8s"))
import test_cluster3 as c3  # noqa: E402
from apiserver import ApiServer  # noqa: E402
from test_agent_api import manifest_rbac  # noqa: E402

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(ns):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
    finally:
        os.close(fd)


def reachable(ip, port, timeout):
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


def prober(ns, targets, t0, out, deadline, timeout=0.02, pause=0.005):
    """In ns: rounds of connects to every target until one where all
    succeed; out[ns] = seconds from t0 to the end of that round."""
    enter_netns(ns)
    while time.monotonic() < deadline:
        ok = all([reachable(ip, c3.PORT, timeout) for ip in targets])
        if ok:
            out[ns] = time.monotonic() - t0
            return
        time.sleep(pause)


def one_round(cluster, joiner):
    """A fourth node, number joiner, joins: (routes, reach) in seconds."""
    cluster.add_node(joiner)
    cluster.add_pod(joiner, f"p{joiner}0")
    cluster.agents[joiner].wait_ready(60)
    nodes = sorted(cluster.nodes)
    want = {i: cluster.want_routes(i, nodes) for i in nodes}
    pods = list(cluster.pods.values())
    obj = c3.node_object(joiner)
    reach, threads = {}, []

    t0 = time.monotonic()
    status, body = cluster.api.request("POST", "/api/v1/nodes", body=obj)
    assert status == 201, body
    cluster.node_objects.add(c3.node_name(joiner))
    deadline = t0 + 120
    for _, ns, addr, *_ in pods:  # IPv4: what the probe dials
        targets = [p[2] for p in pods if p[2] != addr]
        t = threading.Thread(target=prober, args=(ns, targets, t0, reach, deadline))
        t.start()
        threads.append(t)
    routes = None
    while routes is None and time.monotonic() < deadline:
        if all(cluster.all_routes(i) == want[i] for i in nodes):
            routes = time.monotonic() - t0
        else:
            time.sleep(0.02)
    for t in threads:
        t.join()
    if routes is None or len(reach) != len(pods):
        raise RuntimeError("the fourth node did not converge in 120 s")
    cluster.remove_node(joiner)
    cluster.wait_peers([i for i in nodes if i != joiner])
    return routes, max(reach.values())


def summary(xs):
    return f"{statistics.median(xs):.3f} s ({min(xs):.3f}..{max(xs):.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--modes", default="vxlan,native")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    api = ApiServer().start()
    try:
        api.apply(manifest_rbac())
        print(f"# node join: {platform.node()}, kernel {platform.release()}, "
              f"{os.cpu_count()} CPUs, {args.rounds} rounds a mode")
        results = {}
        for mode in args.modes.split(","):
            cluster = c3.Cluster(api, mode, pods_per_node=1)
            try:
                cluster.start()
                rows = []
                for r in range(args.rounds):
                    rows.append(one_round(cluster, 4 + r))
                    print(f"{mode} round {r + 1}: routes {rows[-1][0]:.3f} s, "
                          f"reach {rows[-1][1]:.3f} s", flush=True)
                results[mode] = rows
            finally:
                cluster.stop()
        print("\n| mode | all routers hold the routes | all pairs of pods reach each other |")
        print("|---|---|---|")
        for mode, rows in results.items():
            print(f"| {mode} | {summary([r for r, _ in rows])} | "
                  f"{summary([x for _, x in rows])} |")
    finally:
        api.stop()


if __name__ == "__main__":
    main()
