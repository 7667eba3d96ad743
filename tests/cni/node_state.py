# SPDX-License-Identifier: Apache-2.0
"""What a node's pod network leaves behind, as the CNI tests look at it: the
pods cubenetd has registered, the pods' host-side veths, host-local's
allocations, the daemon's pins; and the podman settings this VM needs."""
import ipaddress
import json
import os
import re
import subprocess

# podman on this VM: runc (crun refuses its cgroups), cgroupfs, limits it
# allows, and the CNI backend.
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
[network]
network_backend = "cni"
"""


def registered(daemon):
    """The pod entries in cubenet-pods."""
    r = daemon.client().get("/restconf/data/cubenet-pods:pods")
    body = r.json() if r.status == 200 else None
    return (body or {}).get("cubenet-pods:pods", {}).get("pod", [])


def host_veths(node):
    """The plugin's host-side veths (cn + 12 hex digits) in the node namespace."""
    out = subprocess.run(["ip", "-n", node, "-j", "link", "show"], check=True,
                         capture_output=True, text=True).stdout
    return sorted(lk["ifname"] for lk in json.loads(out)
                  if re.fullmatch(r"cn[0-9a-f]{12}", lk["ifname"]))


def allocated(ipam_dir, network):
    """The addresses host-local holds for a network, of either family (its
    files are named by the address; the others are its lock and its
    last_reserved_ip.N)."""
    d = os.path.join(ipam_dir, network)
    return sorted(f for f in os.listdir(d) if _is_address(f)) if os.path.isdir(d) else []


def _is_address(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def pinned(daemon):
    """Every file the daemon has pinned for cubes."""
    return [os.path.join(d, f) for d, _, files in os.walk(os.path.join(daemon.bpffs, "cubes"))
            for f in files]
