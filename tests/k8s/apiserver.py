# SPDX-License-Identifier: Apache-2.0
"""A real Kubernetes control plane on loopback for the node agent's tests.

etcd, kube-apiserver v1.20 and kube-controller-manager (its EndpointSlice
controllers only), each on a free 127.0.0.1 port, with their data, keys and
kubeconfigs in one temporary directory that stop() removes. The binaries come
from scripts/kube-build.sh, which builds them once into a cache.

There is no kubelet, scheduler or service-account token controller, so:
  - Pods name their node (spec.nodeName, the fixture's Node) and carry
    `automountServiceAccountToken: false`; create_namespace() adds the
    `default` ServiceAccount admission asks for;
  - a Pod's IP and readiness are set with patch_pod_ready().

    with ApiServer() as api:             # or start() and addCleanup(stop)
        api.apply(manifest)
        rv = api.list("/api/v1/services", token=api.agent_token)["metadata"]["resourceVersion"]
        with api.watch("/api/v1/services", rv, token=api.agent_token) as w:
            event = w.next()

Clients: `kubeconfig` (admin) and `agent_kubeconfig` (the node agent's
ServiceAccount identity, which has no rights until a test binds it a role),
both verifying the server against `ca_file`; `agent_cert_kubeconfig` is the
same identity by client certificate, everything inline (*-data). ApiServer(watch_cache=False)
serves watches from etcd itself, so compact_etcd() expires resourceVersions at
once. Servers still running when the process exits, or is sent SIGTERM, are
stopped; if it is killed, they die with it (only the temporary directory stays).

Python stdlib only; Debian's python3.
"""
import atexit
import functools
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import base64

from pki import make_certs, make_client_cert
from watch import Watch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD_SCRIPT = os.path.join(ROOT, "scripts/kube-build.sh")

# What the v1.20 server needs switched on for what the agent reads.
FEATURE_GATES = "EndpointSliceTerminatingCondition=true,IPv6DualStack=true"
SERVICE_CIDRS = "10.96.0.0/16,fd00:10:96::/112"
NODE_NAME = "node-1"
# The node agent's identity: the ServiceAccount k8s/manifests gives the DaemonSet.
AGENT_NAMESPACE = "cubenet-system"
AGENT_SERVICE_ACCOUNT = "cubenet"
AGENT_USER = f"system:serviceaccount:{AGENT_NAMESPACE}:{AGENT_SERVICE_ACCOUNT}"
READY_TIMEOUT = 60


class ControlPlaneError(RuntimeError):
    pass


@functools.lru_cache(maxsize=None)
def kube_binaries():
    """The bin directory of kube-apiserver, kube-controller-manager and
    kubectl, built first if the cache lacks them."""
    r = subprocess.run([BUILD_SCRIPT], stdout=subprocess.PIPE, text=True)
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise ControlPlaneError(f"{BUILD_SCRIPT} failed ({r.returncode})")
    return lines[-1]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Started and not yet stopped: stopped at exit, whatever ended the tests.
_running = set()
atexit.register(lambda: [s.stop() for s in list(_running)])


