# SPDX-License-Identifier: Apache-2.0
"""YANG Patch (RFC 8072) on cubenetd: several edits as one transaction,
the yang-patch-status answer, the edit that failed named, nothing changed
by a patch that fails, and targets that name no instance refused. Needs
root; exits 77 without it."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import Daemon  # noqa: E402

PATCH = "application/yang-patch+json"
SVCS = "/restconf/data/cubenet-pods:services"


def service(name, ip, endpoints=()):
    return {"namespace": "p", "name": name, "cluster-ip": ip if isinstance(ip, list) else [ip],
            "port": [{"port": 80, "protocol": "tcp", "target-port": 8080}],
            "endpoint": [{"address": a} for a in endpoints]}


class YangPatchTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.cleanup)
        self.daemon.start()
        self.c = self.daemon.client()
        r = self.c.put(SVCS, {"cubenet-pods:services": {"service": [
            service("a", ["10.96.0.1", "10.96.0.11"], ["10.1.0.1"]),
            service("b", "10.96.0.2")]}})
        self.assertIn(r.status, (201, 204), r.body)

    def patch(self, edits, path="/restconf/data", pid="p1"):
        body = {"ietf-yang-patch:yang-patch": {"patch-id": pid, "edit": edits}}
        return self.c.request("PATCH", path, raw=json.dumps(body).encode(),
                              headers={"Content-Type": PATCH})

    def names(self):
        r = self.c.get(SVCS + "?content=config")
        self.assertEqual(r.status, 200, r.body)
        return {s["name"]: s for s in r.json()["cubenet-pods:services"]["service"]}

    def test_edits_are_one_transaction(self):
        r = self.patch([
            {"edit-id": "new", "operation": "create", "target": "/cubenet-pods:services/service=p,c",
             "value": {"cubenet-pods:service": [service("c", "10.96.0.3")]}},
            {"edit-id": "more", "operation": "merge",
             "target": "/cubenet-pods:services/service=p,a",
             "value": {"cubenet-pods:service": [{"namespace": "p", "name": "a",
                                                 "endpoint": [{"address": "10.1.0.2"}]}]}},
            {"edit-id": "gone", "operation": "delete",
             "target": "/cubenet-pods:services/service=p,b"},
            {"edit-id": "absent", "operation": "remove",
             "target": "/cubenet-pods:services/service=p,zz"},
        ])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"ietf-yang-patch:yang-patch-status": {
            "patch-id": "p1", "ok": [None]}})
        got = self.names()
        self.assertEqual(set(got), {"a", "c"})
        self.assertEqual(sorted(e["address"] for e in got["a"]["endpoint"]),
                         ["10.1.0.1", "10.1.0.2"])

    def test_a_failing_edit_is_named_and_nothing_changes(self):
        before = self.c.config()
        for edit, tag, named in (
                # delete of what is not there (remove would be fine)
                ({"edit-id": "e2", "operation": "delete",
                  "target": "/cubenet-pods:services/service=p,zz"}, "data-missing", True),
                # create of what is there
                ({"edit-id": "e2", "operation": "create",
                  "target": "/cubenet-pods:services/service=p,a",
                  "value": {"cubenet-pods:service": [service("a", "10.96.0.9")]}},
                 "data-exists", True),
                # an address another service holds
                ({"edit-id": "e2", "operation": "merge",
                  "target": "/cubenet-pods:services/service=p,c",
                  "value": {"cubenet-pods:service": [service("c", "10.96.0.1")]}},
                 # found by the service across entries: the patch's error
                 "invalid-value", False),
        ):
            with self.subTest(edit=edit):
                r = self.patch([
                    {"edit-id": "e1", "operation": "delete",
                     "target": "/cubenet-pods:services/service=p,b"}, edit])
                self.assertGreaterEqual(r.status, 400, r.body)
                self.assertLess(r.status, 500, r.body)
                st = r.json()["ietf-yang-patch:yang-patch-status"]
                self.assertEqual(st["patch-id"], "p1")
                if named:
                    failed = st["edit-status"]["edit"]
                    self.assertEqual([e["edit-id"] for e in failed], ["e2"], st)
                    errors = failed[0]["errors"]["error"]
                else:
                    errors = st["errors"]["error"]
                self.assertEqual(errors[0]["error-tag"], tag, st)
                self.assertEqual(self.c.config(), before)

    def test_a_target_that_names_every_entry_is_refused(self):
        before = self.c.config()
        for op in ("remove", "delete"):
            with self.subTest(op=op):
                r = self.patch([{"edit-id": "all", "operation": op,
                                 "target": "/cubenet-pods:services/service=p,a/cluster-ip"}])
                self.assertEqual(r.status, 400, r.body)
                err = r.json()["ietf-yang-patch:yang-patch-status"]["edit-status"]["edit"][0]
                self.assertIn("names every entry of cluster-ip",
                              err["errors"]["error"][0]["error-message"])
                self.assertEqual(self.c.config(), before)
        # One entry by its value is an instance.
        r = self.patch([{"edit-id": "one", "operation": "remove",
                         "target": "/cubenet-pods:services/service=p,a/cluster-ip=10.96.0.1"}])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.names()["a"]["cluster-ip"], ["10.96.0.11"])

    def test_malformed_patches(self):
        before = self.c.config()
        for edits in (
                [],
                [{"operation": "delete", "target": "/x"}],
                [{"edit-id": "m", "operation": "move", "target": "/cubenet-pods:services"}],
                [{"edit-id": "v", "operation": "delete",
                  "target": "/cubenet-pods:services/service=p,a", "value": {}}],
        ):
            with self.subTest(edits=edits):
                r = self.patch(edits)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn("ietf-yang-patch:yang-patch-status", r.json())
                self.assertEqual(self.c.config(), before)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
