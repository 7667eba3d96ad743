# SPDX-License-Identifier: Apache-2.0
"""A node with pods made by the CNI plugin and Kubernetes services written to
cubenetd, for the tests of the node chain's service semantics: a long-lived
agent in each pod that serves TCP and UDP and makes client calls on
request, the service's state (statistics) as the API reports it, and a
client beyond the node's uplink."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from test_cni import CniNode, sh  # noqa: E402

SERVICES = "/restconf/data/cubenet-pods:services"
NODE = "/restconf/data/cubenet-pods:node"
UPLINK_NODE, UPLINK_CLIENT = "192.0.2.1", "192.0.2.2"

# One process per pod, run in its netns. It serves TCP and UDP on the ports
# it is given: a TCP connection is greeted with "NAME PEER\n" (PEER: the
# source address the server sees) and then each line it sends comes back
# as "NAME:LINE\n"; a UDP datagram is answered with "NAME PEER DATA". On
# stdin it takes client calls, one JSON object a line, and answers each
# with one JSON line on stdout:
#   {"op": "connect", "addr", "port", "count", "timeout"}
#       count TCP connections, one after the other, each closed after its
#       greeting: [{"who", "seen", "secs"} or {"error", "secs"}]
#   {"op": "open", "id", "proto": "tcp"|"udp", "addr", "port"}
#       a socket kept under id (TCP: connected, greeting read; UDP:
#       connected): {"who", "seen"} (TCP) or {} (UDP), or {"error"}
#   {"op": "talk", "id", "data", "timeout"}
#       send data on socket id, read one answer: {"reply"} or {"error"}
#   {"op": "close", "id"}
#   {"op": "served"}  what its servers saw: {"tcp": n, "udp": n}
# An error is the errno's name (ECONNREFUSED) or "timeout". Every socket a
# client call makes checks that its peer is the address it asked for: a
# reply that was not translated back is never taken.
AGENT = r"""
import errno, json, socket, sys, threading, time
name, ports = sys.argv[1], [int(p) for p in sys.argv[2].split(",") if p]
served = {"tcp": 0, "udp": 0}
lock = threading.Lock()

def tcp_conn(c, peer):
    c.sendall(("%s %s\n" % (name, peer[0])).encode())
    f = c.makefile("rb")
    try:
        for line in f:
            c.sendall(("%s:" % name).encode() + line)
    except OSError:
        pass
    c.close()

def tcp_server(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(512)
    while True:
        c, peer = s.accept()
        with lock:
            served["tcp"] += 1
        threading.Thread(target=tcp_conn, args=(c, peer), daemon=True).start()

def udp_server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65535)
        with lock:
            served["udp"] += 1
        s.sendto(("%s %s " % (name, peer[0])).encode() + data, peer)

