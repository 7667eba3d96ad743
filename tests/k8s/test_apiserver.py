# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes control plane fixture serves what the node agent reads, the
way it will read it: kubectl-applied Services and Pods become EndpointSlices;
the agent's token lists and watches them over verified TLS, within its RBAC
role; watches carry bookmarks, report terminating endpoints, answer a stale
resourceVersion with 410 Expired and resume across an API server restart."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from apiserver import AGENT_NAMESPACE, AGENT_SERVICE_ACCOUNT, NODE_NAME, ApiServer  # noqa: E402

NS = "shop"
SLICES = "/apis/discovery.k8s.io/v1beta1/endpointslices"
SERVICES = "/api/v1/services"

# The agent's read-only role, as a deployment would grant it.
AGENT_RBAC = f"""apiVersion: v1
kind: Namespace
metadata:
  name: {AGENT_NAMESPACE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cubenet-test-agent
rules:
  - apiGroups: [""]
    resources: ["services", "nodes"]
    verbs: ["list", "watch"]
  - apiGroups: ["discovery.k8s.io"]
    resources: ["endpointslices"]
    verbs: ["list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cubenet-test-agent
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cubenet-test-agent
subjects:
  - kind: ServiceAccount
    name: {AGENT_SERVICE_ACCOUNT}
    namespace: {AGENT_NAMESPACE}
"""

SERVICE = f"""apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {NS}
spec:
  type: ClusterIP
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: web
    - name: metrics
      port: 9090
      protocol: TCP
      targetPort: 9100
"""


def pod(name):
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {NS}
  labels:
    app: web
spec:
  nodeName: {NODE_NAME}
  automountServiceAccountToken: false
  containers:
    - name: web
      image: web:1
      ports:
        - name: web
          containerPort: 8080
