# SPDX-License-Identifier: Apache-2.0
"""A RESTCONF client over cubenetd's unix socket (or TCP), and a daemon fixture."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MEDIA = "application/yang-data+json"
BUILD = os.environ.get("CUBENET_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def error(self):
        """The single error of an ietf-restconf:errors body."""
        errors = self.json()["ietf-restconf:errors"]["error"]
        assert len(errors) == 1, errors
        return errors[0]


class Client:
    def __init__(self, socket_path=None, tcp=None, token=None, timeout=30):
        self.socket_path, self.tcp, self.token = socket_path, tcp, token
        self.timeout = timeout

    def request(self, method, path, body=None, headers=None, raw=None):
        if self.socket_path:
            conn = UnixHTTPConnection(self.socket_path, timeout=self.timeout)
        else:
            host, port = self.tcp
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        hdrs = {"Accept": MEDIA}
        if body is not None or raw is not None:
            hdrs["Content-Type"] = MEDIA
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}  # None: leave it out
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        try:
            try:
                conn.request(method, path, body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # The server answered and closed before it read the whole
                # request, as it may for one it refuses (431, 414): its
                # answer is still there to read.
                pass
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read().decode())
        finally:
            conn.close()  # its socket too when the daemon is not there

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def config(self):
        r = self.get("/restconf/data?content=config")
        assert r.status == 200, r.body
        return r.json()


class Daemon:
    """cubenetd in a temporary state dir, on a temporary unix socket."""

    def __init__(self, extra_args=(), state_dir=None, netns=None):
        self.dir = tempfile.mkdtemp(prefix="cubenetd-test-")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.socket = os.path.join(self.dir, "cubenetd.sock")
        # Pins of our own, so tests never touch a real node's datapath.
        self.bpffs = "/sys/fs/bpf/" + os.path.basename(self.dir)
        self.extra_args = list(extra_args)
        self.netns = netns  # run inside this network namespace
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "log"), "a")
        if os.path.exists(self.socket):  # left by a daemon that was killed
            os.unlink(self.socket)
        # nsenter switches only the network namespace: unlike `ip netns exec`
        # it keeps the mounts, so the daemon sees the one bpffs its pins are in.
        prefix = ["nsenter", f"--net=/run/netns/{self.netns}"] if self.netns else []
        self.proc = subprocess.Popen(
            prefix + [os.path.join(BUILD, "cubenetd"), "--socket", self.socket, "--state-dir",
             self.state_dir, "--bpffs", self.bpffs] + self.extra_args,
            stdout=self.log, stderr=self.log)
        for _ in range(200):
            if os.path.exists(self.socket) and self.accepting():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("cubenetd exited: " + open(self.log.name).read())
            time.sleep(0.05)
        raise RuntimeError("cubenetd did not start")

    def accepting(self):
        """The socket answers connections (it exists a moment before)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def client(self):
        return Client(socket_path=self.socket)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.bpffs, ignore_errors=True)
