# SPDX-License-Identifier: Apache-2.0
"""The node agent (build/cubenet-agent) as the tests run it: a process
with its own status port, against an API server (tests/k8s/apiserver.py)
and a cubenetd socket; its metrics and readiness read over HTTP."""
import http.client
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build"))
AGENT = os.path.join(BUILD, "cubenet-agent")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=20, interval=0.05, what="the condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in {timeout} s")
        time.sleep(interval)


class Agent:
    def __init__(self, kubeconfig, socket_path, node="node-1", args=(), netns=None,
                 log_dir=None, env=None):
        self.kubeconfig = kubeconfig
        self.socket = socket_path
        self.node = node
        self.args = list(args)
        self.netns = netns
        self.env = env  # added to the agent's environment
        self.status_port = free_port()
        self.dir = log_dir or tempfile.mkdtemp(prefix="agent-test-")
        self.log_path = os.path.join(self.dir, "agent.log")
        self.proc = None

    def start(self):
        prefix = ["nsenter", f"--net=/run/netns/{self.netns}"] if self.netns else []
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                prefix + ["setpriv", "--pdeathsig", "KILL", "--", AGENT,
                          "--kubeconfig", self.kubeconfig,
                          "--node-name", self.node, "--socket", self.socket,
                          "--status-address", f"127.0.0.1:{self.status_port}",
                          "--max-backoff", "2", *self.args],
                stdout=log, stderr=log, env={**os.environ, **(self.env or {})})
        finally:
            log.close()
        wait_for(lambda: self.status(check=False) is not None or self.proc.poll() is not None,
                 10, what="the agent's status port")
        if self.proc.poll() is not None:
            raise AssertionError(f"the agent exited:\n{self.log()}")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def status(self, path="/readyz", check=True):
        """(status, body) of a GET on the agent's status port; None if it
        does not answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.status_port, timeout=5)
        if self.netns:
            from netns_forward import connect_in_netns
            try:
                conn.sock = connect_in_netns(self.netns, "127.0.0.1", self.status_port)
            except OSError:
                if check:
                    raise
                return None
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read().decode()
        except OSError:
            if check:
                raise
            return None
        finally:
            conn.close()

    def ready(self):
        s = self.status(check=False)
        return s is not None and s[0] == 200

    def wait_ready(self, timeout=30):
        try:
            wait_for(self.ready, timeout, what="agent readiness")
        except AssertionError:
            raise AssertionError(f"agent not ready: {self.status(check=False)}\n{self.log()}")

    def metrics(self):
        """{(name, labels-as-text): value}"""
        _, body = self.status("/metrics")
        out = {}
        for line in body.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r"([a-z_]+)(\{[^}]*\})? (\S+)$", line)
            out[(m.group(1), m.group(2) or "")] = float(m.group(3))
        return out

    def metric(self, name, labels=""):
        return self.metrics().get((name, labels))