"""


POD_IPS = {"web-a": "10.244.0.10", "web-b": "10.244.0.11"}


def service_name(obj):
    return obj["metadata"].get("labels", {}).get("kubernetes.io/service-name")


def endpoints_by_ip(slice_):
    return {e["addresses"][0]: e for e in slice_.get("endpoints") or []}


def report(api, label):
    rss = api.rss_kib()
    print(f"\n{label}: started in {api.start_seconds:.1f} s; RSS "
          + ", ".join(f"{k} {v // 1024} MiB" for k, v in rss.items()), file=sys.stderr)


class ServedAsTheAgentReadsIt(unittest.TestCase):
    """A server with its watch cache, as clusters run it."""

    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer().start()
        cls.addClassCleanup(cls.api.stop)
        cls.token = cls.api.agent_token
        cls.api.apply(AGENT_RBAC)
        # RBAC is read from an informer: wait until the binding is in force.
        deadline = time.monotonic() + 20
        while cls.api.get(SERVICES, token=cls.token)[0] != 200:
            if time.monotonic() > deadline:
                raise AssertionError("the agent's ClusterRoleBinding never took effect")
            time.sleep(0.2)
        cls.api.create_namespace(NS)

    def test_agent_rbac(self):
        api = self.api
        for path in (SERVICES, SLICES, "/api/v1/nodes"):
            self.assertEqual(api.get(path, token=self.token)[0], 200, path)
        status, body = api.get("/api/v1/pods", token=self.token)
        self.assertEqual((status, body["reason"]), (403, "Forbidden"))
        self.assertIn(f"system:serviceaccount:{AGENT_NAMESPACE}:{AGENT_SERVICE_ACCOUNT}",
                      body["message"])
        self.assertEqual(api.get("/api/v1/secrets", token=self.token)[0], 403)
        with api.watch("/api/v1/pods", "", token=self.token) as w:
            self.assertEqual((w.status, w.body["reason"]), (403, "Forbidden"))
            self.assertIsNone(w.next(1))
        status, _ = api.request("POST", f"/api/v1/namespaces/{NS}/services", token=self.token,
                                body={"apiVersion": "v1", "kind": "Service",
                                      "metadata": {"name": "intruder"},
                                      "spec": {"ports": [{"port": 1}]}})
        self.assertEqual(status, 403)
        self.assertEqual(api.get(f"/api/v1/namespaces/{NS}/services/intruder")[0], 404)
        self.assertEqual(api.get(SERVICES, token="not-a-token")[0], 401)
        # v1.20 serves EndpointSlices as v1beta1 only.
        self.assertEqual(api.get("/apis/discovery.k8s.io/v1/endpointslices",
                                 token=self.token)[0], 404)

    def test_service_to_terminating_endpoint(self):
        api, token = self.api, self.token
        services = api.list(SERVICES, token=token)
        slices = api.list(SLICES, token=token)
        self.assertEqual(slices["kind"], "EndpointSliceList")
        with api.watch(SERVICES, services["metadata"]["resourceVersion"], token=token) as sw, \
                api.watch(SLICES, slices["metadata"]["resourceVersion"], token=token) as ew:
            self.assertEqual((sw.status, ew.status), (200, 200))
            api.apply(SERVICE + "---\n" + pod("web-a") + "---\n" + pod("web-b"))

            added = sw.until(lambda e: e["type"] == "ADDED"
                             and e["object"]["metadata"]["name"] == "web")[-1]["object"]
            self.assertTrue(added["spec"]["clusterIP"].startswith("10.96."))
            self.assertEqual([(p["name"], p["port"], p["targetPort"])
                              for p in added["spec"]["ports"]],
                             [("http", 80, "web"), ("metrics", 9090, 9100)])

            for name, ip in POD_IPS.items():
                status = api.patch_pod_ready(NS, name, ip)["status"]
                self.assertEqual(status["podIP"], ip)

            def both_ready(e):
                eps = endpoints_by_ip(e["object"])
                return (service_name(e["object"]) == "web" and set(eps) == set(POD_IPS.values())
                        and all(x["conditions"].get("ready") for x in eps.values()))
            slice_ = ew.until(both_ready)[-1]["object"]
            self.assertEqual(slice_["apiVersion"], "discovery.k8s.io/v1beta1")
            self.assertEqual(slice_["addressType"], "IPv4")
            self.assertEqual(sorted((p["name"], p["port"], p["protocol"]) for p in slice_["ports"]),
                             [("http", 8080, "TCP"), ("metrics", 9100, "TCP")])
            for name, ip in POD_IPS.items():
                ep = endpoints_by_ip(slice_)[ip]
                self.assertEqual(ep["targetRef"]["name"], name)
                self.assertEqual(ep["topology"]["kubernetes.io/hostname"], NODE_NAME)
                self.assertEqual(ep["conditions"],
                                 {"ready": True, "serving": True, "terminating": False})

            # No kubelet confirms the deletion, so the Pod stays terminating.
            api.kubectl("delete", "pod", "-n", NS, "web-a", "--wait=false")

            def a_terminating(e):
                ep = endpoints_by_ip(e["object"]).get(POD_IPS["web-a"])
                return (e["type"] == "MODIFIED" and service_name(e["object"]) == "web"
                        and ep is not None and ep["conditions"].get("terminating"))
            eps = endpoints_by_ip(ew.until(a_terminating)[-1]["object"])
            self.assertEqual(eps[POD_IPS["web-a"]]["conditions"],
                             {"ready": False, "serving": True, "terminating": True})
            self.assertEqual(eps[POD_IPS["web-b"]]["conditions"],
                             {"ready": True, "serving": True, "terminating": False})

            api.kubectl("delete", "pod", "-n", NS, "web-a", "--grace-period=0", "--force")
            gone = ew.until(lambda e: service_name(e["object"]) == "web"
                            and POD_IPS["web-a"] not in endpoints_by_ip(e["object"]))[-1]
            self.assertEqual(set(endpoints_by_ip(gone["object"])), {POD_IPS["web-b"]})

    def test_bookmarks(self):
        api, token = self.api, self.token
        nodes = "/api/v1/nodes"

        def label(value):
            api.kubectl("label", "--overwrite", "node", NODE_NAME, f"cubenet.test/mark={value}")

        rv = api.list(nodes, token=token)["metadata"]["resourceVersion"]
        # v1.20 bookmarks every minute and 2 s before the watch's timeout, with
        # the resourceVersion of the last event of that resource.
        with api.watch(nodes, rv, token=token, timeoutSeconds="5") as w:
            self.assertEqual(w.status, 200)
            label("one")
            events = w.until(lambda e: e["type"] == "BOOKMARK", timeout=10)
            self.assertEqual([e["type"] for e in events], ["MODIFIED", "BOOKMARK"])
            modified, bookmark = (e["object"] for e in events)
            self.assertEqual(modified["metadata"]["labels"]["cubenet.test/mark"], "one")
            self.assertEqual((bookmark["kind"], bookmark["apiVersion"]), ("Node", "v1"))
            # Nothing but the resourceVersion has a value (v1.20 sends a null
            # creationTimestamp and empty spec and status).
            self.assertEqual({k: v for k, v in bookmark["metadata"].items() if v is not None},
                             {"resourceVersion": modified["metadata"]["resourceVersion"]})
            # Then, until the watch ends at its timeout, bookmarks at most.
            while (event := w.next(10)) is not None:
                self.assertEqual((event["type"], event["object"]["metadata"]["resourceVersion"]),
                                 ("BOOKMARK", bookmark["metadata"]["resourceVersion"]))
            self.assertIsNone(w.error)
        # A bookmark's resourceVersion is a place to resume from.
        with api.watch(nodes, bookmark["metadata"]["resourceVersion"], token=token) as w:
            label("two")
            event = w.next(10)
            self.assertEqual(event["type"], "MODIFIED")
            self.assertEqual(event["object"]["metadata"]["labels"]["cubenet.test/mark"], "two")

    def test_dual_stack_service(self):
        api = self.api
        api.apply(f"""apiVersion: v1
