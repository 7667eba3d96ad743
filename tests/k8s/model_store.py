# SPDX-License-Identifier: Apache-2.0
"""A stand-in for cubenetd's config API that holds exactly what the node
agent writes, for tests of the agent against a real API server that do not
need a datapath: RESTCONF GET, PUT, PATCH (merge) and DELETE, and RFC 8072
YANG Patch when asked, over a unix socket. Every write is validated with
yanglint against the tree's YANG modules (the model the agent must write);
one that fails is refused with 400 and an ietf-restconf:errors body and
changes nothing, as cubenetd does. Every request is recorded, so a test can
count transactions and see that no write re-sends the whole config.

Not a daemon: no datapath, no cubes. The agent's end-to-end tests
(test_agent_e2e.py) run against the real cubenetd."""
import copy
import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
YANG_DIRS = [os.path.join(ROOT, "services", d) for d in ("core", "pods")]
MODULES = [os.path.join(ROOT, "services/core/cubenet-core.yang"),
           os.path.join(ROOT, "services/pods/cubenet-pods.yang")]
LIST_KEYS = {"service": ("namespace", "name"), "endpoint": ("address",),
             "port": ("port", "protocol"), "target-port": ("port", "protocol"),
             "pod": ("container-id", "interface"), "port-mapping": ("host-port", "protocol"),
             "peer": ("name",)}


def pods_revision():
    with open(MODULES[1]) as f:
        return re.search(r"revision (\d{4}-\d\d-\d\d)", f.read()).group(1)


def merge(into, body):
    """RESTCONF merge as libyang does it: containers and lists (by key)
    merged, leaf-lists united, leaves replaced."""
    for k, v in body.items():
        name = k.split(":")[-1]
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        elif isinstance(v, list) and isinstance(into.get(k), list):
            keys = LIST_KEYS.get(name)
            for item in v:
                if keys and isinstance(item, dict):
                    same = [x for x in into[k] if all(x.get(f) == item.get(f) for f in keys)]
                    if same:
                        merge(same[0], item)
                    else:
                        into[k].append(copy.deepcopy(item))
                elif item not in into[k]:
                    into[k].append(item)
        else:
            into[k] = copy.deepcopy(v)


class Refused(Exception):
    def __init__(self, status, message, path=""):
        super().__init__(message)
        self.status, self.message, self.path = status, message, path


def parse_path(path):
    """/cubenet-pods:services/service=ns,name -> [("cubenet-pods:services", None),
    ("service", ["ns", "name"])]"""
    out = []
    for seg in [s for s in path.split("/") if s]:
        name, _, keys = seg.partition("=")
        out.append((urllib.parse.unquote(name),
                    [urllib.parse.unquote(k) for k in keys.split(",")] if keys else None))
    return out


class Config:
    def __init__(self):
        self.data = {}
        self.lock = threading.Lock()

    def _locate(self, data, segs, create=False):
        """(parent container, member name, index or None) of the target."""
        node = data
        for i, (name, keys) in enumerate(segs):
            last = i == len(segs) - 1
            member = name if i == 0 else name.split(":")[-1]
            if keys is None:
                if last:
                    return node, member, None
                if member not in node:
                    if not create:
                        raise Refused(404, "no such data", name)
                    node[member] = {}
                node = node[member]
                continue
            fields = LIST_KEYS.get(member)
            if not fields or len(fields) != len(keys):
                raise Refused(400, f"bad keys for {member}")
            items = node.setdefault(member, []) if create else node.get(member, [])
            match = [j for j, x in enumerate(items)
                     if all(str(x.get(f)) == k for f, k in zip(fields, keys))]
            if last:
                return node, member, (match[0] if match else fields, keys)
            if not match:
                raise Refused(404, "no such data", name)
            node = items[match[0]]
        raise Refused(400, "empty path")

    def get(self, segs):
        with self.lock:
            if not segs:
                return copy.deepcopy(self.data)
            parent, member, idx = self._locate(self.data, segs)
            if idx is None:
                if member not in parent:
                    raise Refused(404, "no such data")
                return {segs[-1][0] if len(segs) == 1 else
                        segs[0][0].split(":")[0] + ":" + member: copy.deepcopy(parent[member])}
            if not isinstance(idx[0], int):
                raise Refused(404, "no such data")
            return {segs[0][0].split(":")[0] + ":" + member: [copy.deepcopy(parent[member][idx[0]])]}

    def _edit(self, data, op, segs, value):
        if not segs:
            if op == "merge":
                merge(data, value)
                return
            raise Refused(405, "not on the datastore")
        try:
            parent, member, idx = self._locate(data, segs, create=op in ("merge", "replace"))
        except Refused as e:
            if op == "remove" and e.status == 404:
                return
            raise
        if op in ("delete", "remove"):
            if idx is None:
                if member not in parent:
                    if op == "delete":
                        raise Refused(404, "no such data")
                    return
                del parent[member]
            elif isinstance(idx[0], int):
                del parent[member][idx[0]]
                if not parent[member]:
                    del parent[member]
            elif op == "delete":
                raise Refused(404, "no such data")
            return
        (vk, vv), = value.items()
        # (A top-level target's member keeps its module's prefix.)
        if vk.split(":")[-1] != member.split(":")[-1]:
            raise Refused(400, "the body must hold exactly the target node")
        if idx is None:
            if op == "replace" or member not in parent:
                parent[member] = copy.deepcopy(vv)
            else:
                merge(parent, {member: vv})
            return
        if not isinstance(vv, list) or len(vv) != 1:
            raise Refused(400, "the body must hold exactly the target entry")
        entry = vv[0]
        fields, keys = (LIST_KEYS[member], None) if isinstance(idx[0], int) else idx
        want = keys or [str(parent[member][idx[0]].get(f)) for f in fields]
        if [str(entry.get(f)) for f in fields] != want:
            raise Refused(400, "the body's keys are not the URI's")
        if isinstance(idx[0], int):
            if op == "replace":
                parent[member][idx[0]] = copy.deepcopy(entry)
            else:
                merge(parent[member][idx[0]], entry)
        else:
            parent.setdefault(member, []).append(copy.deepcopy(entry))

    def apply(self, edits):
        """[(op, segs, value)] as one transaction: validated, then kept."""
        with self.lock:
            cand = copy.deepcopy(self.data)
            for op, segs, value in edits:
                self._edit(cand, op, segs, value)
            validate(cand)
            self.data = cand


