# SPDX-License-Identifier: Apache-2.0
"""cubenetd's HTTP/RESTCONF edge under hostile clients: malformed bodies,
paths and query strings, media types, methods, unauthenticated floods on
TCP, half-open connections, a second daemon on the same resources, and
the maximum number of cubes with 200 concurrent clients. Every attack is
bounded in count and time. Needs root (BPF); exits 77 (skip) without it."""
import json
import os
import re
import resource
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from restconf_client import BUILD, MEDIA, Client, Daemon  # noqa: E402

CUBES = "/restconf/data/cubenet-core:cubes"
CORE_YANG = os.path.join(os.path.dirname(__file__), "../../services/core/cubenet-core.yang")
# The daemon's deadline for a client's request headers, and how many
# connections it holds from one address (core/daemon/restconf*.h).
HEADER_DEADLINE = 10
PER_ADDRESS = 256


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def read_text(path):
    with open(path) as f:
        return f.read()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def read_response(sock, timeout):
    """(status, headers, body) of one HTTP/1.1 response, or None if the
    connection was closed or reset first, or nothing came within timeout."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body.decode("utf-8", "replace")
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        return None


def closed_by_peer(sock, timeout):
    """True once the server closes (or resets) the connection."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (socket.timeout, BlockingIOError):
        return False


def cube_max_elements():
    """The model's maximum number of cubes (one truth: the YANG module)."""
    text = read_text(CORE_YANG)
    m = re.search(r"list cube \{.*?max-elements (\d+);", text, re.S)
    assert m, "the cube list has no max-elements"
    return int(m.group(1))


class HostileTestCase(unittest.TestCase):
    def assertError(self, r, status, tag, msg_part=None):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.headers.get("Content-Type"), MEDIA, r.headers)
        errors = json.loads(r.body)["ietf-restconf:errors"]["error"]
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(errors[0]["error-tag"], tag, errors)
        if msg_part:
            self.assertIn(msg_part, errors[0]["error-message"], errors)
        return errors[0]


