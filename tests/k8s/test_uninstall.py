# SPDX-License-Identifier: Apache-2.0
"""Taking cubenet off a node (k8s/image/uninstall.sh, which runs
`cubenet-agent --uninstall`): a node namespace with cubenetd, pods made by
the CNI plugin, an uplink, masquerading, a cube of the core API, and the
files the install step writes; the daemon stopped as a DaemonSet's removal
stops it (the datapath stays, by design); then the uninstall leaves no TC
filter or XDP program on any netdev, no pins, no cubenet0 or its routes,
no CNI plugin, conflist or IPAM state, and an empty state directory. Pods
that still run keep their veths, without the chain. Needs root; exits 77
without it."""
import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../cni"))
from test_cni import BUILD, PLUGIN, CniNode, sh  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "../.."))
SCRIPT = os.path.join(ROOT, "k8s/image/uninstall.sh")


def links(ns):
    return json.loads(sh("ip", "-n", ns, "-j", "link", "show").stdout)


def tc_filters(ns, dev):
    out = []
    for hook in ("ingress", "egress"):
        r = sh("tc", "-n", ns, "filter", "show", "dev", dev, hook, check=False)
        out += [line for line in r.stdout.splitlines() if line.strip()]
    return out


class Uninstall(CniNode):
    def setUp(self):
        super().setUp()
        self.conf_dir = os.path.join(self.tmp, "etc/cni/net.d")
        self.bin_dir = os.path.join(self.tmp, "opt/cni/bin")
        os.makedirs(self.conf_dir)
        os.makedirs(self.bin_dir)
        # What the install step writes, and a conflist of someone else's.
        with open(os.path.join(self.conf_dir, "05-cubenet.conflist"), "w") as f:
            json.dump(self.conf(), f)
        with open(os.path.join(self.conf_dir, "10-other.conflist"), "w") as f:
            f.write("{}")
        shutil.copy(PLUGIN, os.path.join(self.bin_dir, "cubenet"))
        shutil.copy("/usr/lib/cni/host-local", os.path.join(self.bin_dir, "host-local"))
        open(os.path.join(self.bin_dir, ".cubenet-host-local"), "w").close()
        shutil.copy("/usr/lib/cni/loopback", os.path.join(self.bin_dir, "loopback"))

    def test_nothing_left(self):
        pods = {}
        for name in ("a", "b"):
            ns = self.pod()
            rc, res = self.cni("ADD", self.conf(), cid=name, netns=ns)
            self.assertEqual(rc, 0, res)
            pods[name] = ns
        sh("ip", "link", "add", "up0", "netns", self.node, "type", "veth", "peer", "name",
           "up0-peer", "netns", self.node)
        sh("ip", "-n", self.node, "addr", "add", "192.0.2.1/24", "dev", "up0")
        sh("ip", "-n", self.node, "link", "set", "up0", "up")
        c = self.daemon.client()
        r = c.put("/restconf/data/cubenet-pods:node", {"cubenet-pods:node": {
            "uplink": "up0", "masquerade": {"cluster-cidr": ["10.245.0.0/16"]}}})
        self.assertIn(r.status, (201, 204), r.body)
        r = c.put("/restconf/data/cubenet-core:cubes", {"cubenet-core:cubes": {"cube": [
            {"name": "extra", "type": "parser"}]}})
        self.assertIn(r.status, (201, 204), r.body)
        # What a node has while cubenet runs.
        veths = self.host_links()
        self.assertEqual(len(veths), 2)
        for dev in veths + ["up0"]:
            self.assertTrue(any("cube_" in f for f in tc_filters(self.node, dev)), dev)
        self.assertIn("cubenet0", [lk["ifname"] for lk in links(self.node)])
        self.assertTrue(os.listdir(self.daemon.bpffs))

        # The DaemonSet removed: cubenetd stops, the datapath stays.
        self.daemon.stop()
        for dev in veths + ["up0"]:
            self.assertTrue(any("cube_" in f for f in tc_filters(self.node, dev)), dev)

        env = dict(os.environ, PATH=f"{BUILD}:{os.path.dirname(PLUGIN)}:{os.environ['PATH']}",
                   CUBENET_SOCKET=self.daemon.socket, CUBENET_STATE_DIR=self.daemon.state_dir,
                   CUBENET_BPFFS=self.daemon.bpffs, CNI_CONF_DIR=self.conf_dir,
                   CNI_BIN_DIR=self.bin_dir)
        # The IPAM state lives in the state directory, as the manifest has it.
        shutil.move(self.ipam_dir, os.path.join(self.daemon.state_dir, "ipam"))
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.node}", SCRIPT], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("nothing of cubenet is left", r.stderr)

        for lk in links(self.node):
            self.assertEqual(tc_filters(self.node, lk["ifname"]), [], lk["ifname"])
            self.assertNotIn("xdp", lk, lk["ifname"])
        self.assertNotIn("cubenet0", [lk["ifname"] for lk in links(self.node)])
        self.assertNotIn("cubenet0", sh("ip", "-n", self.node, "route", "show").stdout)
        self.assertFalse(os.path.exists(self.daemon.bpffs))
        self.assertEqual(sorted(os.listdir(self.conf_dir)), ["10-other.conflist"])
        self.assertEqual(sorted(os.listdir(self.bin_dir)), ["loopback"])
        self.assertEqual(os.listdir(self.daemon.state_dir), [])
        # The pods still run (kubelet deletes them); their veths stay, bare.
        self.assertEqual(self.host_links(), veths)

    def test_refuses_without_a_daemon_it_can_start(self):
        """No cubenetd on PATH and none running: it says so and fails, and
        the CNI files stay (nothing half done)."""
        self.daemon.stop()
        tools = os.path.join(self.tmp, "tools")
        os.makedirs(tools)
        for tool in ("cubectl", "cubenet-agent"):
            os.symlink(os.path.join(BUILD, tool), os.path.join(tools, tool))
        env = dict(os.environ, PATH=f"{tools}:/usr/bin:/bin", CUBENET_SOCKET=self.daemon.socket,
                   CUBENET_STATE_DIR=self.daemon.state_dir, CUBENET_BPFFS=self.daemon.bpffs,
                   CNI_CONF_DIR=self.conf_dir, CNI_BIN_DIR=self.bin_dir)
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.node}", SCRIPT], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("05-cubenet.conflist", os.listdir(self.conf_dir))
        self.assertIn("cubenet", os.listdir(self.bin_dir))


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
