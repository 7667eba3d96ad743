# SPDX-License-Identifier: Apache-2.0
"""cubectl, the real binary, against a running cubenetd: every verb, the
help, the bash completion, each output format parsed back, each error path
with its exit code, and the daemon's state after each command (read with a
separate HTTP client); and with no daemon at all: help and completion from
the installed modules, every other command refused. Needs root (BPF,
namespaces); exits 77 without it."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "../daemon"))
from restconf_client import Client, Daemon  # noqa: E402

BUILD = os.environ.get("CUBENET_BUILD", os.path.join(HERE, "../../build"))
SOURCE = os.path.realpath(os.path.join(HERE, "../.."))
CUBECTL = os.path.join(BUILD, "cubectl")
DEBIAN_PYTHON = "/usr/bin/python3"  # has python3-yaml: a YAML parser that is not ours

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNREACHABLE, \
    EXIT_DENIED = range(7)


def without_counters(data):
    """Data minus its statistics: counters move between two reads (a
    neighbour solicitation on the lb's veth is enough)."""
    if isinstance(data, dict):
        return {k: without_counters(v) for k, v in data.items() if k != "statistics"}
    if isinstance(data, list):
        return [without_counters(v) for v in data]
    return data


def leaves(data, path=""):
    """Every value in data, with its path."""
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in leaves(v, f"{path}/{k}")]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [x for i, v in enumerate(data) for x in leaves(v, f"{path}[{i}]")]
    return [(path, data)]


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Runner:
    """Runs the real cubectl with self.env; a failure is one line on stderr."""

    def cubectl(self, *args, code=EXIT_OK, env=None, stdin=None):
        r = subprocess.run([CUBECTL, *args], capture_output=True, text=True,
                           env=env or self.env, input=stdin)
        self.assertEqual(r.returncode, code, f"cubectl {' '.join(args)}: {r.stdout}{r.stderr}")
        if code != EXIT_OK:
            # One clear line, nothing on stdout.
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertTrue(r.stderr.startswith("cubectl: "), r.stderr)
            self.assertEqual(r.stdout, "")
        return r

    def complete(self, *words):
        """What bash offers after `cubectl WORDS` (the last word partial)."""
        script = self.cubectl("completion", "bash").stdout
        path = os.path.join(self.tmp, "cubectl.bash")
        with open(path, "w") as f:
            f.write(script)
        words = ["cubectl", *words]
        cmd = (f"cubectl() {{ {CUBECTL} \"$@\"; }}; compopt() {{ :; }}; source {path}; "
               f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
               "_cubectl; printf '%s\\n' \"${COMPREPLY[@]}\"")
        r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return sorted(w for w in r.stdout.splitlines() if w)