def validate(data):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data or {}, f)
        path = f.name
    try:
        args = ["yanglint", "-t", "config"]
        for d in YANG_DIRS:
            args += ["-p", d]
        r = subprocess.run(args + MODULES + [path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        raise Refused(400, "invalid configuration: " + r.stderr.strip().replace("\n", "; "))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def send(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/yang-data+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, e):
        self.send(e.status, {"ietf-restconf:errors": {"error": [{
            "error-type": "application", "error-tag": "invalid-value",
            "error-path": e.path, "error-message": e.message}]}})

    def handle_any(self, method):
        store = self.server.store
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        ctype = self.headers.get("Content-Type", "")
        body = json.loads(raw) if raw else None
        store.record(method, url.path, ctype, raw, body)
        if url.path == "/restconf/data/ietf-yang-library:yang-library":
            return self.send(200, {"ietf-yang-library:yang-library": {"module-set": [{
                "name": "complete", "module": [
                    {"name": "cubenet-core", "revision": "2026-11-23"},
                    {"name": "cubenet-pods", "revision": store.revision}]}]}})
        if not url.path.startswith("/restconf/data"):
            return self.send(404, None)
        segs = parse_path(url.path[len("/restconf/data"):])
        try:
            if method == "GET":
                return self.send(200, store.config.get(segs))
            if store.fail_writes:
                raise Refused(500, "told to fail")
            for name in store.refuse:
                if f'"name": "{name}"' in json.dumps(body):
                    raise Refused(400, f"told to refuse {name}")
            if method == "PATCH" and ctype.startswith("application/yang-patch+json"):
                if not store.yang_patch:
                    raise Refused(400, f"unsupported media type '{ctype}'")
                patch = body["ietf-yang-patch:yang-patch"]
                edits = [(e["operation"], segs + parse_path(e["target"]), e.get("value"))
                         for e in patch["edit"]]
                store.config.apply(edits)
                return self.send(204)
            op = {"PATCH": "merge", "PUT": "replace", "DELETE": "delete"}[method]
            store.config.apply([(op, segs, body)])
            self.send(204)
        except Refused as e:
            self.error(e)

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


class ModelStore:
    """The stand-in on a unix socket of its own; `requests` holds every
    request received: dicts of method, path, type, bytes, body, time."""

    def __init__(self, yang_patch=False, revision=None):
        self.dir = tempfile.mkdtemp(prefix="agent-store-")
        self.socket = os.path.join(self.dir, "cubenetd.sock")
        self.config = Config()
        self.yang_patch = yang_patch
        self.revision = revision or pods_revision()
        self.fail_writes = False
        self.refuse = set()  # service names whose writes are refused
        self.requests = []
        self._lock = threading.Lock()
        self.server = None

    def record(self, method, path, ctype, raw, body):
        with self._lock:
            self.requests.append({"method": method, "path": path, "type": ctype,
                                  "bytes": len(raw), "body": body, "time": time.monotonic()})

    def writes(self):
        with self._lock:
            return [r for r in self.requests if r["method"] != "GET"]

    def services(self):
        """The service entries held, by "namespace/name"."""
        data = self.config.get([])
        return {f'{s["namespace"]}/{s["name"]}': s
                for s in data.get("cubenet-pods:services", {}).get("service", [])}

    def node(self):
        return self.config.get([]).get("cubenet-pods:node")

    def start(self):
        self.server = _Server(self.socket, Handler)
        self.server.store = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        try:
            os.unlink(self.socket)
        except FileNotFoundError:
            pass
        os.rmdir(self.dir)
