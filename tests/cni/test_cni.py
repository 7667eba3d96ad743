# SPDX-License-Identifier: Apache-2.0
"""The CNI plugin (build/cni/cubenet) driven directly, the way runtimes call
it, for what containerd and podman never send too: every command and spec
version, every error path with the spec's error JSON, hostile input of
every kind (bytes that are not UTF-8, ids and names the spec forbids,
malformed config, CNI_ARGS, prevResult and IPAM output, a netns that is no
pod's), DEL in all its repeated and half-gone forms, CHECK finding each
kind of drift, GC, STATUS, overlapping calls for one attachment, and 50
pods added and deleted concurrently without a leak. The node is a
namespace with its own cubenetd; pods are namespaces; IPAM is Debian's
host-local. Needs root; exits 77 without it."""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from restconf_client import Daemon  # noqa: E402
import node_state  # noqa: E402

BUILD = os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build"))
PLUGIN = os.path.join(BUILD, "cni/cubenet")
CNI_PATH = "/usr/lib/cni"
VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


# An IPAM plugin of spec 1.1 in front of host-local (which speaks up to
# 1.0.0), that logs each call and misbehaves as FAKE_IPAM says.
FAKE_IPAM = r"""#!/usr/bin/python3
import json, os, subprocess, sys, time

command, mode = os.environ["CNI_COMMAND"], os.environ.get("FAKE_IPAM", "")
if mode == "chatty":  # writes a lot before it reads
    sys.stdout.write(" " * 300000)
    sys.stdout.flush()
conf = sys.stdin.read()
with open(os.environ["FAKE_IPAM_LOG"], "a") as log:
    log.write(json.dumps({"command": command,
                          "conf": json.loads(conf) if conf.strip() else None}) + "\n")
if command == "VERSION":
    print(json.dumps({"cniVersion": "1.1.0",
                      "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}))
    sys.exit(0)
if command == "DEL" and mode == "fail-del:" + os.environ["CNI_CONTAINERID"]:
    print(json.dumps({"cniVersion": "1.0.0", "code": 11, "msg": "cannot release",
                      "details": "the store is busy"}))
    sys.exit(1)
if command in ("GC", "STATUS"):
    if mode == "fails":
        print(json.dumps({"cniVersion": "1.1.0", "code": 50, "msg": "no addresses left",
                          "details": "the pool is empty"}))
        sys.exit(1)
    sys.exit(0)
if command == "ADD" and mode == "slow":
    open(os.environ["FAKE_IPAM_LOG"] + ".adding", "w").close()
    time.sleep(3)
real = subprocess.run(["/usr/lib/cni/host-local"], capture_output=True, text=True,
                      input=json.dumps(dict(json.loads(conf), cniVersion="1.0.0")))
out, rc = real.stdout, real.returncode
if command == "ADD" and rc == 0 and mode not in ("", "slow", "chatty"):
    # Allocated, then broken: the plugin must give the address back.
    res = json.loads(out)
    if mode == "not-json":
        out = "this is not JSON"
    elif mode == "huge":
        out = json.dumps(res) + " " * (2 << 20)
    elif mode == "no-ips":
        res["ips"] = []
    elif mode == "many-ips":
        res["ips"] = res["ips"] * 5
    elif mode == "bad-address":
        res["ips"][0]["address"] = "10.245.0.300/24"
    elif mode == "no-prefix":
        res["ips"][0]["address"] = res["ips"][0]["address"].split("/")[0]
    elif mode == "v6-gateway":
        res["ips"][0]["gateway"] = "fe80::1"
    elif mode.startswith("set:"):  # set:FAMILY:MEMBER:VALUE, {addr}: the address
        _, family, member, value = mode.split(":", 3)
        ip = next(i for i in res["ips"] if (":" in i["address"]) == (family == "6"))
        ip[member] = value.replace("{addr}", ip["address"].split("/")[0])
    elif mode == "bad-route":
        res["routes"] = [{"dst": "0.0.0.0/0", "gw": "nonsense"}]
    elif mode == "route-not-object":
        res["routes"] = ["0.0.0.0/0"]
    elif mode == "dns-not-object":
        res["dns"] = ["10.0.0.10"]
    elif mode == "code-zero":
        res, rc = {"code": 0, "msg": "failed after allocating"}, 1
    elif mode == "code-huge":
        res, rc = {"code": 2 ** 32 + 7, "msg": "failed after allocating"}, 1
    if mode not in ("not-json", "huge"):
        out = json.dumps(res)
sys.stdout.write(out)
sys.exit(rc)
"""