class CubectlTest(Runner, unittest.TestCase):
    def setUp(self):
        self.ns = "cnc" + uuid.uuid4().hex[:6]
        self.daemon = None
        self.tmp = tempfile.mkdtemp(prefix="cubectl-test-")
        self.addCleanup(self.cleanup)
        sh("ip", "netns", "add", self.ns)
        for a, b in (("eth0", "peer0"), ("eth1", "peer1")):
            sh("ip", "-n", self.ns, "link", "add", a, "type", "veth", "peer", "name", b)
            sh("ip", "-n", self.ns, "link", "set", a, "up")
            sh("ip", "-n", self.ns, "link", "set", b, "up")
        self.daemon = Daemon(netns=self.ns).start()
        self.http = self.daemon.client()
        self.env = dict(os.environ, CUBECTL_SOCKET=self.daemon.socket,
                        CUBECTL_CACHE=os.path.join(self.tmp, "cache"), HOME=self.tmp)
        self.env.pop("CUBECTL_URL", None)

    def cleanup(self):
        if self.daemon:
            self.daemon.cleanup()
        sh("ip", "netns", "del", self.ns, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self, path):
        r = self.http.get("/restconf/data" + path)
        return r.status, r.json()

    def config(self):
        return self.http.config()

    # -- verbs ----------------------------------------------------------------

    def test_router_verbs_end_to_end(self):
        self.cubectl("router", "add", "r0")
        status, cube = self.get("/cubenet-core:cubes/cube=r0")
        self.assertEqual((status, cube["cubenet-core:cube"][0]["type"]), (200, "router"))
        self.assertEqual(self.get("/cubenet-router:routers/router=r0")[0], 200)

        self.cubectl("r0", "interface", "add", "0", "netdev=eth0", "ipv4.address=10.0.0.1",
                     "ipv4.prefix-length=24")
        self.cubectl("r0", "routes", "add", "10.1.0.0/16", "port=0", "nexthop=10.0.0.2")
        route = self.get("/cubenet-router:routers/router=r0/route=10.1.0.0%2F16")[1]
        self.assertEqual(route["cubenet-router:route"][0],
                         {"prefix": "10.1.0.0/16", "port": 0, "nexthop": "10.0.0.2"})

        # set: one entry by its key, a nested leaf.
        self.cubectl("r0", "route", "10.1.0.0/16", "set", "nexthop=10.0.0.3")
        route = self.get("/cubenet-router:routers/router=r0/route=10.1.0.0%2F16")[1]
        self.assertEqual(route["cubenet-router:route"][0]["nexthop"], "10.0.0.3")
        self.cubectl("r0", "interface", "0", "set", "ipv4.address=10.0.0.9")
        itf = self.get("/cubenet-router:routers/router=r0/interface=0")[1]
        self.assertEqual(itf["cubenet-router:interface"][0]["ipv4"]["address"], "10.0.0.9")

        # show, for people: the route table with its columns.
        out = self.cubectl("r0").stdout
        self.assertIn("router r0:", out)
        self.assertRegex(out, r"prefix\s+port\s+nexthop\n\s+10.1.0.0/16\s+0\s+10.0.0.3\n")
        self.assertIn("cube r0:", out)  # its cube: type and counters
        self.assertIn("rx-packets: 0", out)
        out = self.cubectl("show", "r0", "route").stdout
        self.assertIn("10.1.0.0/16", out)

        # del: an entry, then the instance with its cube.
        self.cubectl("r0", "route", "del", "10.1.0.0/16")
        self.assertEqual(self.get("/cubenet-router:routers/router=r0/route=10.1.0.0%2F16")[0],
                         404)
        self.cubectl("del", "r0")
        self.assertEqual(self.get("/cubenet-router:routers/router=r0")[0], 404)
        self.assertEqual(self.get("/cubenet-core:cubes/cube=r0")[0], 404)

    def test_wiring_connect_attach_and_actions(self):
        self.cubectl("cube", "add", "p0", "type=parser")
        self.cubectl("router", "add", "r0")
        self.cubectl("connect", "p0:0", "r0")
        self.cubectl("connect", "p0:1", "tx")
        ports = self.get("/cubenet-core:cubes/cube=p0")[1]["cubenet-core:cube"][0]["port"]
        self.assertEqual(ports, [{"id": 0, "cube": "r0"}, {"id": 1, "verdict": "tx"}])
        self.cubectl("connect", "p0:1", "netdev:eth1")  # replaces the verdict
        ports = self.get("/cubenet-core:cubes/cube=p0")[1]["cubenet-core:cube"][0]["port"]
        self.assertEqual(ports[1], {"id": 1, "netdev": "eth1"})
        self.cubectl("disconnect", "p0:1")
        self.cubectl("connect", "p0:0", "r0:1", code=EXIT_USAGE)

        self.cubectl("attach", "p0", "eth0", "mode=xdp-generic")
        att = self.get("/cubenet-core:attachments")[1]["cubenet-core:attachments"]["attachment"]
        self.assertEqual(att, [{"netdev": "eth0", "mode": "xdp-generic", "cube": "p0",
                               "applied": True}])
        self.assertIn("xdpgeneric", sh("ip", "-n", self.ns, "link", "show", "eth0").stdout)

        # r0 is wired from p0, p0 is attached: neither goes until undone.
        r = self.cubectl("del", "r0", code=EXIT_CONFLICT)
        self.assertIn("disconnect p0:0", r.stderr)
        r = self.cubectl("del", "p0", code=EXIT_CONFLICT)
        self.assertIn("detach p0 eth0", r.stderr)
        self.cubectl("detach", "p0", "eth0")
        self.assertNotIn("xdp", sh("ip", "-n", self.ns, "link", "show", "eth0").stdout)
        self.cubectl("disconnect", "p0:0")
        self.cubectl("del", "r0")
        self.cubectl("del", "p0")
        self.assertEqual(self.config(), {})

        # An action: its output, as a table or JSON.
        self.cubectl("cube", "add", "p1", "type=parser")
        self.assertIn("reset: 1", self.cubectl("reset-counters").stdout)
        out = json.loads(self.cubectl("reset-counters", "cube=p1", "-o", "json").stdout)
        self.assertEqual(out, {"cubenet-core:output": {"reset": 1}})
        self.cubectl("reset-counters", "cube=nosuch", code=EXIT_FAILED)

    def test_lb_from_files_and_output_formats(self):
        lb_yaml = os.path.join(self.tmp, "lb0.yaml")
        with open(lb_yaml, "w") as f:
            f.write("netdev: eth0\n"
                    "vip:\n"
                    "  - address: 10.0.0.100\n"
                    "    port: 80\n"
                    "    protocol: tcp\n"
                    "    table-size: 251\n"
                    "    backend:\n"
                    "      - {name: be1, mac: '02:00:00:00:00:01', weight: 2}\n"
                    "      - {name: be2, mac: '02:00:00:00:00:02', vlan-id: 100}\n")
        self.cubectl("lb", "add", "lb0", "-f", lb_yaml)
        lb = self.get("/cubenet-lb:lbs/lb=lb0")[1]["cubenet-lb:lb"][0]
        self.assertEqual([b["name"] for b in lb["vip"][0]["backend"]], ["be1", "be2"])
        self.assertEqual(lb["vip"][0]["backend"][1]["vlan-id"], 100)
        self.assertIn("prog/xdp", sh("ip", "-n", self.ns, "link", "show", "eth0").stdout)

        # A JSON file, wrapped the RFC 7951 way, on stdin.
        body = {"cubenet-lb:backend": [{"name": "be3", "mac": "02:00:00:00:00:03"}]}
        self.cubectl("lb0", "vip", "10.0.0.100", "80", "tcp", "backend", "add", "be3", "-f", "-",
                     stdin=json.dumps(body))
        # Keys joined with commas work the same.
        self.cubectl("lb0", "vip", "10.0.0.100,80,tcp", "backend", "be3", "set",
                     "state=draining")
        be3 = self.get("/cubenet-lb:lbs/lb=lb0/vip=10.0.0.100,80,tcp/backend=be3")[1]
        self.assertEqual(be3["cubenet-lb:backend"][0]["state"], "draining")

        # Every format parses back to what the daemon says.
        _, want = self.get("/cubenet-lb:lbs/lb=lb0")
        got = json.loads(self.cubectl("lb0", "-o", "json").stdout)
        self.assertEqual(without_counters(got), without_counters(want))
        self.assertIn("rx-packets", got["cubenet-lb:lb"][0]["statistics"])
        yaml_out = self.cubectl("lb0", "-o", "yaml").stdout
        parsed = subprocess.run(
            [DEBIAN_PYTHON, "-c",
             "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
            input=yaml_out, capture_output=True, text=True, check=True)
        self.assertEqual(without_counters(json.loads(parsed.stdout)), without_counters(want))
        table = self.cubectl("lb0").stdout
        self.assertIn("vip 10.0.0.100 80 tcp:", table)
        self.assertRegex(table, r"name\s+mac\s+vlan-id\s+weight\s+state\s+packets\s+bytes\n"
                              r"\s+be1\s+02:00:00:00:00:01\s+-\s+2\s+-\s+0\s+0\n")

        # The service's list, and the whole datastore; an empty list is empty.
        self.assertIn("lb0", self.cubectl("lb", "show").stdout)
        self.assertEqual(self.cubectl("router", "show").stdout, "(nothing)\n")
        # A leaf-list takes comma-separated values.
        self.cubectl("service", "add", "default", "web", "cluster-ip=10.96.0.10,fd00::10")
        svc = self.get("/cubenet-pods:services/service=default,web")[1]
        self.assertEqual(svc["cubenet-pods:service"][0]["cluster-ip"],
                         ["10.96.0.10", "fd00::10"])
        everything = json.loads(self.cubectl("show", "-o", "json").stdout)
        self.assertIn("cubenet-lb:lbs", everything)

        # attach on an lb moves it: it attaches itself.
        self.cubectl("attach", "lb0", "eth1")
        self.assertIn("prog/xdp", sh("ip", "-n", self.ns, "link", "show", "eth1").stdout)
        self.assertNotIn("prog/xdp", sh("ip", "-n", self.ns, "link", "show", "eth0").stdout)
        self.cubectl("lb", "del", "lb0")
        self.assertEqual(self.get("/cubenet-lb:lbs/lb=lb0")[0], 404)

    # -- errors ---------------------------------------------------------------

    def test_error_paths_and_exit_codes(self):
        self.cubectl("lb", "add", "lb0", "netdev=eth0")
        self.cubectl("lb0", "vip", "add", "10.0.0.1", "80", "tcp", "table-size=251")
        before = self.config()

        # Checked against the schema before anything is sent.
        for args, word in ((["lb0", "vip", "10.0.0.1", "80", "tcp", "backend", "add", "b",
                             "mac=02:zz:00:00:00:01"], "mac"),
                           (["lb0", "vip", "add", "10.0.0.300", "80", "tcp"], "address"),
                           (["lb0", "vip", "10.0.0.1", "80", "tcp", "backend", "add", "b",
                             "mac=02:00:00:00:00:01", "weight=0"], "weight"),
                           (["lb0", "set", "nosuch=1"], "nosuch"),
                           (["lb0", "frobs"], "frobs"),
                           (["lb0", "vip", "add", "10.0.0.2"], "address port protocol"),
                           (["connect", "p0", "r0"], "CUBE:PORT"),
                           (["lb0", "-o", "xml"], "xml")):
            r = self.cubectl(*args, code=EXIT_USAGE)
            self.assertIn(word, r.stderr)
        r = subprocess.run([CUBECTL], capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, EXIT_USAGE)

        # The daemon's refusals: one line naming the path and the problem.
        r = self.cubectl("lb0", "vip", "10.0.0.1", "80", "tcp", "set", "table-size=252",
                         code=EXIT_FAILED)
        self.assertIn("/cubenet-lb:lbs/lb[name='lb0']", r.stderr)
        self.assertIn("not a prime", r.stderr)
        self.cubectl("lb0", "vip", "add", "10.0.0.1", "80", "tcp", code=EXIT_CONFLICT)
        self.cubectl("lb", "add", "lb0", "netdev=eth1", code=EXIT_CONFLICT)
        self.cubectl("nosuch", code=EXIT_NOT_FOUND)
        self.cubectl("lb0", "vip", "10.9.9.9", "80", "tcp", "show", code=EXIT_NOT_FOUND)
        self.cubectl("del", "nosuch", code=EXIT_NOT_FOUND)
        self.assertEqual(self.config(), before)

        env = dict(self.env, CUBECTL_SOCKET=os.path.join(self.tmp, "no.sock"))
        r = self.cubectl("show", code=EXIT_UNREACHABLE, env=env)
        self.assertIn("cannot reach cubenetd", r.stderr)

    def test_tcp_with_a_token_config_file_and_environment(self):
        token = uuid.uuid4().hex
        tok_file = os.path.join(self.tmp, "token")
        with open(tok_file, "w") as f:
            f.write(token + "\n")
        port = 19000 + os.getpid() % 1000
        d = Daemon(extra_args=["--tcp", str(port), "--token-file", tok_file])
        self.addCleanup(d.cleanup)
        d.start()
        url = f"http://127.0.0.1:{port}"
        env = dict(self.env, CUBECTL_SOCKET="/nonexistent")
        self.cubectl("--url", url, "show", code=EXIT_DENIED, env=env)
        self.cubectl("--url", url, "--token", "wrong-token-xxxxxxxx", "show", code=EXIT_DENIED,
                     env=env)
        self.cubectl("--url", url, "--token-file", tok_file, "cube", "add", "p9", "type=parser",
                     env=env)
        self.assertEqual(Client(tcp=("127.0.0.1", port), token=token)
                         .get("/restconf/data/cubenet-core:cubes/cube=p9").status, 200)

        # Settings from a file; the environment overrides it; options override both.
        conf = os.path.join(self.tmp, "cubectl.conf")
        with open(conf, "w") as f:
            f.write(f"# cubectl settings\nurl = {url}\ntoken = {token}\noutput = json\n")
        out = self.cubectl("--config", conf, "p9", env=env).stdout
        self.assertEqual(json.loads(out)["cubenet-core:cube"][0]["name"], "p9")
        out = self.cubectl("--config", conf, "p9", env=dict(env, CUBECTL_OUTPUT="yaml")).stdout
        self.assertTrue(out.startswith("cubenet-core:cube:"), out)
        out = self.cubectl("--config", conf, "-o", "table", "p9",
                           env=dict(env, CUBECTL_OUTPUT="yaml")).stdout
        self.assertIn("type: parser", out)
        # ~/.config/cubectl/config is read without --config.
        os.makedirs(os.path.join(self.tmp, ".config/cubectl"))
        shutil.copy(conf, os.path.join(self.tmp, ".config/cubectl/config"))
        self.assertIn("p9", self.cubectl("p9", env=env).stdout)
        with open(conf, "a") as f:
            f.write("colour = blue\n")
        r = self.cubectl("--config", conf, "show", code=EXIT_USAGE, env=env)
        self.assertIn("unknown setting 'colour'", r.stderr)

    # -- a top-level container: the pods service's node settings ---------------

    def node(self):
        status, body = self.get("/cubenet-pods:node")
        return body["cubenet-pods:node"] if status == 200 else None

    def test_node_settings_set_show_and_delete(self):
        self.assertEqual(self.cubectl("node", "show").stdout, "(nothing)\n")
        self.assertEqual(json.loads(self.cubectl("node", "-o", "json").stdout), {})

        self.cubectl("node", "set", "uplink=eth0", "address=10.0.0.5")
        self.assertEqual(self.node(), {"uplink": "eth0", "address": "10.0.0.5"})
        # A presence container that is not there yet is made by set.
        self.cubectl("node", "masquerade", "set", "cluster-cidr=10.244.0.0/16,10.96.0.0/12")
        self.assertEqual(sorted(self.node()["masquerade"]["cluster-cidr"]),
                         ["10.244.0.0/16", "10.96.0.0/12"])
        # set replaces a leaf-list whole, in either form.
        self.cubectl("node", "masquerade", "set", "cluster-cidr=10.244.0.0/16")
        self.assertEqual(self.node()["masquerade"], {"cluster-cidr": ["10.244.0.0/16"]})
        self.cubectl("node", "masquerade", "cluster-cidr", "set", "10.32.0.0/12")
        self.assertEqual(self.node()["masquerade"], {"cluster-cidr": ["10.32.0.0/12"]})
        self.cubectl("node", "set", "node-port-range.min=30100", "host-device=false")
        self.cubectl("node", "node-port-range", "set", "max=30200")
        want = {"uplink": "eth0", "address": "10.0.0.5", "host-device": False,
                "node-port-range": {"min": 30100, "max": 30200},
                "masquerade": {"cluster-cidr": ["10.32.0.0/12"]}}
        self.assertEqual(self.node(), want)

        # show: for people, as JSON the daemon's own answer, one leaf alone.
        out = self.cubectl("node").stdout
        self.assertEqual(out, "node:\n  uplink: eth0\n  address: 10.0.0.5\n  host-device: false\n"
                              "  node-port-range:\n    min: 30100\n    max: 30200\n"
                              "  masquerade:\n    cluster-cidr: 10.32.0.0/12\n")
        self.assertEqual(json.loads(self.cubectl("node", "show", "-o", "json").stdout),
                         self.get("/cubenet-pods:node")[1])
        self.assertEqual(json.loads(self.cubectl("node", "uplink", "-o", "json").stdout),
                         {"cubenet-pods:uplink": "eth0"})
        self.assertIn("cluster-cidr: 10.32.0.0/12", self.cubectl("show", "node", "masquerade").stdout)

        # Refused, and nothing changed: by the schema here, by the daemon there.
        for args, word in ((["node", "set", "uplink=not/a/name"], "uplink"),
                           (["node", "set", "nosuch=1"], "nosuch"),
                           (["node", "masquerade", "set", "cluster-cidr=10.0.0.0/33"], "cluster-cidr"),
                           (["node", "masquerade", "set", "cluster-cidr="], "cluster-cidr"),
                           (["node", "set"], "LEAF=VALUE"),
                           (["node", "add", "x"], "not one"),
                           (["routers", "del"], "remove them one by one")):
            self.assertIn(word, self.cubectl(*args, code=EXIT_USAGE).stderr)
        r = self.cubectl("node", "node-port-range", "set", "min=32000", "max=31000",
                         code=EXIT_FAILED)
        self.assertIn("min is above max", r.stderr)
        self.assertEqual(self.node(), want)

        # del: a presence container, one leaf, then the rest.
        self.cubectl("del", "node", "masquerade")
        self.assertEqual(self.get("/cubenet-pods:node/masquerade")[0], 404)
        self.cubectl("node", "uplink", "del")
        want.pop("masquerade")
        want.pop("uplink")
        self.assertEqual(self.node(), want)
        self.cubectl("node", "del")
        # No value left anywhere. (The daemon may still show an empty
        # node-port-range shell: a container libyang made again for its
        # defaults once an explicit value in it went.)
        self.assertEqual(leaves(self.config()), [])

    def test_help_finds_a_module_by_the_names_users_type(self):
        out = self.cubectl("help", "pods").stdout
        self.assertRegex(out, r"^cubenet-pods \(module, revision \d{4}-\d\d-\d\d\)\n")
        for line in (r"\n  pods\s+container\s+Pod attachments on this node\n",
                     r"\n    pod\s+list\s+One attachment",
                     r"\n  node\s+container\s+The node itself",
                     r"\n  services\s+container\s+Kubernetes Services",
                     r"\n    service\s+list\s+One Kubernetes Service",
                     r"\n    cubectl node \[CHILD\.\.\.\] show \| set LEAF=VALUE\.\.\. \| del\n",
                     r"\n    cubectl pod add KEY\.\.\. \| show \| del KEY\.\.\.\n"):
            self.assertRegex(out, line)
        self.assertEqual(self.cubectl("help", "cubenet-pods").stdout, out)
        # Top-level containers, with a plural or singular the schema has.
        node = self.cubectl("help", "node").stdout
        self.assertTrue(node.startswith("node (container, module cubenet-pods)\n"), node)
        self.assertRegex(node, r"uplink\s+leaf\s+string 1\.\.15 chars")
        self.assertEqual(self.cubectl("help", "nodes").stdout, node)
        self.assertEqual(self.cubectl("help", "pods", "node").stdout, node)
        self.assertEqual(self.cubectl("help", "cubenet-pods:node").stdout, node)
        self.assertEqual(self.cubectl("node", "?").stdout, node)
        self.assertIn("(it is there or not: set makes it, del removes it)",
                      self.cubectl("help", "pods", "node", "masquerade").stdout)
        self.assertIn("entries are named by: container-id interface",
                      self.cubectl("help", "pods", "pod").stdout)
        self.assertIn("entries are named by: namespace name",
                      self.cubectl("help", "services", "service").stdout)
        self.assertIn("cubectl help" , self.cubectl("help").stdout)
        self.assertRegex(self.cubectl("help").stdout,
                         r"\nsettings .*\n  node\s+cubenet-pods\s+The node itself")
        for args in (["pods", "nosuch"], ["podz"], ["cubenet-nosuch:node"]):
            self.cubectl("help", *args, code=EXIT_USAGE)
        # A name that is no instance but close to a setting says so.
        self.assertIn("did you mean node?", self.cubectl("nodes", code=EXIT_NOT_FOUND).stderr)
        # A service's name where an instance's goes says how entries are named.
        self.assertIn("service is a service, not an instance: its entries are "
                      "cubectl services service namespace name ...",
                      self.cubectl("service", "default", "web", "show",
                                   code=EXIT_USAGE).stderr)
        self.assertEqual(self.complete("help", "pods", "n"), ["node"])
        self.assertEqual(self.complete("node", "masquerade", "set", ""), ["cluster-cidr="])


    # -- help and completion --------------------------------------------------

    def test_help_from_the_schema(self):
        out = self.cubectl("help").stdout
        for word in ("router", "nat", "lb", "cube", "reset-counters"):
            self.assertIn(word, out)
        out = self.cubectl("help", "lb", "vip").stdout
        self.assertIn("entries are named by: address port protocol", out)
        self.assertRegex(out, r"table-size\s+leaf\s+uint32 7\.\.131071")
        self.assertIn("default: five-tuple", out)
        self.assertIn("enum five-tuple|source-address", out)
        self.cubectl("router", "add", "r0")
        out = self.cubectl("r0", "route", "?").stdout
        self.assertRegex(out, r"port\s+leaf\s+uint8 0\.\.7\s+\[required\]")
        out = self.cubectl("--help").stdout
        self.assertIn("exit status", out)
        self.assertIn("--output", out)
        self.cubectl("help", "nosuch", code=EXIT_USAGE)
        # The modules were fetched once and cached by revision.
        cached = os.listdir(os.path.join(self.tmp, "cache"))
        self.assertIn("cubenet-lb@2026-12-01.yang", cached)

    def test_bash_completion(self):
        self.cubectl("router", "add", "r0")
        self.assertEqual(self.complete("r"), ["r0", "reset-counters", "router"])
        self.assertEqual(self.complete("r0", "ro"), ["route"])
        self.assertIn("nexthop=", self.complete("r0", "route", "add", "10.0.0.0/8", ""))
        self.assertEqual(self.complete("lb", ""), ["add", "del", "show"])
        self.assertIn("table-size", self.complete("help", "lb", "vip", "t"))
        self.assertEqual(self.complete("conn"), ["connect"])


class WithoutDaemonTest(Runner, unittest.TestCase):
    """No daemon on the socket: help and completion from the modules
    installed with cubectl (in the build tree, the sources'), anything
    else exit 5 in one line."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cubectl-nodaemon-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.socket = os.path.join(self.tmp, "nobody.sock")
        self.env = dict(os.environ, CUBECTL_SOCKET=self.socket, HOME=self.tmp,
                        CUBECTL_CACHE=os.path.join(self.tmp, "cache"))
        for name in ("CUBECTL_URL", "CUBECTL_YANG_DIR"):
            self.env.pop(name, None)

    def note(self, stderr):
        """Help says where it came from, and why, in one line."""
        dirs = ":".join(os.path.join(SOURCE, "services", s)
                        for s in ("core", "router", "nat", "lb", "pods"))
        self.assertEqual(stderr, f"cubectl: daemon not reachable ({self.socket}: Couldn't "
                                 f"connect to server): help from the installed modules in "
                                 f"{dirs}\n")

    def test_help_from_the_installed_modules(self):
        r = self.cubectl("help")
        self.note(r.stderr)
        for line in (r"\n  cube\s+cubenet-core\s+One loaded cube\n",
                     r"\n  router\s+cubenet-router\s+The configuration of one router cube\n",
                     r"\n  nat\s+cubenet-nat\s+",
                     r"\n  lb\s+cubenet-lb\s+One load balancer",
                     r"\n  pod\s+cubenet-pods\s+One attachment",
                     r"\n  service\s+cubenet-pods\s+One Kubernetes Service",
                     r"\nsettings .*\n  node\s+cubenet-pods\s+The node itself",
                     r"\n  reset-counters\s+Zero the counters"):
            self.assertRegex(r.stdout, line)
        out = self.cubectl("help", "lb", "vip").stdout
        self.assertIn("entries are named by: address port protocol", out)
        self.assertRegex(out, r"table-size\s+leaf\s+uint32 7\.\.131071")
        self.assertIn("default: five-tuple", out)
        self.assertRegex(self.cubectl("lb", "?").stdout, r"^lb \(list, module cubenet-lb\)")
        self.assertRegex(self.cubectl("node", "masquerade", "?").stdout,
                         r"cluster-cidr\s+leaf-list\s+union\s+\[required\]")
        # Nothing was fetched: nothing was cached.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "cache")))

        # The same help a daemon's modules give, once one answers.
        d = Daemon()
        self.addCleanup(d.cleanup)
        d.start()
        env = dict(self.env, CUBECTL_SOCKET=d.socket)
        for args in (["help", "pods"], ["help", "lb", "vip"], ["help", "node"],
                     ["help", "router", "route"]):
            offline = self.cubectl(*args)
            online = self.cubectl(*args, env=env)
            self.assertEqual(online.stderr, "")
            self.assertEqual(offline.stdout, online.stdout, args)

    def test_completion_from_the_installed_modules(self):
        self.assertEqual(self.complete("r"), ["reset-counters", "router"])
        self.assertEqual(self.complete("n"), ["nat", "node"])
        self.assertEqual(self.complete("lb", ""), ["add", "del", "show"])
        self.assertEqual(self.complete("help", "p"), ["peer", "pod", "pods"])
        self.assertIn("table-size", self.complete("help", "lb", "vip", "t"))
        self.assertEqual(self.complete("node", ""),
                         ["address", "address6", "del", "host-clients", "host-device",
                          "masquerade", "node-port-range", "set", "show", "tunnel", "uplink"])
        self.assertEqual(self.complete("node", "set", "u"), ["uplink="])
        self.assertEqual(self.complete("node", "masquerade", "set", ""), ["cluster-cidr="])
        self.assertEqual(self.complete("conn"), ["connect"])

    def test_what_needs_the_daemon_fails_with_5(self):
        for args in (["show"], ["node", "show"], ["node", "set", "uplink=eth0"],
                     ["node", "set", "nosuch=1"], ["lb", "add", "lb0", "netdev=eth0"],
                     ["router", "show"], ["r0"], ["r0", "?"], ["del", "r0"],
                     ["connect", "p0:0", "r0"], ["reset-counters"]):
            r = self.cubectl(*args, code=EXIT_UNREACHABLE)
            self.assertEqual(r.stderr, f"cubectl: cannot reach cubenetd: {self.socket}: "
                                       "Couldn't connect to server\n", args)
        # No modules either: help cannot answer, and says why.
        env = dict(self.env, CUBECTL_YANG_DIR=os.path.join(self.tmp, "none"))
        r = self.cubectl("help", code=EXIT_UNREACHABLE, env=env)
        self.assertIn("cannot reach cubenetd", r.stderr)
        self.assertIn(os.path.join(self.tmp, "none") + ": No such file or directory", r.stderr)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root: skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
