#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The node agent's figures against a real kube-apiserver (v1.20, with its
controller manager) and the real cubenetd:

  - network programming latency: one endpoint changed by `kubectl apply` of
    an EndpointSlice, until cubenetd's committed config holds it; p50/p99
    over --changes changes, with no other service and with --services
    services x --endpoints endpoints present. Measured from the moment the
    change reaches a watcher of the API server (the agent gets it then too),
    and, for reference, from kubectl's start;
  - the initial sync of those services into an empty cubenetd (agent start
    to ready, i.e. written and committed);
  - the agent's resident memory at that size.

The services are selector-less with one EndpointSlice each (as a
controller of one's own writes them), created by a bounded concurrent
client. cubenetd and the agent run in a network namespace of their own.
"Committed" is seen on cubenetd's saved config (the journal in
--state-dir, appended and fsync'd before each write is answered): watching
it costs the daemon nothing, unlike polling its API.

    sudo benchmarks/agent_bench.py [--services 5000] [--endpoints 10] [--changes 100]
                                   [--results benchmarks/RESULTS.md]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests/k8s"))
sys.path.insert(0, os.path.join(ROOT, "tests/daemon"))
from agent_fixture import Agent, wait_for  # noqa: E402
from apiserver import NODE_NAME, ApiServer  # noqa: E402
from netns_forward import NetnsForwarder  # noqa: E402
from restconf_client import Daemon  # noqa: E402
from test_agent_api import manifest_rbac  # noqa: E402

NS = "bench"
SLICES = "/apis/discovery.k8s.io/v1beta1"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def endpoint_ip(svc, i):
    return f"10.{100 + svc // 65536 % 100}.{svc // 256 % 256}.{svc % 256}" if i == 0 else \
        f"10.{200 + i}.{svc // 256 % 256}.{svc % 256}"


def slice_body(svc, endpoints, extra=None):
    eps = [{"addresses": [endpoint_ip(svc, i)], "conditions": {"ready": True},
            "topology": {"kubernetes.io/hostname": NODE_NAME}} for i in range(endpoints)]
    if extra:
        eps.append({"addresses": [extra], "conditions": {"ready": True}})
    return {"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
            "metadata": {"name": f"s{svc}-1", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": f"s{svc}",
                                    "endpointslice.kubernetes.io/managed-by": "bench"}},
            "addressType": "IPv4",
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}], "endpoints": eps}


def service_body(svc):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"s{svc}", "namespace": NS},
            "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}


class Creator:
    """POSTs from a few threads, each on its own kept-alive connection."""

    def __init__(self, api, workers):
        self.api, self.workers = api, workers
        self.local = threading.local()

    def post(self, path, body):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPSConnection(
                "127.0.0.1", self.api.port, context=self.api.ssl_context(), timeout=60)
        for attempt in range(5):
            try:
                conn.request("POST", path, body=json.dumps(body), headers={
                    "Authorization": f"Bearer {self.api.admin_token}",
                    "Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status in (200, 201, 409):
                    return
                if r.status == 429 or r.status >= 500:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise RuntimeError(f"POST {path}: {r.status} {data[:200]}")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = self.local.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.api.port, context=self.api.ssl_context(), timeout=60)
        raise RuntimeError(f"POST {path}: gave up")

    def create(self, first, n, endpoints):
        def one(i):
            self.post(f"/api/v1/namespaces/{NS}/services", service_body(i))
            self.post(f"{SLICES}/namespaces/{NS}/endpointslices", slice_body(i, endpoints))
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(one, range(first, first + n)))


class Committed:
    """cubenetd's saved config: a journal it appends each commit's diff to
    (fsync'd before it answers), folded now and then into a snapshot.
    Watching their size costs the daemon nothing, unlike polling its API."""

    def __init__(self, state_dir):
        self.journal = os.path.join(state_dir, "journal")
        self.snapshot = os.path.join(state_dir, "snapshot")

    @staticmethod
    def _stat(path):
        try:
            st = os.stat(path)
            return st.st_ino, st.st_size
        except FileNotFoundError:
            return None, 0

    def mark(self):
        return self._stat(self.journal), self._stat(self.snapshot)

    def _read(self, path, start):
        try:
            with open(path, "rb") as f:
                f.seek(start)
                return f.read()
        except FileNotFoundError:
            return b""

    def wait(self, mark, needle, timeout=30):
        """The time a commit after mark first holds needle (bytes)."""
        (jino, jsize), (sino, _) = mark
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (ino, size), (s_ino, _) = self._stat(self.journal), self._stat(self.snapshot)
            if (ino, size) != (jino, jsize) or s_ino != sino:
                t = time.monotonic()
                new = self._read(self.journal, jsize if ino == jino and size > jsize else 0)
                if s_ino != sino:
                    new += self._read(self.snapshot, 0)
                if needle in new:
                    return t
                jino, jsize, sino = ino, size, s_ino
            time.sleep(0.0005)
        raise TimeoutError("cubenetd's config never held the change")


