# SPDX-License-Identifier: Apache-2.0
"""k8s/manifests parse as Kubernetes objects, ask only for what the node
needs, and ship the same conflist as k8s/cni; the conflist sorts before the
ones runtimes install. The node agent runs beside cubenetd with probes and
resources, reads exactly what its role grants, and the pod range comes from
the Node, not the manifest. The uninstall DaemonSet reaches the same host
paths and outlives cubenet's namespace. Runs on Debian's python3
(python3-yaml)."""
import json
import os
import unittest

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "../..")


def load(name):
    with open(os.path.join(ROOT, "k8s/manifests", name)) as f:
        return list(yaml.safe_load_all(f))


class ManifestTest(unittest.TestCase):
    def setUp(self):
        self.all = load("cubenet.yaml")
        self.docs = {(d["kind"], d["metadata"]["name"]): d for d in self.all}
        self.ds = self.docs[("DaemonSet", "cubenet")]
        self.pod = self.ds["spec"]["template"]["spec"]
        self.containers = {c["name"]: c for c in self.pod["containers"]}

    def test_objects(self):
        self.assertEqual(sorted(self.docs), [
            ("ClusterRole", "cubenet"), ("ClusterRoleBinding", "cubenet"),
            ("ConfigMap", "cubenet-agent"), ("ConfigMap", "cubenet-cni"),
            ("DaemonSet", "cubenet"), ("Namespace", "cubenet-system"),
            ("ServiceAccount", "cubenet")])
        self.assertEqual(len(self.all), len(self.docs))
        for doc in self.all:
            self.assertIn("apiVersion", doc)
        ds = self.ds["spec"]
        self.assertEqual(ds["selector"]["matchLabels"], ds["template"]["metadata"]["labels"])
        self.assertTrue(self.pod["hostNetwork"])
        self.assertEqual(self.pod["serviceAccountName"], "cubenet")
        volumes = {v["name"] for v in self.pod["volumes"]}
        for c in self.pod["initContainers"] + self.pod["containers"]:
            for m in c.get("volumeMounts", []):
                self.assertIn(m["name"], volumes)
        self.assertEqual(set(self.containers), {"cubenetd", "cubenet-agent"})

    def test_rbac_is_exactly_what_the_agent_reads(self):
        rules = {(tuple(r["apiGroups"]), tuple(sorted(r["resources"])), tuple(sorted(r["verbs"])))
                 for r in self.docs[("ClusterRole", "cubenet")]["rules"]}
        self.assertEqual(rules, {(("",), ("nodes", "services"), ("list", "watch")),
                                 (("discovery.k8s.io",), ("endpointslices",),
                                  ("list", "watch"))})
        subject = self.docs[("ClusterRoleBinding", "cubenet")]["subjects"][0]
        self.assertEqual((subject["name"], subject["namespace"]),
                         ("cubenet", self.docs[("ServiceAccount", "cubenet")]["metadata"][
                             "namespace"]))

    def test_conflist(self):
        shipped = self.docs[("ConfigMap", "cubenet-cni")]["data"]["05-cubenet.conflist"]
        with open(os.path.join(ROOT, "k8s/cni/05-cubenet.conflist")) as f:
            self.assertEqual(json.loads(shipped), json.load(f))
        conf = json.loads(shipped)
        self.assertEqual(conf["plugins"][0]["type"], "cubenet")
        for other in ("10-containerd-net.conflist", "87-podman-bridge.conflist",
                      "10-flannel.conflist", "10-calico.conflist"):
            self.assertLess("05-cubenet.conflist", other)

    def test_pod_range_from_the_node_not_the_manifest(self):
        with open(os.path.join(ROOT, "k8s/manifests/cubenet.yaml")) as f:
            text = f.read()
        self.assertNotIn("10.244.0.0/24", text)
        init = self.pod["initContainers"][0]
        self.assertNotIn("POD_CIDR", [e["name"] for e in init.get("env", [])])
        script = init["command"][-1]
        self.assertIn("/usr/local/bin/cubenet-agent", script)
        self.assertIn("--write-cni-config /host/etc/cni/net.d/05-cubenet.conflist", script)
        self.assertIn("--cni-template /config/05-cubenet.conflist", script)

    def test_agent_container(self):
        agent = self.containers["cubenet-agent"]
        args = agent["command"]
        self.assertEqual(args[0], "/usr/local/bin/cubenet-agent")
        status = [a.split("=", 1)[1] for a in args if a.startswith("--status-address=")][0]
        host, port = status.rsplit(":", 1)
        self.assertEqual(host, "127.0.0.1")
        self.assertEqual(agent["livenessProbe"]["httpGet"],
                         {"host": "127.0.0.1", "port": int(port), "path": "/healthz"})
        self.assertEqual(agent["readinessProbe"]["httpGet"],
                         {"host": "127.0.0.1", "port": int(port), "path": "/readyz"})
        self.assertIn("--socket=/run/cubenet/cubenetd.sock", args)
        self.assertIn({"name": "run", "mountPath": "/run/cubenet"}, agent["volumeMounts"])
        sc = agent["securityContext"]
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertFalse(sc["allowPrivilegeEscalation"])
        # Every $(VAR) in its command is an env var it has; every required
        # ConfigMap key exists.
        env = {e["name"]: e for e in agent["env"]}
        for a in args:
            if "$(" in a:
                self.assertIn(a.split("$(")[1].split(")")[0], env)
        data = self.docs[("ConfigMap", "cubenet-agent")]["data"]
        for c in self.pod["initContainers"] + self.pod["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref and not ref.get("optional"):
                    self.assertEqual(ref["name"], "cubenet-agent")
                    self.assertIn(ref["key"], data)
        self.assertEqual(env["NODE_NAME"]["valueFrom"], {"fieldRef": {"fieldPath":
                                                                      "spec.nodeName"}})

    def test_resources_and_liveness(self):
        for c in self.pod["initContainers"] + self.pod["containers"]:
            self.assertEqual(set(c["resources"]["requests"]), {"cpu", "memory"}, c["name"])
            self.assertIn("memory", c["resources"]["limits"], c["name"])
        for c in self.pod["containers"]:
            self.assertIn("livenessProbe", c, c["name"])

    def test_uninstall_daemonset(self):
        docs = load("uninstall.yaml")
        self.assertEqual([d["kind"] for d in docs], ["DaemonSet"])
        ds = docs[0]
        # Outlives `kubectl delete -f cubenet.yaml`, which deletes its namespace.
        self.assertNotEqual(ds["metadata"]["namespace"], "cubenet-system")
        pod = ds["spec"]["template"]["spec"]
        self.assertEqual(pod["initContainers"][0]["command"], ["/usr/local/bin/cubenet-uninstall"])
        self.assertTrue(pod["hostNetwork"])
        paths = {v["hostPath"]["path"] for v in pod["volumes"]}
        ours = {v["hostPath"]["path"] for v in self.pod["volumes"] if "hostPath" in v}
        self.assertEqual(paths, ours - {"/run/netns"})
        mounts = {m["mountPath"]: m["name"] for m in pod["initContainers"][0]["volumeMounts"]}
        volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
        self.assertEqual(volumes[mounts["/host/opt/cni/bin"]], "/opt/cni/bin")
        self.assertEqual(volumes[mounts["/host/etc/cni/net.d"]], "/etc/cni/net.d")
        self.assertEqual(volumes[mounts["/var/lib/cubenet"]], "/var/lib/cubenet")


if __name__ == "__main__":
    unittest.main(verbosity=2)