def _stop_on_sigterm():
    """Make a SIGTERM (a test runner's timeout) end the test process through
    its exit hooks, so the servers stop and their files go."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, interrupt)


class ApiServer:
    def __init__(self, watch_cache=True, service_cidrs=SERVICE_CIDRS, node=NODE_NAME):
        self.watch_cache = watch_cache
        self.service_cidrs = service_cidrs
        self.node = node
        self.procs = {}
        self.dir = None

    # -- lifecycle -------------------------------------------------------
    def start(self):
        t0 = time.monotonic()
        self.bin = kube_binaries()
        _stop_on_sigterm()
        for attempt in range(3):
            self.dir = tempfile.mkdtemp(prefix="cubenet-kube-")
            _running.add(self)
            try:
                self._start()
                break
            except ControlPlaneError as e:
                # Another process may take a free port before ours binds it.
                lost_port = "address already in use" in str(e)
                self.stop()
                if not lost_port or attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _start(self):
        d = self.dir
        self.cert_dir = os.path.join(d, "pki")
        os.mkdir(self.cert_dir, 0o700)
        make_certs(self.cert_dir)
        make_client_cert(self.cert_dir, "agent", AGENT_USER,
                         ["system:serviceaccounts", f"system:serviceaccounts:{AGENT_NAMESPACE}"])
        self.ca_file = os.path.join(self.cert_dir, "ca.crt")
        self.admin_token = secrets.token_hex(16)
        self.agent_token = secrets.token_hex(16)
        controller_token = secrets.token_hex(16)
        tokens = os.path.join(self.cert_dir, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(f'{self.admin_token},admin,admin,"system:masters"\n')
            # The controller manager runs every controller as itself.
            f.write(f'{controller_token},system:kube-controller-manager,kcm,"system:masters"\n')
            f.write(f'{self.agent_token},{AGENT_USER},cubenet-agent,'
                    f'"system:serviceaccounts,system:serviceaccounts:{AGENT_NAMESPACE}"\n')

        self.etcd_port = _free_port()
        self.etcd_peer_port = _free_port()
        self.port = _free_port()
        self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        self.server = f"https://127.0.0.1:{self.port}"
        self.kubeconfig = self._kubeconfig("admin", self.admin_token)
        self.agent_kubeconfig = self._kubeconfig("agent", self.agent_token)
        kcm_kubeconfig = self._kubeconfig("controller-manager", controller_token)
        self.agent_cert_kubeconfig = self._cert_kubeconfig("agent-cert", "agent")

        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._spawn("etcd", [
            "etcd", "--name", "cubenet-test", "--data-dir", os.path.join(d, "etcd"),
            "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"cubenet-test={peer}",
            "--logger", "zap", "--log-level", "warn"])
        self._wait_etcd()

        self.apiserver_args = [
            os.path.join(self.bin, "kube-apiserver"),
            "--etcd-servers", self.etcd_url,
            "--bind-address", "127.0.0.1", "--secure-port", str(self.port),
            "--advertise-address", "127.0.0.1",
            "--insecure-port", "0",
            "--cert-dir", self.cert_dir,
            "--tls-cert-file", os.path.join(self.cert_dir, "apiserver.crt"),
            "--tls-private-key-file", os.path.join(self.cert_dir, "apiserver.key"),
            "--token-auth-file", tokens,
            "--client-ca-file", self.ca_file,
            "--authorization-mode", "RBAC",
            "--service-cluster-ip-range", self.service_cidrs,
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", os.path.join(self.cert_dir, "sa.pub"),
            "--service-account-signing-key-file", os.path.join(self.cert_dir, "sa.key"),
            "--feature-gates", FEATURE_GATES,
            "--endpoint-reconciler-type", "none",
            "--watch-cache=" + ("true" if self.watch_cache else "false"),
            "--v", "1",
        ]
        self._start_apiserver()

        self._spawn("kube-controller-manager", [
            os.path.join(self.bin, "kube-controller-manager"),
            "--kubeconfig", kcm_kubeconfig,
            "--controllers", "endpointslice,endpointslicemirroring,endpoint",
            "--feature-gates", FEATURE_GATES,
            "--secure-port", "0", "--port", "0", "--leader-elect=false",
            "--v", "1"])

        self._bootstrap()

    def stop(self):
        # Everything here is thrown away: no need for graceful shutdowns.
        for name in reversed(list(self.procs)):
            self._terminate(name, graceful=False)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        _running.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def restart_apiserver(self, graceful=False):
        """Stop the API server and start it again on the same port and etcd;
        open watches end. By default it is killed, as in a crash; graceful
        sends SIGTERM, and v1.20 then stops listening at once but holds open
        watches until its request timeout (60 s)."""
        self._terminate("kube-apiserver", graceful=graceful)
        self._start_apiserver()

    # -- processes -------------------------------------------------------
    def _spawn(self, name, argv):
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        try:
            # A test killed by a timeout must not leave servers running.
            self.procs[name] = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--", *argv],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()

    def _terminate(self, name, graceful):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        if graceful:
            p.terminate()
            try:
                p.wait(90)
                return
            except subprocess.TimeoutExpired:
                pass
        p.kill()
        p.wait()

    def log_tail(self, name, lines=30):
        try:
            with open(os.path.join(self.dir, f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def _check_alive(self, name):
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            raise ControlPlaneError(f"{name} exited:\n{self.log_tail(name)}")

    def _wait(self, name, ready, what):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(name)
            if ready():
                return
            time.sleep(0.2)
        raise ControlPlaneError(f"{name} not {what} in {READY_TIMEOUT} s:\n{self.log_tail(name)}")

    def _wait_etcd(self):
        def healthy():
            r = subprocess.run(["etcdctl", "--endpoints", self.etcd_url,
                                "--command-timeout=2s", "endpoint", "health"],
                               capture_output=True)
            return r.returncode == 0
        self._wait("etcd", healthy, "healthy")

    def _start_apiserver(self):
        self._spawn("kube-apiserver", self.apiserver_args)

        def ready():
            try:
                return self.request("GET", "/readyz", timeout=2)[0] == 200
            except (OSError, http.client.HTTPException):
                return False
        self._wait("kube-apiserver", ready, "ready")

    def rss_kib(self):
        """Resident memory of each process, in KiB."""
        out = {}
        for name, p in self.procs.items():
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out[name] = int(line.split()[1])
        return out

    # -- clients ---------------------------------------------------------
    def _kubeconfig(self, user, token):
        path = os.path.join(self.dir, f"{user}.kubeconfig")
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "cubenet-test", "cluster": {
                "server": self.server, "certificate-authority": self.ca_file}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": user, "context": {"cluster": "cubenet-test", "user": user}}],
            "current-context": user,
        }
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
        os.chmod(path, 0o600)
        return path

    def _cert_kubeconfig(self, user, cert):
        def data(name):
            with open(os.path.join(self.cert_dir, name), "rb") as f:
                return base64.b64encode(f.read()).decode()
        path = os.path.join(self.dir, f"{user}.kubeconfig")
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "cubenet-test", "cluster": {
                "server": self.server, "certificate-authority-data": data("ca.crt")}}],
            "users": [{"name": user, "user": {
                "client-certificate-data": data(f"{cert}.crt"),
                "client-key-data": data(f"{cert}.key")}}],
            "contexts": [{"name": user, "context": {"cluster": "cubenet-test", "user": user}}],
            "current-context": user,
        }
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
        os.chmod(path, 0o600)
        return path

    def kubectl(self, *args, input=None, kubeconfig=None, check=True):
        """kubectl 1.20 against this server (admin by default); its stdout."""
        r = subprocess.run([os.path.join(self.bin, "kubectl"),
                            "--kubeconfig", kubeconfig or self.kubeconfig,
                            "--cache-dir", os.path.join(self.dir, "kubectl-cache"), *args],
                           input=input, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def apply(self, manifest_yaml):
        return self.kubectl("apply", "-f", "-", input=manifest_yaml)

    def create_namespace(self, ns):
        """A namespace with the `default` ServiceAccount Pods are admitted with."""
        self.apply(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
        self._default_service_account(ns)

    def _default_service_account(self, ns):
        self.apply(f"apiVersion: v1\nkind: ServiceAccount\n"
                   f"metadata:\n  name: default\n  namespace: {ns}\n")

    def _bootstrap(self):
        for ns in ("default", "kube-system"):
            self._default_service_account(ns)
        self.apply(f"""apiVersion: v1