class Watcher:
    """When each slice change reaches a watcher of the API server."""

    def __init__(self, api, rv):
        self.arrived = {}
        self.cond = threading.Condition()
        self.w = api.watch(f"{SLICES}/namespaces/{NS}/endpointslices", rv)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                ev = self.w.next(3600)
            except TimeoutError:
                continue
            if ev is None:
                return
            if ev["type"] not in ("ADDED", "MODIFIED"):
                continue  # bookmarks
            t = time.monotonic()
            addrs = frozenset(e["addresses"][0] for e in ev["object"].get("endpoints") or [])
            with self.cond:
                self.arrived[(ev["object"]["metadata"]["name"], addrs)] = t
                self.cond.notify_all()

    def wait(self, name, addrs, timeout=30):
        key = (name, frozenset(addrs))
        with self.cond:
            self.cond.wait_for(lambda: key in self.arrived, timeout)
            return self.arrived[key]

    def close(self):
        self.w.close()


def programming_latency(api, committed, watcher, svc, endpoints, changes, tmp):
    """kubectl apply of svc's slice with its extra endpoint changed, each time."""
    from_watch, from_kubectl, kubectl_wall = [], [], []
    path = os.path.join(tmp, "slice.json")
    for n in range(changes):
        extra = f"10.250.{n // 250}.{n % 250 + 1}"
        body = slice_body(svc, endpoints, extra)
        with open(path, "w") as f:
            json.dump(body, f)
        want = {e["addresses"][0] for e in body["endpoints"]}
        mark = committed.mark()
        t0 = time.monotonic()
        api.kubectl("apply", "-f", path)
        t_done = time.monotonic()
        t1 = committed.wait(mark, f'"{extra}"'.encode())
        t_api = watcher.wait(f"s{svc}-1", want)
        from_watch.append(t1 - t_api)
        from_kubectl.append(t1 - t0)
        kubectl_wall.append(t_done - t0)
    return from_watch, from_kubectl, kubectl_wall


def daemon_put_latency(daemon, svc, n):
    """PUT of one service entry (an endpoint replaced each time) straight
    to cubenetd: what one commit costs it at this size."""
    c = daemon.client()
    path = f"/restconf/data/cubenet-pods:services/service={NS},s{svc}"
    entry = c.get(path).json()["cubenet-pods:service"][0]
    out = []
    for i in range(n):
        entry["endpoint"][-1]["address"] = f"10.251.{i // 250}.{i % 250 + 1}"
        t = time.monotonic()
        r = c.put(path, {"cubenet-pods:service": [entry]})
        out.append(time.monotonic() - t)
        assert r.status in (201, 204), r.body
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def agent_pid(agent):
    """The agent's own pid (it runs under nsenter and setpriv, which exec)."""
    return agent.proc.pid


