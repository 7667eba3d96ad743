# SPDX-License-Identifier: Apache-2.0
"""k8s/manifests parse as Kubernetes objects, ask only for what the node
needs, and ship the same conflist as k8s/cni; the conflist sorts before the
ones runtimes install. Runs on Debian's python3 (python3-yaml)."""
import json
import os
import unittest

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "../..")


class ManifestTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "k8s/manifests/cubenet.yaml")) as f:
            self.docs = {d["kind"]: d for d in yaml.safe_load_all(f)}

    def test_objects(self):
        self.assertEqual(set(self.docs), {"Namespace", "ServiceAccount", "ClusterRole",
                                          "ClusterRoleBinding", "ConfigMap", "DaemonSet"})
        for doc in self.docs.values():
            self.assertIn("apiVersion", doc)
            self.assertIn("name", doc["metadata"])
        ds = self.docs["DaemonSet"]["spec"]
        self.assertEqual(ds["selector"]["matchLabels"], ds["template"]["metadata"]["labels"])
        pod = ds["template"]["spec"]
        self.assertTrue(pod["hostNetwork"])
        self.assertEqual(pod["serviceAccountName"], "cubenet")
        volumes = {v["name"] for v in pod["volumes"]}
        for c in pod["initContainers"] + pod["containers"]:
            for m in c.get("volumeMounts", []):
                self.assertIn(m["name"], volumes)

    def test_rbac_is_read_only(self):
        for rule in self.docs["ClusterRole"]["rules"]:
            self.assertEqual(set(rule["verbs"]), {"get", "list", "watch"})
        subject = self.docs["ClusterRoleBinding"]["subjects"][0]
        self.assertEqual((subject["name"], subject["namespace"]),
                         ("cubenet", self.docs["ServiceAccount"]["metadata"]["namespace"]))

    def test_conflist(self):
        shipped = self.docs["ConfigMap"]["data"]["05-cubenet.conflist"]
        with open(os.path.join(ROOT, "k8s/cni/05-cubenet.conflist")) as f:
            self.assertEqual(json.loads(shipped), json.load(f))
        conf = json.loads(shipped)
        self.assertEqual(conf["plugins"][0]["type"], "cubenet")
        for other in ("10-containerd-net.conflist", "87-podman-bridge.conflist",
                      "10-flannel.conflist", "10-calico.conflist"):
            self.assertLess("05-cubenet.conflist", other)


if __name__ == "__main__":
    unittest.main(verbosity=2)
