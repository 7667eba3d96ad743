# SPDX-License-Identifier: Apache-2.0
"""podman 4 with its CNI backend runs the cubenet plugin for real
containers: addresses from host-local, real TCP between two containers,
the pods registered with cubenetd (port mappings in podman's spelling),
and nothing left after removal. podman runs inside a node namespace of the
test's own (nsenter keeps the mounts podman needs), with its storage,
configuration and CNI directory in a temporary directory. Needs root;
exits 77 without it."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from restconf_client import Daemon  # noqa: E402
import node_state  # noqa: E402

BUILD = os.path.abspath(os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build")))
CONTAINERS_CONF = node_state.CONTAINERS_CONF + """cni_plugin_dirs = ["{plugin_dir}", "/usr/lib/cni"]
network_config_dir = "{cni_dir}"
"""


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def busybox_rootfs(path):
    """A container root with a static busybox: no image needed."""
    os.makedirs(os.path.join(path, "bin"))
    os.makedirs(os.path.join(path, "www"))
    shutil.copy("/bin/busybox", os.path.join(path, "bin/busybox"))
    for tool in ("sh", "ip", "wget", "httpd", "sleep", "cat"):
        os.symlink("busybox", os.path.join(path, "bin", tool))


class PodmanTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="podman-test-")
        self.node = "cnm" + uuid.uuid4().hex[:6]
        self.daemon = None
        self.addCleanup(self.cleanup)
        sh("ip", "netns", "add", self.node)
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        self.daemon = Daemon(netns=self.node).start()
        self.cni_dir = os.path.join(self.tmp, "cni")
        os.makedirs(self.cni_dir)
        self.ipam_dir = os.path.join(self.tmp, "ipam")
        with open(os.path.join(self.cni_dir, "10-cubenet.conflist"), "w") as f:
            json.dump({"cniVersion": "1.0.0", "name": "cubenet-test", "plugins": [{
                "type": "cubenet", "socket": self.daemon.socket,
                "capabilities": {"portMappings": True},
                "ipam": {"type": "host-local", "dataDir": self.ipam_dir,
                         "ranges": [[{"subnet": "10.246.0.0/24"}]],
                         "routes": [{"dst": "0.0.0.0/0"}]}}]}, f)
        conf = os.path.join(self.tmp, "containers.conf")
        with open(conf, "w") as f:
            f.write(CONTAINERS_CONF.format(plugin_dir=os.path.join(BUILD, "cni"),
                                           cni_dir=self.cni_dir))
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        self.rootfs = os.path.join(self.tmp, "rootfs")
        busybox_rootfs(self.rootfs)
        with open(os.path.join(self.rootfs, "www/index.html"), "w") as f:
            f.write("hello from a pod\n")

    def cleanup(self):
        subprocess.run(self.podman_cmd("rm", "-a", "-f", "-t", "0"), capture_output=True,
                       env=getattr(self, "env", None))
        if self.daemon:
            self.daemon.cleanup()
        sh("ip", "netns", "del", self.node, check=False)
        subprocess.run(["umount", "-R", os.path.join(self.tmp, "root")], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def podman_cmd(self, *args):
        return ["nsenter", f"--net=/run/netns/{self.node}", "podman", "--root",
                os.path.join(self.tmp, "root"), "--runroot", os.path.join(self.tmp, "runroot"),
                *args]

    def podman(self, *args):
        r = subprocess.run(self.podman_cmd(*args), capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, f"podman {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def registered(self):
        return node_state.registered(self.daemon)

    def host_veths(self):
        return node_state.host_veths(self.node)

    def allocated(self):
        return node_state.allocated(self.ipam_dir, "cubenet-test")

    def test_two_containers_talk_tcp_and_nothing_is_left(self):
        cid = self.podman("run", "-d", "--name", "web", "--network", "cubenet-test",
                          "-p", "8080:80", "--rootfs", self.rootfs,
                          "/bin/httpd", "-f", "-p", "80", "-h", "/www").strip()
        pods = self.registered()
        self.assertEqual(len(pods), 1, pods)
        web = pods[0]
        self.assertEqual(web["container-id"], cid)
        self.assertEqual(web["interface"], "eth0")
        self.assertEqual(web["name"], "web")
        self.assertEqual(web["port-mapping"],
                         [{"host-port": 8080, "protocol": "tcp", "container-port": 80}])
        addr = web["address"][0]
        self.assertRegex(addr, r"^10\.246\.0\.\d+$")
        self.assertEqual(self.host_veths(), [web["host-interface"]])

        # A second container fetches the page over real TCP through the pod network.
        out = self.podman("run", "--rm", "--network", "cubenet-test", "--rootfs", self.rootfs,
                          "/bin/sh", "-c",
                          f"ip -4 addr show eth0; wget -q -O- http://{addr}/")
        self.assertIn("hello from a pod", out)
        client_addr = re.search(r"inet (10\.246\.0\.\d+)/24", out).group(1)
        self.assertNotEqual(client_addr, addr)
        # And through a ClusterIP service backed by the web container.
        r = self.daemon.client().put("/restconf/data/cubenet-pods:services", {
            "cubenet-pods:services": {"service": [{
                "namespace": "default", "name": "web", "cluster-ip": ["10.96.0.30"],
                "port": [{"port": 8000, "protocol": "tcp", "target-port": 80}],
                "endpoint": [{"address": addr}]}]}})
        self.assertIn(r.status, (201, 204), r.body)
        out = self.podman("run", "--rm", "--network", "cubenet-test", "--rootfs", self.rootfs,
                          "/bin/wget", "-q", "-O-", "http://10.96.0.30:8000/")
        self.assertIn("hello from a pod", out)
        # The short-lived container is gone from the daemon and IPAM already.
        self.assertEqual([p["container-id"] for p in self.registered()], [cid])
        self.assertEqual(self.allocated(), [addr])

        self.podman("rm", "-f", "-t", "0", "web")
        self.assertEqual((self.registered(), self.host_veths(), self.allocated()), ([], [], []))
        # The node chain went with the last pod: no pins, no host device.
        self.assertEqual(node_state.pinned(self.daemon), [])
        self.assertEqual(sh("ip", "-n", self.node, "link", "show", "cubenet0",
                            check=False).returncode, 1)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    if not shutil.which("podman") or not os.path.exists("/bin/busybox"):
        print("podman or busybox-static missing: scripts/deps.sh installs them")
        sys.exit(1)
    unittest.main(verbosity=2)