def err(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    return errno.errorcode.get(e.errno, str(e)) if e.errno else str(e)

socks = {}

def greeting(c, f, addr):
    line = f.readline().decode()
    if c.getpeername()[0] != addr:
        return {"error": "peer " + c.getpeername()[0]}
    if not line:
        return {"error": "closed"}
    who, seen = line.split()
    return {"who": who, "seen": seen}

def connect(m):
    out = []
    for _ in range(m["count"]):
        t = time.monotonic()
        try:
            c = socket.create_connection((m["addr"], m["port"]), timeout=m.get("timeout", 3))
            r = greeting(c, c.makefile("rb"), m["addr"])
            c.close()
        except OSError as e:
            r = {"error": err(e)}
        r["secs"] = time.monotonic() - t
        out.append(r)
    return out

def open_(m):
    try:
        if m["proto"] == "tcp":
            c = socket.create_connection((m["addr"], m["port"]), timeout=m.get("timeout", 3))
            socks[m["id"]] = (c, c.makefile("rb"))
            return greeting(c, socks[m["id"]][1], m["addr"])
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.connect((m["addr"], m["port"]))
        socks[m["id"]] = (c, None)
        return {}
    except OSError as e:
        return {"error": err(e)}

def talk(m):
    c, f = socks[m["id"]]
    c.settimeout(m.get("timeout", 3))
    try:
        if f:
            c.sendall(m["data"].encode() + b"\n")
            line = f.readline().decode()
            return {"reply": line.rstrip("\n")} if line else {"error": "closed"}
        c.send(m["data"].encode())
        return {"reply": c.recv(65535).decode()}
    except OSError as e:
        return {"error": err(e)}

for p in ports:
    threading.Thread(target=tcp_server, args=(p,), daemon=True).start()
    threading.Thread(target=udp_server, args=(p,), daemon=True).start()
time.sleep(0.05)
print(json.dumps("ready"), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m["op"] == "connect":
        r = connect(m)
    elif m["op"] == "open":
        r = open_(m)
    elif m["op"] == "talk":
        r = talk(m)
    elif m["op"] == "close":
        socks.pop(m["id"])[0].close()
        r = {}
    else:
        with lock:
            r = dict(served)
    print(json.dumps(r), flush=True)
"""


class Agent:
    """The agent of one pod (or of the client beyond the uplink)."""

    def __init__(self, netns, name, ports):
        self.name = name
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, "-c", AGENT, name,
             ",".join(map(str, ports))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.proc.stdout.readline()
        if json.loads(ready or "null") != "ready":
            raise RuntimeError(f"agent {name} did not start")

    def call(self, op, **args):
        self.proc.stdin.write(json.dumps(dict(args, op=op)) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def connect(self, addr, port, count=1, timeout=3):
        return self.call("connect", addr=addr, port=port, count=count, timeout=timeout)

    def who(self, addr, port, count=1, timeout=3):
        """How many of count connections each endpoint took ("error:X"
        for those that failed)."""
        seen = {}
        for r in self.connect(addr, port, count, timeout):
            k = r.get("who") or "error:" + r["error"]
            seen[k] = seen.get(k, 0) + 1
        return seen

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class ServiceNode(CniNode):
    """A CniNode whose pods run agents (pods(...)), services written and
    read through the API, and the outside beyond the uplink."""

    def setUp(self):
        super().setUp()
        self.addr = {}   # pod name -> (netns, address)
        self.agents = {}

    def pods_with_agents(self, names, ports):
        """A pod per name, made by the CNI plugin, each running an agent
        serving ports."""
        for name in names:
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            self.addr[name] = (ns, res["ips"][0]["address"].split("/")[0])
            self.start_agent(name, ns, ports)

    def start_agent(self, name, ns, ports):
        agent = Agent(ns, name, ports)
        self.addCleanup(agent.stop)
        self.agents[name] = agent
        return agent

    def endpoint(self, name, **conditions):
        """An endpoint entry for pod name, with conditions (ready=False...)."""
        return dict({"address": self.addr[name][1]},
                    **{k.replace("_", "-"): v for k, v in conditions.items()})

    def put_service(self, name, cluster_ip, ports, endpoints, namespace="default", **extra):
        """Write (create or replace) a service; asserts it was taken."""
        svc = dict({"namespace": namespace, "name": name, "cluster-ip": [cluster_ip],
                    "port": ports, "endpoint": endpoints},
                   **{k.replace("_", "-"): v for k, v in extra.items()})
        r = self.daemon.client().put(f"{SERVICES}/service={namespace},{name}",
                                     {"cubenet-pods:service": [svc]})
        self.assertIn(r.status, (201, 204), r.body)

    def service_state(self, name, namespace="default"):
        r = self.daemon.client().get(f"{SERVICES}/service={namespace},{name}")
        self.assertEqual(r.status, 200, r.body)
        return r.json()["cubenet-pods:service"][0]

    def statistics(self, name, namespace="default", settled=False):
        """(the service's statistics, {endpoint address: its statistics}),
        every counter an int. settled: once two reads 0.2 s apart agree
        (packets still in flight counted), for at most 3 s."""
        def ints(d):
            return {k: int(v) for k, v in (d or {}).items()}

        def read():
            svc = self.service_state(name, namespace)
            return (ints(svc.get("statistics")),
                    {e["address"]: ints(e.get("statistics")) for e in svc.get("endpoint", [])})
        now = read()
        for _ in range(15 if settled else 0):
            time.sleep(0.2)
            now, before = read(), now
            if now == before:
                break
        return now

    def outside(self, node=None):
        """A namespace beyond the node's uplink (up0, 192.0.2.1/24), routed
        to the node; the node config written with it."""
        ns = self.pod()
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "eth0", "netns", ns)
        sh("ip", "-n", self.node, "addr", "add", UPLINK_NODE + "/24", "dev", "up0")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        sh("ip", "-n", ns, "addr", "add", UPLINK_CLIENT + "/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", UPLINK_NODE)
        r = self.daemon.client().put(NODE, {"cubenet-pods:node": dict(node or {},
                                                                      uplink="up0")})
        self.assertIn(r.status, (201, 204), r.body)
        return ns
