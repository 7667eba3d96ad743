# SPDX-License-Identifier: Apache-2.0
"""The node image (k8s/image/build.sh) runs what the DaemonSet asks of it:
the install-cni init container's script puts the plugin, host-local and the
conflist (with the pod CIDR) into the node's directories, and the cubenetd
container's command serves the API that its readiness probe (cubectl)
queries. Built with buildah and run with podman, both on temporary
storage. Runs on Debian's python3 (python3-yaml); needs root; exits 77
without it."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
IMAGE = "cubenet/cubenet:test"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import node_state  # noqa: E402

CONTAINERS_CONF = node_state.CONTAINERS_CONF


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="image-test-")
        cls.storage = ["--root", os.path.join(cls.tmp, "root"),
                       "--runroot", os.path.join(cls.tmp, "runroot")]
        conf = os.path.join(cls.tmp, "containers.conf")
        with open(conf, "w") as f:
            f.write(CONTAINERS_CONF)
        cls.env = dict(os.environ, CONTAINERS_CONF=conf,
                       BUILDAH_OPTS=" ".join(cls.storage))
        subprocess.run([os.path.join(ROOT, "k8s/image/build.sh"), IMAGE], check=True,
                       env=cls.env, capture_output=True)
        with open(os.path.join(ROOT, "k8s/manifests/cubenet.yaml")) as f:
            docs = {d["kind"]: d for d in yaml.safe_load_all(f)}
        cls.pod = docs["DaemonSet"]["spec"]["template"]["spec"]
        cls.conflist = docs["ConfigMap"]["data"]["05-cubenet.conflist"]

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["podman", *cls.storage, "rm", "-a", "-f", "-t", "0"], env=cls.env,
                       capture_output=True)
        subprocess.run(["podman", *cls.storage, "system", "reset", "-f"], env=cls.env,
                       capture_output=True)
        subprocess.run(["umount", "-R", os.path.join(cls.tmp, "root")], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def podman(self, *args, check=True):
        r = subprocess.run(["podman", *self.storage, *args], env=self.env, capture_output=True,
                           text=True)
        if check:
            self.assertEqual(r.returncode, 0, f"podman {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def test_install_cni_init_container(self):
        init = self.pod["initContainers"][0]
        host = os.path.join(self.tmp, "host")
        dirs = {"/host/opt/cni/bin": os.path.join(host, "opt/cni/bin"),
                "/host/etc/cni/net.d": os.path.join(host, "etc/cni/net.d"),
                "/config": os.path.join(host, "config")}
        for d in dirs.values():
            os.makedirs(d)
        with open(os.path.join(dirs["/config"], "05-cubenet.conflist"), "w") as f:
            f.write(self.conflist)
        mounts = [a for inside, outside in dirs.items() for a in ("-v", f"{outside}:{inside}")]
        self.podman("run", "--rm", "--network", "none", *mounts, "-e",
                    "POD_CIDR=10.250.3.0/24", "--entrypoint", init["command"][0], IMAGE,
                    *init["command"][1:])
        self.assertEqual(sorted(os.listdir(dirs["/host/opt/cni/bin"])), ["cubenet", "host-local"])
        version = subprocess.run([os.path.join(dirs["/host/opt/cni/bin"], "cubenet")],
                                 env={"CNI_COMMAND": "VERSION"}, capture_output=True, text=True)
        self.assertIn("1.1.0", json.loads(version.stdout)["supportedVersions"])
        with open(os.path.join(dirs["/host/etc/cni/net.d"], "05-cubenet.conflist")) as f:
            conf = json.load(f)
        self.assertEqual(conf["plugins"][0]["ipam"]["ranges"], [[{"subnet": "10.250.3.0/24"}]])

    def test_cubenetd_container_and_its_readiness_probe(self):
        main = self.pod["containers"][0]
        bpffs = "/sys/fs/bpf/image-test-" + uuid.uuid4().hex[:8]
        command = [bpffs if a == "/sys/fs/bpf/cubenet" else a for a in main["command"]]
        run = os.path.join(self.tmp, "run")
        os.makedirs(run, exist_ok=True)
        name = "cubenetd-" + uuid.uuid4().hex[:6]
        self.addCleanup(shutil.rmtree, bpffs, True)
        self.podman("run", "-d", "--name", name, "--privileged", "--network", "none",
                    "-v", "/sys/fs/bpf:/sys/fs/bpf", "-v", f"{run}:/run/cubenet",
                    "--entrypoint", command[0], IMAGE, *command[1:])
        self.addCleanup(self.podman, "rm", "-f", "-t", "0", name, check=False)
        probe = main["readinessProbe"]["exec"]["command"]
        for _ in range(50):
            if self.podman("exec", name, *probe, check=False).returncode == 0:
                break
            time.sleep(0.1)
        r = self.podman("exec", name, *probe)
        self.assertEqual(json.loads(r.stdout), {})
        r = self.podman("exec", name, "cubectl", "cube", "add", "p0", "type=parser")
        self.assertTrue(os.path.isdir(os.path.join(bpffs, "cubes/xdp/parser/p0")))


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