kind: Service
metadata:
  name: dual
  namespace: {NS}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  selector:
    app: dual
  ports:
    - port: 53
      protocol: UDP
""")
        svc = json.loads(api.kubectl("get", "service", "-n", NS, "dual", "-o", "json"))
        v4, v6 = svc["spec"]["clusterIPs"]
        self.assertTrue(v4.startswith("10.96."), v4)
        self.assertTrue(v6.startswith("fd00:10:96::"), v6)

    def test_pretty_and_yaml_output(self):
        # The server encodes these with json-iterator, which walks maps (a
        # Node's labels) through reflect2: the vendored 1.0.1 faults there
        # under go >= 1.18 and takes the server down.
        path = f"/api/v1/nodes/{NODE_NAME}"
        status, plain = self.api.get(path)
        self.assertEqual(status, 200)
        status, pretty = self.api.get(path, pretty="true")
        self.assertEqual((status, pretty), (200, plain))
        status, body = self.api.request("GET", path, accept="application/yaml")
        self.assertEqual(status, 200)
        self.assertIn(f"\n  name: {NODE_NAME}\n", body)
        self.assertIn("kubernetes.io/hostname: " + NODE_NAME, body)

    @classmethod
    def tearDownClass(cls):
        report(cls.api, "with watch cache")


class StaleAndRestartedWatches(unittest.TestCase):
    """Without the watch cache a watch reads etcd directly, so compacting
    etcd expires old resourceVersions at once."""

    @classmethod
    def setUpClass(cls):
        cls.api = ApiServer(watch_cache=False).start()
        cls.addClassCleanup(cls.api.stop)
        cls.api.create_namespace(NS)

    def service(self, name):
        self.api.apply(SERVICE.replace("name: web\n", f"name: {name}\n", 1))

    def test_restart_then_expire(self):
        api = self.api
        rv = api.list(f"/api/v1/namespaces/{NS}/services")["metadata"]["resourceVersion"]
        with api.watch(f"/api/v1/namespaces/{NS}/services", rv) as w:
            self.service("before")
            event = w.next(10)
            self.assertEqual((event["type"], event["object"]["metadata"]["name"]),
                             ("ADDED", "before"))
            seen = event["object"]["metadata"]["resourceVersion"]
            t0 = time.monotonic()
            api.restart_apiserver()
            restart_seconds = time.monotonic() - t0
            self.assertIsNone(w.next(10), "a restart ends the watch")

        # Resumed from the last seen resourceVersion: what changed since, only.
        self.service("after")
        with api.watch(f"/api/v1/namespaces/{NS}/services", seen) as w:
            event = w.next(10)
            self.assertEqual((event["type"], event["object"]["metadata"]["name"]),
                             ("ADDED", "after"))

        api.compact_etcd()
        with api.watch(f"/api/v1/namespaces/{NS}/services", seen) as w:
            self.assertEqual(w.status, 200)
            event = w.next(10)
            self.assertEqual(event["type"], "ERROR")
            self.assertEqual({k: event["object"][k] for k in ("kind", "code", "reason")},
                             {"kind": "Status", "code": 410, "reason": "Expired"})
            # The client ends the watch: v1.20 does not always close it.
        status, body = api.get(f"/api/v1/namespaces/{NS}/services", resourceVersion=seen,
                               resourceVersionMatch="Exact")
        self.assertEqual((status, body["reason"]), (410, "Expired"))

        # The client-go answer: relist, then watch from the new list.
        fresh = api.list(f"/api/v1/namespaces/{NS}/services")
        self.assertEqual(sorted(s["metadata"]["name"] for s in fresh["items"]),
                         ["after", "before"])
        with api.watch(f"/api/v1/namespaces/{NS}/services",
                       fresh["metadata"]["resourceVersion"]) as w:
            api.kubectl("delete", "service", "-n", NS, "before")
            event = w.next(10)
            self.assertEqual((event["type"], event["object"]["metadata"]["name"]),
                             ("DELETED", "before"))
        print(f"\nAPI server restart: ready again in {restart_seconds:.1f} s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        report(cls.api, "without watch cache")


if __name__ == "__main__":
    unittest.main(verbosity=2)
