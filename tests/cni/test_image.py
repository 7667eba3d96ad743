# SPDX-License-Identifier: Apache-2.0
"""The node image (k8s/image/build.sh) runs what the DaemonSet asks of it:
the install-cni init container's script puts the plugin, host-local and the
conflist into the node's directories, with the pod range it reads from the
node's Node object on a real API server; the cubenetd container's command
serves the API that its readiness probe (cubectl) queries; the agent
container, with the manifest's security context, syncs and answers its
probes; the uninstall DaemonSet's container takes the daemon's pins away.
Built with buildah and run with podman, both on temporary storage. Runs on
Debian's python3 (python3-yaml); needs root; exits 77 without it."""
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
sys.path.insert(0, os.path.join(ROOT, "tests/k8s"))
import node_state  # noqa: E402
from agent_fixture import free_port, wait_for  # noqa: E402
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from test_agent_api import manifest_rbac  # noqa: E402

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
            docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(f)}
        cls.pod = docs[("DaemonSet", "cubenet")]["spec"]["template"]["spec"]
        cls.conflist = docs[("ConfigMap", "cubenet-cni")]["data"]["05-cubenet.conflist"]
        cls.agent_settings = docs[("ConfigMap", "cubenet-agent")]["data"]
        with open(os.path.join(ROOT, "k8s/manifests/uninstall.yaml")) as f:
            cls.uninstall_pod = yaml.safe_load(f)["spec"]["template"]["spec"]
        # The API server the init step and the agent read the Node from;
        # the node's pod range is what a controller manager would assign.
        cls.api = ApiServer().start()
        cls.api.apply(manifest_rbac())
        cls.api.kubectl("patch", "node", NODE_NAME, "-p",
                        '{"spec": {"podCIDR": "10.250.3.0/24", "podCIDRs": ["10.250.3.0/24"]}}')
        cls.sa = os.path.join(cls.tmp, "serviceaccount")
        os.makedirs(cls.sa)
        shutil.copy(cls.api.ca_file, os.path.join(cls.sa, "ca.crt"))
        with open(os.path.join(cls.sa, "token"), "w") as f:
            f.write(cls.api.agent_token)
        cls.in_cluster = ["-v", f"{cls.sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
                          "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1",
                          "-e", f"KUBERNETES_SERVICE_PORT={cls.api.port}"]

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
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
        self.podman("run", "--rm", "--network", "host", *mounts, *self.in_cluster,
                    "-e", f"NODE_NAME={NODE_NAME}", "--entrypoint", init["command"][0], IMAGE,
                    *init["command"][1:])
        self.assertEqual(sorted(os.listdir(dirs["/host/opt/cni/bin"])),
                         [".cubenet-host-local", "cubenet", "host-local"])
        version = subprocess.run([os.path.join(dirs["/host/opt/cni/bin"], "cubenet")],
                                 env={"CNI_COMMAND": "VERSION"}, capture_output=True, text=True)
        self.assertIn("1.1.0", json.loads(version.stdout)["supportedVersions"])
        with open(os.path.join(dirs["/host/etc/cni/net.d"], "05-cubenet.conflist")) as f:
            conf = json.load(f)
        self.assertEqual(conf["plugins"][0]["ipam"]["ranges"], [[{"subnet": "10.250.3.0/24"}]])
        # The rest of the conflist is the ConfigMap's.
        template = json.loads(self.conflist)
        template["plugins"][0]["ipam"]["ranges"] = conf["plugins"][0]["ipam"]["ranges"]
        self.assertEqual(conf, template)

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

        # The agent beside it, as the DaemonSet runs it: kubelet's $(VAR)
        # expansion, the manifest's security context.
        agent = self.pod["containers"][1]
        status_port = free_port()
        env = {"NODE_NAME": NODE_NAME}
        for e in agent["env"]:
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref and ref["name"] == "cubenet-agent" and ref["key"] in self.agent_settings:
                env[e["name"]] = self.agent_settings[ref["key"]]
        command = []
        for a in agent["command"]:
            for k, v in env.items():
                a = a.replace(f"$({k})", v)
            command.append(a.replace("127.0.0.1:9966", f"127.0.0.1:{status_port}"))
        sc = agent["securityContext"]
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        aname = "agent-" + uuid.uuid4().hex[:6]
        self.podman("run", "-d", "--name", aname, "--network", "host", "--cap-drop", "ALL",
                    "--read-only", "--security-opt", "no-new-privileges",
                    "-v", f"{run}:/run/cubenet", *self.in_cluster,
                    "--entrypoint", command[0], IMAGE, *command[1:])
        self.addCleanup(self.podman, "rm", "-f", "-t", "0", aname, check=False)

        def probe(path):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                f"http://127.0.0.1:{status_port}{path}"],
                               capture_output=True, text=True)
            return r.stdout
        wait_for(lambda: probe("/healthz") == "200", what="the agent's liveness")
        try:
            wait_for(lambda: probe("/readyz") == "200", timeout=30, what="the agent's readiness")
        except AssertionError:
            raise AssertionError(self.podman("logs", aname, check=False).stderr)
        r = self.podman("exec", name, "cubectl", "-o", "json", "show")
        self.assertEqual(json.loads(r.stdout)["cubenet-pods:node"]["node-port-range"],
                         {"min": 30000, "max": 32767})

    def test_uninstall_container(self):
        """A datapath left by a stopped cubenetd container is gone after the
        uninstall DaemonSet's container ran, and so are the CNI files."""
        main = self.pod["containers"][0]
        bpffs = "/sys/fs/bpf/image-test-" + uuid.uuid4().hex[:8]
        command = [bpffs if a == "/sys/fs/bpf/cubenet" else a for a in main["command"]]
        host = os.path.join(self.tmp, "uninstall-" + uuid.uuid4().hex[:6])
        dirs = {"/run/cubenet": "run", "/var/lib/cubenet": "state",
                "/host/opt/cni/bin": "bin", "/host/etc/cni/net.d": "conf"}
        for d in dirs.values():
            os.makedirs(os.path.join(host, d))
        mounts = [a for inside, d in dirs.items()
                  for a in ("-v", f"{os.path.join(host, d)}:{inside}")]
        self.addCleanup(shutil.rmtree, bpffs, True)
        name = "cubenetd-" + uuid.uuid4().hex[:6]
        self.podman("run", "-d", "--name", name, "--privileged", "--network", "none",
                    "-v", "/sys/fs/bpf:/sys/fs/bpf", *mounts,
                    "--entrypoint", command[0], IMAGE, *command[1:])
        self.addCleanup(self.podman, "rm", "-f", "-t", "0", name, check=False)
        probe = main["readinessProbe"]["exec"]["command"]
        wait_for(lambda: self.podman("exec", name, *probe, check=False).returncode == 0,
                 what="cubenetd in its container")
        self.podman("exec", name, "cubectl", "cube", "add", "p0", "type=parser")
        for f in ("bin/cubenet", "bin/host-local", "bin/.cubenet-host-local",
                  "conf/05-cubenet.conflist"):
            open(os.path.join(host, f), "w").close()
        self.podman("stop", "-t", "10", name)
        self.assertTrue(os.path.isdir(os.path.join(bpffs, "cubes/xdp/parser/p0")))

        init = self.uninstall_pod["initContainers"][0]
        env = [a for e in init["env"] for a in ("-e", f"{e['name']}={e['value']}")]
        r = self.podman("run", "--rm", "--privileged", "--network", "none",
                        "-v", "/sys/fs/bpf:/sys/fs/bpf", *mounts, *env,
                        "-e", f"CUBENET_BPFFS={bpffs}", "--entrypoint", init["command"][0],
                        IMAGE, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(bpffs))
        self.assertEqual(os.listdir(os.path.join(host, "bin")), [])
        self.assertEqual(os.listdir(os.path.join(host, "conf")), [])
        self.assertEqual(os.listdir(os.path.join(host, "state")), [])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
