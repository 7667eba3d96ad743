# SPDX-License-Identifier: Apache-2.0
"""Kubernetes Service semantics of the node chain, end to end: pods made by
the CNI plugin in namespaces, each running an agent that serves TCP and UDP
and makes client calls (service_node.py), services written to cubenetd's
API, real TCP and UDP through node:parser -> classifier -> maglev -> nat ->
router. What a service with no endpoints answers (and what happens to a
connection opened before), hairpin, UDP flows of a removed endpoint (and
of other services to the same pod), session affinity and its timeout,
graceful termination, external and load-balancer IPs, the traffic
policies, validation and the ownership of addresses and node ports (as
they move between services, across a restart), and the statistics.
Needs root; exits 77 without it."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from service_node import SERVICES, NODE, UPLINK_NODE, UPLINK_CLIENT, ServiceNode  # noqa: E402
from test_cni import sh  # noqa: E402

CIP, CIP2 = "10.96.0.10", "10.96.0.20"
TARGET = 8080
TCP80 = {"port": 80, "protocol": "tcp", "target-port": TARGET}
UDP53 = {"port": 53, "protocol": "udp", "target-port": TARGET}
HAIRPIN_FALLBACK = "169.254.42.1"  # the hairpin source before the node has an address
BACKENDS = ("be1", "be2", "be3", "be4")


class ServiceSemantics(ServiceNode):
    def setUp(self):
        super().setUp()
        self.pods_with_agents(("client",) + BACKENDS, [TARGET])
        self.client = self.agents["client"]

    def eps(self, *names, **conditions):
        return [self.endpoint(n, **conditions) for n in names]

    def assertRefused(self, results, within=0.5):
        """Every result is ECONNREFUSED, each in under `within` seconds."""
        for r in results:
            self.assertEqual(r.get("error"), "ECONNREFUSED", results)
            self.assertLess(r["secs"], within, results)

    def test_no_endpoints_refuses_at_once(self):
        """A service port with no endpoint answers a new connection with an
        ICMP port unreachable: TCP connect fails with ECONNREFUSED at once,
        a connected UDP socket reads ECONNREFUSED after a send; each is
        counted in statistics/no-endpoint. An endpoint added ends it."""
        self.put_service("web", CIP, [TCP80, UDP53], [])
        self.assertRefused(self.client.connect(CIP, 80, count=3, timeout=5))
        self.assertEqual(self.client.call("open", id="u", proto="udp", addr=CIP, port=53), {})
        for _ in range(2):
            t = time.monotonic()
            self.assertEqual(self.client.call("talk", id="u", data="hello", timeout=5),
                             {"error": "ECONNREFUSED"})
            self.assertLess(time.monotonic() - t, 0.5)
        svc, eps = self.statistics("web")
        # Three SYNs and two datagrams, each refused once; nothing reached
        # an endpoint.
        self.assertEqual(svc, {"packets": 0, "bytes": 0, "new-connections": 0,
                               "no-endpoint": 5})
        self.assertEqual(eps, {})

        self.put_service("web", CIP, [TCP80, UDP53], self.eps("be1"))
        self.assertEqual(self.client.who(CIP, 80, 3), {"be1": 3})
        reply = self.client.call("talk", id="u", data="hello")["reply"]
        self.assertTrue(reply.startswith("be1 "), reply)
        self.assertEqual(self.statistics("web")[0]["no-endpoint"], 5)

    def test_hairpin_a_pod_reaches_itself_through_its_service(self):
        """A pod that is an endpoint of a service reaches the service's
        ClusterIP and is answered by itself, TCP and UDP: its source is the
        hairpin address (so the reply comes back through nat), the node's
        once it has one; the reply comes from the ClusterIP."""
        self.put_service("web", CIP, [TCP80, UDP53], self.eps("be1"))
        be1 = self.agents["be1"]
        for r in be1.connect(CIP, 80, count=3):
            self.assertEqual((r.get("who"), r.get("seen")), ("be1", HAIRPIN_FALLBACK), r)
        self.assertEqual(be1.call("open", id="u", proto="udp", addr=CIP, port=53), {})
        self.assertEqual(be1.call("talk", id="u", data="x1"),
                         {"reply": f"be1 {HAIRPIN_FALLBACK} x1"})
        # Another pod still comes from its own address.
        r = self.client.connect(CIP, 80)[0]
        self.assertEqual((r.get("who"), r.get("seen")), ("be1", self.addr["client"][1]))

        self.outside()  # the node now has an address: the uplink's
        r = be1.connect(CIP, 80)[0]
        self.assertEqual((r.get("who"), r.get("seen")), ("be1", UPLINK_NODE), r)
        self.assertEqual(be1.call("open", id="u2", proto="udp", addr=CIP, port=53), {})
        self.assertEqual(be1.call("talk", id="u2", data="x2"),
                         {"reply": f"be1 {UPLINK_NODE} x2"})

    def test_udp_flow_moves_when_its_endpoint_is_removed(self):
        """A client keeps one UDP socket (one 5-tuple) on the ClusterIP: its
        datagrams stay on one endpoint; once that endpoint is removed from
        the service, the next datagram from the same socket is answered by
        another endpoint, at once; the flow then stays there."""
        self.put_service("dns", CIP, [UDP53], self.eps("be1", "be2", "be3"))
        self.assertEqual(self.client.call("open", id="u", proto="udp", addr=CIP, port=53), {})
        first = {self.client.call("talk", id="u", data=f"a{i}")["reply"].split()[0]
                 for i in range(5)}
        self.assertEqual(len(first), 1, first)
        gone = first.pop()
        rest = [b for b in ("be1", "be2", "be3") if b != gone]
        self.put_service("dns", CIP, [UDP53], self.eps(*rest))
        t = time.monotonic()
        r = self.client.call("talk", id="u", data="b0", timeout=1)
        self.assertLess(time.monotonic() - t, 1)
        who = r.get("reply", "").split(" ")[0]
        self.assertIn(who, rest, r)
        for i in range(1, 5):
            self.assertEqual(self.client.call("talk", id="u", data=f"b{i}")["reply"],
                             f"{who} {self.addr['client'][1]} b{i}")

    def test_udp_flows_of_other_services_stay(self):
        """An endpoint removed from one service leaves the UDP flows other
        services have to the same pod and port alone: 8 flows of a service
        opened while be1 was its only endpoint stay on be1 after it gained
        three more (nat keeps them) and after be1 left another service. A
        flow forgotten would go where the ring now says, another endpoint
        with probability 3/4 each: all 8 staying by chance, < 2e-5."""
        self.put_service("dns", CIP, [UDP53], self.eps("be1"))
        self.put_service("dns2", CIP2, [UDP53], self.eps("be1"))
        client_ip = self.addr["client"][1]

        def ask(sock, data):
            return self.client.call("talk", id=sock, data=data)

        for f in range(8):
            self.assertEqual(self.client.call("open", id=f"u{f}", proto="udp", addr=CIP,
                                              port=53), {})
            self.assertEqual(ask(f"u{f}", "a"), {"reply": f"be1 {client_ip} a"})
        self.assertEqual(self.client.call("open", id="v", proto="udp", addr=CIP2, port=53), {})
        self.assertEqual(ask("v", "a"), {"reply": f"be1 {client_ip} a"})
        self.put_service("dns", CIP, [UDP53], self.eps(*BACKENDS))
        for f in range(8):
            self.assertEqual(ask(f"u{f}", "b"), {"reply": f"be1 {client_ip} b"})
        self.put_service("dns2", CIP2, [UDP53], self.eps("be2"))
        self.assertEqual(ask("v", "c"), {"reply": f"be2 {client_ip} c"})
        for f in range(8):
            self.assertEqual(ask(f"u{f}", "c"), {"reply": f"be1 {client_ip} c"}, f)
        # One connection per flow, none opened again.
        _, eps = self.statistics("dns")
        self.assertEqual(eps[self.addr["be1"][1]]["new-connections"], 8)

    def test_session_affinity_and_its_timeout(self):
        """client-ip affinity with a 2 s timeout: every connection of a
        client goes to one endpoint, also after endpoints are added and
        while the client is never idle for 2 s; idle longer than the
        timeout, it may move. After each idle period a connection lands on
        the ring's pick for a fresh 5-tuple: the old endpoint with
        probability about 1/4 among 4 endpoints, so 12 idle periods in a
        row without a move, which fails this test, happen with probability
        (1/4 + 1%)^12 < 1e-7."""
        self.put_service("web", CIP, [TCP80], self.eps("be1", "be2"),
                         session_affinity="client-ip", session_affinity_timeout=2)
        got = self.client.who(CIP, 80, 20)
        self.assertEqual(len(got), 1, got)
        (pinned,) = got
        self.assertIn(pinned, ("be1", "be2"))
        self.put_service("web", CIP, [TCP80], self.eps(*BACKENDS),
                         session_affinity="client-ip", session_affinity_timeout=2)
        self.assertEqual(self.client.who(CIP, 80, 20), {pinned: 20})
        # Busy for 6 s, never idle for 2: it stays. (An entry that expired
        # 2 s after it was made instead would move about every 2 s, each
        # time to another endpoint with probability 3/4.) The entry is
        # refreshed once a second at most: only a stall of 0.75 s between
        # two connections here would let a right one expire.
        for _ in range(24):
            time.sleep(0.25)
            self.assertEqual(self.client.who(CIP, 80, 1), {pinned: 1})
        moved = None
        for _ in range(12):
            time.sleep(2.5)
            (now,) = self.client.who(CIP, 80, 1)
            self.assertIn(now, BACKENDS)
            if now != pinned:
                moved = now
                break
        self.assertIsNotNone(moved, f"still on {pinned} after 12 idle periods")
        # The new choice holds in turn.
        self.assertEqual(self.client.who(CIP, 80, 10), {moved: 10})

    def test_graceful_termination(self):
        """A terminating endpoint (ready false, serving true) gets no new
        connections while its established one goes on, data both ways; with
        every endpoint serving and terminating, new connections go to them;
        an endpoint neither ready nor serving gets none. 45 connections
        over 3 endpoints miss one of them with probability 3 (2/3)^45 <
        1e-7; over 2, 2 (1/2)^30 < 1e-8."""
        trio = ("be1", "be2", "be3")
        self.put_service("web", CIP, [TCP80], self.eps(*trio))
        r = self.client.call("open", id="t", proto="tcp", addr=CIP, port=80)
        held = r["who"]
        others = [b for b in trio if b != held]

        def talk(n):
            self.assertEqual(self.client.call("talk", id="t", data=f"ping{n}"),
                             {"reply": f"{held}:ping{n}"})

        talk(0)
        draining = dict(ready=False, serving=True, terminating=True)
        self.put_service("web", CIP, [TCP80],
                         self.eps(*others) + self.eps(held, **draining))
        talk(1)
        self.assertEqual(set(self.client.who(CIP, 80, 30)), set(others))
        talk(2)

        # Every endpoint terminating but serving: they take new connections.
        self.put_service("web", CIP, [TCP80], self.eps(*trio, **draining))
        self.assertEqual(set(self.client.who(CIP, 80, 45)), set(trio))
        talk(3)

        # Neither ready nor serving: nothing new, whatever the others are.
        gone = dict(ready=False, serving=False, terminating=True)
        self.put_service("web", CIP, [TCP80], self.eps(*others) + self.eps(held, **gone))
        self.assertEqual(set(self.client.who(CIP, 80, 30)), set(others))
        self.put_service("web", CIP, [TCP80],
                         self.eps(*others, **draining) + self.eps(held, **gone))
        self.assertEqual(set(self.client.who(CIP, 80, 30)), set(others))
        talk(4)
        self.client.call("close", id="t")

    def test_established_connection_outlives_the_last_endpoint(self):
        """A service whose every endpoint stops serving (or is removed)
        refuses new connections, but a TCP connection opened before goes
        on, data both ways, as kube-proxy's REJECT takes new connections
        only."""
        self.put_service("web", CIP, [TCP80], self.eps("be1"))
        self.assertEqual(self.client.call("open", id="t", proto="tcp", addr=CIP,
                                          port=80)["who"], "be1")
        self.put_service("web", CIP, [TCP80],
                         self.eps("be1", ready=False, serving=False, terminating=True))
        self.assertRefused(self.client.connect(CIP, 80, count=2))
        self.assertEqual(self.client.call("talk", id="t", data="still"),
                         {"reply": "be1:still"})
        self.put_service("web", CIP, [TCP80], [])
        self.assertRefused(self.client.connect(CIP, 80, count=2))
        self.assertEqual(self.client.call("talk", id="t", data="there"),
                         {"reply": "be1:there"})
        svc, _ = self.statistics("web")
        # Four connections refused; the open one's packets are no new ones.
        self.assertEqual(svc["no-endpoint"], 4)

    def test_external_and_load_balancer_ips(self):
        """A client beyond the uplink reaches the service on an external IP
        and on a load-balancer IP, TCP and UDP, its own address kept (the
        endpoints are this node's: one on another node has external
        clients masqueraded to it); an address taken off the service is no
        longer served."""
        outside = self.outside()
        for ip in ("203.0.113.10", "198.51.100.20"):
            sh("ip", "-n", outside, "route", "add", ip + "/32", "via", UPLINK_NODE)
        client = self.start_agent("outside", outside, [])
        self.put_service("web", CIP, [TCP80, UDP53], self.eps("be1", "be2", local=True),
                         external_ip=["203.0.113.10"], load_balancer_ip=["198.51.100.20"])
        for ip in ("203.0.113.10", "198.51.100.20"):
            results = client.connect(ip, 80, count=30)
            self.assertEqual({r.get("who") for r in results}, {"be1", "be2"}, results)
            self.assertEqual({r["seen"] for r in results}, {UPLINK_CLIENT})
            self.assertEqual(client.call("open", id=ip, proto="udp", addr=ip, port=53), {})
            reply = client.call("talk", id=ip, data="q")["reply"].split(" ")
            self.assertIn(reply[0], ("be1", "be2"))
            self.assertEqual(reply[1:], [UPLINK_CLIENT, "q"])
        # Endpoints not said to be local: the reply must come back through
        # this node, so the client is masqueraded to the node's address.
        self.put_service("web", CIP, [TCP80, UDP53], self.eps("be1", "be2"),
                         load_balancer_ip=["198.51.100.20"])
        r = client.connect("203.0.113.10", 80, timeout=2)[0]
        self.assertIn("error", r)
        r = client.connect("198.51.100.20", 80)[0]
        self.assertIn(r.get("who"), ("be1", "be2"), r)
        self.assertEqual(r["seen"], UPLINK_NODE, r)

    def test_traffic_policies(self):
        """externalTrafficPolicy local: the NodePort from outside reaches
        only local endpoints and they see the client's own address, while
        the ClusterIP reaches every endpoint; internalTrafficPolicy local:
        the ClusterIP from a pod reaches only local ones; external policy
        local with no local endpoint: the NodePort refuses, the ClusterIP
        still works. 45 connections over 3 endpoints miss one with
        probability < 1e-7, 30 over 2 < 1e-8."""
        outside = self.outside()
        client = self.start_agent("outside", outside, [])
        port = dict(TCP80, **{"node-port": 30080})
        mixed = (self.eps("be1", "be3", local=True) + self.eps("be2", local=False))
        self.put_service("web", CIP, [port], mixed, external_traffic_policy="local")
        results = client.connect(UPLINK_NODE, 30080, count=30)
        self.assertEqual({r.get("who") for r in results}, {"be1", "be3"}, results)
        self.assertEqual({r["seen"] for r in results}, {UPLINK_CLIENT})
        self.assertEqual(set(self.client.who(CIP, 80, 45)), {"be1", "be2", "be3"})

        self.put_service("web", CIP, [port], mixed, internal_traffic_policy="local")
        self.assertEqual(set(self.client.who(CIP, 80, 30)), {"be1", "be3"})
        self.assertEqual(set(client.who(UPLINK_NODE, 30080, 45)), {"be1", "be2", "be3"})

        self.put_service("web", CIP, [port], mixed, internal_traffic_policy="local",
                         external_traffic_policy="local")
        self.assertEqual(set(self.client.who(CIP, 80, 30)), {"be1", "be3"})
        self.assertEqual(set(client.who(UPLINK_NODE, 30080, 30)), {"be1", "be3"})

        self.put_service("web", CIP, [port], self.eps("be1", "be2"),
                         external_traffic_policy="local")
        self.assertRefused(client.connect(UPLINK_NODE, 30080, count=3))
        self.assertEqual(set(self.client.who(CIP, 80, 30)), {"be1", "be2"})

    def test_frontend_moves_to_another_balancer(self):
        """A frontend (address, port, protocol) that one change takes from
        one balancer to another stays served, and stays owned: the traffic
        policies made equal (two balancers become one), and one YANG Patch
        that deletes a service and creates another on its addresses."""
        outside = self.outside()
        client = self.start_agent("outside", outside, [])
        port = dict(TCP80, **{"node-port": 30080})
        self.put_service("web", CIP, [port], self.eps("be1", local=True),
                         external_traffic_policy="local")
        self.assertEqual(self.client.who(CIP, 80, 3), {"be1": 3})
        self.put_service("web", CIP, [port], self.eps("be1", local=True))
        self.assertEqual(self.client.who(CIP, 80, 3, timeout=1), {"be1": 3})
        self.assertEqual(client.who(UPLINK_NODE, 30080, 3, timeout=1), {"be1": 3})
        api = self.daemon.client()
        r = api.put(f"{SERVICES}/service=default,other",
                    self.service_body("other", [TCP80]))
        self.assertRefusedWrite(r, 400, "10.96.0.10|80|6 is already default/web/80/tcp/all's")

        patch = {"ietf-yang-patch:yang-patch": {"patch-id": "move", "edit": [
            {"edit-id": "e1", "operation": "delete", "target": "/service=default,web"},
            {"edit-id": "e2", "operation": "create", "target": "/service=default,web2",
             "value": {"cubenet-pods:service": [{
                 "namespace": "default", "name": "web2", "cluster-ip": [CIP], "port": [port],
                 "endpoint": self.eps("be2")}]}}]}}
        r = api.request("PATCH", SERVICES, raw=json.dumps(patch),
                        headers={"Content-Type": "application/yang-patch+json"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.client.who(CIP, 80, 3, timeout=1), {"be2": 3})
        self.assertEqual(client.who(UPLINK_NODE, 30080, 3, timeout=1), {"be2": 3})
        r = api.put(f"{SERVICES}/service=default,other",
                    self.service_body("other", [TCP80]))
        self.assertRefusedWrite(r, 400, "10.96.0.10|80|6 is already default/web2/80/tcp/all's")
        r = api.put(f"{SERVICES}/service=default,other",
                    self.service_body("other", [dict(TCP80, **{"node-port": 30080})],
                                      cip=CIP2))
        self.assertRefusedWrite(r, 400, "192.0.2.1|30080|6 is already default/web2/80/tcp/all's")

    def assertRefusedWrite(self, r, status, words):
        self.assertEqual(r.status, status, r.body)
        err = r.error()
        self.assertEqual(err["error-tag"], "invalid-value", err)
        self.assertIn(words, err["error-message"])

    def service_body(self, name, ports, cip=CIP, **extra):
        return {"cubenet-pods:service": [dict({
            "namespace": "default", "name": name, "cluster-ip": [cip], "port": ports,
            "endpoint": self.eps("be1")}, **extra)]}

    def test_validation(self):
        """Each refused write is a 400 naming the problem and changes
        nothing, config or datapath."""
        api = self.daemon.client()
        r = api.put(NODE, {"cubenet-pods:node": {"address": UPLINK_NODE}})
        self.assertIn(r.status, (201, 204), r.body)
        self.put_service("a", CIP, [dict(TCP80, **{"node-port": 30080})], self.eps("be1"),
                         health_check_node_port=30500)
        before = api.config()

        def refused(body, words, name):
            r = api.put(f"{SERVICES}/service=default,{name}", body)
            self.assertRefusedWrite(r, 400, words)
            self.assertEqual(api.config(), before)

        refused(self.service_body("b", [dict(TCP80, **{"node-port": 22})], cip=CIP2),
                "node-port 22 is outside the node-port-range 30000-32767", "b")
        refused(self.service_body("b", [dict(TCP80, **{"node-port": 30080})], cip=CIP2),
                "node port 192.0.2.1|30080|6 is already default/a/80/tcp/all's", "b")
        refused(self.service_body("b", [TCP80]),
                "address and port 10.96.0.10|80|6 is already default/a/80/tcp/all's", "b")
        # A health-check node port is the node agent's: no node port takes it.
        refused(self.service_body("b", [dict(TCP80, **{"node-port": 30500})], cip=CIP2),
                "default/b/80/tcp/all: node port 30500/tcp is already default/a/80/tcp/all's "
                "health-check node port", "b")
        refused(self.service_body("b", [TCP80], cip=CIP2, **{"health-check-node-port": 30080}),
                "default/b/80/tcp/all: health-check node port 30080/tcp is already "
                "default/a/80/tcp/all's node port", "b")
        refused(self.service_body("b", [TCP80], cip=CIP2, **{"health-check-node-port": 30500}),
                "default/b/80/tcp/all: health-check node port 30500/tcp is already "
                "default/a/80/tcp/all's health-check node port", "b")
        refused(self.service_body("b", [dict(TCP80, **{"node-port": 30600})], cip=CIP2,
                                  **{"health-check-node-port": 30600}),
                "default/b/80/tcp/all: health-check node port 30600/tcp is already "
                "default/b/80/tcp/all's node port", "b")
        # Whatever the family: the agent's listener takes the number on
        # every address of the node.
        r = api.put(NODE, {"cubenet-pods:node": {"address": UPLINK_NODE,
                                                 "address6": "2001:db8::1"}})
        self.assertIn(r.status, (201, 204), r.body)
        before = api.config()
        refused(self.service_body("b", [dict(TCP80, **{"node-port": 30500})], cip="fd00:96::2"),
                "default/b/80/tcp/all/ipv6: node port 30500/tcp is already default/a/80/tcp/all's "
                "health-check node port", "b")
        refused(self.service_body("b", [dict(TCP80, **{"node-port": 30081})], cip="fd00:96::2",
                                  **{"health-check-node-port": 30080}),
                "default/b/80/tcp/all/ipv6: health-check node port 30080/tcp is already "
                "default/a/80/tcp/all's node port", "b")
        refused(self.service_body("b", [{"port": 80, "protocol": "sctp",
                                         "target-port": TARGET}], cip=CIP2),
                "port 80/sctp: SCTP is not supported", "b")
        # A YANG Patch whose second edit conflicts: neither is made.
        patch = {"ietf-yang-patch:yang-patch": {"patch-id": "p1", "edit": [
            {"edit-id": "e1", "operation": "create", "target": "/service=default,c",
             "value": self.service_body("c", [TCP80], cip="10.96.0.30")},
            {"edit-id": "e2", "operation": "create", "target": "/service=default,d",
             "value": self.service_body("d", [dict(TCP80, **{"node-port": 30080})],
                                        cip="10.96.0.40")}]}}
        r = api.request("PATCH", SERVICES, raw=json.dumps(patch),
                        headers={"Content-Type": "application/yang-patch+json"})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("node port 192.0.2.1|30080|6 is already default/a/80/tcp/all's", r.body)
        self.assertEqual(api.config(), before)
        self.assertEqual(api.get(f"{SERVICES}/service=default,c").status, 404)
        # The datapath as before: a still answers, c's address is no service.
        self.assertEqual(self.client.who(CIP, 80, 3), {"be1": 3})
        self.assertIn("error", self.client.connect("10.96.0.30", 80, timeout=1)[0])
        # Given up, a health-check node port is free for a node port.
        self.put_service("a", CIP, [dict(TCP80, **{"node-port": 30080})], self.eps("be1"))
        self.put_service("e", "10.96.0.50", [dict(TCP80, **{"node-port": 30500})],
                         self.eps("be2"))
        self.assertEqual(self.client.who("10.96.0.50", 80, 2), {"be2": 2})
        # The same address and port in another protocol is another frontend.
        self.put_service("b", CIP, [dict(TCP80, protocol="udp")], self.eps("be2"))

    def test_a_restarted_daemon_keeps_services_and_their_claims(self):
        """Across a restart of cubenetd, an open connection goes on (also
        while it is down), the service answers on every frontend, and
        what it owns stays owned: its address and port, its node port, its
        health-check node port."""
        self.outside()
        self.put_service("web", CIP, [dict(TCP80, **{"node-port": 30080})],
                         self.eps("be1", "be2"), health_check_node_port=30500)
        held = self.client.call("open", id="t", proto="tcp", addr=CIP, port=80)["who"]
        self.daemon.stop()
        self.assertEqual(self.client.call("talk", id="t", data="down"),
                         {"reply": f"{held}:down"})
        self.daemon.start()
        self.assertEqual(self.client.call("talk", id="t", data="up"), {"reply": f"{held}:up"})
        self.assertEqual(set(self.client.who(CIP, 80, 30)), {"be1", "be2"})
        self.assertEqual(set(self.client.who(UPLINK_NODE, 30080, 30)), {"be1", "be2"})
        api = self.daemon.client()
        before = api.config()
        for body, words in (
                (self.service_body("b", [TCP80]),
                 "address and port 10.96.0.10|80|6 is already default/web/80/tcp/all's"),
                (self.service_body("b", [dict(TCP80, **{"node-port": 30080})], cip=CIP2),
                 "node port 192.0.2.1|30080|6 is already default/web/80/tcp/all's"),
                (self.service_body("b", [dict(TCP80, **{"node-port": 30500})], cip=CIP2),
                 "node port 30500/tcp is already default/web/80/tcp/all's health-check")):
            self.assertRefusedWrite(api.put(f"{SERVICES}/service=default,b", body), 400, words)
            self.assertEqual(api.config(), before)
        # Changed after the restart: the adopted ids are the service's own.
        other = "be2" if held == "be1" else "be1"
        self.put_service("web", CIP, [dict(TCP80, **{"node-port": 30080})], self.eps(other),
                         health_check_node_port=30500)
        self.assertEqual(self.client.who(CIP, 80, 10), {other: 10})
        self.assertEqual(self.client.call("talk", id="t", data="after"),
                         {"reply": f"{held}:after"})

    def test_statistics(self):
        """After traffic, a service's state reports, per service and per
        endpoint, the connections the test opened to each endpoint and,
        for UDP whose packets the test controls, exact packets and bytes."""
        self.put_service("web", CIP, [TCP80], self.eps("be1", "be2", "be3"))
        results = self.client.connect(CIP, 80, count=40)
        made = {}
        for r in results:
            made[r["who"]] = made.get(r["who"], 0) + 1
        # The last ACKs may still be on their way when the client is done.
        svc, eps = self.statistics("web", settled=True)
        self.assertEqual(svc["new-connections"], 40)
        self.assertEqual(svc["no-endpoint"], 0)
        for name in ("be1", "be2", "be3"):
            self.assertEqual(eps[self.addr[name][1]]["new-connections"], made.get(name, 0),
                             (name, made, eps))
        # At least SYN, ACK and FIN of each connection, each a frame of
        # Ethernet, IPv4 and TCP headers at least.
        self.assertGreaterEqual(svc["packets"], 3 * 40)
        self.assertGreaterEqual(svc["bytes"], 54 * svc["packets"])
        self.assertEqual(sum(e["packets"] for e in eps.values()), svc["packets"])
        self.assertEqual(sum(e["bytes"] for e in eps.values()), svc["bytes"])

        # UDP: 3 flows (sockets) of 4 datagrams each of known sizes.
        self.put_service("dns", CIP2, [UDP53], self.eps("be1", "be2", "be3"))
        flows = {}
        for f in range(3):
            self.assertEqual(self.client.call("open", id=f"u{f}", proto="udp", addr=CIP2,
                                              port=53), {})
            for i in range(4):
                reply = self.client.call("talk", id=f"u{f}", data="x" * (100 * f + i + 1))
                flows.setdefault(f, set()).add(reply["reply"].split(" ")[0])
        sizes = [100 * f + i + 1 for f in range(3) for i in range(4)]
        per_ep = {}
        for f, who in flows.items():
            self.assertEqual(len(who), 1, flows)
            per_ep.setdefault(who.pop(), []).extend(100 * f + i + 1 for i in range(4))
        svc, eps = self.statistics("dns")
        wire = 14 + 20 + 8  # Ethernet, IPv4, UDP
        self.assertEqual(svc, {"packets": 12, "bytes": sum(sizes) + 12 * wire,
                               "new-connections": 3, "no-endpoint": 0})
        for name in ("be1", "be2", "be3"):
            sent = per_ep.get(name, [])
            self.assertEqual(eps[self.addr[name][1]],
                             {"packets": len(sent), "bytes": sum(sent) + len(sent) * wire,
                              "new-connections": len(sent) // 4}, name)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
