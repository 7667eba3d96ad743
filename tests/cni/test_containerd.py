# SPDX-License-Identifier: Apache-2.0
"""containerd 1.6 with its CRI plugin, driven over gRPC the way kubelet
drives it (RunPodSandbox, PodSandboxStatus, StopPodSandbox,
RemovePodSandbox), runs the cubenet plugin for pod sandboxes: the pods get
addresses, are registered with cubenetd under their Kubernetes identity,
talk to each other over real TCP, and leave nothing behind (veths, IPAM
allocations, daemon entries, network namespaces).

containerd runs inside a node namespace of the test's own, with its root,
state, socket, CNI directories and pause image (a busybox OCI archive made
by cri/oci_image.py) in a temporary directory. The CRI stubs are compiled
from cri/cri_minimal.proto at run time. Runs on Debian's python3 (for
python3-grpcio); needs root; exits 77 without it."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../daemon"))
sys.path.insert(0, os.path.join(HERE, "cri"))
from restconf_client import Daemon  # noqa: E402
import oci_image  # noqa: E402
import node_state  # noqa: E402

BUILD = os.path.abspath(os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build")))
PAUSE = "cubenet.test/pause:1"
CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{d}/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni-bin"
    conf_dir = "{d}/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
"""


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


class ContainerdTest(unittest.TestCase):
    def setUp(self):
        import grpc  # Debian's python3-grpcio
        from grpc_tools import protoc

        self.tmp = tempfile.mkdtemp(prefix="containerd-test-")
        self.node = "cnd" + uuid.uuid4().hex[:6]
        self.daemon = self.containerd = None
        self.addCleanup(self.cleanup)
        sh("ip", "netns", "add", self.node)
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        self.daemon = Daemon(netns=self.node).start()

        gen = os.path.join(self.tmp, "gen")
        os.makedirs(gen)
        self.assertEqual(protoc.main(["protoc", f"-I{HERE}/cri", f"--python_out={gen}",
                                      f"--grpc_python_out={gen}",
                                      f"{HERE}/cri/cri_minimal.proto"]), 0)
        sys.path.insert(0, gen)
        import cri_minimal_pb2
        import cri_minimal_pb2_grpc
        self.pb = cri_minimal_pb2

        # The plugin, the IPAM it delegates to and the loopback plugin the CRI
        # runs for every sandbox, in containerd's one bin_dir.
        bin_dir = os.path.join(self.tmp, "cni-bin")
        os.makedirs(bin_dir)
        os.symlink(os.path.join(BUILD, "cni/cubenet"), os.path.join(bin_dir, "cubenet"))
        for plugin in ("host-local", "loopback"):
            os.symlink(f"/usr/lib/cni/{plugin}", os.path.join(bin_dir, plugin))
        conf_dir = os.path.join(self.tmp, "cni-conf")
        os.makedirs(conf_dir)
        self.ipam_dir = os.path.join(self.tmp, "ipam")
        with open(os.path.join(conf_dir, "10-cubenet.conflist"), "w") as f:
            json.dump({"cniVersion": "1.0.0", "name": "cubenet-cri", "plugins": [{
                "type": "cubenet", "socket": self.daemon.socket,
                "capabilities": {"portMappings": True},
                "ipam": {"type": "host-local", "dataDir": self.ipam_dir,
                         "ranges": [[{"subnet": "10.247.0.0/24"}]],
                         "routes": [{"dst": "0.0.0.0/0"}]}}]}, f)
        config = os.path.join(self.tmp, "config.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(d=self.tmp, pause=PAUSE))
        self.log = open(os.path.join(self.tmp, "containerd.log"), "w")
        self.containerd = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{self.node}", "containerd", "--config", config],
            stdout=self.log, stderr=self.log)
        sock = os.path.join(self.tmp, "containerd.sock")
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        oci_image.build(os.path.join(self.tmp, "pause.tar"), PAUSE,
                        ["/bin/sleep", "2147483647"])
        sh("ctr", "-a", sock, "-n", "k8s.io", "images", "import",
           os.path.join(self.tmp, "pause.tar"))
        self.rt = cri_minimal_pb2_grpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))

    def cleanup(self):
        if self.containerd:
            self.containerd.send_signal(signal.SIGTERM)
            try:
                self.containerd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.containerd.kill()
            self.log.close()
            # What the shims and the sandboxes left mounted under our root.
            with open("/proc/mounts") as f:
                mounts = [line.split()[1] for line in f
                          if line.split()[1].startswith(self.tmp)]
            for m in sorted(mounts, key=len, reverse=True):
                subprocess.run(["umount", "-l", m], capture_output=True)
            subprocess.run(["pkill", "-f", f"containerd-shim.*{self.tmp}"], capture_output=True)
        if self.daemon:
            self.daemon.cleanup()
        sh("ip", "netns", "del", self.node, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_pod(self, name, ports=()):
        pb = self.pb
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=f"uid-{name}", namespace="team-a"),
            hostname=name, log_directory=os.path.join(self.tmp, "logs", name),
            port_mappings=[pb.PortMapping(protocol=pb.TCP, container_port=c, host_port=h)
                           for c, h in ports])
        pod_id = self.rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg), timeout=60)
        pod_id = pod_id.pod_sandbox_id
        self.addCleanup(self.remove_pod, pod_id)
        status = self.rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id),
                                          timeout=30).status
        self.assertEqual(status.state, pb.SANDBOX_READY)
        return pod_id, status.network.ip

    def remove_pod(self, pod_id):
        import grpc

        try:
            self.rt.StopPodSandbox(self.pb.StopPodSandboxRequest(pod_sandbox_id=pod_id),
                                   timeout=60)
            self.rt.RemovePodSandbox(self.pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                                     timeout=60)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise

    def registered(self):
        return node_state.registered(self.daemon)

    def host_veths(self):
        return node_state.host_veths(self.node)

    def allocated(self):
        return node_state.allocated(self.ipam_dir, "cubenet-cri")

    def test_pod_sandboxes_get_a_network_and_leave_nothing(self):
        web_id, web_ip = self.run_pod("web", ports=[(80, 8081)])
        cli_id, cli_ip = self.run_pod("client")
        self.assertRegex(web_ip, r"^10\.247\.0\.\d+$")
        self.assertNotEqual(web_ip, cli_ip)
        self.assertEqual(sorted(self.allocated()), sorted([web_ip, cli_ip]))
        self.assertTrue(os.path.isdir(os.path.join(self.daemon.bpffs, "cubes/tc/router/node:router")))
        self.assertEqual(len(self.host_veths()), 2)

        pods = {p["container-id"]: p for p in self.registered()}
        self.assertEqual(set(pods), {web_id, cli_id})
        web = pods[web_id]
        self.assertEqual((web["name"], web["namespace"], web["uid"], web["address"]),
                         ("web", "team-a", "uid-web", [web_ip]))
        # CRI's HostPort spelling, as recorded.
        self.assertEqual(web["port-mapping"],
                         [{"host-port": 8081, "protocol": "tcp", "container-port": 80}])

        # Real TCP from one pod's network namespace to the other's, directly
        # and through a ClusterIP service (the node chain's DNAT and back).
        server = subprocess.Popen(
            ["nsenter", f"--net={web['netns']}", sys.executable, "-c",
             "import socket\n"
             "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind(('0.0.0.0', 8080)); s.listen(); print('ready', flush=True)\n"
             "while True:\n"
             "    c, _ = s.accept(); c.sendall(b'hello ' + c.recv(100)); c.close()\n"],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(server.kill)
        self.assertEqual(server.stdout.readline().strip(), "ready")
        r = self.daemon.client().put("/restconf/data/cubenet-pods:services", {
            "cubenet-pods:services": {"service": [{
                "namespace": "team-a", "name": "web", "cluster-ip": ["10.96.0.20"],
                "port": [{"port": 80, "protocol": "tcp", "target-port": 8080}],
                "endpoint": [{"address": web_ip}]}]}})
        self.assertIn(r.status, (201, 204), r.body)
        for addr, port in ((web_ip, 8080), ("10.96.0.20", 80)):
            out = sh("nsenter", f"--net={pods[cli_id]['netns']}", sys.executable, "-c",
                     "import socket\n"
                     f"s = socket.create_connection(('{addr}', {port}), timeout=5)\n"
                     "s.sendall(b'from client'); print(s.recv(100).decode(), s.getpeername()[0])\n"
                     ).stdout
            self.assertEqual(out.split(), ["hello", "from", "client", addr])

        for pod_id in (web_id, cli_id):
            self.remove_pod(pod_id)
        self.assertEqual((self.registered(), self.host_veths(), self.allocated()), ([], [], []))
        for p in (web, pods[cli_id]):
            self.assertFalse(os.path.exists(p["netns"]), p["netns"])
        # The node chain went with the last pod: no pinned program or map
        # left, no host device.
        self.assertEqual(sh("ip", "-n", self.node, "link", "show", "cubenet0",
                            check=False).returncode, 1)
        self.assertEqual(node_state.pinned(self.daemon), [])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    for tool in ("containerd", "ctr", "runc"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing: scripts/deps.sh installs it")
    unittest.main(verbosity=2)