class MalformedInputTest(HostileTestCase):
    """Every malformed request gets a 4xx with an
    ietf-restconf:errors body and changes nothing."""

    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.cleanup)
        self.daemon.start()
        self.c = self.daemon.client()
        r = self.c.post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "g3", "type": "parser", "port": [{"id": 0, "verdict": "drop"}]}]}})
        self.assertEqual(r.status, 201, r.body)
        self.before = self.c.config()

    def assertUnchanged(self):
        self.assertEqual(self.c.config(), self.before)

    def test_body_must_be_exactly_one_json_document(self):
        one = b'{"cubenet-core:cube":[{"name":"g1","type":"parser"}]}'
        two = b'{"cubenet-core:cube":[{"name":"g2","type":"parser"}]}'
        for i, raw in enumerate([
                one + b"}}garbage",
                one + b"garbage",
                one + two,
                one + b" \n" + two,
                one + b"\x00garbage",
                one[:-3] + b',"x\x00y":1}]}',
                one + "\ufeff".encode(),
                one.replace(b"g1", b"g\\ud800"),  # a lone surrogate
                one.replace(b"g1", b"g\\u0000"),  # NUL inside a string
        ]):
            with self.subTest(case=i, body=raw):
                r = self.c.post(CUBES, raw=raw)
                self.assertError(r, 400, "malformed-message")
                self.assertUnchanged()
        # The same documents through PUT and PATCH of a single node.
        body = '{"cubenet-core:cube":[{"name":"g3","type":"router"}]}'
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                r = self.c.request(method, CUBES + "/cube=g3", raw=body + "}garbage")
                self.assertError(r, 400, "malformed-message")
                self.assertUnchanged()

    def test_a_body_libyang_refuses_below_a_list_entry(self):
        """Well-formed JSON that does not fit the schema, written below an
        entry (the body is parsed under its parents): 400, nothing changed,
        and the daemon still answering (it once freed the parse twice)."""
        for i, body in enumerate([
                '{"cubenet-core:port":[{"id":0,"nosuch":1}]}',
                '{"cubenet-core:port":[{"id":"zero","verdict":"drop"}]}',
                '{"cubenet-core:port":[{"id":0,"verdict":"nonsense"}]}',
                '{"cubenet-lb:backend":[{"name":"b"}]}',
                '{"cubenet-core:port":[{"id":0},{"id":0}]}',
                # Refused after a first entry was parsed.
                '{"cubenet-core:port":[{"id":0,"verdict":"drop"},{"id":1,"nosuch":1}]}',
                '{"cubenet-core:port":[{"id":0,"verdict":"drop"}],"cubenet-core:nosuch":1}',
        ]):
            with self.subTest(case=i, body=body):
                r = self.c.put(CUBES + "/cube=g3/port=0", raw=body.encode())
                self.assertIn(r.status, (400, 404), r.body)
                self.assertIn("ietf-restconf:errors", r.body)
                self.assertUnchanged()
        self.assertEqual(self.c.get(CUBES).status, 200)

    def test_invalid_utf8_in_body(self):
        r = self.c.post(CUBES, raw=b'{"cubenet-core:cube":[{"name":"g\xff","type":"parser"}]}')
        self.assertError(r, 400, "malformed-message")
        self.assertUnchanged()

    def test_duplicate_entries_in_one_body(self):
        cases = [
            # The same list entry twice: the last must not silently win.
            ("POST", CUBES, {"cubenet-core:cube": [
                {"name": "d", "type": "parser"}, {"name": "d", "type": "router"}]}),
            ("PUT", "/restconf/data", {"cubenet-core:cubes": {"cube": [
                {"name": "g3", "type": "parser"}, {"name": "g3", "type": "router"}]}}),
            ("PUT", CUBES, {"cubenet-core:cubes": {"cube": [
                {"name": "e", "type": "parser"}, {"name": "f", "type": "parser"},
                {"name": "e", "type": "parser"}]}}),
            # Deeper: the same port twice inside one cube.
            ("PUT", CUBES + "/cube=g3", {"cubenet-core:cube": [{
                "name": "g3", "type": "parser",
                "port": [{"id": 0, "verdict": "tx"}, {"id": 0, "verdict": "pass"}]}]}),
            ("PATCH", CUBES + "/cube=g3", {"cubenet-core:cube": [{
                "name": "g3",
                "port": [{"id": 1, "verdict": "tx"}, {"id": 1, "verdict": "pass"}]}]}),
        ]
        for i, (method, path, body) in enumerate(cases):
            with self.subTest(case=i):
                r = self.c.request(method, path, body)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn("ietf-restconf:errors", r.json())
                self.assertUnchanged()
        # A member named twice in one JSON object.
        r = self.c.post(CUBES, raw='{"cubenet-core:cube":[{"name":"d","type":"parser",'
                                   '"type":"router"}]}')
        self.assertError(r, 400, "malformed-message")
        r = self.c.put(CUBES + "/cube=g3", raw='{"cubenet-core:cube":[{"name":"g3",'
                                               '"name":"g3","type":"parser"}]}')
        self.assertError(r, 400, "malformed-message")
        self.assertUnchanged()
        # A leaf-list value twice (pods' addresses) is refused as well.
        r = self.c.put("/restconf/data/cubenet-pods:pods", {"cubenet-pods:pods": {"pod": [{
            "container-id": "c1", "interface": "eth0", "network": "n",
            "netns": "/proc/1/ns/net", "address": ["10.0.0.2", "10.0.0.2"]}]}})
        self.assertEqual(r.status, 400, r.body)
        self.assertUnchanged()

    def test_percent_decoding_of_path_segments(self):
        for path in (CUBES + "/cube=g3%00anything", CUBES + "/cube=g3%00",
                     CUBES + "/cube=g3%zz", CUBES + "/cube=g3%4", CUBES + "/cube=g3%",
                     CUBES + "/cube=%ff%fe", CUBES + "/cube=g%c3", CUBES + "/cube=%c0%af",
                     CUBES + "/cube=g3/port=0%00", "/restconf/data/cubenet-core%00:cubes",
                     "/restconf/data/cubenet-core:cu%00bes", "/restconf/data/%zz"):
            for method in ("GET", "DELETE"):
                with self.subTest(path=path, method=method):
                    r = self.c.request(method, path)
                    self.assertError(r, 400, "malformed-message")
        r = self.c.put(CUBES + "/cube=g3%00x", {"cubenet-core:cube": [
            {"name": "g3", "type": "router"}]})
        self.assertError(r, 400, "malformed-message")
        self.assertUnchanged()
        # An encoded '/' stays inside the key: no such cube, not a path split.
        self.assertError(self.c.get(CUBES + "/cube=g3%2Fport=0"), 404, "data-missing")
        # Well-formed escapes still work.
        self.assertEqual(self.c.get(CUBES + "/cube=%67%33").status, 200)
        self.assertEqual(self.c.get("/restconf/data/cubenet-core%3Acubes").status, 200)

    def test_content_types_matched_exactly(self):
        body = '{"cubenet-core:cube":[{"name":"m%d","type":"parser"}]}'
        refused = ["application/yang-data+jsonx", "application/jsonp",
                   "application/json-seq", "application/yang-data+xml", "text/plain",
                   "application/x-www-form-urlencoded", "application/yang-data+json2; x=1",
                   "", "application/", "json"]
        for i, ctype in enumerate(refused):
            with self.subTest(ctype=ctype):
                r = self.c.post(CUBES, raw=body % i, headers={"Content-Type": ctype})
                self.assertError(r, 415, "invalid-value", "media type")
        # No Content-Type at all on a body.
        r = self.c.request("POST", CUBES, raw=(body % 99).encode(),
                           headers={"Content-Type": None})
        self.assertError(r, 415, "invalid-value", "media type")
        self.assertUnchanged()
        accepted = ["application/yang-data+json", "application/json",
                    "Application/YANG-Data+JSON", "application/yang-data+json; charset=utf-8",
                    "application/json;charset=UTF-8"]
        for i, ctype in enumerate(accepted):
            with self.subTest(ctype=ctype):
                r = self.c.post(CUBES, raw=body % (50 + i), headers={"Content-Type": ctype})
                self.assertEqual(r.status, 201, r.body)
        # Operations take the same media types.
        r = self.c.post("/restconf/operations/cubenet-core:reset-counters", raw="{}",
                        headers={"Content-Type": "text/plain"})
        self.assertError(r, 415, "invalid-value", "media type")

    def test_query_parameters(self):
        bad = ["depth=%4", "depth=%", "depth=%2", "depth=1%00", "depth=%zz", "depth=+5",
               "depth=%205", "depth=5%20", "depth=0", "depth=65536", "depth=-1",
               "depth=99999999999999999999", "depth=", "depth", "depth=1&depth=2",
               "content=config&content=all", "content=", "content", "content=conf%00ig",
               "content=everything", "fields=name", "with-defaults=report-all", "filter=x",
               "insert=first", "foo=1", "depth=1&foo", "%00=1", "=1", "de%zzpth=1"]
        for q in bad:
            with self.subTest(query=q):
                r = self.c.get(CUBES + "?" + q)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn("ietf-restconf:errors", r.json())
        # Parameters of GET are refused on edits, and edits change nothing.
        for q in ("depth=1", "content=config", "foo=1"):
            with self.subTest(edit_query=q):
                r = self.c.put(CUBES + "/cube=g3?" + q, {"cubenet-core:cube": [
                    {"name": "g3", "type": "router"}]})
                self.assertEqual(r.status, 400, r.body)
                r = self.c.delete(CUBES + "/cube=g3?" + q)
                self.assertEqual(r.status, 400, r.body)
        self.assertUnchanged()
        # Query strings on the other RESTCONF resources are refused too.
        for path in ("/restconf?x=1", "/restconf/operations?x=1",
                     "/restconf/yang/cubenet-core?x=1",
                     "/restconf/data/ietf-yang-library:yang-library?depth=%4"):
            with self.subTest(path=path):
                self.assertEqual(self.c.get(path).status, 400)
        # The good ones still work, encoded or not.
        self.assertEqual(self.c.get(CUBES + "?depth=1").json(), {"cubenet-core:cubes": {}})
        self.assertEqual(self.c.get(CUBES + "?depth=%31").json(), {"cubenet-core:cubes": {}})
        self.assertEqual(self.c.get(CUBES + "?depth=unbounded&content=config").json(),
                         self.before)
        self.assertEqual(self.c.get(CUBES + "?content=con%66ig").json(), self.before)

    def test_methods_head_and_allow(self):
        data_allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
        cases = [
            ("TRACE", CUBES, data_allow),
            ("FOO", CUBES + "/cube=g3", data_allow),
            ("PUT", CUBES + "/cube=g3/statistics", "GET, HEAD, OPTIONS"),
            ("TRACE", CUBES + "/cube=g3/statistics", "GET, HEAD, OPTIONS"),
            ("DELETE", "/restconf/data", "GET, HEAD, POST, PUT, PATCH, OPTIONS"),
            ("POST", "/restconf", "GET, HEAD, OPTIONS"),
            ("DELETE", "/restconf/yang/cubenet-core", "GET, HEAD, OPTIONS"),
            ("PUT", "/restconf/operations", "GET, HEAD, OPTIONS"),
            ("GET", "/restconf/operations/cubenet-core:reset-counters", "POST, OPTIONS"),
            ("PUT", "/restconf/data/ietf-yang-library:yang-library", "GET, HEAD, OPTIONS"),
            ("POST", "/metrics", "GET, HEAD, OPTIONS"),
        ]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                r = self.c.request(method, path, raw="{}" if method in ("PUT", "POST") else None)
                self.assertError(r, 405, "operation-not-supported")
                self.assertEqual(r.headers.get("Allow"), allow)
                r = self.c.request("OPTIONS", path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get("Allow"), allow)
        self.assertUnchanged()
        # HEAD wherever GET is: same status and headers, no body.
        for path in (CUBES, "/restconf", "/restconf/operations",
                     "/restconf/yang/cubenet-core", "/restconf/data/ietf-yang-library:yang-library",
                     "/metrics"):
            with self.subTest(head=path):
                g = self.c.get(path)
                h = self.c.request("HEAD", path)
                self.assertEqual(g.status, 200, g.body)
                self.assertEqual(h.status, 200, h.body)
                self.assertEqual(h.body, "")
                self.assertEqual(h.headers.get("Content-Type"), g.headers.get("Content-Type"))
        # A module at a revision it does not have is not that module.
        self.assertError(self.c.get("/restconf/yang/cubenet-core@1999-01-01"), 404,
                         "data-missing")

    def test_accept(self):
        for accept in ("application/yang-data+xml", "text/html", "application/xml",
                       "application/yang-data+json;q=0", "image/*",
                       "application/yang-data+xml, text/*;q=0.5"):
            with self.subTest(accept=accept):
                r = self.c.get(CUBES, headers={"Accept": accept})
                self.assertError(r, 406, "invalid-value", "Accept")
        for accept in (MEDIA, "application/json", "*/*", "application/*",
                       "application/yang-data+xml, application/yang-data+json;q=0.5",
                       "text/html, */*;q=0.1", "APPLICATION/YANG-DATA+JSON"):
            with self.subTest(accept=accept):
                r = self.c.get(CUBES + "?content=config", headers={"Accept": accept})
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json(), self.before)
        r = self.c.get(CUBES + "?content=config", headers={"Accept": None})
        self.assertEqual(r.status, 200)

    def test_huge_headers_and_urls(self):
        pid = self.daemon.proc.pid
        rss0 = rss_kib(pid)
        # Past the 32 KiB a connection's headers may take, the HTTP library
        # answers itself (with its own body, not an errors body).
        for name, headers, path, status in (
                ("header", {"X-Big": "a" * (64 << 10)}, CUBES, 431),
                ("many headers", {f"X-{i}": "b" * 100 for i in range(2000)}, CUBES, 431),
                ("url", {}, CUBES + "/cube=" + "a" * (64 << 10), 414),
                ("query", {}, CUBES + "?depth=" + "1" * (64 << 10), 414)):
            with self.subTest(name=name):
                self.assertEqual(self.c.request("GET", path, headers=headers).status, status)
        # A key longer than any the model takes, within those limits.
        self.assertError(self.c.get(CUBES + "/cube=" + "a" * 2000), 400, "malformed-message")
        self.assertEqual(self.c.get(CUBES).status, 200)
        self.assertLess(rss_kib(pid) - rss0, 16 << 10)