class CniNode(unittest.TestCase):
    """A node namespace with its own cubenetd and host-local IPAM, and the
    plugin called into it as a runtime calls it."""

    def setUp(self):
        if not os.path.exists(os.path.join(CNI_PATH, "host-local")):
            self.fail("host-local missing: scripts/deps.sh installs containernetworking-plugins")
        self.tag = "cnk" + uuid.uuid4().hex[:6]
        self.node = self.tag + "-node"
        self.pods = []
        self.tmp = tempfile.mkdtemp(prefix="cni-test-")
        self.daemon = None
        self.addCleanup(self.cleanup)
        sh("ip", "netns", "add", self.node)
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        self.daemon = Daemon(netns=self.node).start()
        self.ipam_dir = os.path.join(self.tmp, "ipam")

    def cleanup(self):
        if self.daemon:
            self.daemon.cleanup()
        for ns in self.pods + [self.node]:
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pod(self):
        ns = f"{self.tag}-p{len(self.pods)}"
        sh("ip", "netns", "add", ns)
        self.pods.append(ns)
        return ns

    def conf(self, version="1.1.0", **extra):
        c = {"cniVersion": version, "name": "podnet", "type": "cubenet",
             "socket": self.daemon.socket, "mtu": 1400,
             "ipam": {"type": "host-local", "dataDir": self.ipam_dir,
                      "ranges": [[{"subnet": "10.245.0.0/24"}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}}
        c.update(extra)
        return c

    def cni(self, command, conf, cid="c1", netns=None, ifname="eth0", args=None, env=None):
        """One call. Any value may be bytes (to send what is not UTF-8);
        the plugin's stdout must be UTF-8 and, if anything, one JSON value."""
        e = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
             "CNI_NETNS": f"/run/netns/{netns}" if netns else "", "CNI_IFNAME": ifname,
             "CNI_PATH": CNI_PATH}
        if args is not None:
            e["CNI_ARGS"] = args
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        if not isinstance(conf, bytes):
            conf = (conf if isinstance(conf, str) else json.dumps(conf)).encode()
        r = subprocess.run(["nsenter", f"--net=/run/netns/{self.node}", PLUGIN],
                           input=conf, capture_output=True, env=e, timeout=120)
        stdout = r.stdout.decode()
        out = json.loads(stdout) if stdout.strip() else None
        return r.returncode, out

    def assertCniError(self, result, code, words=""):
        rc, out = result
        self.assertEqual(rc, 1, out)
        self.assertEqual(set(out), {"cniVersion", "code", "msg", "details"}, out)
        self.assertEqual(out["code"], code, out)
        self.assertIn(words, out["msg"] + out["details"])

    def assertNothingMade(self, pod=None):
        """No veth, no address held, no registration; no interface in pod."""
        self.assertEqual((self.host_links(), self.allocated(), self.registered()), ([], [], []))
        if pod:
            links = json.loads(sh("ip", "-n", pod, "-j", "link", "show").stdout)
            self.assertEqual([lk["ifname"] for lk in links], ["lo"])

    def fake_ipam(self, mode=""):
        """CNI_PATH and environment for fake-ipam (see FAKE_IPAM)."""
        bindir = os.path.join(self.tmp, "bin")
        path = os.path.join(bindir, "fake-ipam")
        if not os.path.exists(path):
            os.makedirs(bindir)
            with open(path, "w") as f:
                f.write(FAKE_IPAM)
            os.chmod(path, 0o755)
        return {"CNI_PATH": f"{bindir}:{CNI_PATH}", "FAKE_IPAM": mode,
                "FAKE_IPAM_LOG": os.path.join(self.tmp, "fake-ipam.log")}

    def fake_ipam_calls(self):
        """What fake-ipam was asked, in order: (command, config)."""
        with open(os.path.join(self.tmp, "fake-ipam.log")) as f:
            return [(c["command"], c["conf"]) for c in map(json.loads, f)]

    def host_links(self):
        return node_state.host_veths(self.node)

    def allocated(self):
        return node_state.allocated(self.ipam_dir, "podnet")

    def registered(self):
        return node_state.registered(self.daemon)

    def ping(self, ns, addr):
        return sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", addr,
                  check=False).returncode == 0