kind: Node
metadata:
  name: {self.node}
  labels:
    kubernetes.io/hostname: {self.node}
""")
        self.patch_status(f"/api/v1/nodes/{self.node}", {"status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": self.node}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "no kubelet: set by the test fixture"}]}})

    def patch_status(self, path, patch):
        status, body = self.request("PATCH", path + "/status", body=patch,
                                    content_type="application/strategic-merge-patch+json")
        if status != 200:
            raise ControlPlaneError(f"PATCH {path}/status: {status} {body}")
        return json.loads(body)

    def patch_pod_ready(self, ns, name, ip, ready=True):
        """What a kubelet would report: the Pod running with IP `ip` (a list
        for dual stack), Ready or not."""
        ips = [ip] if isinstance(ip, str) else list(ip)
        cond = "True" if ready else "False"
        return self.patch_status(f"/api/v1/namespaces/{ns}/pods/{name}", {"status": {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "podIP": ips[0], "podIPs": [{"ip": a} for a in ips],
            "conditions": [{"type": t, "status": cond}
                           for t in ("Initialized", "ContainersReady", "Ready")]}})

    # -- raw HTTPS -------------------------------------------------------
    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.check_hostname = True
        return ctx

    def _connect(self, timeout):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.ssl_context())

    def request(self, method, path, token=None, body=None,
                content_type="application/json", accept="application/json", timeout=30):
        """One authenticated request (admin unless `token`): (status, body)."""
        conn = self._connect(timeout)
        try:
            headers = {"Authorization": f"Bearer {token or self.admin_token}",
                       "Accept": accept}
            if body is not None:
                body = json.dumps(body) if not isinstance(body, (bytes, str)) else body
                headers["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    def get(self, path, token=None, **query):
        """GET `path`; (status, decoded JSON body)."""
        if query:
            path += "?" + urllib.parse.urlencode(query)
        status, body = self.request("GET", path, token=token)
        return status, json.loads(body) if body else None

    def list(self, path, token=None, **query):
        status, body = self.get(path, token=token, **query)
        if status != 200:
            raise ControlPlaneError(f"list {path}: {status} {body}")
        return body

    def watch(self, path, resource_version, token=None, bookmarks=True, **query):
        """Start a watch of `path` from `resource_version`; a Watch."""
        q = {"watch": "1", "resourceVersion": resource_version, **query}
        if bookmarks:
            q["allowWatchBookmarks"] = "true"
        conn = self._connect(None)
        conn.request("GET", f"{path}?{urllib.parse.urlencode(q)}", headers={
            "Authorization": f"Bearer {token or self.admin_token}",
            "Accept": "application/json"})
        return Watch(conn, conn.getresponse())

    # -- etcd ------------------------------------------------------------
    def etcdctl(self, *args):
        r = subprocess.run(["etcdctl", "--endpoints", self.etcd_url, *args],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise ControlPlaneError(f"etcdctl {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def compact_etcd(self):
        """Compact etcd to its current revision, so every older
        resourceVersion is gone (410 Expired without the watch cache).
        Returns the revision."""
        status = json.loads(self.etcdctl("endpoint", "status", "-w", "json"))
        revision = status[0]["Status"]["header"]["revision"]
        self.etcdctl("compact", str(revision), "--physical")
        return revision


if __name__ == "__main__":
    # A control plane to try things against by hand, until Ctrl-C.
    with ApiServer() as api:
        print(f"export KUBECONFIG={api.kubeconfig}  # started in {api.start_seconds:.1f} s")
        sys.stdout.flush()
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