class UnixSocketTest(HostileTestCase):
    """The unix socket is root-only and created without trusting what is there."""

    def run_daemon(self, d, wait=5):
        """Start d's cubenetd; (exit code or None if still running, its log)."""
        log = os.path.join(d.dir, "log2")
        with open(log, "w") as f:
            proc = subprocess.Popen(
                [os.path.join(BUILD, "cubenetd"), "--socket", d.socket, "--state-dir",
                 d.state_dir, "--bpffs", d.bpffs] + d.extra_args, stdout=f, stderr=f)
        try:
            rc = proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=30)
            rc = None
        return rc, read_text(log)

    def test_socket_mode_owner_and_directory(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        d.start()
        st = os.lstat(d.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(st.st_uid, 0)
        self.assertEqual(os.stat(d.state_dir).st_mode & 0o077, 0)

    def test_existing_file_at_the_socket_path_is_left_alone(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        with open(d.socket, "w") as f:
            f.write("precious\n")
        rc, log = self.run_daemon(d)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("not a socket", log)
        self.assertEqual(read_text(d.socket), "precious\n")

    def test_symlink_at_the_socket_path_is_not_followed(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        target = os.path.join(d.dir, "target")
        with open(target, "w") as f:
            f.write("precious\n")
        os.chmod(target, 0o644)
        os.symlink(target, d.socket)
        rc, log = self.run_daemon(d)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("not a socket", log)
        self.assertTrue(os.path.islink(d.socket))
        self.assertEqual(read_text(target), "precious\n")
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o644)

    def test_directory_others_can_write_is_refused(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        shared = os.path.join(d.dir, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        d.socket = os.path.join(shared, "cubenetd.sock")
        rc, log = self.run_daemon(d)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn(shared, log)
        self.assertFalse(os.path.exists(d.socket))
        # The state dir likewise: the saved config is written there as root.
        d.socket = os.path.join(d.dir, "cubenetd.sock")
        d.state_dir = shared
        rc, log = self.run_daemon(d)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn(shared, log)

    def test_stale_socket_of_a_killed_daemon_is_replaced(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(d.socket)  # a socket nobody listens on
        s.close()
        os.chmod(d.socket, 0o666)
        with open(os.path.join(d.dir, "log"), "w") as log:
            d.proc = subprocess.Popen(
                [os.path.join(BUILD, "cubenetd"), "--socket", d.socket, "--state-dir",
                 d.state_dir, "--bpffs", d.bpffs], stdout=log, stderr=log)
        for _ in range(100):
            try:
                if d.client().get(CUBES).status == 404:
                    break
            except OSError:
                time.sleep(0.05)
        self.assertEqual(d.client().get(CUBES).status, 404)
        self.assertEqual(os.lstat(d.socket).st_mode & 0o777, 0o600)


class SecondDaemonTest(HostileTestCase):
    """A second cubenetd on any resource of a running one is refused
    with a clear message and leaves the first one reachable."""

    def setUp(self):
        self.first = Daemon()
        self.addCleanup(self.first.cleanup)
        self.first.start()
        r = self.first.client().post("/restconf/data", {"cubenet-core:cubes": {"cube": [
            {"name": "p0", "type": "parser", "port": [{"id": 0, "verdict": "pass"}]}]}})
        self.assertEqual(r.status, 201, r.body)
        self.config = self.first.client().config()

    def second(self, socket_path, state_dir, bpffs):
        other = Daemon()
        self.addCleanup(other.cleanup)
        log = os.path.join(other.dir, "log")
        with open(log, "w") as f:
            proc = subprocess.Popen(
                [os.path.join(BUILD, "cubenetd"), "--socket", socket_path, "--state-dir",
                 state_dir, "--bpffs", bpffs], stdout=f, stderr=f)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()  # it ran: stopping it is what unlinked the socket
            proc.wait(timeout=30)
            rc = None
        return rc, read_text(log)

    def assertFirstIntact(self):
        self.assertTrue(os.path.exists(self.first.socket))
        self.assertEqual(self.first.client().config(), self.config)
        self.assertTrue(os.path.exists(os.path.join(self.first.bpffs)))
        # Its cube is still loaded (its pins were not collected by the other).
        r = self.first.client().get(CUBES + "/cube=p0")
        self.assertIn("statistics", r.json()["cubenet-core:cube"][0])

    def test_same_everything(self):
        f = self.first
        rc, log = self.second(f.socket, f.state_dir, f.bpffs)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("another cubenetd", log)
        self.assertFirstIntact()

    def test_same_socket(self):
        other = Daemon()
        self.addCleanup(other.cleanup)
        rc, log = self.second(self.first.socket, other.state_dir, other.bpffs)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("another cubenetd", log)
        self.assertIn(self.first.socket, log)
        self.assertFirstIntact()

    def test_same_state_dir(self):
        other = Daemon()
        self.addCleanup(other.cleanup)
        rc, log = self.second(other.socket, self.first.state_dir, other.bpffs)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("another cubenetd", log)
        self.assertIn(self.first.state_dir, log)
        self.assertFalse(os.path.exists(other.socket))
        self.assertFirstIntact()

    def test_same_bpffs(self):
        other = Daemon()
        self.addCleanup(other.cleanup)
        rc, log = self.second(other.socket, other.state_dir, self.first.bpffs)
        self.assertNotIn(rc, (None, 0), log)
        self.assertIn("another cubenetd", log)
        self.assertIn(self.first.bpffs, log)
        self.assertFirstIntact()

    def test_lock_is_released_on_exit(self):
        self.first.stop()
        self.first.start()  # the same resources, free again
        self.assertEqual(self.first.client().config(), self.config)


class TcpTest(HostileTestCase):
    """On TCP nothing is read or held for a client that has not
    authenticated, and floods of such clients do not lock out one that has."""

    def setUp(self):
        raise_nofile()
        self.daemon = Daemon()
        self.addCleanup(self.daemon.cleanup)
        self.token = uuid.uuid4().hex
        tok_file = os.path.join(self.daemon.dir, "token")
        with open(tok_file, "w") as f:
            f.write(self.token + "\n")
        os.chmod(tok_file, 0o644)  # as a Kubernetes secret volume has it by default
        self.port = free_port()
        self.daemon.extra_args = ["--tcp", f"127.0.0.1:{self.port}", "--token-file", tok_file]
        self.daemon.start()
        self.pid = self.daemon.proc.pid
        self.good = Client(tcp=("127.0.0.1", self.port), token=self.token)
        self.socks = []
        self.addCleanup(self.close_all)

    def close_all(self):
        for s in self.socks:
            s.close()
        self.socks = []

    def connect(self, source="127.0.0.1"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socks.append(s)
        s.bind((source, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", self.port))
        return s

    def timed_get(self):
        t = time.monotonic()
        r = self.good.get(CUBES)
        return r.status, time.monotonic() - t

    def test_token_checks(self):
        bad = ["", "Bearer", "Bearer ", "Basic " + self.token, "Bearer " + self.token[:-1],
               "Bearer " + self.token + "x", "Bearer " + self.token + " x",
               "Bearer x" + self.token, "Bearer " + self.token.upper(),
               "Bearer" + self.token, "Bearer\t" + self.token + "\t" + self.token,
               "Token " + self.token]
        for auth in bad:
            with self.subTest(auth=auth):
                c = Client(tcp=("127.0.0.1", self.port))
                r = c.get(CUBES, headers={"Authorization": auth} if auth else None)
                self.assertError(r, 401, "access-denied")
                self.assertTrue(r.headers.get("WWW-Authenticate", "").startswith("Bearer"),
                                r.headers)
        for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
            with self.subTest(scheme=scheme):
                c = Client(tcp=("127.0.0.1", self.port))
                r = c.get(CUBES, headers={"Authorization": scheme + " " + self.token})
                self.assertEqual(r.status, 404, r.body)  # no cubes yet: authorized

    def test_token_file_open_to_others_is_warned_of(self):
        with open(os.path.join(self.daemon.dir, "log")) as f:
            log = f.read()
        self.assertIn("is open to others than its owner (mode 644)", log)
        d = Daemon()
        self.addCleanup(d.cleanup)
        tok_file = os.path.join(d.dir, "token")
        fd = os.open(tok_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (self.token + "\n").encode())
        os.close(fd)
        d.extra_args = ["--tcp", f"127.0.0.1:{free_port()}", "--token-file", tok_file]
        d.start()
        with open(os.path.join(d.dir, "log")) as f:
            self.assertNotIn("open to others", f.read())

    def test_token_is_checked_before_the_body(self):
        # Headers only, announcing 8 MB: the 401 comes without a byte of body.
        s = self.connect()
        s.sendall(b"POST /restconf/data HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/yang-data+json\r\n"
                  b"Content-Length: 8000000\r\n\r\n")
        resp = read_response(s, 3)
        self.assertIsNotNone(resp, "no answer before the body")
        status, headers, body = resp
        self.assertEqual(status, 401)
        self.assertTrue(headers.get("www-authenticate", "").startswith("Bearer"))
        self.assertEqual(json.loads(body)["ietf-restconf:errors"]["error"][0]["error-tag"],
                         "access-denied")
        # The same with Expect: 100-continue: no 100, the 401 at once.
        s = self.connect()
        s.sendall(b"PUT /restconf/data HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Type: application/yang-data+json\r\n"
                  b"Content-Length: 8000000\r\n\r\n")
        self.assertEqual(read_response(s, 3)[0], 401)

    def test_body_cap(self):
        auth = f"Authorization: Bearer {self.token}\r\n".encode()
        head = (b"POST /restconf/data HTTP/1.1\r\nHost: x\r\n" + auth +
                b"Content-Type: application/yang-data+json\r\nContent-Length: 9000000\r\n")
        # A client waiting for 100 Continue gets the 413 instead, before its body.
        s = self.connect()
        s.sendall(head + b"Expect: 100-continue\r\n\r\n")
        resp = read_response(s, 3)
        self.assertIsNotNone(resp, "no answer before the body")
        self.assertEqual(resp[0], 413)
        self.assertEqual(json.loads(resp[2])["ietf-restconf:errors"]["error"][0]["error-tag"],
                         "too-big")
        # One sending its body straight away gets it at the end, none of it kept.
        rss0 = rss_kib(self.pid)
        s = self.connect()
        s.sendall(head + b"\r\n" + b"x" * 9000000)
        resp = read_response(s, 10)
        self.assertIsNotNone(resp)
        self.assertEqual(resp[0], 413)
        self.assertLess(rss_kib(self.pid) - rss0, 4 << 10)
        # Chunked, no length announced: keeping stops at the cap (8 MiB of a
        # 64 MiB body), 413 at the end.
        rss0 = rss_kib(self.pid)
        s = self.connect()
        s.sendall(b"POST /restconf/data HTTP/1.1\r\nHost: x\r\n" + auth +
                  b"Content-Type: application/yang-data+json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * (1 << 20)
        for _ in range(64):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        resp = read_response(s, 10)
        self.assertIsNotNone(resp)
        self.assertEqual(resp[0], 413)
        self.assertLess(rss_kib(self.pid) - rss0, 32 << 10)
        # Unauthenticated and chunked: the 401 before any chunk.
        s = self.connect()
        s.sendall(b"POST /restconf/data HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/yang-data+json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        self.assertEqual(read_response(s, 3)[0], 401)

    def test_unauthenticated_bodies_are_not_buffered(self):
        # 24 connections each sending an unfinished 8 MB body, no token.
        self.assertEqual(self.timed_get()[0], 404)
        rss0 = rss_kib(self.pid)
        body = b"{" + b" " * (8 << 20)

        def attack(s):
            try:
                s.sendall(b"PUT /restconf/data HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/yang-data+json\r\n"
                          b"Content-Length: %d\r\n\r\n" % (len(body) + 1))
                s.sendall(body)  # one byte short
            except OSError:
                pass  # refused: the point
        socks = [self.connect() for _ in range(24)]
        threads = [threading.Thread(target=attack, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        time.sleep(0.5)
        rss1 = rss_kib(self.pid)
        print(f"\nRSS under 24 unauthenticated unfinished 8 MB bodies: "
              f"{rss0} KiB -> {rss1} KiB", file=sys.stderr)
        self.assertLess(rss1 - rss0, 16 << 10, f"{rss0} -> {rss1} KiB")
        status, took = self.timed_get()
        self.assertEqual(status, 404)
        self.assertLess(took, 2.0)

    def half_open(self, sources, per_source):
        """Connections that send nothing or half a request header."""
        refused = 0
        for src in sources:
            for i in range(per_source):
                try:
                    s = self.connect(src)
                    if i % 2:
                        s.sendall(b"GET /restconf/data HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
                except OSError:
                    refused += 1
        return refused

    def test_half_open_connections_from_one_address(self):
        self.half_open(["127.0.0.2"], 1100)
        time.sleep(0.5)
        status, took = self.timed_get()
        self.assertEqual(status, 404)
        self.assertLess(took, 2.0)
        # The address is held to its share: the rest were closed at once.
        open_now = sum(not closed_by_peer(s, 0.01) for s in self.socks)
        self.assertLessEqual(open_now, PER_ADDRESS)
        self.assertGreater(open_now, 0)

    def test_half_open_connections_from_many_addresses(self):
        sources = [f"127.0.1.{i}" for i in range(1, 111)]
        self.half_open(sources, 10)
        time.sleep(0.5)
        for _ in range(5):
            status, took = self.timed_get()
            self.assertEqual(status, 404)
            self.assertLess(took, 2.0)
        # Past the header deadline every one of them has been closed by the daemon.
        t0 = time.monotonic()
        deadline = t0 + HEADER_DEADLINE + 10
        pending = list(self.socks)
        while pending and time.monotonic() < deadline:
            pending = [s for s in pending if not closed_by_peer(s, 0.001)]
            time.sleep(0.5)
        self.assertEqual(len(pending), 0, f"{len(pending)} of {len(self.socks)} still open")
        self.assertEqual(self.timed_get()[0], 404)

    def test_slow_header_is_cut_at_the_deadline(self):
        # One byte every two seconds: the idle timeout alone never fires.
        s = self.connect()
        t0 = time.monotonic()
        request = b"GET /restconf/data HTTP/1.1\r\nHost: x\r\n" + b"X-Drip: " + b"a" * 100
        closed = False
        for b in request:
            try:
                s.sendall(bytes([b]))
            except OSError:
                closed = True
                break
            if closed_by_peer(s, 2):
                closed = True
                break
            if time.monotonic() - t0 > HEADER_DEADLINE + 10:
                break
        self.assertTrue(closed, "a slow header was never cut")
        self.assertLess(time.monotonic() - t0, HEADER_DEADLINE + 5)


class ScaleTest(HostileTestCase):
    """The maximum number of cubes the model allows, then 200
    concurrent clients on the unix socket and on TCP: every request answered."""

    def test_max_cubes_and_200_concurrent_clients(self):
        raise_nofile()
        n = cube_max_elements()
        d = Daemon()
        self.addCleanup(d.cleanup)
        token = uuid.uuid4().hex
        tok_file = os.path.join(d.dir, "token")
        with open(tok_file, "w") as f:
            f.write(token + "\n")
        port = free_port()
        d.extra_args = ["--tcp", f"127.0.0.1:{port}", "--token-file", tok_file]
        d.start()
        c = d.client()
        for first in range(0, n, 128):
            r = c.post(CUBES, {"cubenet-core:cube": [
                {"name": f"p{i}", "type": "parser"} for i in range(first, min(n, first + 128))]})
            self.assertEqual(r.status, 201, f"cubes {first}..: {r.body}")
        fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
        # Far past what select() can watch (1024): every new connection is.
        self.assertGreater(fds, 2 * 1024)
        # One more than the model allows is refused, and changes nothing.
        r = c.post(CUBES, {"cubenet-core:cube": [{"name": "one-too-many", "type": "parser"}]})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("ietf-restconf:errors", r.json())

        results, lock = [], threading.Lock()
        start = threading.Barrier(200)

        def client(i):
            cl = (d.client() if i % 2 else
                  Client(tcp=("127.0.0.1", port), token=token))
            start.wait()
            got = []
            for path, want in ((CUBES + f"/cube=p{i * 5 % n}?content=config", 200),
                               (CUBES + f"/cube=nope{i}", 404)):
                try:
                    r = cl.get(path)
                    ok = r.status == want and (want != 200 or r.json()[
                        "cubenet-core:cube"][0]["name"] == f"p{i * 5 % n}")
                    got.append((path, r.status, ok))
                except OSError as e:
                    got.append((path, repr(e), False))
            if i % 2 == 0:  # TCP without a token: 401, not silence
                try:
                    r = Client(tcp=("127.0.0.1", port)).get(CUBES)
                    got.append(("anon", r.status, r.status == 401))
                except OSError as e:
                    got.append(("anon", repr(e), False))
            with lock:
                results.extend(got)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        failed = [r for r in results if not r[2]]
        self.assertEqual(len(results), 200 * 2 + 100)
        self.assertEqual(failed, [])
        cfg = c.config()["cubenet-core:cubes"]["cube"]
        self.assertEqual(len(cfg), n)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("\n*** SKIP hostile_api: needs root for BPF ***\n")
        sys.exit(77)
    unittest.main(verbosity=2)