class CniTest(CniNode):
    def test_version(self):
        rc, out = self.cni("VERSION", "")
        self.assertEqual(rc, 0)
        self.assertEqual(out, {"cniVersion": "1.1.0", "supportedVersions": VERSIONS})

    def test_add_check_del_in_every_version(self):
        for version in VERSIONS:
            with self.subTest(version=version):
                a, b = self.pod(), self.pod()
                rc, ra = self.cni("ADD", self.conf(version), cid="ca" + version, netns=a,
                                  args="K8S_POD_UID=u1;IgnoreUnknown=1;K8S_POD_NAME=pa;"
                                       "K8S_POD_NAMESPACE=ns1")
                self.assertEqual(rc, 0, ra)
                rc, rb = self.cni("ADD", self.conf(version), cid="cb" + version, netns=b)
                self.assertEqual(rc, 0, rb)
                self.assertEqual(ra["cniVersion"], version)
                ip = ra["ips"][0]
                self.assertRegex(ip["address"], r"^10\.245\.0\.\d+/24$")
                self.assertEqual(ip["gateway"], "10.245.0.1")
                self.assertEqual(ip["interface"], 1)
                self.assertEqual("version" in ip, version < "1.0.0")
                if version < "1.0.0":
                    self.assertEqual(ip["version"], "4")
                self.assertEqual(ra["interfaces"][1]["name"], "eth0")
                self.assertEqual(ra["interfaces"][1]["sandbox"], f"/run/netns/{a}")
                self.assertEqual(ra["routes"], [{"dst": "0.0.0.0/0"}])
                # The pod's side as the result says, MTU included.
                link = json.loads(sh("ip", "-n", a, "-j", "addr", "show", "eth0").stdout)[0]
                self.assertEqual(link["mtu"], 1400)
                self.assertEqual(link["address"], ra["interfaces"][1]["mac"])
                self.assertIn(ip["address"].split("/")[0],
                              [x["local"] for x in link["addr_info"]])
                # Pod to pod, node to pod.
                addr_b = rb["ips"][0]["address"].split("/")[0]
                self.assertTrue(self.ping(a, addr_b))
                self.assertTrue(self.ping(self.node, ip["address"].split("/")[0]))
                # Registered with the daemon, CNI_ARGS in any order.
                reg = {p["container-id"]: p for p in self.registered()}
                self.assertEqual(reg["ca" + version]["name"], "pa")
                self.assertEqual(reg["ca" + version]["namespace"], "ns1")
                self.assertEqual(reg["ca" + version]["uid"], "u1")
                self.assertEqual(reg["ca" + version]["address"], [ip["address"].split("/")[0]])
                self.assertEqual(reg["ca" + version]["host-interface"],
                                 ra["interfaces"][0]["name"])
                if version >= "0.4.0":
                    rc, out = self.cni("CHECK", self.conf(version, prevResult=ra),
                                       cid="ca" + version, netns=a)
                    self.assertEqual((rc, out), (0, None))
                for cid, ns in (("ca" + version, a), ("cb" + version, b)):
                    self.assertEqual(self.cni("DEL", self.conf(version), cid=cid, netns=ns),
                                     (0, None))
                self.assertEqual(self.host_links(), [])
                self.assertEqual(self.allocated(), [])
                self.assertEqual(self.registered(), [])

    def test_del_is_idempotent(self):
        a = self.pod()
        rc, res = self.cni("ADD", self.conf(), netns=a)
        self.assertEqual(rc, 0, res)
        # Twice, the second with an empty CNI_NETNS and no prevResult.
        self.assertEqual(self.cni("DEL", self.conf(prevResult=res), netns=a), (0, None))
        self.assertEqual(self.cni("DEL", self.conf()), (0, None))
        # With the pod's netns already gone.
        b = self.pod()
        self.assertEqual(self.cni("ADD", self.conf(), cid="c2", netns=b)[0], 0)
        sh("ip", "netns", "del", b)
        self.assertEqual(self.cni("DEL", self.conf(), cid="c2", netns=b), (0, None))
        # After the daemon restarted.
        c = self.pod()
        self.assertEqual(self.cni("ADD", self.conf(), cid="c3", netns=c)[0], 0)
        self.daemon.stop()
        self.daemon.start()
        self.assertEqual(len(self.registered()), 1)  # kept across the restart
        self.assertEqual(self.cni("DEL", self.conf(), cid="c3", netns=c), (0, None))
        self.assertEqual(self.cni("DEL", self.conf(), cid="never-added", netns=c), (0, None))
        self.assertEqual((self.host_links(), self.allocated(), self.registered()), ([], [], []))

    def test_check_finds_drift(self):
        a = self.pod()
        rc, res = self.cni("ADD", self.conf(), netns=a)
        self.assertEqual(rc, 0, res)
        conf = self.conf(prevResult=res)
        addr = res["ips"][0]["address"]
        self.assertEqual(self.cni("CHECK", conf, netns=a), (0, None))
        sh("ip", "-n", a, "addr", "del", addr, "dev", "eth0")
        self.assertCniError(self.cni("CHECK", conf, netns=a), 5, "no address " + addr)
        sh("ip", "-n", a, "addr", "add", addr, "dev", "eth0")
        sh("ip", "-n", a, "route", "add", "default", "via", "10.245.0.1")
        self.assertEqual(self.cni("CHECK", conf, netns=a), (0, None))
        sh("ip", "-n", a, "link", "set", "eth0", "mtu", "1300")
        self.assertCniError(self.cni("CHECK", conf, netns=a), 5, "MTU 1300")
        sh("ip", "-n", a, "link", "set", "eth0", "mtu", "1400")
        self.daemon.client().delete("/restconf/data/cubenet-pods:pods")
        self.assertCniError(self.cni("CHECK", conf, netns=a), 5, "no port for the pod")
        sh("ip", "-n", self.node, "link", "del", res["interfaces"][0]["name"])
        self.assertCniError(self.cni("CHECK", conf, netns=a), 5, "node side")
        self.assertCniError(self.cni("CHECK", self.conf(), netns=a), 7, "prevResult")
        self.assertCniError(self.cni("CHECK", self.conf("0.3.1", prevResult=res), netns=a), 1)

    def test_gc_removes_what_the_runtime_no_longer_has(self):
        pods = [self.pod() for _ in range(3)]
        for i, ns in enumerate(pods):
            self.assertEqual(self.cni("ADD", self.conf(), cid=f"g{i}", netns=ns)[0], 0)
        valid = [{"containerID": "g1", "ifname": "eth0"}]
        rc, out = self.cni("GC", self.conf(**{"cni.dev/valid-attachments": valid}))
        self.assertEqual((rc, out), (0, None))
        self.assertEqual([p["container-id"] for p in self.registered()], ["g1"])
        self.assertEqual(len(self.host_links()), 1)
        self.assertEqual(len(self.allocated()), 1)
        self.assertCniError(self.cni("GC", self.conf("1.0.0")), 1, "GC needs")

    def test_status(self):
        self.assertEqual(self.cni("STATUS", self.conf()), (0, None))
        self.daemon.stop()
        self.assertCniError(self.cni("STATUS", self.conf()), 50, "not ready")
        self.assertCniError(self.cni("STATUS", self.conf("1.0.0")), 1)

    def test_errors_are_the_specs_json(self):
        a = self.pod()
        self.assertCniError(self.cni("ADD", "{not json", netns=a), 6)
        self.assertCniError(self.cni("ADD", self.conf("0.2.0"), netns=a), 1, "0.2.0")
        self.assertCniError(self.cni("ADD", self.conf(), netns=a, env={"CNI_CONTAINERID": ""}),
                            4, "CNI_CONTAINERID")
        self.assertCniError(self.cni("ADD", self.conf()), 4, "CNI_NETNS")
        self.assertCniError(self.cni("ADD", self.conf(), netns=a, ifname="x" * 16), 4)
        # The kernel would take it, the daemon's API could not key the pod on it.
        self.assertCniError(self.cni("ADD", self.conf(), netns=a, ifname="e'\"0"), 4, "'\"'")
        self.assertCniError(self.cni("ADD", self.conf(ipam={}), netns=a), 7, "ipam")
        self.assertCniError(self.cni("ADD", self.conf(ipam={"type": "nosuch"}), netns=a), 7,
                            "nosuch")
        self.assertCniError(self.cni("ADD", self.conf(mtu=10), netns=a), 7, "mtu")
        self.assertCniError(self.cni("ADD", self.conf(), netns="no-such-ns"), 3)
        self.assertCniError(self.cni("FROB", self.conf(), netns=a), 4, "FROB")
        self.assertCniError(self.cni("ADD", self.conf(runtimeConfig={"portMappings": [
            {"hostPort": 0, "containerPort": 80}]}), netns=a), 7, "portMappings")
        # A failure after IPAM gave an address gives it back and leaves nothing.
        self.daemon.stop()
        self.assertCniError(self.cni("ADD", self.conf(), netns=a), 11, "not reachable")
        self.assertEqual((self.host_links(), self.allocated()), ([], []))
        self.assertEqual(sh("ip", "-n", a, "link", "show", "eth0", check=False).returncode, 1)

    def test_port_mappings_in_both_spellings(self):
        a, b = self.pod(), self.pod()
        cri = {"portMappings": [{"HostPort": 8080, "ContainerPort": 80, "Protocol": "TCP"}]}
        podman = {"portMappings": [{"hostPort": 5353, "containerPort": 53, "protocol": "udp",
                                    "hostIP": "127.0.0.1"}]}
        self.assertEqual(self.cni("ADD", self.conf(runtimeConfig=cri), cid="pc", netns=a)[0], 0)
        self.assertEqual(self.cni("ADD", self.conf(runtimeConfig=podman), cid="pp", netns=b)[0],
                         0)
        reg = {p["container-id"]: p for p in self.registered()}
        self.assertEqual(reg["pc"]["port-mapping"],
                         [{"host-port": 8080, "protocol": "tcp", "container-port": 80}])
        self.assertEqual(reg["pp"]["port-mapping"],
                         [{"host-port": 5353, "protocol": "udp", "container-port": 53,
                           "host-ip": "127.0.0.1"}])

    def test_the_shipped_conflist(self):
        """k8s/cni/05-cubenet.conflist, with the node's pod CIDR put in, is
        what the plugin runs with (as a runtime passes it: the conflist's
        name and version around the plugin's own config)."""
        with open(os.path.join(HERE, "../../k8s/cni/05-cubenet.conflist")) as f:
            conflist = json.load(f)
        conf = dict(conflist["plugins"][0], name=conflist["name"],
                    cniVersion=conflist["cniVersion"], socket=self.daemon.socket)
        conf["ipam"] = dict(conf["ipam"], dataDir=self.ipam_dir,
                            ranges=[[{"subnet": "10.245.0.0/24"}]])
        a = self.pod()
        rc, res = self.cni("ADD", conf, netns=a)
        self.assertEqual(rc, 0, res)
        self.assertEqual(self.cni("CHECK", dict(conf, prevResult=res), netns=a), (0, None))
        self.assertEqual(self.cni("DEL", conf, netns=a), (0, None))

    def test_fifty_pods_concurrently_without_a_leak(self):
        pods = [self.pod() for _ in range(50)]

        def add(i):
            return self.cni("ADD", self.conf(), cid=f"k{i}", netns=pods[i])

        def delete(i):
            return self.cni("DEL", self.conf(), cid=f"k{i}", netns=pods[i])

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(add, range(50)))
        for rc, out in results:
            self.assertEqual(rc, 0, out)
        addrs = {out["ips"][0]["address"] for _, out in results}
        self.assertEqual(len(addrs), 50)
        self.assertEqual(len(self.host_links()), 50)
        self.assertEqual(len(self.registered()), 50)
        self.assertTrue(self.ping(pods[0], results[49][1]["ips"][0]["address"].split("/")[0]))
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for rc, out in pool.map(delete, range(50)):
                self.assertEqual((rc, out), (0, None), json.dumps(out))
        self.assertEqual((self.host_links(), self.allocated(), self.registered()), ([], [], []))

    def test_gc_without_a_sound_list_removes_nothing(self):
        """GC keeps what cni.dev/valid-attachments names; a list that is
        missing or malformed names nothing, so GC is refused, not a purge."""
        pods = [self.pod() for _ in range(2)]
        for i, ns in enumerate(pods):
            self.assertEqual(self.cni("ADD", self.conf(), cid=f"g{i}", netns=ns)[0], 0)
        before = (self.host_links(), self.allocated(), self.registered())
        good = {"containerID": "g0", "ifname": "eth0"}
        for bad in (None, "g0", good, [5], [["g0", "eth0"]], [good, None],
                    [{"containerID": "g0"}], [{"ifname": "eth0"}],
                    [{"containerID": 5, "ifname": "eth0"}],
                    [{"containerID": "g0", "ifname": ["eth0"]}],
                    [{"containerID": "-g0", "ifname": "eth0"}],
                    [{"containerID": "g0", "ifname": "a/b"}]):
            with self.subTest(valid=bad):
                conf = self.conf() if bad is None else \
                    self.conf(**{"cni.dev/valid-attachments": bad})
                self.assertCniError(self.cni("GC", conf), 7, "valid-attachments")
                self.assertEqual((self.host_links(), self.allocated(), self.registered()),
                                 before)
        self.assertEqual(self.cni("GC", self.conf(**{"cni.dev/valid-attachments": []})),
                         (0, None))
        self.assertNothingMade()

    def test_gc_and_status_reach_an_ipam_plugin_of_spec_1_1(self):
        """The spec: GC and STATUS go on to the delegated plugin (one that
        speaks 1.1; host-local 1.1 stops at 1.0 and is not asked)."""
        env = self.fake_ipam()
        conf = self.conf(ipam=dict(self.conf()["ipam"], type="fake-ipam"))
        pods = [self.pod() for _ in range(2)]
        for i, ns in enumerate(pods):
            self.assertEqual(self.cni("ADD", conf, cid=f"f{i}", netns=ns, env=env)[0], 0)
        valid = [{"containerID": "f0", "ifname": "eth0"}]
        gc = dict(conf, **{"cni.dev/valid-attachments": valid})
        self.assertEqual(self.cni("GC", gc, env=env), (0, None))
        self.assertEqual([p["container-id"] for p in self.registered()], ["f0"])
        self.assertEqual(len(self.allocated()), 1)
        calls = [c for c in self.fake_ipam_calls() if c[0] in ("GC", "STATUS")]
        self.assertEqual(calls, [("GC", gc)])
        self.assertEqual(self.cni("STATUS", conf, env=env), (0, None))
        self.assertEqual(self.fake_ipam_calls()[-1], ("STATUS", conf))
        failing = dict(env, FAKE_IPAM="fails")
        self.assertCniError(self.cni("STATUS", conf, env=failing), 50, "no addresses left")
        self.assertCniError(self.cni("GC", gc, env=failing), 50, "the pool is empty")

    def test_gc_reports_a_failure_among_successes(self):
        """GC goes on past an attachment it cannot remove and reports that
        failure, not a later success."""
        env = self.fake_ipam()
        conf = self.conf(ipam=dict(self.conf()["ipam"], type="fake-ipam"))
        pods = [self.pod() for _ in range(3)]
        for i, ns in enumerate(pods):
            self.assertEqual(self.cni("ADD", conf, cid=f"e{i}", netns=ns, env=env)[0], 0)
        first = self.registered()[0]["container-id"]
        gc = dict(conf, **{"cni.dev/valid-attachments": []})
        self.assertCniError(self.cni("GC", gc, env=dict(env, FAKE_IPAM="fail-del:" + first)),
                            11, "the store is busy")
        self.assertEqual((self.host_links(), self.registered()), ([], []))
        self.assertEqual(len(self.allocated()), 1)  # what the failed DEL kept

    def test_errors_are_json_whatever_the_bytes(self):
        """Text that is not UTF-8, or is cut inside a character, still gives
        the spec's error JSON, and nothing is made."""
        a = self.pod()
        for env in ({"CNI_COMMAND": b"\xff\xfe"}, {"CNI_COMMAND": "A" + "\u00e9" * 1000},
                    {"CNI_IFNAME": b"e\xff"}, {"CNI_IFNAME": "e\x01"},
                    {"CNI_CONTAINERID": b"c\xff"}, {"CNI_NETNS": b"/run/netns/\xff"},
                    {"CNI_NETNS": f"/run/netns/{a}\x01"}, {"CNI_ARGS": b"K8S_POD_NAME=\xff"},
                    {"CNI_IFNAME": "e\uffff"}, {"CNI_NETNS": f"/run/netns/{a}\ufffe"}):
            with self.subTest(env=env):
                name = next(iter(env))
                self.assertCniError(self.cni("ADD", self.conf(), netns=a, env=env), 4, name)
                self.assertNothingMade(a)

    def test_mtu_out_of_range_is_refused(self):
        a = self.pod()
        for mtu in (2 ** 32 + 1500, 2 ** 32, 2 ** 63 - 1, -(2 ** 63), -1, 0, 575, 65536,
                    "1500", 1500.0, True, None):
            with self.subTest(mtu=mtu):
                self.assertCniError(self.cni("ADD", self.conf(mtu=mtu), netns=a), 7, "mtu")
                self.assertNothingMade(a)
        self.assertCniError(self.cni("ADD", self.conf(mtu=2 ** 64), netns=a), 6)
        for mtu in (576, 65535):
            rc, res = self.cni("ADD", self.conf(mtu=mtu), netns=a)
            self.assertEqual(rc, 0, res)
            link = json.loads(sh("ip", "-n", a, "-j", "link", "show", "eth0").stdout)[0]
            self.assertEqual(link["mtu"], mtu)
            self.assertEqual(self.cni("DEL", self.conf(mtu=mtu), netns=a), (0, None))
        self.assertNothingMade(a)

    def test_del_succeeds_for_anything_a_runtime_could_send(self):
        """An attachment ADD refuses was never made: its DEL succeeds and
        touches nothing. A DEL does not fail on what only ADD uses."""
        a, b = self.pod(), self.pod()
        rc, res = self.cni("ADD", self.conf(), netns=a)
        self.assertEqual(rc, 0, res)
        kept = (self.host_links(), self.allocated(), self.registered())
        for cid in ("x" * 129, "x" * 300, 'a"b', "a'b", "a b", "a,b", "a/b", "a%2Fb", "-a",
                    "_a", ".a", "\u00e9", b"a\xff"):
            with self.subTest(cid=cid):
                self.assertCniError(self.cni("ADD", self.conf(), cid=cid, netns=b), 4,
                                    "CNI_CONTAINERID")
                self.assertEqual(self.cni("DEL", self.conf(), cid=cid, netns=b), (0, None))
                self.assertEqual(self.cni("DEL", self.conf(), cid=cid), (0, None))
        for ifname in ("x" * 16, "\u00e9" * 8, "a/b", "a:b", "a b", "a\tb", ".", "..",
                       "e\x01", b"e\xff"):
            with self.subTest(ifname=ifname):
                self.assertCniError(self.cni("ADD", self.conf(), cid="c2", ifname=ifname,
                                             netns=b), 4, "CNI_IFNAME")
                self.assertEqual(self.cni("DEL", self.conf(), cid="c2", ifname=ifname),
                                 (0, None))
        self.assertEqual((self.host_links(), self.allocated(), self.registered()), kept)
        # The longest id cubenetd keeps works both ways.
        cid = "a" * 128
        rc, out = self.cni("ADD", self.conf(), cid=cid, netns=b)
        self.assertEqual(rc, 0, out)
        self.assertIn(cid, [p["container-id"] for p in self.registered()])
        self.assertEqual(self.cni("DEL", self.conf(), cid=cid, netns=b), (0, None))
        # A config and call broken in what only ADD uses still deletes all.
        broken = self.conf(mtu=5, runtimeConfig={"portMappings": 5}, prevResult="x")
        self.assertEqual(self.cni("DEL", broken, args="garbage;K8S_POD_NAME=a;K8S_POD_NAME=b",
                                  env={"CNI_NETNS": "/etc/hostname"}), (0, None))
        self.assertNothingMade(a)

    def test_cni_args_are_checked(self):
        a = self.pod()
        for args in ("K8S_POD_NAME=a;K8S_POD_NAME=b", "garbage", "K8S_POD_NAME=a;;FOO=b",
                     "K8S_POD_NAME=a;", ";K8S_POD_NAME=a", "=a", "K8S_POD_NAME=a=b",
                     "K8S_POD_NAME=" + "n" * 256, "K8S_POD_NAMESPACE=" + "n" * 64,
                     "K8S_POD_UID=" + "u" * 64, "K8S_POD_NAME=a\x01",
                     "K8S_POD_NAME=a\uffff", "K8S_POD_NAMESPACE=\ufffe"):
            with self.subTest(args=args):
                self.assertCniError(self.cni("ADD", self.conf(), netns=a, args=args), 4,
                                    "CNI_ARGS")
                self.assertNothingMade(a)
        # Unknown keys of any length, empty values, the longest name kept whole.
        args = "FOO=" + "v" * 60000 + ";BAR=;K8S_POD_NAME=" + "n" * 255
        self.assertEqual(self.cni("ADD", self.conf(), netns=a, args=args)[0], 0)
        self.assertEqual(self.registered()[0]["name"], "n" * 255)
        self.assertEqual(self.cni("DEL", self.conf(), netns=a, args=args), (0, None))
        self.assertNothingMade(a)

    def test_config_that_is_not_what_the_spec_says(self):
        a = self.pod()
        good = json.dumps(self.conf()).encode()
        for stdin in (b"", b"[1]", b'"conf"', b"5", b"null", good + b"\x00",
                      good[:-1] + b',"x":"\x00"}', good[:-1] + b',"x":"\xff"}'):
            with self.subTest(stdin=stdin[-12:]):
                self.assertCniError(self.cni("ADD", stdin, netns=a), 6)
        huge = self.conf(padding="p" * (4 << 20))
        self.assertCniError(self.cni("ADD", huge, netns=a), 7, "more than")
        for extra, code, words in (
                ({"cniVersion": 1}, 6, "cniVersion"), ({"cniVersion": "1.1"}, 1, "1.1"),
                ({"cniVersion": "9.0.0"}, 1, "9.0.0"),
                ({"name": 5}, 7, "name"), ({"name": ""}, 7, "name"),
                ({"name": "a/b"}, 7, "name"), ({"name": "-net"}, 7, "name"),
                ({"name": "n\u00e9t"}, 7, "name"),
                ({"socket": 5}, 7, "socket"), ({"socket": "cubenetd.sock"}, 7, "socket"),
                ({"socket": "/" + "s" * 120}, 7, "socket"),
                ({"ipam": "host-local"}, 7, "ipam"), ({"ipam": {"type": 5}}, 7, "ipam"),
                ({"ipam": {"type": ""}}, 7, "type"), ({"ipam": {"type": "."}}, 7, "type"),
                ({"ipam": {"type": ".."}}, 7, "type"),
                ({"ipam": {"type": "../cni/host-local"}}, 7, "type"),
                ({"runtimeConfig": 5}, 7, "runtimeConfig"),
                ({"runtimeConfig": {"portMappings": [5]}}, 7, "portMappings[0]"),
                ({"runtimeConfig": {"portMappings": [
                    {"hostPort": 80, "containerPort": 80, "protocol": 6}]}}, 7, "protocol"),
                ({"runtimeConfig": {"portMappings": [
                    {"hostPort": 80, "containerPort": 80, "hostIP": 5}]}}, 7, "hostIP"),
                ({"runtimeConfig": {"portMappings": [
                    {"hostPort": 80, "containerPort": 80, "hostIP": "nonsense"}]}}, 7,
                 "hostIP"),
                ({"runtimeConfig": {"portMappings": [
                    {"hostPort": 2 ** 32 + 80, "containerPort": 80}]}}, 7, "hostPort"),
                ({"runtimeConfig": {"portMappings": [
                    {"hostPort": 80, "containerPort": 80},
                    {"HostPort": 80, "ContainerPort": 81, "Protocol": "TCP"}]}}, 7,
                 "mapped twice")):
            with self.subTest(conf=extra):
                self.assertCniError(self.cni("ADD", self.conf(**extra), netns=a), code, words)
                self.assertNothingMade(a)
        del_ = self.conf()
        del del_["cniVersion"]
        self.assertCniError(self.cni("ADD", del_, netns=a), 1, "(none)")

    def test_a_netns_that_is_no_pods_is_refused(self):
        """CNI_NETNS must be a network namespace, and not the node's: the
        pod's address and default route would be put on the node."""
        a = self.pod()
        routes = sh("ip", "-n", self.node, "route").stdout
        for netns, code, words in (
                ("/etc/hostname", 4, "not a network namespace"),
                ("/run/netns", 4, "not a network namespace"),
                ("/proc/self/ns/uts", 4, "not a network namespace"),
                ("/proc/self/ns/net", 4, "node's own"),
                (f"/run/netns/{self.node}", 4, "node's own"),
                ("/run/netns/" + "x" * 5000, 4, "CNI_NETNS"),
                (f"/run/netns/{self.tag}-none", 3, "CNI_NETNS")):
            with self.subTest(netns=netns[:40]):
                for cmd in ("ADD", "CHECK"):
                    conf = self.conf(prevResult={}) if cmd == "CHECK" else self.conf()
                    self.assertCniError(self.cni(cmd, conf, ifname="pod0",
                                                 env={"CNI_NETNS": netns}), code, words)
                self.assertNothingMade()
                self.assertEqual(sh("ip", "-n", self.node, "route").stdout, routes)
                self.assertNotIn("pod0", sh("ip", "-n", self.node, "link").stdout)

    def test_check_refuses_a_malformed_prev_result(self):
        a = self.pod()
        rc, res = self.cni("ADD", self.conf(), netns=a)
        self.assertEqual(rc, 0, res)
        addr = res["ips"][0]["address"]
        for prev in ("x", [], {"ips": 5}, {"ips": [5]}, {"ips": [{"address": 5}]},
                     {"ips": [{"address": addr.split("/")[0]}]},
                     {"ips": [{"address": "nonsense/24"}]},
                     {"ips": [{"address": addr, "gateway": "fe80::1"}]},
                     {"routes": {"dst": "0.0.0.0/0"}}, {"routes": [{"dst": 5}]},
                     {"routes": [{"dst": "0.0.0.0/0", "gw": "nonsense"}]}, {"dns": []}):
            with self.subTest(prev=prev):
                self.assertCniError(self.cni("CHECK", self.conf(prevResult=prev), netns=a), 7,
                                    "prevResult")
        self.assertEqual(self.cni("CHECK", self.conf(prevResult=res), netns=a), (0, None))

    def test_ipam_output_that_makes_no_sense_is_refused(self):
        """Whatever IPAM answers, a failed ADD gives the address back and
        leaves nothing; its error code is kept only if it is one."""
        a = self.pod()
        conf = self.conf(ipam=dict(self.conf()["ipam"], type="fake-ipam"))
        for mode, code, words in (
                ("not-json", 6, "no JSON"), ("huge", 5, "more than"), ("no-ips", 5, "0 addresses"),
                ("many-ips", 5, "5 addresses"), ("bad-address", 5, "ips[0].address"),
                ("no-prefix", 5, "ips[0].address"), ("v6-gateway", 5, "ips[0].gateway"),
                ("bad-route", 5, "routes[0].gw"), ("route-not-object", 5, "routes[0].dst"),
                ("dns-not-object", 5, "dns"), ("code-zero", 5, "failed after allocating"),
                ("code-huge", 5, "failed after allocating")):
            with self.subTest(mode=mode):
                self.assertCniError(self.cni("ADD", conf, netns=a, env=self.fake_ipam(mode)),
                                    code, words)
                self.assertNothingMade(a)
        # A plugin that writes before it reads a config larger than a pipe holds.
        big = dict(conf, padding="p" * 300000)
        rc, res = self.cni("ADD", big, netns=a, env=self.fake_ipam("chatty"))
        self.assertEqual(rc, 0, res)
        self.assertEqual(self.cni("DEL", big, netns=a, env=self.fake_ipam()), (0, None))
        self.assertNothingMade(a)

    def test_a_del_during_an_add_of_the_attachment_waits_for_it(self):
        """Runtimes should not overlap calls for one container; when one
        does, the DEL must not run in the middle of the ADD and leave it
        to finish what the DEL removed."""
        a = self.pod()
        conf = self.conf(ipam=dict(self.conf()["ipam"], type="fake-ipam"))
        adding = os.path.join(self.tmp, "fake-ipam.log.adding")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            add = pool.submit(self.cni, "ADD", conf, netns=a, env=self.fake_ipam("slow"))
            for _ in range(200):
                if os.path.exists(adding) or add.done():
                    break
                time.sleep(0.05)
            self.assertTrue(os.path.exists(adding), add.result() if add.done() else None)
            deleted = self.cni("DEL", conf, netns=a, env=self.fake_ipam())
            self.assertTrue(add.done())
            rc, res = add.result()
        self.assertEqual(rc, 0, res)
        self.assertEqual(deleted, (0, None))
        self.assertNothingMade(a)

    def test_a_second_add_of_an_attachment_leaves_the_first(self):
        a, b = self.pod(), self.pod()
        rc, res = self.cni("ADD", self.conf(), netns=a)
        self.assertEqual(rc, 0, res)
        kept = (self.host_links(), self.allocated(), self.registered())
        self.assertCniError(self.cni("ADD", self.conf(), netns=a), 4, "attached already")
        # Another container into a pod whose interface name is taken.
        self.assertCniError(self.cni("ADD", self.conf(), cid="c2", netns=a), 4, "CNI_IFNAME")
        self.assertEqual((self.host_links(), self.allocated(), self.registered()), kept)
        self.assertEqual(self.cni("CHECK", self.conf(prevResult=res), netns=a), (0, None))
        self.assertTrue(self.ping(self.node, res["ips"][0]["address"].split("/")[0]))
        self.assertEqual(self.cni("DEL", self.conf(), netns=a), (0, None))
        self.assertNothingMade(a)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