def run(args):
    tmp = tempfile.mkdtemp(prefix="agent-bench-")
    node = "agb" + uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", node], check=True)
    subprocess.run(["ip", "-n", node, "link", "set", "lo", "up"], check=True)
    api = ApiServer().start()
    daemon = agent = fwd = watcher = None
    out = {}
    try:
        api.apply(manifest_rbac())
        api.create_namespace(NS)
        fwd = NetnsForwarder(node, api.port)
        creator = Creator(api, args.workers)

        def start_daemon():
            d = Daemon(netns=node).start()
            return d, Committed(d.state_dir)

        def start_agent(d):
            a = Agent(api.agent_kubeconfig, d.socket, NODE_NAME,
                      ["--service-cidr", "10.96.0.0/16"], netns=node, log_dir=tmp)
            return a

        # 1. One service, no others.
        creator.create(0, 1, args.endpoints)
        daemon, committed = start_daemon()
        agent = start_agent(daemon).start()
        agent.wait_ready(60)
        rv = api.list(f"{SLICES}/namespaces/{NS}/endpointslices")["metadata"]["resourceVersion"]
        watcher = Watcher(api, rv)
        out["small"] = programming_latency(api, committed, watcher, 0, args.endpoints,
                                           args.changes, tmp)
        agent.stop()
        daemon.cleanup()

        # 2. The initial sync of N services into an empty cubenetd.
        t = time.monotonic()
        creator.create(1, args.services - 1, args.endpoints)
        out["create_seconds"] = time.monotonic() - t
        daemon, committed = start_daemon()
        agent = start_agent(daemon)
        t = time.monotonic()
        agent.start()
        agent.wait_ready(600)
        out["sync_seconds"] = time.monotonic() - t
        r = daemon.client().get("/restconf/data/cubenet-pods:services?content=config")
        held = {s["name"]: s for s in r.json()["cubenet-pods:services"]["service"]
                if s["namespace"] == NS}
        n_held = len(held)
        assert n_held >= args.services, n_held
        assert len(held["s1"]["endpoint"]) == args.endpoints, held["s1"]
        out["held"] = n_held
        time.sleep(1)
        out["rss_kib"] = rss_kib(agent_pid(agent))
        out["api_rss"] = api.rss_kib()
        print(f"created {args.services} in {out['create_seconds']:.1f} s; initial sync "
              f"{out['sync_seconds']:.2f} s; agent RSS {out['rss_kib']} KiB", file=sys.stderr)
        # Where the sync's time went, from the agent's own log.
        for line in agent.log().splitlines():
            if "listed" in line or "first full sync" in line or "watching" in line \
                    or "cubenetd holds" in line or "cubenet-agent for" in line:
                print("  " + line, file=sys.stderr)

        # 3. Latency with all of them present.
        out["large"] = programming_latency(api, committed, watcher, args.services // 2,
                                           args.endpoints, args.changes, tmp)
        out["rss_after_kib"] = rss_kib(agent_pid(agent))
        out["daemon_rss_kib"] = rss_kib(daemon.proc.pid)
        # cubenetd's own share: one entry replaced by hand, as the agent does.
        agent.stop()
        out["daemon_put"] = daemon_put_latency(daemon, args.services // 2 + 1, 20)
    finally:
        if watcher:
            watcher.close()
        if agent:
            agent.stop()
        if daemon:
            daemon.cleanup()
        if fwd:
            fwd.stop()
        api.stop()
        subprocess.run(["ip", "netns", "del", node])
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def markdown(args, out):
    lines = [
        "## Node agent: network programming latency, initial sync, memory",
        "",
        "`sudo benchmarks/agent_bench.py --services %d --endpoints %d --changes %d` on %s, "
        "kernel %s, %d CPUs: kube-apiserver v1.20.2 (watch cache on) and its controller "
        "manager on loopback, cubenetd and the agent in a network namespace. A change is "
        "`kubectl apply` of a service's EndpointSlice with one endpoint replaced; it is "
        "programmed when cubenetd's committed config holds it."
        % (args.services, args.endpoints, args.changes, platform.node(), platform.release(),
           os.cpu_count()),
        "",
        "| services present | changes | from the API's event: p50 ms | p99 ms | "
        "from kubectl's start: p50 ms | p99 ms | kubectl itself: p50 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in (("1", "small"), (f"{args.services} x {args.endpoints} endpoints",
                                          "large")):
        w, k, kw = out[key]
        lines.append(f"| {label} | {len(w)} | {pct(w, 50) * 1e3:.1f} | {pct(w, 99) * 1e3:.1f} "
                     f"| {pct(k, 50) * 1e3:.1f} | {pct(k, 99) * 1e3:.1f} "
                     f"| {pct(kw, 50) * 1e3:.1f} |")
    lines += [
        "",
        f"- Initial sync of {out['held']} services x {args.endpoints} endpoints into an empty "
        f"cubenetd, agent start to ready (listed, translated, written, committed): "
        f"**{out['sync_seconds']:.2f} s** (goal <= 5 s). Creating them in the API server with "
        f"{args.workers} concurrent clients took {out['create_seconds']:.0f} s.",
        f"- cubenetd's own share at that size: a PUT of one entry straight to it takes "
        f"p50 {pct(out['daemon_put'], 50) * 1e3:.0f} ms, p99 "
        f"{pct(out['daemon_put'], 99) * 1e3:.0f} ms ({len(out['daemon_put'])} PUTs): the rest "
        f"of a change's latency is the agent's (watch, translate, plan, send).",
        f"- The agent's resident memory then: **{out['rss_kib'] / 1024:.1f} MiB** "
        f"({out['rss_after_kib'] / 1024:.1f} MiB after the changes); cubenetd "
        f"{out['daemon_rss_kib'] / 1024:.1f} MiB; "
        + ", ".join(f"{k} {v // 1024} MiB" for k, v in out["api_rss"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


def write_results(path, text):
    begin, end = "<!-- agent_bench: begin -->", "<!-- agent_bench: end -->"
    with open(path) as f:
        old = f.read()
    block = f"{begin}\n{text}{end}\n"
    if begin in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end) + 1:]
    else:
        new = old.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=5000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--workers", type=int, default=8, help="concurrent creating clients")
    ap.add_argument("--results", help="write the section into this markdown file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("agent_bench: needs root (network namespaces)")
    out = run(args)
    text = markdown(args, out)
    print(text)
    if args.results:
        write_results(args.results, text)


if __name__ == "__main__":
    main()
