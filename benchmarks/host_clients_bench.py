#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The node's own sockets to a ClusterIP: the socket-level balancer
(node/host-clients, the destination rewritten at connect time) against the
node chain on cubenet0's egress (host-clients off, the ClusterIP range
routed to cubenet0: every packet DNATed there and translated back on the
pod's veth). One node namespace with cubenetd, two pods made by the CNI
plugin serving TCP, a service with both as endpoints; the client runs in
the node's namespace. Rounds alternate the two paths; each round reports
the median connect + request + close time over CONNS connections and the
bytes per second of one TCP stream for SECONDS.

    sudo benchmarks/host_clients_bench.py [ROUNDS] [CONNS] [SECONDS]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("CUBENET_BUILD", os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "tests/daemon"))
from restconf_client import Daemon  # noqa: E402

# One service per path, on server ports of its own: the chain's nat keeps
# the flows it translated for a while, and a later direct connection on the
# same 4-tuple would meet them.
CLUSTER_IP = {"socket": "10.96.0.10", "chain": "10.96.0.20"}
TARGETS = {"socket": 8080, "chain": 9080}
# TARGET: answers one byte and closes; TARGET + 1: swallows streams;
# DIRECT: as TARGET, for connections to the pod's address (a port no
# service leads to, for the same reason).
DIRECT = 7080
SERVER = "DIRECT = %d\n" % DIRECT + """
import socket, threading
def serve(port, fn, threads):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(512)
    while True:
        c, _ = s.accept()
        if threads:
            threading.Thread(target=fn, args=(c,), daemon=True).start()
        else:
            fn(c)
def answer(c):
    c.recv(64); c.sendall(b"x"); c.close()
def sink(c):
    while c.recv(1 << 20):
        pass
    c.close()
for port in (8080, 9080):
    # Answered in line: one client at a time, no thread to start each.
    threading.Thread(target=serve, args=(port, answer, False), daemon=True).start()
    threading.Thread(target=serve, args=(port + 1, sink, True), daemon=True).start()
threading.Thread(target=serve, args=(DIRECT, answer, False), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""
CLIENT = """
import json, socket, sys, time
addr, conns, seconds, pod, target = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    sys.argv[4], int(sys.argv[5])
def cycle(where, n):
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        c = socket.create_connection(where); c.sendall(b"GET"); assert c.recv(8) == b"x"
        c.close()
        lat.append(time.perf_counter() - t0)
    lat.sort()
    return lat
direct = cycle((pod, target), conns)
lat = cycle((addr, 80), conns)
buf = b"\\0" * (1 << 18)
c = socket.create_connection((addr, 81)); sent = 0; t0 = time.perf_counter()
while time.perf_counter() - t0 < seconds:
    c.sendall(buf); sent += len(buf)
c.shutdown(socket.SHUT_WR); c.recv(1); took = time.perf_counter() - t0; c.close()
print(json.dumps({"median_us": lat[len(lat) // 2] * 1e6, "p90_us": lat[len(lat) * 9 // 10] * 1e6,
                  "direct_us": direct[len(direct) // 2] * 1e6, "gbit": sent * 8 / took / 1e9}))
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def cni(node, conf, command, cid, netns):
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
           "CNI_NETNS": f"/run/netns/{netns}", "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni"}
    r = subprocess.run(["nsenter", f"--net=/run/netns/{node}", os.path.join(BUILD, "cni/cubenet")],
                       input=json.dumps(conf), capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(r.stdout + r.stderr)
    return json.loads(r.stdout) if r.stdout.strip() else None


def put(daemon, path, body):
    r = daemon.client().put(path, body) if not path.endswith(":node") else \
        daemon.client().patch(path, body)
    if r.status not in (200, 201, 204):
        raise RuntimeError(r.body)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    conns = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    tag = f"hcb{os.getpid()}"
    node, pods, servers = f"{tag}-node", [f"{tag}-p0", f"{tag}-p1"], []
    tmp = tempfile.mkdtemp(prefix="host-clients-bench-")
    daemon = None
    try:
        for ns in [node] + pods:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        daemon = Daemon(netns=node).start()
        conf = {"cniVersion": "1.0.0", "name": "bench", "type": "cubenet",
                "socket": daemon.socket,
                "ipam": {"type": "host-local", "dataDir": os.path.join(tmp, "ipam"),
                         "ranges": [[{"subnet": "10.249.0.0/24"}]],
                         "routes": [{"dst": "0.0.0.0/0"}]}}
        addrs = []
        for i, ns in enumerate(pods):
            res = cni(node, conf, "ADD", f"c{i}", ns)
            addrs.append(res["ips"][0]["address"].split("/")[0])
            srv = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVER],
                                   stdout=subprocess.PIPE, text=True)
            servers.append(srv)
            assert srv.stdout.readline().strip() == "ready"
        put(daemon, "/restconf/data/cubenet-pods:services", {"cubenet-pods:services": {
            "service": [{"namespace": "default", "name": path, "cluster-ip": [CLUSTER_IP[path]],
                         "port": [{"port": 80, "protocol": "tcp", "target-port": TARGETS[path]},
                                  {"port": 81, "protocol": "tcp",
                                   "target-port": TARGETS[path] + 1}],
                         "endpoint": [{"address": a} for a in addrs]}
                        for path in CLUSTER_IP]}})
        results = {"socket": [], "chain": []}
        for r in range(rounds * 2):
            path = ("socket", "chain")[r % 2]
            node_cfg = {"cubenet-pods:node": {"host-clients": path == "socket"}}
            put(daemon, "/restconf/data/cubenet-pods:node", node_cfg)
            route = ["ip", "-n", node, "route", "add" if path == "chain" else "del",
                     "10.96.0.0/12", "dev", "cubenet0"]
            sh(*route, check=path == "chain")
            out = sh("nsenter", f"--net=/run/netns/{node}", sys.executable, "-c", CLIENT,
                     CLUSTER_IP[path], str(conns), str(seconds), addrs[0],
                     str(DIRECT)).stdout
            results[path].append(json.loads(out))
            print(path, results[path][-1], flush=True)
        print(report(results, rounds, conns, seconds))
    finally:
        for srv in servers:
            srv.kill()
            srv.wait()
            srv.stdout.close()
        if daemon:
            daemon.cleanup()
        for ns in [node] + pods:
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def report(results, rounds, conns, seconds):
    def med(path, key):
        return statistics.median(x[key] for x in results[path])

    def spread(path, key):
        v = [x[key] for x in results[path]]
        return f"{min(v):.1f}–{max(v):.1f}"

    lines = [f"{rounds} rounds per path, interleaved; {conns} connections and a "
             f"{seconds:g} s stream per round", "",
             "| path | connect+request+close, median µs (spread of round medians) | p90 µs "
             "| one TCP stream, Gbit/s (spread) |", "|---|---|---|---|"]
    for path, label in (("socket", "socket-level balancer (connect4)"),
                        ("chain", "ClusterIPs routed to cubenet0, node chain DNAT")):
        lines.append(f"| {label} | {med(path, 'median_us'):.1f} ({spread(path, 'median_us')}) "
                     f"| {med(path, 'p90_us'):.1f} | {med(path, 'gbit'):.2f} "
                     f"({spread(path, 'gbit')}) |")
    lines += ["", "The same cycle straight to a pod's address (no service; what every other "
              "connect of the node pays for the programs being there): "
              f"{med('socket', 'direct_us'):.1f} µs ({spread('socket', 'direct_us')}) with them, "
              f"{med('chain', 'direct_us'):.1f} µs ({spread('chain', 'direct_us')}) without, "
              f"{med('socket', 'direct_us') / med('chain', 'direct_us'):.2f}×."]
    def within(path):
        """Per round, the service cycle over the direct one: drift of the
        machine's load between rounds cancels."""
        v = sorted(x["median_us"] / x["direct_us"] for x in results[path])
        return f"{statistics.median(v):.3f} ({v[0]:.2f}–{v[-1]:.2f})"

    lines += ["", "Within each round, the service cycle over the direct one: "
              f"socket-level {within('socket')}, chain {within('chain')}."]
    lines += ["", f"socket / chain: latency {med('socket', 'median_us') / med('chain', 'median_us'):.2f}×, "
              f"throughput {med('socket', 'gbit') / med('chain', 'gbit'):.2f}×"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
